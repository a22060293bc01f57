// Round-robin scheduling of vCPUs on each CPU's run queue (see scheduler.hpp).
#include "scheduler.hpp"

#include <arch/cpu.hpp>
#include <arch/vectors.hpp>

#include "context.hpp"
#include <xen/xen.h>

#include "domain.hpp"
#include "event_channel.hpp"
#include "domains.hpp"
#include "guest_entry.hpp"
#include "interrupts.hpp"
#include "lapic.hpp"
#include "percpu.hpp"
#include "runstate.hpp"
#include "smp.hpp"
#include "timer.hpp"
#include "tsc.hpp"
#include "vcpu.hpp"

extern "C" [[noreturn]] void run_on_stack(uint64_t top, void (*fn)());

namespace sched {

namespace {

constexpr uint64_t SLICE_NS = 10'000'000;

// A run queue is also touched from interrupts (time slices, timed wake-ups, events raised by
// devices): its lock is only ever held with interrupts off, so that an interrupt on the same
// CPU cannot wait for it forever.
class RunQueueGuard {
public:
    explicit RunQueueGuard(arch::PerCpu& cpu) : lock_(cpu.run_lock) { lock_.lock(); }
    ~RunQueueGuard() { lock_.unlock(); }
    RunQueueGuard(const RunQueueGuard&) = delete;
    RunQueueGuard& operator=(const RunQueueGuard&) = delete;

private:
    arch::InterruptGuard irq_;  // constructed first, released last
    Spinlock& lock_;
};

void kick(arch::PerCpu& target) {
    target.need_resched.store(true);
    if (&target != &arch::this_cpu()) lapic::send_ipi(target.apic_id, vectors::RESCHEDULE);
}

// Makes v runnable; it waits on its CPU's queue unless its domain is paused (unpause queues it).
void enqueue(Vcpu& v) {
    arch::PerCpu* cpu = arch::percpu_of(v.cpu);
    {
        RunQueueGuard g(*cpu);
        v.state = VcpuState::runnable;
        bool paused = v.domain().paused();
        runstate::change(v, paused ? RUNSTATE_offline : RUNSTATE_runnable, tsc::now_ns());
        if (paused || v.run_link.linked()) return;
        cpu->run_queue.push_back(&v);
    }
    kick(*cpu);
}

// A CPU for a vCPU coming up: spread a domain's vCPUs over the CPUs, starting next to its
// first one.
CpuId place(const Vcpu& v) {
    unsigned online = smp::online_count();
    const Vcpu* first = v.domain().vcpu(VcpuId(0));
    return CpuId((first->cpu.raw() + v.id().raw()) % online);
}

void event_check_ipi(arch::ExceptionFrame&) {}

// Whether v is the running vCPU of another CPU now: an interrupt there makes it see new events.
void interrupt_if_elsewhere(Vcpu& v) {
    if (!__atomic_load_n(&v.on_cpu, __ATOMIC_ACQUIRE)) return;
    arch::PerCpu* cpu = arch::percpu_of(v.cpu);
    if (cpu != &arch::this_cpu()) lapic::send_ipi(cpu->apic_id, vectors::EVENT_CHECK);
}

// Time slice end: another vCPU waits for this CPU.
void slice_expired(Timer&, void*) {
    arch::PerCpu& cpu = arch::this_cpu();
    bool others;
    {
        RunQueueGuard g(cpu);
        others = !cpu.run_queue.empty();
    }
    if (others) cpu.need_resched.store(true);
    if (cpu.current) timer::arm(cpu.slice_timer, tsc::now_ns() + SLICE_NS);
}

void reschedule_ipi(arch::ExceptionFrame&) { arch::this_cpu().need_resched.store(true); }

[[noreturn]] void idle_loop();

// Stack for the idle loop: just below the guest frame area, so that entering it again and
// again never grows the stack.
uint64_t idle_stack_top() { return arch::this_cpu().guest_frame_top - sizeof(arch::ExceptionFrame) - 16; }

}  // namespace

void start(Vcpu& v, CpuId cpu) {
    v.cpu = cpu;
    set_periodic_timer(v, DEFAULT_PERIOD_NS);
    enqueue(v);
}

void wake(Vcpu& v) {
    if (v.state != VcpuState::blocked) {
        if (v.state == VcpuState::running) interrupt_if_elsewhere(v);
        return;
    }
    timer::cancel(v.wakeup);
    enqueue(v);
}

void bring_up(Vcpu& v) {
    if (v.state != VcpuState::down) return;
    v.cpu = place(v);
    if (!v.periodic_ns) set_periodic_timer(v, DEFAULT_PERIOD_NS);
    enqueue(v);
}

void take_down(Vcpu& v) {
    arch::PerCpu* cpu = arch::percpu_of(v.cpu);
    {
        RunQueueGuard g(*cpu);
        if (v.state == VcpuState::down || v.state == VcpuState::dead) return;
        if (v.run_link.linked()) cpu->run_queue.remove(&v);
        v.state = VcpuState::down;
        runstate::change(v, RUNSTATE_offline, tsc::now_ns());
    }
    // Running: its CPU picks again and leaves it off (reschedule requeues only running ones).
    if (__atomic_load_n(&v.on_cpu, __ATOMIC_ACQUIRE)) kick(*cpu);
}

void yield(Vcpu&) { arch::this_cpu().need_resched.store(true); }

bool resched_pending() { return arch::this_cpu().need_resched.load(); }

uint64_t system_time() { return tsc::now_ns(); }

void set_vcpu_timer(Vcpu& v, uint64_t deadline_ns) {
    v.singleshot.callback = [](Timer&, void* data) {
        Vcpu& target = *static_cast<Vcpu*>(data);
        events::send_virq(target.domain(), VIRQ_TIMER, target.id().raw());
    };
    v.singleshot.data = &v;
    timer::arm(v.singleshot, deadline_ns);
}

void cancel_vcpu_timer(Vcpu& v) { TimerQueue::disarm(v.singleshot); }

void set_periodic_timer(Vcpu& v, uint64_t period_ns) {
    TimerQueue::disarm(v.periodic);
    v.periodic_ns = period_ns;
    if (!period_ns) return;
    v.periodic.callback = [](Timer& t, void* data) {
        Vcpu& target = *static_cast<Vcpu*>(data);
        events::send_virq(target.domain(), VIRQ_TIMER, target.id().raw());
        if (target.periodic_ns) timer::arm(t, t.deadline + target.periodic_ns);
    };
    v.periodic.data = &v;
    timer::arm(v.periodic, tsc::now_ns() + period_ns);
}

void block(Vcpu& v) {
    v.state = VcpuState::blocked;
    arch::this_cpu().need_resched.store(true);
}

void block_until(Vcpu& v, uint64_t deadline_ns) {
    block(v);
    v.wakeup.callback = [](Timer&, void* data) { wake(*static_cast<Vcpu*>(data)); };
    v.wakeup.data = &v;
    timer::arm(v.wakeup, deadline_ns);
}

void pause(Domain& d) {
    d.pause();
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu* v = d.vcpu(VcpuId(i));
        arch::PerCpu* cpu = arch::percpu_of(v->cpu);
        {
            RunQueueGuard g(*cpu);
            if (v->run_link.linked()) {
                cpu->run_queue.remove(v);
                runstate::change(*v, RUNSTATE_offline, tsc::now_ns());
            }
        }
        if (__atomic_load_n(&v->on_cpu, __ATOMIC_ACQUIRE)) kick(*cpu);
    }
    for (unsigned i = 0; i < d.nr_vcpus(); ++i)
        while (__atomic_load_n(&d.vcpu(VcpuId(i))->on_cpu, __ATOMIC_ACQUIRE)) arch::cpu_relax();
}

