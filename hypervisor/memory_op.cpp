// memory_op (XENMEM_*) for PV domains, with Xen 4.17's semantics:
//
//   - cmd carries the sub-op in its low 6 bits and, above them, the extent to start at (how
//     Xen continues a long reservation); sub-ops that take no start refuse one with -EINVAL,
//     the machine-map family is looked up by the whole cmd, so a start there is unknown;
//   - the reservation sub-ops (increase, decrease, populate_physmap) never return an error:
//     they return how many extents were done (the start, when nothing was), and stop at the
//     first extent that fails (no memory, the limit, a bad frame, a fault on the list). A
//     frame handed over before a failed write-back stays the domain's, as on Xen;
//   - a PV guest keeps its own p2m: decrease takes machine frames, populate_physmap takes
//     guest frames and writes back the machine frames it allocated (setting their M2P entry),
//     increase writes back machine frames that are in no guest frame yet;
//   - a PV domain has no physmap to add to or remove from (-EACCES) and, without a map from a
//     toolstack, no memory map of its own (-ENOSYS).
//
//   - exchange trades extents for new ones chunk by chunk, all of a chunk or nothing of it,
//     with nr_exchanged saying how far it got (see exchange below);
//   - a frame given back while still referenced (mapped, a page table, pinned, descriptors)
//     leaves the guest's memory at once and is freed with its last reference, as on Xen.
//
// Kestrel differs from Xen where its frame allocator cannot follow (yet): an address-width
// limit is met by refusing an extent above it rather than by searching below it. Nothing is
// preempted: a reservation or an exchange runs to its end.
#include "memory_op.hpp"

#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "iomem_policy.hpp"
#include "memory_map.hpp"
#include "vcpu.hpp"

