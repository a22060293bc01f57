// mmuext_op: page-table roots, pinning, TLB maintenance and whole-page operations, in
// batches, with Xen's conventions: the batch stops at the first failing operation, whose
// error is returned; *pdone (if given) counts the operations completed.
//
// A table that becomes a root or is pinned is validated as that level if it is not already
// (pv_mm.hpp). TLB flushes reach every CPU the domain's address spaces may be cached on.
//
// With a foreign domain (foreigndom), as a toolstack uses it, pins, unpins, clear_page and
// copy_page act on that domain's frames; everything that concerns the calling vCPU (roots,
// flushes, the LDT, caches) is then -EPERM, as on Xen.
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "kstd/string.hpp"
#include "pv_arch.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

namespace {

PageType pin_type(uint32_t cmd) {
    switch (cmd) {
    case MMUEXT_PIN_L1_TABLE: return PageType::l1;
    case MMUEXT_PIN_L2_TABLE: return PageType::l2;
    case MMUEXT_PIN_L3_TABLE: return PageType::l3;
    default: return PageType::l4;
    }
}

// Pinning keeps a table validated (and typed) while nothing else refers to it.
long pin(FrameTable& ft, Domain& d, Mfn m, PageType type) {
    if (!ft.owned_by(m, d.id())) return -XEN_EINVAL;
    if (ft.info(m).flags & PAGE_PINNED) return -XEN_EINVAL;  // already pinned
    long rc = pv_mm::get_page_and_type(d, m, type);
    if (rc) return rc;
    ft.info(m).flags |= PAGE_PINNED;
    return 0;
}

long unpin(FrameTable& ft, Domain& d, Mfn m) {
    if (!ft.owned_by(m, d.id())) return -XEN_EINVAL;
    PageInfo& pi = ft.info(m);
    if (!(pi.flags & PAGE_PINNED)) return -XEN_EINVAL;
    pi.flags &= ~PAGE_PINNED;
    pv_mm::put_page_and_type(d, m);
    return 0;
}

// Switches one of v's roots (kernel or user) to m, validating it as an L4 if it is new; the
// user root may be cleared with 0.
long new_root(FrameTable& ft, Vcpu& v, Mfn m, bool user) {
    Mfn& root = user ? v.cr3_user : v.cr3_kernel;
    if (m == root) return 0;
    if (!(user && m == Mfn(0))) {
        if (!ft.owned_by(m, v.domain().id())) return -XEN_EINVAL;
        long rc = pv_mm::get_page_and_type(v.domain(), m, PageType::l4);
        if (rc) return rc;
    }
    Mfn old = root;
    root = m;
    if (!user || !v.kernel_mode) pv_arch::load_page_tables(v);
    if (old != Mfn(0)) pv_mm::put_page_and_type(v.domain(), old);
    return 0;
}

bool writable_frame(FrameTable& ft, Domain& d, Mfn m) {
    return ft.owned_by(m, d.id()) && pv_mm::get_page_type(d, m, PageType::writable) == 0;
}

long clear_page(FrameTable& ft, Domain& d, Mfn m) {
    if (!writable_frame(ft, d, m)) return -XEN_EINVAL;
    memset(d.machine().map(m), 0, PAGE_SIZE);
    pv_mm::put_page_type(d, m);
    return 0;
}

long copy_page(FrameTable& ft, Domain& d, Mfn dst, Mfn src) {
    if (!ft.owned_by(src, d.id())) return -XEN_EINVAL;
    if (!writable_frame(ft, d, dst)) return -XEN_EINVAL;
    memcpy(d.machine().map(dst), d.machine().map(src), PAGE_SIZE);
    pv_mm::put_page_type(d, dst);
    return 0;
}

void release_ldt(Vcpu& v) {
    for (unsigned i = 0; i < v.ldt_frames_held; ++i) pv_mm::put_page_and_type(v.domain(), Mfn(v.ldt_frames[i]));
    v.ldt_frames_held = 0;
}

// MMUEXT_SET_LDT: ents descriptors at guest address ptr (0 entries: no LDT). The pages the
// guest has mapped there now become descriptor pages (checked like a GDT's) and are shown to
// the CPU; pages it has not mapped read as not-present descriptors. (Xen maps each page on
// the first access that needs it; the outcome for a guest is the same.)
long set_ldt(Vcpu& v, uint64_t ptr, uint32_t ents) {
    constexpr uint32_t MAX_ENTRIES = 8192;
    if (ents > MAX_ENTRIES) return -XEN_EINVAL;
    if (ents && ((ptr & (PAGE_SIZE - 1)) || !guest::range_ok(Gva(ptr), 1))) return -XEN_EINVAL;
    if (!ents) ptr = 0;
    if (ents == v.ldt_ents && ptr == v.ldt_base) return 0;
    release_ldt(v);
    v.ldt_base = ptr;
    v.ldt_ents = ents;
    unsigned pages = unsigned((uint64_t(ents) * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
    Mfn root = v.kernel_mode ? v.cr3_kernel : v.cr3_user;
    for (unsigned i = 0; i < pages; ++i) {
        Mfn frame;
        if (!pv_mm::translate(v.domain(), root, ptr + uint64_t(i) * PAGE_SIZE, frame)) break;
        if (pv_mm::get_page_and_type(v.domain(), frame, PageType::seg_desc)) break;
        v.ldt_frames[v.ldt_frames_held++] = frame.raw();
    }
    pv_arch::load_ldt(v);
    return 0;
}

// The vCPU mask of a MULTI operation must be readable (one word per 64 vCPUs); Xen answers
// an unreadable one with -EINVAL. Kestrel flushes the local TLB, which covers every vCPU the
// mask names that runs on this CPU.
bool read_vcpumask(const Domain& d, uint64_t ptr) {
    for (unsigned word = 0; word * 64 < d.nr_vcpus(); ++word) {
        uint64_t bits;
        if (!guest::read(Gva(ptr + word * sizeof bits), bits)) return false;
    }
    return true;
}

// Operations on frames: of pg, the domain foreigndom names (null: DOMID_IO or DOMID_XEN,
// which own none here).
long frame_op(FrameTable& ft, Domain* pg, const mmuext_op& op) {
    Mfn m(op.arg1.mfn);
    if (!pg || pg->state() == DomainState::dying) return -XEN_EINVAL;
    switch (op.cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE: return pin(ft, *pg, m, pin_type(op.cmd));
    case MMUEXT_UNPIN_TABLE: return unpin(ft, *pg, m);
    case MMUEXT_CLEAR_PAGE: return clear_page(ft, *pg, m);
    default: return copy_page(ft, *pg, m, Mfn(op.arg2.src_mfn));
    }
}

// Operations on the calling vCPU itself: only without a foreign domain (-EPERM otherwise).
long vcpu_op(Vcpu& v, FrameTable& ft, const mmuext_op& op) {
    Domain& d = v.domain();
    Mfn m(op.arg1.mfn);
    switch (op.cmd) {
    case MMUEXT_NEW_BASEPTR: return new_root(ft, v, m, false);
    case MMUEXT_NEW_USER_BASEPTR: return new_root(ft, v, m, true);
    case MMUEXT_TLB_FLUSH_LOCAL: pv_arch::flush_tlb_local(v); return 0;
    case MMUEXT_TLB_FLUSH_ALL: pv_arch::flush_tlb(v); return 0;
    case MMUEXT_INVLPG_LOCAL:
        if (guest::range_ok(Gva(op.arg1.linear_addr), 1)) pv_arch::invalidate_page(v, op.arg1.linear_addr);
        return 0;
    // The other CPUs of the domain flush whole TLBs (a superset of one page, and of the
    // vCPUs a mask names).
    case MMUEXT_INVLPG_ALL:
        if (guest::range_ok(Gva(op.arg1.linear_addr), 1)) pv_arch::flush_tlb(v);
        return 0;
    case MMUEXT_TLB_FLUSH_MULTI:
        if (!read_vcpumask(d, reinterpret_cast<uint64_t>(op.arg2.vcpumask.p))) return -XEN_EINVAL;
        pv_arch::flush_tlb(v);
        return 0;
    case MMUEXT_INVLPG_MULTI:
        if (!read_vcpumask(d, reinterpret_cast<uint64_t>(op.arg2.vcpumask.p))) return -XEN_EINVAL;
        if (guest::range_ok(Gva(op.arg1.linear_addr), 1)) pv_arch::flush_tlb(v);
        return 0;
    case MMUEXT_SET_LDT: return set_ldt(v, op.arg1.linear_addr, op.arg2.nr_ents);
    case MMUEXT_FLUSH_CACHE:
        // Only a domain that drives devices (the control domain) has a use for it.
        if (!d.privileged()) return -XEN_EACCES;
        pv_arch::flush_caches(false);
        return 0;
    default:  // MMUEXT_FLUSH_CACHE_GLOBAL
        if (!d.privileged()) return -XEN_EINVAL;
        pv_arch::flush_caches(true);
        return 0;
    }
}

long one_op(Vcpu& v, FrameTable& ft, Domain* pg, bool foreign, const mmuext_op& op) {
    switch (op.cmd) {
    case MMUEXT_PIN_L1_TABLE:
    case MMUEXT_PIN_L2_TABLE:
    case MMUEXT_PIN_L3_TABLE:
    case MMUEXT_PIN_L4_TABLE:
    case MMUEXT_UNPIN_TABLE:
    case MMUEXT_CLEAR_PAGE:
    case MMUEXT_COPY_PAGE: return frame_op(ft, pg, op);
    case MMUEXT_NEW_BASEPTR:
    case MMUEXT_NEW_USER_BASEPTR:
    case MMUEXT_TLB_FLUSH_LOCAL:
    case MMUEXT_TLB_FLUSH_ALL:
    case MMUEXT_INVLPG_LOCAL:
    case MMUEXT_INVLPG_ALL:
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI:
    case MMUEXT_SET_LDT:
    case MMUEXT_FLUSH_CACHE:
    case MMUEXT_FLUSH_CACHE_GLOBAL: return foreign ? -XEN_EPERM : vcpu_op(v, ft, op);
    case MMUEXT_MARK_SUPER:
    case MMUEXT_UNMARK_SUPER: return -XEN_EOPNOTSUPP;
    default: return -XEN_ENOSYS;
    }
}

}  // namespace

long do_mmuext_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint64_t uops = args.a0, pdone = args.a2;
    uint32_t count = uint32_t(args.a1);
    uint16_t foreign_id = uint16_t(args.a3);
    FrameTable* ft = v.domain().machine().table();
    if (!ft) return -XEN_EINVAL;
    if (!guest::range_ok(Gva(uops), size_t(count) * sizeof(mmuext_op))) return -XEN_EFAULT;
    // foreigndom names the domain whose frames are pinned, unpinned, cleared or copied (Xen's
    // get_pg_owner: naming oneself by number is -ESRCH); only the control domain may name
    // another (XSM_TARGET), DOMID_IO included.
    Domain* pg = &v.domain();
    const bool foreign = foreign_id != DOMID_SELF;
    if (foreign) {
        if (foreign_id == v.domain().id().raw()) return -XEN_ESRCH;
        pg = foreign_id == DOMID_IO || foreign_id == DOMID_XEN ? nullptr : domain_control::lookup(DomId(foreign_id));
        if (!pg && foreign_id != DOMID_IO && foreign_id != DOMID_XEN) return -XEN_ESRCH;
        if (!v.domain().privileged()) return -XEN_EPERM;
    }
    long rc = 0;
    uint32_t i = 0;
    for (; i < count; ++i) {
        mmuext_op op;
        if (!guest::read(Gva(uops + uint64_t(i) * sizeof op), op)) {
            rc = -XEN_EFAULT;
            break;
        }
        rc = one_op(v, *ft, pg, foreign, op);
        if (rc) break;
    }
    if (pdone && !guest::write(Gva(pdone), i)) return -XEN_EFAULT;
    return rc;
}
