// Using grants, as Xen 4.17 does for PV domains: map_grant_ref, unmap_grant_ref (and
// unmap_and_replace), copy, swap_grant_ref, and what a dying domain gives up.
//
// The status protocol on the granter's entry: the first pin of an entry (and the first
// writable one) checks it and sets GTF_reading (and GTF_writing): in v1 with a compare-exchange
// on its flags and domid together, in v2 in the entry's status word, with the entry checked
// again afterwards (Xen's _set_status_v1/_v2). The granter sees the bits while the entry is in
// use. The last pin clears GTF_reading, the last writable one GTF_writing. An entry that is
// pinned keeps the frame and the grantee it was pinned with, whatever the granter writes
// meanwhile. A v2 sub-page grant serves copies within its bytes only and is never mapped.
//
// Failures are GNTST_* statuses and leave counts, pins and status bits as they were. Kestrel
// differs from Xen here: grant operations take one lock (Xen: per-table and per-entry locks),
// a grant PTE has no NX bit (the portable core does not know whether the CPU has NX),
// unmap_and_replace checks the entry it replaces before it takes the one at new_addr, and v2
// transitive grants are refused (GNTST_general_error) as Xen does with gnttab=transitive:0.
//
// A granter that dies while other domains map its frames stays (dying) until the last of those
// mappings goes, so its frames never return to the allocator while mapped (Xen keeps the dying
// domain until its pages are freed). domain_control::reap() finishes it. Domains
// are looked up and used only under the grant lock, and domain_control removes a domain from
// its list only while holding that lock too, so none goes away under a grant operation.
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "frame_table.hpp"
#include "grant_table.hpp"
#include "guest_access.hpp"
#include "kstd/string.hpp"
#include "pv_arch.hpp"
#include "pv_mm.hpp"
#include "spinlock.hpp"
#include "vcpu.hpp"

