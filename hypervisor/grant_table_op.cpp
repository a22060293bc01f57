// grant_table_op(cmd, uop, count) for PV domains, with Xen 4.17's conventions:
//
//   - the hypercall returns 0, or -EINVAL (a count above INT_MAX, continuation bits in cmd, a
//     count other than 1 where one struct is expected, a bad version), -EFAULT (an array or a
//     struct that cannot be read or written back), -ESRCH/-EPERM (get_version), -ENOSYS (an
//     unknown cmd); how each operation fared is its GNTST_* status field;
//   - the batch operations (map, unmap, unmap_and_replace, copy, swap, transfer) check the whole array
//     first and stop at the first entry that cannot be read or written back; map writes its
//     whole struct back, the others their status only;
//   - setup_table and query_size name a domain by DOMID_SELF or any id (another domain only for
//     the control domain: GNTST_permission_denied); setup_table grows the table, never shrinks
//     it, and lists its frames as machine frame numbers.
//
//   - set_version switches between the v1 and v2 layouts while no entry past the toolstack's
//     reserved ones is in use (-EBUSY), keeping those; it always reports the version in force.
//     get_status_frames lists the v2 status frames.
//
//   - cache_flush (x86): cleaning the caches over part of a frame of the caller's or one it has
//     mapped from a grant; invalidating alone is not supported (-EOPNOTSUPP), as on Xen x86. The
//     continuation bits of cmd are where the search of the owner's grants starts.
//
// The debugging dump_table is not offered (-ENOSYS, as Xen 4.17). Nothing is preempted: a batch
// runs to its end.
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "grant_table.hpp"
#include "frame_table.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_arch.hpp"
#include "spinlock.hpp"
#include "vcpu.hpp"

