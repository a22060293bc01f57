#include "tlb.hpp"

#include <arch/cpu.hpp>
#include <arch/vectors.hpp>

#include "domain.hpp"
#include "interrupts.hpp"
#include "lapic.hpp"
#include "percpu.hpp"

namespace tlb {

namespace {

// CPUs with some guest's page tables loaded.
CpuMask guest_cpus;

void flush_ipi(arch::ExceptionFrame&) { service(); }

// Asks `target` to flush; returns the count to wait past.
uint32_t request(arch::PerCpu& target) {
    uint32_t before = target.flush_done.load();
    target.flush_request.store(true);
    lapic::send_ipi(target.apic_id, vectors::TLB_FLUSH);
    return before;
}

// Waits until `target` has flushed since `before`. Meanwhile this CPU answers requests
// addressed to it, so that two CPUs flushing each other at once both finish.
void wait(arch::PerCpu& target, uint32_t before) {
    while (target.flush_done.load() == before) {
        service();
        arch::cpu_relax();
    }
}

}  // namespace

void init() { arch::set_interrupt_handler(vectors::TLB_FLUSH, flush_ipi); }

void switch_address_space(Domain* d) {
    arch::PerCpu& cpu = arch::this_cpu();
    if (cpu.address_space == d) return;
    if (d) {
        d->dirty_cpus.set(cpu.id);
        guest_cpus.set(cpu.id);
    }
    // The old domain's bit goes before the CR3 load that drops its entries: nothing on this
    // CPU uses them in between (the hypervisor never goes through guest mappings here).
    if (cpu.address_space) cpu.address_space->dirty_cpus.clear(cpu.id);
    if (!d) guest_cpus.clear(cpu.id);
    cpu.address_space = d;
}

namespace {

// The clock is read before the TLB drops its entries and the reading recorded after: a CPU
// that reads the record sees a flush that has happened. A flush interrupt between the two
// (service()) may record a newer reading that this one then overwrites with an older one:
// that only makes the CPU look staler than it is. Ordering: the release store pairs with the
// acquire load in flush_stale.
template <typename F>
void recorded(F drop_entries) {
    TlbTime t = tlb_clock::now();
    drop_entries();
    arch::this_cpu().tlb_flushed.store(t.raw(), kstd::MemoryOrder::release);
}

}  // namespace

void load_root(Paddr root) {
    recorded([root] { arch::write_cr3(root.raw()); });
}

void flush_local() {
    recorded([] { arch::flush_tlb_local(); });
}

void service() {
    arch::PerCpu& cpu = arch::this_cpu();
    if (!cpu.flush_request.exchange(false)) return;
    flush_local();
    cpu.flush_done.fetch_add(1);
}

void flush(const CpuMask& cpus) {
    // Every request goes out before the first wait, so that the CPUs flush in parallel. The
    // waits are for the CPUs asked, not for the mask read again: a CPU that loads the domain's
    // tables meanwhile joins the live mask without having been asked (its TLB holds nothing
    // older than its load), and waiting for it stalled forever on a count it never moves.
    arch::PerCpu& self = arch::this_cpu();
    static_assert(CpuMask::MAX_CPUS <= arch::MAX_CPUS);
    uint32_t before[CpuMask::MAX_CPUS];
    arch::PerCpu* asked[CpuMask::MAX_CPUS];
    unsigned nr_asked = 0;
    bool local = false;
    cpus.for_each([&](CpuId c) {
        if (c == self.id) local = true;
        else if (arch::PerCpu* p = arch::percpu_of(c)) {
            before[nr_asked] = request(*p);
            asked[nr_asked++] = p;
        }
    });
    if (local) flush_local();
    for (unsigned i = 0; i < nr_asked; ++i) wait(*asked[i], before[i]);
}

void flush_guest_cpus() { flush(guest_cpus); }

void flush_stale(TlbTime stamp) {
    CpuMask stale;
    auto flushed_at = [](CpuId c) {
        arch::PerCpu* p = arch::percpu_of(c);
        // Ordering: acquire pairs with the release store in recorded().
        return p ? TlbTime(p->tlb_flushed.load(kstd::MemoryOrder::acquire)) : tlb_clock::CLEAN;
    };
    if (tlb_clock::stale_cpus(guest_cpus, stamp, flushed_at, stale)) flush(stale);
}

}  // namespace tlb
