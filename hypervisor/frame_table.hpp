// What every machine frame is used for, so that a PV guest can never map a frame it does not
// own, nor write to a frame the hardware reads as a page table (Xen's page_info rules):
//
//   owner       the domain the frame belongs to, or none
//   type        none, writable (mapped writable somewhere), a page-table level (L1..L4), or
//               segment descriptors (part of a vCPU's GDT); a frame has one type at a time
//   type_count  how many references hold that type (writable mappings; uses as a table)
//   refs        every reference to the frame (mappings of any kind, uses as a table, pins)
//
// A frame can only change type when its type count is zero: a writable mapping of a page
// table, or a page table of a writably mapped frame, is refused. The table also keeps the
// machine-to-phys list (one 8-byte guest frame number per machine frame) that PV guests see
// read-only at the ABI's MACH2PHYS address.
#pragma once

#include "types.hpp"

enum class PageType : uint8_t { none, writable, l1, l2, l3, l4, seg_desc };

struct PageInfo {
    uint16_t owner;
    PageType type;
    uint8_t flags;        // PAGE_* below
    uint32_t type_count;  // references holding the type
    uint32_t refs;        // references of any kind: mappings, uses as a table, pins, roots
    uint32_t list_index;  // where the owner's page list has it (Domain::page_index in O(1))
    int16_t linear;       // a table's linear page-table entries (> 0), or its uses as the
                          // target of other tables' linear entries (< 0); never both
    uint16_t reserved;
};
static_assert(sizeof(PageInfo) == 20);

constexpr uint8_t PAGE_PINNED = 1;      // pinned by MMUEXT_PIN_* (holds a type and a general reference)
constexpr uint8_t PAGE_VALIDATING = 2;  // its table entries are being checked (catches self-reference)
constexpr uint8_t PAGE_FREE_PENDING = 4;  // given back by its domain while still referenced: freed
                                          // when the last reference goes (Xen's deferred free)
constexpr uint8_t PAGE_EXCHANGING = 8;  // an input of the XENMEM_exchange chunk being done

class FrameTable {
public:
    static constexpr uint16_t NO_OWNER = 0xffff;
    // Frames that are not RAM (or the first MiB): Xen's dom_io. No domain owns them; mapping
    // one is a question of I/O memory rights (iomem_policy), and takes no reference.
    static constexpr uint16_t IO_OWNER = 0x7ff1;  // DOMID_IO
    static constexpr uint64_t M2P_INVALID = ~uint64_t{0};

    // info[] and m2p[] have nr_frames entries each; all frames start unowned.
    void init(PageInfo* info, uint64_t* m2p, uint64_t nr_frames);
    bool ready() const { return info_ != nullptr; }
    uint64_t nr_frames() const { return nr_; }

    bool valid(Mfn m) const { return m.raw() < nr_; }
    PageInfo& info(Mfn m) { return info_[m.raw()]; }
    const PageInfo& info(Mfn m) const { return info_[m.raw()]; }
    bool owned_by(Mfn m, DomId d) const { return valid(m) && info_[m.raw()].owner == d.raw(); }
    // I/O memory: a frame beyond the table, or one given to DOMID_IO.
    bool is_io(Mfn m) const { return !valid(m) || info_[m.raw()].owner == IO_OWNER; }
    // At boot, before any frame is allocated: [first, first + count) is I/O memory, or (io
    // false) is not (clipped to the table).
    void mark_io(Mfn first, uint64_t count, bool io = true);

    // A free frame becomes the domain's (guest frame pfn, or M2P_INVALID for a frame that is
    // not part of its pseudo-physical memory, like shared_info).
    void assign(Mfn m, DomId d, uint64_t pfn);
    // The frame leaves its domain; its type must have no references left.
    void release(Mfn m);

    // Takes one reference of `type` on a frame; false (nothing changed) when the frame has
    // another type with references outstanding.
    bool get_type(Mfn m, PageType type);
    void put_type(Mfn m);

    void set_m2p(Mfn m, uint64_t pfn) { m2p_[m.raw()] = pfn; }
    uint64_t m2p(Mfn m) const { return m2p_[m.raw()]; }

private:
    PageInfo* info_ = nullptr;
    uint64_t* m2p_ = nullptr;
    uint64_t nr_ = 0;
};
