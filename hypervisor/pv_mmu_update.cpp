// mmu_update, update_va_mapping and update_va_mapping_otherdomain: the hypercalls that write
// page-table entries, with Xen 4.17's rules for whose tables and whose frames:
//
//   pt_owner  the domain whose page tables are written: the caller, or (mmu_update only) the
//             domain in the upper half of foreigndom, plus one;
//   pg_owner  the domain whose frames new L1 entries may map: the caller (DOMID_SELF), or a
//             foreign domain named in the lower half of foreigndom or in domid. Naming oneself
//             by number is refused (-ESRCH), as are unknown domains; DOMID_IO owns the I/O
//             memory (mapped with the caller's own rights), DOMID_XEN owns no frame here.
//
// Acting on another domain needs the caller to be the control domain (Xen's XSM_TARGET
// default without a device-model target): -EPERM otherwise, except for DOMID_IO, where the
// caller's own rights apply. Upper-level tables only ever point at the pt_owner's own tables.
// The rules for the entries themselves are pv_mm's.
//
// TLB maintenance, as on Xen: an mmu_update that changed an L2, L3 or L4 entry flushes every
// CPU that may hold the tables' translations before it returns (a cached walk through the old
// entry would reach tables the guest no longer has, and a multicall's next call must not see
// it); one that changed L1 entries only leaves the TLB to the guest, which flushes as it needs
// (update_va_mapping does what its UVMF_* flags ask, nothing more). What a stale L1 entry
// could still reach is the hypervisor's concern elsewhere: a frame given back is stamped with
// the TLB clock and flushed for before the allocator hands it out, and a frame changing type
// is flushed for first (pv_mm).
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_arch.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

namespace {

using namespace pv_mm;

// Xen's get_pg_owner: the domain whose frames may be mapped, found is false for ESRCH. A null
// owner with found set is DOMID_IO or DOMID_XEN.
struct PgOwner {
    Domain* domain;
    bool found;
    bool io;  // DOMID_IO: the caller's own rights are checked, not the control domain's
};

[[gnu::always_inline]] inline PgOwner pg_owner_of(Vcpu& v, uint16_t id) {
    Domain& self = v.domain();
    if (id == DOMID_SELF) return {&self, true, false};
    if (id == self.id().raw()) return {nullptr, false, false};  // "cannot specify itself"
    if (id == DOMID_IO) return {nullptr, true, true};
    if (id == DOMID_XEN) return {nullptr, true, false};
    Domain* d = domain_control::lookup(DomId(id));
    return {d, d != nullptr, false};
}

// XSM_TARGET without XSM: oneself, or anyone for the control domain.
bool may_use(const Domain& caller, const Domain* target) { return target == &caller || caller.privileged(); }
bool may_use(const Domain& caller, const PgOwner& pg) { return pg.io || may_use(caller, pg.domain); }

// The vCPU mask a MULTI flush names: Xen reads it whole (one word per 64 vCPUs) before
// flushing. Kestrel then flushes every CPU of the domain, a superset of the vCPUs it names.
bool read_vcpumask(const Domain& d, uint64_t ptr) {
    for (unsigned word = 0; word * 64 < d.nr_vcpus(); ++word) {
        uint64_t bits;
        if (!guest::read(Gva(ptr + word * sizeof bits), bits)) return false;
    }
    return true;
}

// The flush an update_va_mapping asks for after its entry changed. -EFAULT for a mask that
// cannot be read (the entry stays changed, as on Xen).
long flush_after_update(Vcpu& v, uint64_t va, uint64_t flags) {
    const uint64_t type = flags & UVMF_FLUSHTYPE_MASK, mask = flags & ~UVMF_FLUSHTYPE_MASK;
    if (type != UVMF_TLB_FLUSH && type != UVMF_INVLPG) return 0;
    long rc = 0;
    if (mask != UVMF_LOCAL && mask != UVMF_ALL && !read_vcpumask(v.domain(), mask)) rc = -XEN_EFAULT;
    // Beyond this CPU, the domain's other CPUs flush whole TLBs (a superset of one page, and
    // of the vCPUs a mask names).
    if (mask != UVMF_LOCAL) pv_arch::flush_tlb(v);
    else if (type == UVMF_TLB_FLUSH) pv_arch::flush_tlb_local(v);
    else pv_arch::invalidate_page(v, va);
    return rc;
}

long update_va(Vcpu& v, uint64_t va, uint64_t pte, uint64_t flags, const PgOwner& pg) {
    Domain& d = v.domain();
    if (!d.machine().table() || !guest::range_ok(Gva(va), 1)) return -XEN_EINVAL;
    Mfn l1;
    uint64_t* slot = find_l1e(d, v.kernel_mode ? v.cr3_kernel : v.cr3_user, va, l1);
    if (!slot) return -XEN_EINVAL;
    long rc = update_entry(d, l1, unsigned(slot - entries_of(d, l1)), pte, false, pg.domain, pg.io);
    if (rc) return rc;
    return flush_after_update(v, va, flags);
}

// One MMU_NORMAL_PT_UPDATE into a frame of pt: a validated table is changed by the rules of
// its level; any other frame of pt is written plainly, if it may be written. upper: set when
// an L2, L3 or L4 entry changed.
long normal_update(Domain& pt, const PgOwner& pg, uint64_t ptr, uint64_t val, bool preserve_ad, bool& upper) {
    FrameTable& ft = *pt.machine().table();
    Mfn m(ptr >> PAGE_SHIFT);
    if (!ft.owned_by(m, pt.id())) return -XEN_EINVAL;
    unsigned index = unsigned((ptr & (PAGE_SIZE - 1)) / 8);
    const PageInfo& pi = ft.info(m);
    bool is_table = pi.type_count && (pi.type == PageType::l1 || pi.type == PageType::l2 ||
                                      pi.type == PageType::l3 || pi.type == PageType::l4);
    if (is_table) {
        const bool l1 = pi.type == PageType::l1;
        long rc = update_entry(pt, m, index, val, preserve_ad, pg.domain, pg.io);
        if (rc == 0 && !l1) upper = true;
        return rc;
    }
    if (get_page_type(pt, m, PageType::writable)) return -XEN_EINVAL;
    __atomic_store_n(&entries_of(pt, m)[index], val, __ATOMIC_RELAXED);
    put_page_type(pt, m);
    return 0;
}

// MMU_MACHPHYS_UPDATE: the M2P entry of a frame of pg (the caller's own tables only).
long machphys_update(Domain& caller, Domain& pt, Domain* pg, uint64_t ptr, uint64_t pfn) {
    if (&pt != &caller) return -XEN_EPERM;
    FrameTable& ft = *caller.machine().table();
    Mfn m(ptr >> PAGE_SHIFT);
    if (!pg || !ft.owned_by(m, pg->id())) return -XEN_EINVAL;
    ft.set_m2p(m, pfn);
    return 0;
}

long one_update(Domain& caller, Domain& pt, const PgOwner& pg, const mmu_update& req, bool& upper) {
    const unsigned cmd = unsigned(req.ptr & 7);
    switch (cmd) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
    case MMU_PT_UPDATE_NO_TRANSLATE:
        if (!may_use(caller, pg) || !may_use(caller, &pt)) return -XEN_EPERM;
        return normal_update(pt, pg, req.ptr - cmd, req.val, cmd == MMU_PT_UPDATE_PRESERVE_AD, upper);
    case MMU_MACHPHYS_UPDATE:
        if (&pt == &caller && !may_use(caller, pg)) return -XEN_EPERM;
        return machphys_update(caller, pt, pg.domain, req.ptr, req.val);
    default: return -XEN_ENOSYS;
    }
}