namespace grant {

namespace {

using pv_mm::PTE_A;
using pv_mm::PTE_D;
using pv_mm::PTE_P;
using pv_mm::PTE_RW;
using pv_mm::PTE_US;

Spinlock the_lock;

constexpr unsigned TYPE_RETRIES = 4;  // Xen gives up on an entry the guest keeps changing after five tries
constexpr uint64_t PTE_AVAIL_SHIFT = 9;

uint32_t pin_increment(uint32_t flags) {
    const bool ro = flags & GNTMAP_readonly;
    uint32_t inc = 0;
    if (flags & GNTMAP_device_map) inc += ro ? PIN_DEV_R : PIN_DEV_W;
    if (flags & GNTMAP_host_map) inc += ro ? PIN_HOST_R : PIN_HOST_W;
    return inc;
}

// A counter about to pass half its range is refused (Xen's GNTPIN overflow check).
bool pin_would_overflow(uint32_t pin, uint32_t inc) { return pin & (inc << (PIN_WIDTH - 1)); }

// rcu_lock_domain_by_id: a real id (DOMID_SELF is not one), the caller's own included.
Domain* domain_by_id(domid_t id) { return id >= DOMID_FIRST_RESERVED ? nullptr : domain_control::lookup(DomId(id)); }

// The flags and domid of an entry as one 32-bit word (flags in the low half).
uint32_t* entry_word(const GrantTable& t, uint32_t ref) { return reinterpret_cast<uint32_t*>(t.header(ref)); }

bool grants_to(uint32_t word, uint16_t type_mask, domid_t ld) {
    return (uint16_t(word) & type_mask) == GTF_permit_access && uint16_t(word >> 16) == ld;
}

// Xen's _set_status_v2: the status word first, then the entry checked again, so that a granter
// that revokes the entry at the same time either sees the bits or is not used.
int16_t start_use_v2(GrantTable& t, uint32_t ref, const ActiveGrant& act, bool readonly, uint16_t type_mask, domid_t ld) {
    const uint32_t* word = entry_word(t, ref);
    uint16_t* status = t.status(ref);
    uint32_t seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (!act.pin && !grants_to(seen, type_mask, ld)) return GNTST_general_error;
    if (!readonly && (uint16_t(seen) & GTF_readonly)) return GNTST_general_error;
    __atomic_fetch_or(status, uint16_t(GTF_reading | (readonly ? 0 : GTF_writing)), __ATOMIC_SEQ_CST);
    seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (!act.pin && (!grants_to(seen, type_mask, ld) || (!readonly && (uint16_t(seen) & GTF_readonly)))) {
        __atomic_fetch_and(status, uint16_t(~(GTF_reading | GTF_writing)), __ATOMIC_SEQ_CST);
        return GNTST_general_error;
    }
    if (act.pin && (uint16_t(seen) & GTF_readonly)) {
        __atomic_fetch_and(status, uint16_t(~GTF_writing), __ATOMIC_SEQ_CST);
        return GNTST_general_error;
    }
    return GNTST_okay;
}

// Xen's _set_status: GTF_reading (and GTF_writing) for an entry, which must grant access to ld
// (and allow writing) unless the entry is pinned already. In v1, a compare-exchange on the
// flags and domid together.
int16_t start_use(GrantTable& t, uint32_t ref, const ActiveGrant& act, bool readonly, bool mapping, domid_t ld) {
    if (t.version() == 2)
        return start_use_v2(t, ref, act, readonly, GTF_type_mask | (mapping ? GTF_sub_page : 0), ld);
    uint32_t* word = entry_word(t, ref);
    const uint16_t type_mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
    uint32_t seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (unsigned tries = 0;; ++tries) {
        const uint16_t flags = uint16_t(seen), domid = uint16_t(seen >> 16);
        if (!act.pin && ((flags & type_mask) != GTF_permit_access || domid != ld)) return GNTST_general_error;
        uint16_t set = GTF_reading;
        if (!readonly) {
            if (flags & GTF_readonly) return GNTST_general_error;
            set |= GTF_writing;
        }
        if (__atomic_compare_exchange_n(word, &seen, seen | set, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return GNTST_okay;
        if (tries == TYPE_RETRIES) return GNTST_general_error;
    }
}

// Xen's reduce_status_for_pin: the bits no pin needs any more.
void end_use(GrantTable& t, uint32_t ref, const ActiveGrant& act, bool readonly) {
    uint16_t clear = act.pin ? 0 : GTF_reading;
    if (!readonly && !(act.pin & PIN_WRITERS)) clear |= GTF_writing;
    if (clear) __atomic_fetch_and(t.status(ref), uint16_t(~clear), __ATOMIC_SEQ_CST);
}

// The frame of a new pin: a frame of rd (PV grants name machine frames), with a reference.
int16_t get_granted_frame(Domain& rd, uint64_t frame, Mfn& out) {
    if (frame > UINT32_MAX || pv_mm::get_page(rd, Mfn(frame))) return GNTST_bad_page;
    out = Mfn(frame);
    return GNTST_okay;
}

// Pins entry ref of rd for domain ld (map: mapping = true; copy: false). On success the frame
// has one more general reference and the pin count includes inc.
int16_t pin(Domain& rd, uint32_t ref, domid_t ld, uint32_t inc, bool readonly, bool mapping, Mfn& mfn) {
    GrantTable& rgt = *rd.grant_table();
    if (ref >= rgt.nr_entries()) return GNTST_bad_gntref;
    ActiveGrant& act = rgt.active(ref);
    if (act.pin && (act.domid != ld || pin_would_overflow(act.pin, inc) || (mapping && act.sub_page)))
        return GNTST_general_error;
    if (rd.state() == DomainState::dying) return mapping ? GNTST_general_error : GNTST_bad_domain;
    bool have_ref = false;
    if (!act.pin || (!readonly && !(act.pin & PIN_WRITERS))) {
        if (int16_t rc = start_use(rgt, ref, act, readonly, mapping, ld)) return rc;
        if (!act.pin) {
            Mfn frame;
            if (int16_t rc = get_granted_frame(rd, rgt.granted_frame(ref), frame)) {
                end_use(rgt, ref, act, readonly);
                return rc;
            }
            act = ActiveGrant{0, ld, 0, uint16_t(PAGE_SIZE), 0, 0, uint32_t(frame.raw())};
            if (rgt.version() == 2 && (rgt.header(ref)->flags & GTF_sub_page)) {
                const grant_entry_v2& e = *rgt.entry_v2(ref);
                act.start = e.sub_page.page_off;
                act.length = e.sub_page.length;
                act.sub_page = 1;
            }
            have_ref = true;
        }
    }
    if (!have_ref && pv_mm::get_page(rd, Mfn(act.mfn))) {
        end_use(rgt, ref, act, readonly);
        return GNTST_general_error;
    }
    act.pin += inc;
    mfn = Mfn(act.mfn);
    return GNTST_okay;
}

void unpin(Domain& rd, uint32_t ref, uint32_t inc, bool readonly) {
    GrantTable& rgt = *rd.grant_table();
    ActiveGrant& act = rgt.active(ref);
    act.pin -= inc;
    end_use(rgt, ref, act, readonly);
}

// The PTE of a host mapping (Xen's grant_to_pte_flags for RAM, then the PV adjustments).
uint64_t grant_pte(Mfn m, uint32_t flags) {
    uint64_t pte = mfn_to_paddr(m).raw() | PTE_P | PTE_A | PTE_D;
    if (flags & GNTMAP_application_map) pte |= PTE_US;
    if (!(flags & GNTMAP_readonly)) pte |= PTE_RW;
    pte |= uint64_t((flags >> _GNTMAP_guest_avail0) & 7) << PTE_AVAIL_SHIFT;
    return pv_mm::adjust_guest_l1e(pte);
}

// The L1 entry a host mapping goes to: by linear address in v's current tables, or (with
// GNTMAP_contains_pte) by its machine address in a validated L1 of v's domain.
uint64_t* host_slot(Vcpu& v, uint64_t addr, uint32_t flags) {
    Domain& d = v.domain();
    FrameTable* ft = d.machine().table();
    if (!ft) return nullptr;
    if (flags & GNTMAP_contains_pte) {
        Mfn l1 = paddr_to_mfn(Paddr(addr));
        if (addr % sizeof(uint64_t) || !ft->owned_by(l1, d.id())) return nullptr;
        const PageInfo& pi = ft->info(l1);
        if (pi.type != PageType::l1 || pi.type_count == 0) return nullptr;
        return static_cast<uint64_t*>(d.machine().map(l1)) + (addr % PAGE_SIZE) / sizeof(uint64_t);
    }
    if (!guest::range_ok(Gva(addr), 1)) return nullptr;
    Mfn l1;
    return pv_mm::l1e_slot(d, v.kernel_mode ? v.cr3_kernel : v.cr3_user, addr, l1);
}

int16_t create_host_mapping(Vcpu& v, uint64_t addr, Mfn m, uint32_t flags) {
    uint64_t* slot = host_slot(v, addr, flags);
    if (!slot) return GNTST_general_error;
    uint64_t old = __atomic_exchange_n(slot, grant_pte(m, flags), __ATOMIC_SEQ_CST);
    pv_mm::put_l1e(v.domain(), old);
    pv_arch::flush_tlb(v);
    return GNTST_okay;
}

// Clears the host mapping of m at addr (which must show m with the grant's present and
// writable bits), or moves the entry at new_addr there.
int16_t remove_host_mapping(Vcpu& v, uint64_t addr, Mfn m, uint32_t flags, uint64_t new_addr) {
    if (new_addr && (flags & GNTMAP_contains_pte)) return GNTST_general_error;
    uint64_t* slot = host_slot(v, addr, flags);
    if (!slot) return GNTST_general_error;
    uint64_t old = __atomic_load_n(slot, __ATOMIC_SEQ_CST);
    const uint64_t want = PTE_P | ((flags & GNTMAP_readonly) ? 0 : PTE_RW);
    if (paddr_to_mfn(Paddr(old & pv_mm::PTE_ADDR)) != m || ((old ^ want) & (PTE_P | PTE_RW)))
        return GNTST_general_error;
    uint64_t replacement = 0;
    if (new_addr) {
        uint64_t* from = host_slot(v, new_addr, 0);
        if (!from || from == slot) return GNTST_general_error;
        replacement = __atomic_exchange_n(from, uint64_t{0}, __ATOMIC_SEQ_CST);
    }
    if (!__atomic_compare_exchange_n(slot, &old, replacement, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        if (new_addr) pv_mm::put_l1e(v.domain(), replacement);
        return GNTST_general_error;
    }
    pv_arch::flush_tlb(v);
    return GNTST_okay;
}

// The references a mapping of one kind (host or device) holds beyond the pin's own reference.
int16_t take_kind_refs(Domain& rd, Mfn m, bool writable, bool extra_ref, unsigned& refs, unsigned& types) {
    if (extra_ref) {
        if (pv_mm::get_page(rd, m)) return GNTST_general_error;
        ++refs;
    }
    if (writable) {
        if (pv_mm::get_page_type(rd, m, PageType::writable)) return GNTST_general_error;
        ++types;
    }
    return GNTST_okay;
}

void drop_refs(Domain& rd, Mfn m, unsigned refs, unsigned types) {
    while (types--) pv_mm::put_page_type(rd, m);
    while (refs--) pv_mm::put_page(rd, m);
}

// Under the lock, after an unpin: whether rd (dying) may now be finished, no other domain
// pinning any of its entries. The caller tells domain_control by id once it has let go of the
// lock, which checks again.
bool may_release(const Domain& rd) {
    return rd.state() == DomainState::dying && !rd.grant_table()->mapped_by_others();
}

constexpr DomId NOBODY{DOMID_INVALID};

void notify(DomId id) {
    if (id != NOBODY) pv_mm::reap_later(id);
}

int16_t map_locked(Vcpu& v, Domain& rd, gnttab_map_grant_ref& op, uint32_t inc, uint32_t handle) {
    Domain& ld = v.domain();
    const bool ro = op.flags & GNTMAP_readonly;
    Mfn m;
    if (int16_t rc = pin(rd, op.ref, ld.id().raw(), inc, ro, true, m)) return rc;
    unsigned refs = 1, types = 0;
    int16_t rc = GNTST_okay;
    if (op.flags & GNTMAP_device_map) rc = take_kind_refs(rd, m, !ro, false, refs, types);
    if (!rc && (op.flags & GNTMAP_host_map)) {
        rc = take_kind_refs(rd, m, !ro, op.flags & GNTMAP_device_map, refs, types);
        if (!rc) rc = create_host_mapping(v, op.host_addr, m, op.flags);
        // A page-table entry of another domain now holds rd's frame (put_l1e drops it).
        if (!rc && &rd != &ld) rd.get_foreign_ref();
    }
    if (rc) {
        drop_refs(rd, m, refs, types);
        unpin(rd, op.ref, inc, ro);
        return rc;
    }
    *ld.grant_table()->track(handle) = MapTrack{op.ref, op.dom, uint16_t(op.flags & TRACKED_FLAGS)};
    op.dev_bus_addr = mfn_to_paddr(m).raw();
    op.handle = handle;
    return GNTST_okay;
}

// What an unmap gave up: the references of each kind and the pins (Xen's unmap_common_complete).
void complete_unmap(Domain& rd, uint32_t ref, Mfn m, uint32_t done, bool ro) {
    uint32_t inc = 0;
    if (done & GNTMAP_device_map) {
        drop_refs(rd, m, 1, ro ? 0 : 1);
        inc += ro ? PIN_DEV_R : PIN_DEV_W;
    }
    if (done & GNTMAP_host_map) {
        drop_refs(rd, m, 1, ro ? 0 : 1);
        inc += ro ? PIN_HOST_R : PIN_HOST_W;
    }
    if (inc) unpin(rd, ref, inc, ro);
}

}  // namespace

Spinlock& ops_lock() { return the_lock; }

int16_t map(Vcpu& v, gnttab_map_grant_ref& op) {
    const uint32_t inc = pin_increment(op.flags);
    if (!inc) return GNTST_bad_gntref;
    LockGuard guard(the_lock);
    Domain* rd = domain_by_id(op.dom);
    if (!rd) return GNTST_bad_domain;
    GrantTable& lgt = *v.domain().grant_table();
    uint32_t handle = lgt.get_handle();
    if (handle == GrantTable::NO_HANDLE) return GNTST_no_space;
    int16_t rc = map_locked(v, *rd, op, inc, handle);
    if (rc) lgt.put_handle(handle);
    return rc;
}

int16_t unmap(Vcpu& v, uint64_t host_addr, uint64_t dev_bus_addr, uint32_t handle, uint64_t new_addr) {
    Domain& ld = v.domain();
    DomId released = NOBODY;
    {
        LockGuard guard(the_lock);
        GrantTable& lgt = *ld.grant_table();
        MapTrack* t = lgt.track(handle);
        if (!t || !t->flags) return GNTST_bad_handle;
        Domain* rd = domain_by_id(t->domid);
        if (!rd || t->ref >= rd->grant_table()->nr_entries()) return GNTST_bad_handle;
        const uint32_t ref = t->ref;
        const Mfn m(rd->grant_table()->active(ref).mfn);
        if (dev_bus_addr && dev_bus_addr != mfn_to_paddr(m).raw()) return GNTST_bad_dev_addr;
        const uint16_t flags = t->flags;
        uint32_t done = 0;
        if (host_addr && (flags & GNTMAP_host_map)) {
            if (int16_t rc = remove_host_mapping(v, host_addr, m, flags, new_addr)) return rc;
            if (rd != &ld) rd->put_foreign_ref();  // the pin keeps rd until complete_unmap
            t->flags &= uint16_t(~GNTMAP_host_map);
            done |= GNTMAP_host_map;
        }
        if (dev_bus_addr && (flags & GNTMAP_device_map)) {
            t->flags &= uint16_t(~GNTMAP_device_map);
            done |= GNTMAP_device_map;
        }
        if (!(t->flags & (GNTMAP_host_map | GNTMAP_device_map))) lgt.put_handle(handle);
        complete_unmap(*rd, ref, m, done, flags & GNTMAP_readonly);
        if (rd != &ld && may_release(*rd)) released = rd->id();
    }
    notify(released);
    return GNTST_okay;
}

namespace {

// One side of a copy: a granted frame (pinned for the copy) or a frame of the caller.
struct CopySide {
    Domain* d = nullptr;
    Mfn mfn{0};
    uint32_t start = 0, length = PAGE_SIZE;  // the bytes the side may use
    uint32_t ref = 0;
    bool pinned = false;
    bool have_ref = false;
    bool have_type = false;
};

// gnttab_copy_lock_domain: a frame may be named directly only by its owner (DOMID_SELF).
int16_t find_side_domain(Vcpu& v, domid_t domid, bool by_ref, CopySide& s) {
    if (domid != DOMID_SELF && !by_ref) return GNTST_permission_denied;
    s.d = domid == DOMID_SELF ? &v.domain() : domain_by_id(domid);
    return s.d ? GNTST_okay : GNTST_bad_domain;
}

int16_t claim_side(Vcpu& v, const gnttab_copy::gnttab_copy_ptr& p, bool by_ref, bool ro, CopySide& s) {
    if (by_ref) {
        if (int16_t rc = pin(*s.d, p.u.ref, v.domain().id().raw(), ro ? PIN_HOST_R : PIN_HOST_W, ro, false, s.mfn))
            return rc;
        s.ref = p.u.ref;
        s.pinned = true;
        const ActiveGrant& act = s.d->grant_table()->active(p.u.ref);
        s.start = act.start;
        s.length = act.length;
    } else {
        if (int16_t rc = get_granted_frame(*s.d, p.u.gmfn, s.mfn)) return rc;
    }
    s.have_ref = true;
    if (!ro) {
        if (pv_mm::get_page_type(*s.d, s.mfn, PageType::writable)) return GNTST_general_error;
        s.have_type = true;
    }
    return GNTST_okay;
}

bool within(uint32_t offset, uint32_t len, const CopySide& s) {
    return offset >= s.start && offset + len <= s.start + s.length;
}

void release_side(CopySide& s, bool ro) {
    if (s.have_type) pv_mm::put_page_type(*s.d, s.mfn);
    if (s.have_ref) pv_mm::put_page(*s.d, s.mfn);
    if (s.pinned) unpin(*s.d, s.ref, ro ? PIN_HOST_R : PIN_HOST_W, ro);
}

}  // namespace

int16_t copy(Vcpu& v, const gnttab_copy& op) {
    const bool src_ref = op.flags & GNTCOPY_source_gref, dst_ref = op.flags & GNTCOPY_dest_gref;
    CopySide src, dst;
    DomId released[2] = {NOBODY, NOBODY};
    int16_t rc;
    {
        LockGuard guard(the_lock);
        rc = find_side_domain(v, op.source.domid, src_ref, src);
        if (rc) return rc;
        rc = find_side_domain(v, op.dest.domid, dst_ref, dst);
        if (rc) return rc;
        rc = claim_side(v, op.source, src_ref, true, src);
        if (!rc) rc = claim_side(v, op.dest, dst_ref, false, dst);
        if (!rc && (op.source.offset + op.len > PAGE_SIZE || op.dest.offset + op.len > PAGE_SIZE))
            rc = GNTST_bad_copy_arg;
        if (!rc && (!within(op.source.offset, op.len, src) || !within(op.dest.offset, op.len, dst)))
            rc = GNTST_general_error;
        if (!rc) {
            MachineMemory& mm = v.domain().machine();
            memmove(static_cast<uint8_t*>(mm.map(dst.mfn)) + op.dest.offset,
                    static_cast<const uint8_t*>(mm.map(src.mfn)) + op.source.offset, op.len);
        }
        release_side(dst, false);
        release_side(src, true);
        if (src.pinned && src.d != &v.domain() && may_release(*src.d)) released[0] = src.d->id();
        if (dst.pinned && dst.d != &v.domain() && may_release(*dst.d)) released[1] = dst.d->id();
    }
    notify(released[0]);
    notify(released[1]);
    return rc;
}

int16_t swap(Domain& d, uint32_t ref_a, uint32_t ref_b) {
    LockGuard guard(the_lock);
    GrantTable& t = *d.grant_table();
    if (ref_a >= t.nr_entries() || ref_b >= t.nr_entries()) return GNTST_bad_gntref;
    if (ref_a == ref_b) return GNTST_okay;
    if (t.active(ref_a).pin || t.active(ref_b).pin) return GNTST_eagain;
    if (t.version() == 1) {
        grant_entry_v1 a = *t.entry(ref_a);
        *t.entry(ref_a) = *t.entry(ref_b);
        *t.entry(ref_b) = a;
        return GNTST_okay;
    }
    grant_entry_v2 a = *t.entry_v2(ref_a);
    *t.entry_v2(ref_a) = *t.entry_v2(ref_b);
    *t.entry_v2(ref_b) = a;
    uint16_t status = *t.status(ref_a);
    *t.status(ref_a) = *t.status(ref_b);
    *t.status(ref_b) = status;
    return GNTST_okay;
}

long set_version(Domain& d, unsigned version) {
    LockGuard guard(the_lock);
    GrantTable& t = *d.grant_table();
    if (version == t.version()) return 0;
    // Only the toolstack's reserved entries may be in use (Xen lets kexec keep them).
    for (uint32_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < t.nr_entries(); ++ref)
        if (t.active(ref).pin) return -XEN_EBUSY;
    return t.set_version(version);
}

namespace {

}  // namespace

void release_mappings(Domain& mapper) {
    constexpr unsigned MAX_NOTIFY = 64;
    DomId granters[MAX_NOTIFY];
    unsigned n = 0;
    {
        LockGuard guard(the_lock);
        GrantTable* lgt = mapper.grant_table();
        if (!lgt) return;
        for (uint32_t h = 0; h < lgt->maptrack_limit(); ++h) {
            MapTrack* t = lgt->track(h);
            if (!t->flags) continue;
            Domain* rd = domain_by_id(t->domid);
            if (rd && t->ref < rd->grant_table()->nr_entries()) {
                const bool ro = t->flags & GNTMAP_readonly;
                const Mfn m(rd->grant_table()->active(t->ref).mfn);
                // A host mapping's references belong to its page-table entry (dropped below).
                uint32_t inc = 0;
                if (t->flags & GNTMAP_device_map) {
                    drop_refs(*rd, m, 1, ro ? 0 : 1);
                    inc += ro ? PIN_DEV_R : PIN_DEV_W;
                }
                if (t->flags & GNTMAP_host_map) inc += ro ? PIN_HOST_R : PIN_HOST_W;
                unpin(*rd, t->ref, inc, ro);
                if (rd != &mapper && may_release(*rd) && n < MAX_NOTIFY) granters[n++] = rd->id();
            }
            lgt->put_handle(h);
        }
    }
    pv_mm::release_foreign_mappings(mapper);  // host mappings: their references go with the entries
    for (unsigned i = 0; i < n; ++i) notify(granters[i]);
}

}  // namespace grant
