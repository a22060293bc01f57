// Which vCPU runs on which CPU, and when: a credit scheduler modelled on Xen 4.17's credit2
// (the policy, portable and host-tested, is credit.hpp; the locks, context switches, timers and
// IPIs are arch/x86_64/scheduler.cpp). Domains have a weight (their share of CPU time relative
// to the others) and may have a cap (a limit in percent of one CPU); vCPUs move between CPUs
// to keep them busy.
//
// The scheduler never switches in the middle of hypervisor work: it only marks a CPU as
// needing a reschedule; the switch happens on the CPU's way back to a guest, when the
// hypervisor's stack holds nothing but the guest's saved frame.
#pragma once

#include "credit.hpp"
#include "types.hpp"

class Vcpu;
class Domain;

namespace sched {

// Boot CPU, before any CPU enters the scheduler: how CPUs share run queues.
void init(credit::Arrangement a);
// Domain d's vCPUs join run queues, spread over the CPUs from CPU `first` on: before d can run
// or be looked up. remove_domain takes them out again once none is on a CPU (d is being
// destroyed), and stops its cap's timer.
void add_domain(Domain& d, CpuId first);
void remove_domain(Domain& d);
// XEN_DOMCTL_scheduler_op (credit2): d's weight (1..65535) for all its vCPUs, and its cap (0:
// none; else the percent of one CPU its vCPUs may use together, at most 100 per vCPU). The
// values are read in d.sched().
void set_weight(Domain& d, uint16_t weight);
void set_cap(Domain& d, uint16_t cap);

// v (added with its domain) becomes runnable.
void start(Vcpu& v);
// A blocked vCPU becomes runnable; one running on another CPU is interrupted there, so that
// it sees new events at once (Xen's vcpu_kick). No effect otherwise.
void wake(Vcpu& v);
// VCPUOP_up: a down vCPU (with its context set) becomes runnable on a CPU the scheduler picks.
void bring_up(Vcpu& v);
// VCPUOP_down: v leaves its CPU (at its next return to the guest if it is running) and stays
// off until brought up again; it resumes where it was.
void take_down(Vcpu& v);
// The running vCPU lets any vCPU waiting in its run queue go first, for one decision (credit2's
// yield); it stays runnable.
void yield(Vcpu& v);
// The running vCPU waits for an event.
void block(Vcpu& v);
// The same, but it also wakes at system time deadline_ns (nanoseconds since boot) if no event
// came first; a deadline already past wakes it at once.
void block_until(Vcpu& v, uint64_t deadline_ns);
// Takes every vCPU of d off the run queues and off the CPUs (they are marked dead).
void stop_domain(Domain& d);
// Pauses d (nesting) and returns once none of its vCPUs is on a CPU; never for the caller's
// own domain. unpause() lets them run again when the last pause is undone; false for an
// unpause without a pause.
void pause(Domain& d);
bool unpause(Domain& d);

// XEN_DOMCTL_setvcpuaffinity: v runs only on CPUs of `hard` (which has an online CPU) from
// now on; if it is running elsewhere it moves at its next scheduling point.
void set_affinity(Vcpu& v, const CpuSet& hard);
// The CPUs the scheduler runs vCPUs on, and one more than the highest of their ids (Xen's
// nr_cpu_ids: the width of the CPU bitmaps domctl reads and writes).
CpuSet online_cpus();
unsigned cpu_ids();

// Each CPU, once its interrupts work.
void init_cpu();
// Registers the scheduler's debug key ('r': CPUs, run queues and vCPUs).
void add_debug_keys();
// Each CPU's last step of bring-up: run vCPUs, halt when there are none.
[[noreturn]] void run();
// System time: nanoseconds since the hypervisor started (the PV clock's time base).
uint64_t system_time();
// v's single-shot timer (set_timer_op): at deadline_ns it raises v's VIRQ_TIMER. cancel stops it.
void set_vcpu_timer(Vcpu& v, uint64_t deadline_ns);
void cancel_vcpu_timer(Vcpu& v);
// v's periodic timer: VIRQ_TIMER every period_ns from now (0 stops it). A new PV vCPU has a
// 10 ms one, as on Xen, until the guest stops it.
void set_periodic_timer(Vcpu& v, uint64_t period_ns);
constexpr uint64_t DEFAULT_PERIOD_NS = 10'000'000;
// Whether the calling CPU has been asked to pick again (a yield, a block, a time slice's end,
// a wake-up): long hypercalls stop and continue later when it has (Xen's preemption check).
bool resched_pending();
// With interrupts off, when the CPU must pick again (its vCPU blocked, yielded, died or used
// up its slice): switches to the next vCPU or idles. Returns with a vCPU running.
void reschedule();

}  // namespace sched
