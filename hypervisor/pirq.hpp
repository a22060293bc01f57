// A domain's pirqs ("physical IRQs" in the guest's numbering): which machine interrupt line
// (GSI) each one stands for and the event channel bound to it. PHYSDEVOP_map_pirq fills an
// entry, EVTCHNOP_bind_pirq gives it a port and starts the line (irq_lines.hpp),
// PHYSDEVOP_eoi ends each interrupt, closing the port stops the line, PHYSDEVOP_unmap_pirq
// empties the entry. The rules and error numbers are Xen 4.17's (allocate_pirq,
// map_domain_pirq, get_free_pirq): numbers below 16 are the ISA interrupts' own, 16 up to the
// GSI count the other GSIs', above that (from the top down) the message-signalled ones'.
//
// The entries sit in one frame, allocated on the first map (most domains never have one), so a
// domain has at most ENTRIES pirqs: the GSIs and 256 more for the control domain, the GSIs and
// 32 more (Xen's extra_domU_irqs) for others. Changes happen under the domain's event lock.
#pragma once

#include "types.hpp"

class Domain;
class MachineMemory;

struct PirqEntry {
    static constexpr uint16_t ALLOCATED = 0xffff;  // taken by get_free_pirq, no line yet
    uint16_t gsi_plus_1;  // 0: free; ALLOCATED; else the GSI + 1
    uint16_t pad;
    uint32_t port;        // bound event channel; 0: none
};
static_assert(sizeof(PirqEntry) == 8);

class PirqTable {
public:
    static constexpr uint32_t ENTRIES = PAGE_SIZE / sizeof(PirqEntry);
    static constexpr uint32_t ISA_IRQS = 16;
    static constexpr uint32_t DOM0_EXTRA = 256;
    static constexpr uint32_t DOMU_EXTRA = 32;

    // Xen's nr_pirqs for a domain on a machine with `gsis` lines.
    static uint32_t limit_for(bool privileged, uint32_t gsis);

    void init(uint32_t limit, uint32_t gsis) {
        limit_ = limit < ENTRIES ? limit : ENTRIES;
        gsis_ = gsis;
    }
    uint32_t limit() const { return limit_; }
    // Gives the table its frame if it has none yet: false when out of memory. Call without
    // the event lock (frames are not allocated under it).
    bool ensure(MachineMemory& mm);
    // Stops every line still bound to d and frees the frame (domain teardown).
    void release(MachineMemory& mm, const Domain& d);
    uint64_t frames() const { return entries_ ? 1 : 0; }

    // The entry of a pirq below limit(), or null (also before the first map).
    PirqEntry* get(uint32_t pirq) const { return entries_ && pirq < limit_ ? &entries_[pirq] : nullptr; }
    // The GSI a pirq is mapped to, or -1.
    int32_t gsi_of(uint32_t pirq) const;
    // The pirq a GSI is mapped to, or -1.
    int32_t pirq_of_gsi(uint32_t gsi) const;

    // Maps GSI `gsi` to pirq `wanted` (-1: any free one, or the one it already has). The
    // pirq, or -XEN_E*: -EINVAL for a pirq out of range, -EEXIST when the GSI has another
    // pirq, -ENOSPC when none is free. A pirq that already stands for another GSI is left as
    // it is and returned (Xen's map_domain_pirq warns and succeeds). Needs ensure().
    long map_gsi(uint32_t gsi, int32_t wanted);
    // PHYSDEVOP_unmap_pirq's bookkeeping: -EINVAL for a pirq not mapped; its GSI otherwise.
    // A bound port stays a pirq port, with no line behind it.
    long unmap(uint32_t pirq);
    // PHYSDEVOP_get_free_pirq: for a GSI (`for_gsi`) the lowest free one from 16 below the
    // GSI count, else (and for MSIs) the highest free one above it. -ENOSPC when none.
    long find_free(bool for_gsi) const;
    // find_free, the pirq then taken (ALLOCATED) so that the next call gives another one.
    long allocate(bool for_gsi);

private:
    PirqEntry* entries_ = nullptr;
    uint32_t limit_ = 0;
    uint32_t gsis_ = 0;
};