namespace {

constexpr unsigned CONTINUATION_SHIFT = 12;  // Xen's GNTTABOP_CONTINUATION_ARG_SHIFT
constexpr uint32_t CMD_MASK = (1u << CONTINUATION_SHIFT) - 1;

// rcu_lock_domain_by_any_id, then XSM_TARGET without XSM: itself or, for the control domain,
// any domain. Sets status and returns null when refused.
Domain* target(Vcpu& v, domid_t id, int16_t& status) {
    Domain* d = id == DOMID_SELF || id == v.domain().id().raw() ? &v.domain() : domain_control::lookup(DomId(id));
    if (!d) {
        status = GNTST_bad_domain;
        return nullptr;
    }
    if (d != &v.domain() && !v.domain().privileged()) {
        status = GNTST_permission_denied;
        return nullptr;
    }
    return d;
}

long setup_table(Vcpu& v, Gva uop, uint32_t count) {
    if (count != 1) return -XEN_EINVAL;
    gnttab_setup_table op;
    if (!guest::read(uop, op)) return -XEN_EFAULT;
    const uint64_t list = reinterpret_cast<uint64_t>(op.frame_list.p);
    if (!guest::range_ok(Gva(list), size_t(op.nr_frames) * sizeof(xen_pfn_t))) return -XEN_EFAULT;
    if (Domain* d = target(v, op.dom, op.status)) {
        GrantTable& t = *d->grant_table();
        if (op.nr_frames > t.max_frames() || !t.grow(op.nr_frames)) {
            op.status = GNTST_general_error;
        } else {
            op.status = GNTST_okay;
            for (uint32_t i = 0; i < op.nr_frames; ++i) {
                const xen_pfn_t mfn = t.frame(i).raw();
                if (!guest::write(Gva(list + i * sizeof(xen_pfn_t)), mfn)) {
                    op.status = GNTST_bad_virt_addr;
                    break;
                }
            }
        }
    }
    return guest::write(uop + offsetof(gnttab_setup_table, status), op.status) ? 0 : -XEN_EFAULT;
}

long query_size(Vcpu& v, Gva uop, uint32_t count) {
    if (count != 1) return -XEN_EINVAL;
    gnttab_query_size op;
    if (!guest::read(uop, op)) return -XEN_EFAULT;
    if (Domain* d = target(v, op.dom, op.status)) {
        op.nr_frames = d->grant_table()->nr_frames();
        op.max_nr_frames = d->grant_table()->max_frames();
        op.status = GNTST_okay;
    }
    return guest::write(uop, op) ? 0 : -XEN_EFAULT;
}

long set_version(Vcpu& v, Gva uop) {
    gnttab_set_version op;
    if (!guest::read(uop, op)) return -XEN_EFAULT;
    long rc = op.version != 1 && op.version != 2 ? -XEN_EINVAL : grant::set_version(v.domain(), op.version);
    op.version = v.domain().grant_table()->version();
    return guest::write(uop, op) ? rc : -XEN_EFAULT;
}

long get_version(Vcpu& v, Gva uop) {
    gnttab_get_version op;
    if (!guest::read(uop, op)) return -XEN_EFAULT;
    Domain* d = op.dom == DOMID_SELF || op.dom == v.domain().id().raw() ? &v.domain() : domain_control::lookup(DomId(op.dom));
    if (!d) return -XEN_ESRCH;
    if (d != &v.domain() && !v.domain().privileged()) return -XEN_EPERM;
    op.version = d->grant_table()->version();
    return guest::write(uop + offsetof(gnttab_get_version, version), op.version) ? 0 : -XEN_EFAULT;
}

// The v2 status frames (v1 has none: asking for any is a general error).
long get_status_frames(Vcpu& v, Gva uop, uint32_t count) {
    if (count != 1) return -XEN_EINVAL;
    gnttab_get_status_frames op;
    if (!guest::read(uop, op)) return -XEN_EFAULT;
    const uint64_t list = reinterpret_cast<uint64_t>(op.frame_list.p);
    if (!guest::range_ok(Gva(list), size_t(op.nr_frames) * sizeof(uint64_t))) return -XEN_EFAULT;
    if (Domain* d = target(v, op.dom, op.status)) {
        const GrantTable& t = *d->grant_table();
        op.status = op.nr_frames > t.nr_status_frames() ? GNTST_general_error : GNTST_okay;
        for (uint32_t i = 0; op.status != GNTST_general_error && i < op.nr_frames; ++i)
            if (!guest::write(Gva(list + i * sizeof(uint64_t)), uint64_t(t.status_frame(i).raw())))
                op.status = GNTST_bad_virt_addr;
    }
    return guest::write(uop + offsetof(gnttab_get_status_frames, status), op.status) ? 0 : -XEN_EFAULT;
}

// A batch of T at uop: each entry read, handled by f (which sets its status) and written back
// (whole, or its status field only).
template <typename T, size_t STATUS_OFFSET, typename F>
long batch(Gva uop, uint32_t count, bool whole, F f) {
    if (!guest::range_ok(uop, size_t(count) * sizeof(T))) return -XEN_EFAULT;
    for (uint32_t i = 0; i < count; ++i) {
        Gva at = uop + uint64_t(i) * sizeof(T);
        T op;
        if (!guest::read(at, op)) return -XEN_EFAULT;
        f(op);
        bool ok = whole ? guest::write(at, op) : guest::copy_to(at + STATUS_OFFSET, reinterpret_cast<const uint8_t*>(&op) + STATUS_OFFSET, sizeof(int16_t));
        if (!ok) return -XEN_EFAULT;
    }
    return 0;
}

// Whether d has an entry of owner pinned at frame m, searching from ref `from` on.
bool maps_frame(const Domain& d, const GrantTable& owner, Mfn m, uint32_t from) {
    for (uint32_t ref = from; ref < owner.nr_entries(); ++ref) {
        const ActiveGrant& a = owner.active(ref);
        if (a.pin && a.domid == d.id().raw() && a.mfn == m.raw()) return true;
    }
    return false;
}

// One cache_flush (Xen's cache_flush, with x86's cache maintenance).
long cache_flush(Vcpu& v, const gnttab_cache_flush& op, uint32_t first_ref) {
    constexpr uint32_t OPS = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL;
    if (op.offset >= PAGE_SIZE || op.length > PAGE_SIZE || op.offset + op.length > PAGE_SIZE || (op.op & ~OPS))
        return -XEN_EINVAL;
    if (op.length == 0 || op.op == 0) return first_ref ? -XEN_EILSEQ : 0;
    Domain& d = v.domain();
    FrameTable* ft = d.machine().table();
    const Mfn m = paddr_to_mfn(Paddr(op.a.dev_bus_addr));
    if (!ft || !ft->valid(m)) return -XEN_EINVAL;
    {
        LockGuard guard(grant::ops_lock());
        const uint16_t id = ft->info(m).owner;
        Domain* owner = id == FrameTable::NO_OWNER ? nullptr : domain_control::lookup(DomId(id));
        if (!owner) return -XEN_EPERM;
        if (owner != &d && !maps_frame(d, *owner->grant_table(), m, first_ref)) return -XEN_EINVAL;
    }
    // x86 can write back and invalidate, not invalidate alone.
    if (!(op.op & GNTTAB_CACHE_CLEAN)) return -XEN_EOPNOTSUPP;
    pv_arch::flush_caches(false);
    return 0;
}

long cache_flushes(Vcpu& v, Gva uop, uint32_t count, uint32_t first_ref) {
    if (!guest::range_ok(uop, size_t(count) * sizeof(gnttab_cache_flush))) return -XEN_EFAULT;
    for (uint32_t i = 0; i < count; ++i) {
        gnttab_cache_flush op;
        if (!guest::read(uop + uint64_t(i) * sizeof op, op)) return -XEN_EFAULT;
        if (long rc = cache_flush(v, op, first_ref)) return rc;
        first_ref = 0;
    }
    return 0;
}

}  // namespace