// The upper half of foreigndom: 0 for the caller's own tables, else a domain id plus one.
long pt_owner_of(Vcpu& v, uint32_t foreigndom, Domain*& pt) {
    pt = &v.domain();
    const uint32_t pt_dom = foreigndom >> 16;
    if (!pt_dom) return 0;
    if (pt_dom - 1 == v.domain().id().raw()) return 0;
    pt = pt_dom - 1 < DOMID_FIRST_RESERVED ? domain_control::lookup(DomId(uint16_t(pt_dom - 1))) : nullptr;
    if (!pt) return -XEN_ESRCH;
    return pt->vcpu(VcpuId(0)) ? 0 : -XEN_EINVAL;
}

}  // namespace

long do_update_va_mapping(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    return update_va(v, args.a0, args.a1, args.a2, PgOwner{&v.domain(), true, false});
}

long do_update_va_mapping_otherdomain(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    PgOwner pg = pg_owner_of(v, uint16_t(args.a3));
    if (!pg.found) return -XEN_ESRCH;
    if (!may_use(v.domain(), pg)) return -XEN_EPERM;
    return update_va(v, args.a0, args.a1, args.a2, pg);
}

long do_mmu_update(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint64_t reqs = args.a0, pdone = args.a2;
    uint32_t count = uint32_t(args.a1), foreigndom = uint32_t(args.a3);
    Domain& d = v.domain();
    if (!d.machine().table()) return -XEN_EINVAL;
    if (!guest::range_ok(Gva(reqs), size_t(count) * sizeof(mmu_update))) return -XEN_EFAULT;
    Domain* pt = nullptr;
    if (long rc = pt_owner_of(v, foreigndom, pt)) return rc;
    PgOwner pg = pg_owner_of(v, uint16_t(foreigndom));
    if (!pg.found) return -XEN_ESRCH;
    long rc = 0;
    uint32_t i = 0;
    bool upper = false;
    for (; i < count; ++i) {
        mmu_update req;  // the whole array's range was checked above
        if (guest::raw_copy_from(&req, reqs + uint64_t(i) * sizeof req, sizeof req) != 0) {
            rc = -XEN_EFAULT;
            break;
        }
        rc = one_update(d, *pt, pg, req, upper);
        if (rc) break;
    }
    // A changed upper entry may be cached by any CPU the tables' owner runs on (and the
    // caller's), also when a later request failed.
    if (upper) {
        pv_arch::flush_tlb(v);
        if (pt != &d) pv_arch::flush_tlb_domain(*pt);
    }
    const uint32_t done = i;  // a copy to write out, so that the loop's count stays in a register
    if (pdone && !guest::write(Gva(pdone), done)) return -XEN_EFAULT;
    return rc;
}
