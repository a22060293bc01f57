#include "percpu.hpp"

#include <arch/cpu.hpp>
#include <arch/msr.hpp>

namespace arch {

namespace {

constinit PerCpu boot_percpu{};
PerCpu* registry[MAX_CPUS];
kstd::Atomic<unsigned> registered{0};
bool installed_on_boot_cpu;

}  // namespace

void percpu_install(PerCpu& p) {
    p.self = &p;
    wrmsr(msr::GS_BASE, reinterpret_cast<uint64_t>(&p));
    if (&p == &boot_percpu) installed_on_boot_cpu = true;
}

PerCpu& boot_cpu_percpu() { return boot_percpu; }

uint64_t ist_top_with_owner(uint64_t top, PerCpu& p) {
    auto* slot = reinterpret_cast<PerCpu**>(top - 16);
    slot[0] = &p;
    slot[1] = nullptr;
    return top - 16;
}

void percpu_register(PerCpu& p) {
    registry[p.id.raw()] = &p;
    registered.fetch_add(1);
}

PerCpu* percpu_of(CpuId id) { return id.raw() < MAX_CPUS ? registry[id.raw()] : nullptr; }

unsigned cpus_registered() { return registered.load(); }

bool percpu_ready() { return installed_on_boot_cpu; }

}  // namespace arch