bool unpause(Domain& d) {
    if (!d.unpause()) return false;
    if (d.paused()) return true;
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu* v = d.vcpu(VcpuId(i));
        if (v->state == VcpuState::runnable || v->state == VcpuState::running) enqueue(*v);
    }
    return true;
}

void stop_domain(Domain& d) {
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu* v = d.vcpu(VcpuId(i));
        arch::PerCpu* cpu = arch::percpu_of(v->cpu);
        {
            RunQueueGuard g(*cpu);
            if (v->run_link.linked()) cpu->run_queue.remove(v);
            v->state = VcpuState::dead;
        }
        kick(*cpu);
    }
}

void init_cpu() {
    arch::PerCpu& cpu = arch::this_cpu();
    cpu.slice_timer.callback = slice_expired;
    if (cpu.id == CpuId(0)) {
        arch::set_interrupt_handler(vectors::RESCHEDULE, reschedule_ipi);
        arch::set_interrupt_handler(vectors::EVENT_CHECK, event_check_ipi);
    }
}

namespace {

// The runstate of a vCPU leaving its CPU in the given scheduler state.
int32_t leaving_state(const Vcpu& v) {
    switch (v.state) {
    case VcpuState::runnable: return v.domain().paused() ? RUNSTATE_offline : RUNSTATE_runnable;
    case VcpuState::blocked: return RUNSTATE_blocked;
    default: return RUNSTATE_offline;
    }
}

}  // namespace

