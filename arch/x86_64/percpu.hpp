// Per-CPU data. Each CPU's GS base points at its PerCpu, whose first field points at itself,
// so this_cpu() is a single %gs-relative load. This is the only way to reach per-CPU state.
#pragma once

#include "descriptors.hpp"
#include "kstd/atomic.hpp"
#include "timer_queue.hpp"
#include "types.hpp"

namespace arch {

constexpr size_t MAX_CPUS = 256;

struct PerCpu {
    PerCpu* self;                     // must stay first: %gs:0
    CpuId id;
    uint32_t apic_id;
    kstd::Atomic<bool> online;
    uint64_t stack_bottom;            // main stack bounds, for backtraces
    uint64_t stack_top;
    uint64_t ist_bottom[ist::COUNT];  // IST stack bounds
    CpuTables tables;
    TimerQueue timers;
    uint64_t timer_interrupts;
};
static_assert(__builtin_offsetof(PerCpu, self) == 0);

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