namespace {

constexpr unsigned EXTENT_SHIFT = 6;  // Xen's MEMOP_EXTENT_SHIFT
constexpr uint64_t CMD_MASK = (1u << EXTENT_SHIFT) - 1;
constexpr uint64_t MAX_START_EXTENTS = 0xffffffffu >> EXTENT_SHIFT;  // what a continuation encodes

// Extent orders a domain may ask for (Xen x86's memop-max-order defaults: 9 for a domU, 12
// for the hardware domain, 18 for the control domain; dom0 is both). Populate-on-demand
// requests may go up to the allocator's MAX_ORDER (20 on Xen).
constexpr unsigned DOMU_MAX_ORDER = 9, CTLDOM_MAX_ORDER = 18, POD_MAX_ORDER = 20;
constexpr uint8_t NUMA_NO_NODE = 0xff;
constexpr unsigned MAX_NUMNODES = 64;
constexpr uint64_t M2P_CHUNK = uint64_t{1} << 21;  // machphys_mfn_list: one frame per 2 MiB of M2P

unsigned max_order(const Domain& caller) { return caller.privileged() ? CTLDOM_MAX_ORDER : DOMU_MAX_ORDER; }

// Xen's rcu_lock_domain_by_any_id: DOMID_SELF or any id, the caller's own included.
Domain* any_domain(Vcpu& v, domid_t id) {
    if (id == DOMID_SELF || id == v.domain().id().raw()) return &v.domain();
    return domain_control::lookup(DomId(id));
}

// XSM_TARGET without XSM: the domain itself or the control domain.
bool may_act_on(const Vcpu& v, const Domain& d) { return &d == &v.domain() || v.domain().privileged(); }

uint64_t handle(const XEN_GUEST_HANDLE(xen_pfn_t)& h) { return reinterpret_cast<uint64_t>(h.p); }

// guest_handle_subrange_okay: entries [first, last] of a list of 8-byte frame numbers.
bool list_ok(uint64_t list, uint64_t first, uint64_t last) {
    return guest::range_ok(Gva(list + first * sizeof(xen_pfn_t)), (last - first + 1) * sizeof(xen_pfn_t));
}
bool read_entry(uint64_t list, uint64_t i, uint64_t& out) { return guest::read(Gva(list + i * sizeof(xen_pfn_t)), out); }
bool write_entry(uint64_t list, uint64_t i, uint64_t value) { return guest::write(Gva(list + i * sizeof(xen_pfn_t)), value); }

// What a reservation asks for, once its flags are checked.
struct Memop {
    Domain* d;
    uint64_t list;
    uint64_t nr_extents;
    unsigned order;
    uint64_t below_mfn;  // frames must lie below this (address-width limit), ~0 for none
    bool pod;
};

unsigned order_of_pages(uint64_t pages) {
    unsigned order = 0;
    while ((uint64_t{1} << order) < pages) ++order;
    return order;
}

// propagate_node: a node the caller may name (the control domain any that can exist, others
// any as long as it is not an exact request).
bool node_ok(const Vcpu& v, uint32_t flags) {
    uint8_t node = uint8_t(XENMEMF_get_node(flags));
    if (node == NUMA_NO_NODE) return true;
    if (v.domain().privileged()) return node < MAX_NUMNODES;
    return !(flags & XENMEMF_exact_node_request);
}

// construct_memop_from_reservation: the address-width limit and the NUMA node. Only one node
// exists; a node the caller may name is accepted.
bool check_flags(const Vcpu& v, uint32_t flags, uint64_t& below_mfn) {
    below_mfn = ~uint64_t{0};
    unsigned bits = XENMEMF_get_address_bits(flags);
    if (bits != 0 && bits < order_of_pages(memory_arch::max_page()) + PAGE_SHIFT) {
        if (bits <= PAGE_SHIFT) return false;
        below_mfn = uint64_t{1} << (bits - PAGE_SHIFT);
    }
    if (flags & XENMEMF_vnode) return true;  // no domain has a virtual NUMA layout
    return node_ok(v, flags);
}

// A new extent for the domain, within the address-width limit; false if there is none.
bool new_extent(Memop& m, uint64_t pfn, Mfn& out) {
    auto r = m.d->add_pages(pfn, m.order);
    if (!r) return false;
    const uint64_t n = uint64_t{1} << m.order;
    if (r->raw() + n > m.below_mfn) {
        for (uint64_t j = 0; j < n; ++j) (void)m.d->remove_page(Mfn(r->raw() + j));
        return false;
    }
    out = *r;
    return true;
}

uint64_t increase(Vcpu& v, Memop& m, uint64_t i) {
    if (m.list && !list_ok(m.list, i, m.nr_extents - 1)) return i;
    if (m.order > max_order(v.domain())) return i;
    for (; i < m.nr_extents; ++i) {
        Mfn mfn;
        if (!new_extent(m, FrameTable::M2P_INVALID, mfn)) break;
        if (m.list && !write_entry(m.list, i, mfn.raw())) break;
    }
    return i;
}

uint64_t populate(Vcpu& v, Memop& m, uint64_t i) {
    if (!list_ok(m.list, i, m.nr_extents - 1)) return i;
    if (m.order > (m.pod ? POD_MAX_ORDER : max_order(v.domain()))) return i;
    for (; i < m.nr_extents; ++i) {
        uint64_t gpfn;
        if (!read_entry(m.list, i, gpfn)) break;
        if (m.pod) {
            // Populate-on-demand is for translated guests: refused on oneself, and for a PV
            // target Xen counts the extent done without doing anything.
            if (m.d == &v.domain()) break;
            continue;
        }
        Mfn mfn;
        if (!new_extent(m, gpfn, mfn)) break;
        if (!write_entry(m.list, i, mfn.raw())) break;
    }
    return i;
}

uint64_t decrease(Vcpu& v, Memop& m, uint64_t i) {
    if (!list_ok(m.list, i, m.nr_extents - 1) || m.order > max_order(v.domain())) return i;
    for (; i < m.nr_extents; ++i) {
        uint64_t first;
        if (!read_entry(m.list, i, first)) return i;
        for (uint64_t j = 0; j < (uint64_t{1} << m.order); ++j)
            if (!m.d->remove_page(Mfn(first + j))) return i;
    }
    return i;
}

long reservation(Vcpu& v, unsigned op, uint64_t start, Gva arg) {
    xen_memory_reservation r;
    if (!guest::read(arg, r)) return long(start);
    if (r.nr_extents > MAX_START_EXTENTS || start >= r.nr_extents) return long(start);
    Domain* d = any_domain(v, r.domid);
    if (!d) return long(start);
    Memop m{d, handle(r.extent_start), r.nr_extents, r.extent_order, 0, false};
    if (!check_flags(v, r.mem_flags, m.below_mfn)) return long(start);
    m.pod = op == XENMEM_populate_physmap && (r.mem_flags & XENMEMF_populate_on_demand);
    if (!may_act_on(v, *d)) return long(start);
    LockGuard guard(d->page_lock());
    switch (op) {
    case XENMEM_increase_reservation: return long(increase(v, m, start));
    case XENMEM_decrease_reservation: return long(decrease(v, m, start));
    default: return long(populate(v, m, start));
    }
}

// XENMEM_exchange: extents of a domain's memory traded for new ones of another order (or
// another address width), all of a chunk or nothing of it. A chunk is the smallest whole
// number of both: 2^in_chunk input extents against 2^out_chunk output extents. Each chunk's
// output is allocated before its input is given back, so a chunk that cannot be completed
// leaves the domain as it was; nr_exchanged (input extents) tells the guest where it stopped.
// An input frame must be the domain's and wholly unused (Xen's steal_page: no mapping, no
// type, not already given back): -EINVAL otherwise.
struct Exchange {
    Domain* d;
    xen_memory_exchange x;
    unsigned in_chunk, out_chunk;  // chunk orders, in extents of each side
    uint64_t below_mfn;
};

// One chunk's input extents (their first frames), read from the guest once: a single one in
// place, more in a scratch block.
struct Inputs {
    uint64_t one = 0;
    uint64_t* gmfn = &one;
    uint64_t count = 0;  // extents read and marked
    Mfn scratch{0};
    unsigned scratch_order = 0;
};

void unmark_inputs(Exchange& e, const Inputs& in) {
    FrameTable& ft = *e.d->machine().table();
    for (uint64_t j = 0; j < in.count; ++j)
        for (uint64_t k = 0; k < (uint64_t{1} << e.x.in.extent_order); ++k)
            ft.info(Mfn(in.gmfn[j] + k)).flags &= ~PAGE_EXCHANGING;
}

// Whether every frame of the extent at gmfn can be given back; marks them if so.
bool mark_extent(Exchange& e, uint64_t gmfn) {
    FrameTable& ft = *e.d->machine().table();
    const uint64_t frames = uint64_t{1} << e.x.in.extent_order;
    uint64_t k = 0;
    for (; k < frames; ++k) {
        Mfn m(gmfn + k);
        if (gmfn + k < gmfn || !ft.owned_by(m, e.d->id())) break;
        PageInfo& pi = ft.info(m);
        // In use, given back already, or named twice.
        if (pi.refs || pi.type_count || (pi.flags & (PAGE_FREE_PENDING | PAGE_EXCHANGING | PAGE_PINNED))) break;
        pi.flags |= PAGE_EXCHANGING;
    }
    if (k == frames) return true;
    while (k--) ft.info(Mfn(gmfn + k)).flags &= ~PAGE_EXCHANGING;
    return false;
}

// Reads and marks input extents [first, first + 2^in_chunk): -EFAULT, -EINVAL (nothing left
// marked) or -ENOMEM for want of scratch room.
long take_inputs(Exchange& e, uint64_t first, Inputs& in) {
    MachineMemory& mm = e.d->machine();
    const uint64_t n = uint64_t{1} << e.in_chunk;
    if (n > 1) {
        in.scratch_order = MachineMemory::order_for(n * sizeof(uint64_t));
        auto b = mm.alloc_zeroed(in.scratch_order);
        if (!b) return -XEN_ENOMEM;
        in.scratch = *b;
        in.gmfn = static_cast<uint64_t*>(mm.map(*b));
    }
    long rc = 0;
    for (; in.count < n; ++in.count) {
        if (!read_entry(handle(e.x.in.extent_start), first + in.count, in.gmfn[in.count])) rc = -XEN_EFAULT;
        else if (!mark_extent(e, in.gmfn[in.count])) rc = -XEN_EINVAL;
        if (rc) break;
    }
    if (rc) unmark_inputs(e, in);
    return rc;
}

void drop_scratch(Exchange& e, const Inputs& in) {
    if (in.scratch != Mfn(0)) e.d->machine().free(in.scratch, in.scratch_order);
}

// The marked input frames leave the domain (unused: at once).
void release_inputs(Exchange& e, const Inputs& in) {
    FrameTable& ft = *e.d->machine().table();
    for (uint64_t j = 0; j < in.count; ++j)
        for (uint64_t k = 0; k < (uint64_t{1} << e.x.in.extent_order); ++k) {
            ft.info(Mfn(in.gmfn[j] + k)).flags &= ~PAGE_EXCHANGING;
            (void)e.d->remove_page(Mfn(in.gmfn[j] + k));
        }
}

// Output extents waiting to be assigned, linked through their first word (zeroed again when
// taken off): a chunk may have up to 2^max_order of them.
struct Outputs {
    uint64_t head = 0;  // frame number of the first block plus one; 0: empty
    uint64_t count = 0;
};

void push_output(MachineMemory& mm, Outputs& o, Mfn block) {
    *static_cast<uint64_t*>(mm.map(block)) = o.head;
    o.head = block.raw() + 1;
    ++o.count;
}

Mfn pop_output(MachineMemory& mm, Outputs& o) {
    Mfn block(o.head - 1);
    uint64_t* link = static_cast<uint64_t*>(mm.map(block));
    o.head = *link;
    *link = 0;
    --o.count;
    return block;
}

long alloc_outputs(Exchange& e, Outputs& o) {
    MachineMemory& mm = e.d->machine();
    const unsigned order = e.x.out.extent_order;
    while (o.count < (uint64_t{1} << e.out_chunk)) {
        auto m = mm.alloc_zeroed(order);
        if (m && m->raw() + (uint64_t{1} << order) <= e.below_mfn) {
            push_output(mm, o, *m);
            continue;
        }
        if (m) mm.free(*m, order);
        while (o.count) mm.free(pop_output(mm, o), order);
        return -XEN_ENOMEM;
    }
    return 0;
}

// Chunk number i: its input given back and its output the domain's, or (on an error before
// that) nothing changed. An output list entry that cannot be read or written is -EFAULT with
// the chunk done all the same, as on Xen.
long exchange_chunk(Exchange& e, uint64_t i) {
    Inputs in;
    long rc = take_inputs(e, i << e.in_chunk, in);
    Outputs out;
    if (!rc) {
        rc = alloc_outputs(e, out);
        if (rc) unmark_inputs(e, in);
    }
    if (!rc) release_inputs(e, in);
    drop_scratch(e, in);
    if (rc) return rc;
    MachineMemory& mm = e.d->machine();
    const uint64_t list = handle(e.x.out.extent_start);
    for (uint64_t j = 0; out.count; ++j) {
        Mfn block = pop_output(mm, out);
        uint64_t gpfn;
        const uint64_t at = (i << e.out_chunk) + j;
        bool have_gpfn = read_entry(list, at, gpfn);
        // Room: as many frames left the domain just now (unused ones leave at once). Should
        // that ever not hold, the block goes back rather than astray.
        if (!e.d->assign_block(block, e.x.out.extent_order, have_gpfn ? gpfn : FrameTable::M2P_INVALID)) {
            mm.free(block, e.x.out.extent_order);
            rc = -XEN_ENOMEM;
            continue;
        }
        if (!have_gpfn || !write_entry(list, at, block.raw())) rc = -XEN_EFAULT;
    }
    return rc;
}

// The checks Xen makes before touching anything (fail_early): 0 or the error.
long exchange_checks(Vcpu& v, Exchange& e) {
    const xen_memory_reservation &in = e.x.in, &out = e.x.out;
    unsigned top = in.extent_order > out.extent_order ? in.extent_order : out.extent_order;
    if (top > max_order(v.domain())) return -XEN_EPERM;
    if (e.x.nr_exchanged > in.nr_extents || in.domid != out.domid ||
        (~uint64_t{0} >> in.extent_order) < in.nr_extents || (~uint64_t{0} >> out.extent_order) < out.nr_extents ||
        (in.nr_extents << in.extent_order) != (out.nr_extents << out.extent_order))
        return -XEN_EINVAL;
    if (e.x.nr_exchanged == in.nr_extents) return 1;  // nothing left: done, nothing written
    if (!list_ok(handle(in.extent_start), e.x.nr_exchanged, in.nr_extents - 1)) return -XEN_EFAULT;
    e.in_chunk = in.extent_order <= out.extent_order ? out.extent_order - in.extent_order : 0;
    e.out_chunk = in.extent_order <= out.extent_order ? 0 : in.extent_order - out.extent_order;
    uint64_t out_first = e.in_chunk ? e.x.nr_exchanged >> e.in_chunk : e.x.nr_exchanged << e.out_chunk;
    if (!list_ok(handle(out.extent_start), out_first, out.nr_extents - 1)) return -XEN_EFAULT;
    if (!node_ok(v, out.mem_flags)) return -XEN_EINVAL;
    e.d = any_domain(v, in.domid);
    if (!e.d) return -XEN_ESRCH;
    if (!may_act_on(v, *e.d) || !e.d->machine().table()) return -XEN_EPERM;
    unsigned bits = XENMEMF_get_address_bits(out.mem_flags);
    e.below_mfn = bits == 0 ? ~uint64_t{0} : bits <= PAGE_SHIFT ? 0 : uint64_t{1} << (bits - PAGE_SHIFT);
    return 0;
}

long exchange(Vcpu& v, uint64_t start, Gva arg) {
    if (start) return -XEN_EINVAL;
    Exchange e{};
    if (!guest::read(arg, e.x)) return -XEN_EFAULT;
    const Gva done_at(arg.raw() + offsetof(xen_memory_exchange, nr_exchanged));
    long rc = exchange_checks(v, e);
    if (rc == 1) return 0;
    if (rc == 0) {
        LockGuard guard(e.d->page_lock());
        uint64_t i = e.x.nr_exchanged >> e.in_chunk;
        for (; i < (e.x.in.nr_extents >> e.in_chunk); ++i)
            if ((rc = exchange_chunk(e, i))) break;
        e.x.nr_exchanged = rc ? i << e.in_chunk : e.x.in.nr_extents;
    }
    if (!guest::write(done_at, e.x.nr_exchanged)) return -XEN_EFAULT;
    return rc;
}

// current_reservation, maximum_reservation and maximum_gpfn. A PV guest states the size of
// its own p2m in shared_info (arch.max_pfn); the highest guest frame is one below it.
long reservation_size(Vcpu& v, unsigned op, uint64_t start, Gva arg) {
    if (start) return -XEN_EINVAL;
    xen_memory_domain md;
    if (!guest::read(arg, md)) return -XEN_EFAULT;
    Domain* d = any_domain(v, md.domid);
    if (!d) return -XEN_ESRCH;
    if (!may_act_on(v, *d)) return -XEN_EPERM;
    switch (op) {
    case XENMEM_current_reservation: return long(d->nr_pages());
    case XENMEM_maximum_reservation: return long(d->max_pages());
    default: {
        uint64_t max_pfn = __atomic_load_n(&d->shared()->arch.max_pfn, __ATOMIC_RELAXED);
        return long((max_pfn ? max_pfn : 1) - 1);
    }
    }
}

// add_to_physmap, add_to_physmap_batch and remove_from_physmap are for translated guests;
// every PV domain gets -EACCES once the arguments are read and the domain found.
long add_to_physmap(Vcpu& v, uint64_t start, Gva arg) {
    if (start != uint16_t(start)) return -XEN_EDOM;
    xen_add_to_physmap x;
    if (!guest::read(arg, x)) return -XEN_EFAULT;
    if (x.space == XENMAPSPACE_gmfn_foreign) return -XEN_ENOSYS;  // only through the batch form
    if (!any_domain(v, x.domid)) return -XEN_ESRCH;
    return -XEN_EACCES;
}

long add_to_physmap_batch(Vcpu& v, uint64_t start, Gva arg) {
    if (start != uint16_t(start)) return -XEN_EDOM;
    xen_add_to_physmap_batch x;
    if (!guest::read(arg, x)) return -XEN_EFAULT;
    if (x.space == XENMAPSPACE_gmfn_range) return -XEN_EOPNOTSUPP;
    if (!any_domain(v, x.domid)) return -XEN_ESRCH;
    return -XEN_EACCES;
}

long remove_from_physmap(Vcpu& v, uint64_t start, Gva arg) {
    if (start) return -XEN_EINVAL;
    xen_remove_from_physmap x;
    if (!guest::read(arg, x)) return -XEN_EFAULT;
    if (!any_domain(v, x.domid)) return -XEN_ESRCH;
    return -XEN_EACCES;
}

long machphys_mapping(Vcpu& v, Gva arg) {
    xen_machphys_mapping m{MACH2PHYS_VIRT_START, MACH2PHYS_VIRT_END, MACH2PHYS_NR_ENTRIES - 1};
    // The hardware domain learns how far the table really reaches (no memory hot-plug here).
    if (v.domain().privileged()) m.max_mfn = memory_arch::max_page() - 1;
    return guest::write(arg, m) ? 0 : -XEN_EFAULT;
}

// One machine frame per 2 MiB of the M2P that has entries, up to max_extents.
long machphys_mfn_list(Gva arg) {
    xen_machphys_mfn_list l;
    if (!guest::read(arg, l)) return -XEN_EFAULT;
    uint64_t list = handle(l.extent_start);
    uint64_t end = MACH2PHYS_VIRT_START + memory_arch::max_page() * sizeof(uint64_t);
    uint32_t i = 0;
    for (uint64_t va = MACH2PHYS_VIRT_START; i != l.max_extents && va < end; ++i, va += M2P_CHUNK) {
        Mfn m = memory_arch::m2p_frame((va - MACH2PHYS_VIRT_START) / PAGE_SIZE);
        if (!write_entry(list, i, m.raw())) return -XEN_EFAULT;
    }
    l.nr_extents = i;
    return guest::write(arg, l) ? 0 : -XEN_EFAULT;
}

// XENMEM_memory_map: a PV domain's map comes from the toolstack (set_memory_map); without
// one, Xen answers -ENOSYS (dom0 included: a PV dom0 reads the machine's map instead).
long memory_map(Gva arg) {
    xen_memory_map m;
    if (!guest::read(arg, m)) return -XEN_EFAULT;
    return -XEN_ENOSYS;
}

// XENMEM_machine_memory_map, as Xen builds it for the control domain: the machine's E820 map
// (Kestrel's own uses of RAM shown as RAM), and between its entries (and past the last, up to
// the address width) a reserved entry for each run of frames the caller may not map (the
// APICs, the MSI window), so that dom0 never places a device there. A run reaching the top of
// the address space is left out, as on Xen.
class MachineMapWriter {
public:
    MachineMapWriter(Gva buffer, uint32_t room, uint32_t nr_map) : buffer_(buffer), room_(room), nr_map_(nr_map) {}

