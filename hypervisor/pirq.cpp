#include "pirq.hpp"

#include <xen/errno.h>

#include "domain.hpp"
#include "event_channel.hpp"
#include "irq_lines.hpp"
#include "machine_memory.hpp"

uint32_t PirqTable::limit_for(bool privileged, uint32_t gsis) {
    uint32_t base = gsis > ISA_IRQS ? gsis : ISA_IRQS;
    uint32_t n = base + (privileged ? DOM0_EXTRA : DOMU_EXTRA);
    return n < ENTRIES ? n : ENTRIES;
}

bool PirqTable::ensure(MachineMemory& mm) {
    if (__atomic_load_n(&entries_, __ATOMIC_ACQUIRE)) return true;
    auto frame = mm.alloc_zeroed();
    if (!frame) return false;
    auto* fresh = static_cast<PirqEntry*>(mm.map(*frame));
    PirqEntry* none = nullptr;
    // Two vCPUs mapping their first pirqs at once: one frame wins, the other goes back.
    if (!__atomic_compare_exchange_n(&entries_, &none, fresh, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        mm.free(*frame);
    return true;
}

void PirqTable::release(MachineMemory& mm, const Domain& d) {
    if (!entries_) return;
    for (uint32_t p = 0; p < limit_; ++p)
        if (gsi_of(p) >= 0 && entries_[p].port) irq_lines::unbind(uint32_t(gsi_of(p)), d);
    mm.free(mm.mfn_of(entries_));
    entries_ = nullptr;
}

int32_t PirqTable::gsi_of(uint32_t pirq) const {
    const PirqEntry* e = get(pirq);
    return e && e->gsi_plus_1 && e->gsi_plus_1 != PirqEntry::ALLOCATED ? int32_t(e->gsi_plus_1) - 1 : -1;
}

int32_t PirqTable::pirq_of_gsi(uint32_t gsi) const {
    if (!entries_) return -1;
    for (uint32_t p = 0; p < limit_; ++p)
        if (entries_[p].gsi_plus_1 == gsi + 1) return int32_t(p);
    return -1;
}

long PirqTable::map_gsi(uint32_t gsi, int32_t wanted) {
    int32_t current = pirq_of_gsi(gsi);
    int32_t pirq = wanted;
    if (wanted < 0) {
        pirq = current >= 0 ? current : int32_t(find_free(true));
        if (pirq < 0) return pirq;
    } else if (current >= 0 && current != wanted) {
        return -XEN_EEXIST;
    }
    PirqEntry* e = get(uint32_t(pirq));
    if (!e) return -XEN_EINVAL;
    // Already this mapping, or the pirq stands for another line: nothing changes.
    if (gsi_of(uint32_t(pirq)) < 0) e->gsi_plus_1 = uint16_t(gsi + 1);
    return pirq;
}

long PirqTable::unmap(uint32_t pirq) {
    PirqEntry* e = get(pirq);
    if (!e || gsi_of(pirq) < 0) return -XEN_EINVAL;
    long gsi = gsi_of(pirq);
    e->gsi_plus_1 = 0;
    return gsi;
}

long PirqTable::find_free(bool for_gsi) const {
    if (!entries_) return -XEN_ENOSPC;
    if (for_gsi)
        for (uint32_t p = ISA_IRQS; p < gsis_ && p < limit_; ++p)
            if (entries_[p].gsi_plus_1 == 0) return long(p);
    for (uint32_t p = limit_; p-- > gsis_;)
        if (entries_[p].gsi_plus_1 == 0) return long(p);
    return -XEN_ENOSPC;
}

long PirqTable::allocate(bool for_gsi) {
    long p = find_free(for_gsi);
    if (p >= 0) entries_[p].gsi_plus_1 = PirqEntry::ALLOCATED;
    return p;
}
