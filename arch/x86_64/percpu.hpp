// Per-CPU data. Each CPU's GS base points at its PerCpu, whose first field points at itself,
// so this_cpu() is a single %gs-relative load. This is the only way to reach per-CPU state.
#pragma once

#include "descriptors.hpp"
#include "kstd/atomic.hpp"
#include "timer_queue.hpp"
#include "spinlock.hpp"
#include "types.hpp"
#include "vcpu.hpp"

namespace arch {

constexpr size_t MAX_CPUS = 256;

struct PerCpu {
    PerCpu* self;                     // must stay first: %gs:0
    uint64_t syscall_scratch;         // %gs:8  guest rsp while SYSCALL entry switches stacks
    uint64_t guest_frame_top;         // %gs:16 stack top under which a guest's frame is saved
    Vcpu* current;                    // the vCPU this CPU runs, or null when idle
    CpuId id;
    uint32_t apic_id;
    kstd::Atomic<bool> online;
    uint64_t stack_bottom;            // main stack bounds, for backtraces
    uint64_t stack_top;
    uint64_t ist_bottom[ist::COUNT];  // IST stack bounds
    CpuTables tables;
    TimerQueue timers;
    uint64_t timer_interrupts;
    uint64_t timer_programmed_ns;  // deadline the LAPIC timer is armed for; UINT64_MAX: stopped

    // Scheduling (scheduler.cpp; the run queues are the policy's): whether this CPU must
    // decide again, and the end of its current vCPU's slice.
    kstd::Atomic<bool> need_resched;
    Timer slice_timer;
    uint64_t context_switches;

    // TLB (tlb.cpp): the domain whose page tables this CPU has loaded (null: the hypervisor's
    // own), and the flush handshake with other CPUs: they set flush_request and wait for
    // flush_done to move. tlb_flushed: the TLB clock's reading (tlb_clock.hpp) before this
    // CPU last dropped every guest entry (a CR3 load or flush); written by this CPU only.
    Domain* address_space;
    kstd::Atomic<bool> flush_request;
    kstd::Atomic<uint32_t> flush_done;
    kstd::Atomic<uint64_t> tlb_flushed;
};
// The first fields are plain data at fixed offsets (assembly uses them); GCC supports offsetof
// here although later members make PerCpu non-standard-layout.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
static_assert(__builtin_offsetof(PerCpu, self) == 0);
static_assert(__builtin_offsetof(PerCpu, syscall_scratch) == 8);   // entry.S: PERCPU_SCRATCH
static_assert(__builtin_offsetof(PerCpu, guest_frame_top) == 16);  // entry.S: PERCPU_FRAME_TOP
#pragma GCC diagnostic pop

// An IST stack's top quadword pair holds its CPU's PerCpu pointer, so that NMI and machine
// check entry can find the per-CPU data whatever the GS base was when they struck (a guest's,
// or the hypervisor's in the first instruction of SYSCALL entry). Returns the top to use.
uint64_t ist_top_with_owner(uint64_t top, PerCpu& p);

inline PerCpu& this_cpu() {
    PerCpu* p;
    asm volatile("movq %%gs:0, %0" : "=r"(p));
    return *p;
}

// Makes p the calling CPU's per-CPU data.
void percpu_install(PerCpu& p);
// The boot CPU's PerCpu, usable before any allocator exists.
PerCpu& boot_cpu_percpu();
// Registry of all CPUs that have been brought up (or are being), indexed by CpuId.
void percpu_register(PerCpu& p);
PerCpu* percpu_of(CpuId id);
unsigned cpus_registered();
bool percpu_ready();

}  // namespace arch