    // The reserved run from the cursor to `next` (where the caller may map again), if any.
    long gap_to(uint64_t next) {
        if (next > cursor_ && next < iomem_policy::frame_limit()) {
            if (storing()) {
                if (n_ + 1 >= room_) return -XEN_EINVAL;
                if (long rc = put(cursor_ << PAGE_SHIFT, (next - cursor_) << PAGE_SHIFT, XEN_E820_RESERVED)) return rc;
            }
            ++n_;
        }
        return 0;
    }
    // Reports the denied runs in [cursor, end) and moves the cursor past each.
    long gaps_before(uint64_t end) {
        uint64_t s, e;
        while (cursor_ < end) {
            if (!iomem_policy::first_denied_run(cursor_, end, s, e)) {
                cursor_ = end;  // permitted to the end: nothing to report
                break;
            }
            cursor_ = s;               // permitted up to s: nothing to report
            if (e >= end) break;       // runs into the next entry: reported with it
            if (long rc = gap_to(e)) return rc;
            cursor_ = e;
        }
        return 0;
    }
    long entry(uint32_t index, const xen_e820_entry& e) {
        uint64_t first = e.addr >> PAGE_SHIFT;
        if (first > cursor_) {
            if (long rc = gaps_before(first)) return rc;
            if (long rc = gap_to(first)) return rc;
        }
        if (storing()) {
            if (room_ <= n_ + (nr_map_ - index)) return -XEN_EINVAL;
            if (long rc = put(e.addr, e.size, e.type)) return rc;
        }
        ++n_;
        cursor_ = (e.addr + e.size + PAGE_SIZE - 1) >> PAGE_SHIFT;
        return 0;
    }
    long finish() {
        if (!cursor_) return 0;
        if (long rc = gaps_before(iomem_policy::frame_limit())) return rc;
        return 0;
    }
    uint32_t count() const { return n_; }
    bool storing() const { return buffer_.raw() != 0; }

private:
    long put(uint64_t addr, uint64_t size, uint32_t type) {
        xen_e820_entry out{addr, size, type};
        return guest::write(buffer_ + uint64_t(n_) * sizeof out, out) ? 0 : -XEN_EFAULT;
    }