long do_grant_table_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint32_t cmd = uint32_t(args.a0);
    const Gva uop(args.a1);
    const uint32_t count = uint32_t(args.a2);
    if (int32_t(count) < 0) return -XEN_EINVAL;
    const uint32_t opaque = cmd & ~CMD_MASK;
    cmd &= CMD_MASK;
    if (cmd != GNTTABOP_cache_flush && opaque) return -XEN_EINVAL;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        return batch<gnttab_map_grant_ref, offsetof(gnttab_map_grant_ref, status)>(
            uop, count, true, [&](gnttab_map_grant_ref& op) { op.status = grant::map(v, op); });
    case GNTTABOP_unmap_grant_ref:
        return batch<gnttab_unmap_grant_ref, offsetof(gnttab_unmap_grant_ref, status)>(
            uop, count, false,
            [&](gnttab_unmap_grant_ref& op) { op.status = grant::unmap(v, op.host_addr, op.dev_bus_addr, op.handle, 0); });
    case GNTTABOP_unmap_and_replace:
        return batch<gnttab_unmap_and_replace, offsetof(gnttab_unmap_and_replace, status)>(
            uop, count, false,
            [&](gnttab_unmap_and_replace& op) { op.status = grant::unmap(v, op.host_addr, 0, op.handle, op.new_addr); });
    case GNTTABOP_copy:
        return batch<gnttab_copy, offsetof(gnttab_copy, status)>(
            uop, count, false, [&](gnttab_copy& op) { op.status = grant::copy(v, op); });
    case GNTTABOP_transfer:
        return batch<gnttab_transfer, offsetof(gnttab_transfer, status)>(
            uop, count, false, [&](gnttab_transfer& op) { op.status = grant::transfer(v, op); });
    case GNTTABOP_swap_grant_ref:
        return batch<gnttab_swap_grant_ref, offsetof(gnttab_swap_grant_ref, status)>(
            uop, count, false,
            [&](gnttab_swap_grant_ref& op) { op.status = grant::swap(v.domain(), op.ref_a, op.ref_b); });
    case GNTTABOP_setup_table: return setup_table(v, uop, count);
    case GNTTABOP_query_size: return query_size(v, uop, count);
    case GNTTABOP_set_version: return set_version(v, uop);
    case GNTTABOP_get_version: return get_version(v, uop);
    case GNTTABOP_get_status_frames: return get_status_frames(v, uop, count);
    case GNTTABOP_cache_flush: return cache_flushes(v, uop, count, opaque);
    default: return -XEN_ENOSYS;
    }
}