// With interrupts off, on the way back to a guest or in the idle loop: picks the next vCPU
// and switches to it, or idles. Returns only with a vCPU current and running.
void reschedule() {
    arch::PerCpu& cpu = arch::this_cpu();
    cpu.need_resched.store(false);
    Vcpu* prev = cpu.current;
    Vcpu* next;
    uint64_t now = tsc::now_ns();
    {
        RunQueueGuard g(cpu);
        if (prev && prev->state == VcpuState::running) {
            prev->state = VcpuState::runnable;
            if (!prev->domain().paused()) cpu.run_queue.push_back(prev);
        }
        next = cpu.run_queue.pop_front();
        if (next) next->state = VcpuState::running;
    }
    if (next == prev && next) {
        runstate::change(*next, RUNSTATE_running, now);
        return;
    }
    arch::ExceptionFrame& frame = context::guest_frame();
    if (prev) {
        runstate::change(*prev, leaving_state(*prev), now);
        context::save(*prev, frame);
        if (prev->state != VcpuState::dead) runstate::publish_or_defer(*prev);  // its tables are still loaded
        __atomic_store_n(&prev->on_cpu, false, __ATOMIC_RELEASE);
        cpu.current = nullptr;
        if (prev->state == VcpuState::dead) {
            // Its domain may now be destroyed and its page tables freed: stop using them first.
            context::load_idle_page_tables();
            domains::vcpu_left_cpu(*prev);
        }
    }
    if (!next) {
        context::load_idle_page_tables();
        run_on_stack(idle_stack_top(), idle_loop);
    }
    ++cpu.context_switches;
    __atomic_store_n(&next->on_cpu, true, __ATOMIC_RELEASE);
    cpu.current = next;
    runstate::change(*next, RUNSTATE_running, now);
    context::load(*next, frame);
    runstate::publish_or_defer(*next);
    timer::arm(cpu.slice_timer, tsc::now_ns() + SLICE_NS);
}

namespace {

void idle_loop() {
    arch::PerCpu& cpu = arch::this_cpu();
    for (;;) {
        arch::interrupts_off();
        if (cpu.need_resched.load()) {
            reschedule();  // returns only with a vCPU to run
            guest_entry::return_to_guest();
        }
        arch::safe_halt();
    }
}

}  // namespace

void run() {
    arch::interrupts_off();
    arch::this_cpu().need_resched.store(true);
    run_on_stack(idle_stack_top(), idle_loop);
}

}  // namespace sched