    Gva buffer_;
    uint32_t room_, nr_map_, n_ = 0;
    uint64_t cursor_ = 0;
};

// The machine map's regions as E820 entries: Kestrel's own uses of RAM are RAM.
uint32_t e820_type(RegionType t) {
    switch (t) {
    case RegionType::reserved: return XEN_E820_RESERVED;
    case RegionType::acpi_reclaimable: return XEN_E820_ACPI;
    case RegionType::nvs: return XEN_E820_NVS;
    case RegionType::bad: return XEN_E820_UNUSABLE;
    default: return XEN_E820_RAM;
    }
}

// Neighbouring regions that are one E820 type become one entry. Returns the count.
uint32_t host_e820(xen_e820_entry* out, uint32_t room) {
    const MemoryMap& map = memory_arch::host_memory_map();
    uint32_t n = 0;
    for (size_t i = 0; i < map.count(); ++i) {
        const Region& r = map[i];
        const uint32_t type = e820_type(r.type);
        if (n && out[n - 1].type == type && out[n - 1].addr + out[n - 1].size == r.base.raw()) {
            out[n - 1].size += r.size;
            continue;
        }
        if (n == room) break;
        out[n++] = xen_e820_entry{r.base.raw(), r.size, type};
    }
    return n;
}

long machine_memory_map(Vcpu& v, Gva arg) {
    if (!v.domain().privileged()) return -XEN_EPERM;
    xen_memory_map m;
    if (!guest::read(arg, m)) return -XEN_EFAULT;
    static xen_e820_entry e820[MemoryMap::CAPACITY];  // under the MMU lock (memory_op)
    const uint32_t nr = host_e820(e820, MemoryMap::CAPACITY);
    const Gva buffer(reinterpret_cast<uint64_t>(m.buffer.p));
    if (buffer.raw()) {
        if (m.nr_entries < nr + 1) return -XEN_EINVAL;
        if (!guest::range_ok(buffer, size_t(m.nr_entries) * sizeof(xen_e820_entry))) return -XEN_EFAULT;
    }
    MachineMapWriter w(buffer, m.nr_entries, nr);
    for (uint32_t i = 0; i < nr; ++i)
        if (long rc = w.entry(i, e820[i])) return rc;
    if (long rc = w.finish()) return rc;
    m.nr_entries = w.count();
    return guest::write(arg, m) ? 0 : -XEN_EFAULT;
}

// Xen's arch_memory_op: these compare the whole cmd, start bits included.
long arch_memory_op(Vcpu& v, uint64_t cmd, Gva arg) {
    switch (cmd) {
    case XENMEM_memory_map: return memory_map(arg);
    case XENMEM_machine_memory_map: return machine_memory_map(v, arg);
    case XENMEM_machphys_mapping: return machphys_mapping(v, arg);
    case XENMEM_machphys_mfn_list: return machphys_mfn_list(arg);
    default: return -XEN_ENOSYS;
    }
}

}  // namespace

long do_memory_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint64_t cmd = args.a0;
    Gva arg(args.a1);
    unsigned op = unsigned(cmd & CMD_MASK);
    uint64_t start = cmd >> EXTENT_SHIFT;
    switch (op) {
    case XENMEM_increase_reservation:
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap: return reservation(v, op, start, arg);
    case XENMEM_exchange: return exchange(v, start, arg);
    case XENMEM_maximum_ram_page: return start ? -XEN_EINVAL : long(memory_arch::max_page());
    case XENMEM_current_reservation:
    case XENMEM_maximum_reservation:
    case XENMEM_maximum_gpfn: return reservation_size(v, op, start, arg);
    case XENMEM_add_to_physmap: return add_to_physmap(v, start, arg);
    case XENMEM_add_to_physmap_batch: return add_to_physmap_batch(v, start, arg);
    case XENMEM_remove_from_physmap: return remove_from_physmap(v, start, arg);
    default: return arch_memory_op(v, cmd, arg);
    }
}
