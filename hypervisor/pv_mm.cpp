#include "pv_mm.hpp"

#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_arch.hpp"
#include "pv_descriptors.hpp"
#include "vcpu.hpp"

namespace pv_mm {

namespace {

Mfn mfn_in(uint64_t pte) { return Mfn((pte & PTE_ADDR) >> PAGE_SHIFT); }

unsigned index_at(uint64_t va, unsigned level) { return unsigned((va >> (PAGE_SHIFT + 9 * (level - 1))) & 511); }

unsigned level_of(PageType t) {
    switch (t) {
    case PageType::l1: return 1;
    case PageType::l2: return 2;
    case PageType::l3: return 3;
    case PageType::l4: return 4;
    default: return 0;
    }
}

bool hypervisor_slot(unsigned level, unsigned index) {
    return level == 4 && index >= HYPERVISOR_SLOT_FIRST && index <= HYPERVISOR_SLOT_LAST;
}

FrameTable& table(Domain& d) { return *d.machine().table(); }
uint64_t* entries_of(Domain& d, Mfn m) { return static_cast<uint64_t*>(d.machine().map(m)); }

// An entry of an L2, L3 or L4: the next table down, validated as that level.
long get_upper_entry(Domain& d, unsigned level, uint64_t e) {
    if (!(e & PTE_P)) return 0;
    if (e & ~(BASE_ALLOWED | PTE_ADDR)) return -XEN_EINVAL;  // superpages (PS) included
    return get_page_and_type(d, mfn_in(e), table_type(level - 1));
}

void put_upper_entry(Domain& d, uint64_t e) {
    if (e & PTE_P) put_page_and_type(d, mfn_in(e));
}

long get_entry(Domain& d, unsigned level, uint64_t e) { return level == 1 ? get_l1e(d, e) : get_upper_entry(d, level, e); }

void put_entry(Domain& d, unsigned level, uint64_t e) {
    if (level == 1) put_l1e(d, e);
    else put_upper_entry(d, e);
}

// The user bit on every level of a 64-bit PV guest's tables (Xen adds it too).
uint64_t adjust_entry(unsigned level, uint64_t e) {
    if (level == 1) return adjust_guest_l1e(e);
    return (e & PTE_P) ? (e | PTE_US) : e;
}

// Checks every entry of a frame becoming a table of `level` and takes their references; on
// failure drops what it took and leaves the frame as it was.
long validate_table(Domain& d, Mfn m, unsigned level) {
    uint64_t* e = entries_of(d, m);
    for (unsigned i = 0; i < 512; ++i) {
        if (hypervisor_slot(level, i)) continue;
        e[i] = adjust_entry(level, e[i]);
        long rc = get_entry(d, level, e[i]);
        if (rc) {
            while (i-- > 0)
                if (!hypervisor_slot(level, i)) put_entry(d, level, e[i]);
            return rc;
        }
    }
    if (level == 4) pv_arch::install_hypervisor_slots(e);
    return 0;
}

void devalidate_table(Domain& d, Mfn m, unsigned level) {
    const uint64_t* e = entries_of(d, m);
    for (unsigned i = 0; i < 512; ++i)
        if (!hypervisor_slot(level, i)) put_entry(d, level, e[i]);
}

// The L1 entry that maps va in the page tables rooted at root, if every table on the way is a
// validated table of d. Null otherwise (not present, a superpage, or not a table of d). The
// L1's frame is returned in l1.
uint64_t* find_l1e(Domain& d, Mfn root, uint64_t va, Mfn& l1) {
    FrameTable& ft = table(d);
    Mfn t = root;
    for (unsigned level = 4;; --level) {
        if (!ft.owned_by(t, d.id())) return nullptr;
        const PageInfo& pi = ft.info(t);
        if (pi.type != table_type(level) || pi.type_count == 0) return nullptr;
        uint64_t* entries = entries_of(d, t);
        if (level == 1) {
            l1 = t;
            return &entries[index_at(va, 1)];
        }
        uint64_t e = entries[index_at(va, level)];
        if (!(e & PTE_P) || (e & PTE_PS)) return nullptr;
        t = mfn_in(e);
    }
}

}  // namespace

PageType table_type(unsigned level) {
    switch (level) {
    case 1: return PageType::l1;
    case 2: return PageType::l2;
    case 3: return PageType::l3;
    default: return PageType::l4;
    }
}

long get_page(Domain& d, Mfn m) {
    FrameTable* ft = d.machine().table();
    if (!ft || !ft->owned_by(m, d.id())) return -XEN_EINVAL;
    PageInfo& pi = ft->info(m);
    if (pi.refs == UINT32_MAX) return -XEN_EINVAL;  // a count that would wrap is refused
    ++pi.refs;
    return 0;
}

void put_page(Domain& d, Mfn m) {
    PageInfo& pi = table(d).info(m);
    if (pi.refs && --pi.refs == 0 && (pi.flags & PAGE_FREE_PENDING)) d.free_if_pending(m);
}

long get_page_type(Domain& d, Mfn m, PageType type) {
    FrameTable& ft = table(d);
    PageInfo& pi = ft.info(m);
    // A page becoming a GDT or LDT frame has its descriptors checked first.
    if (type == PageType::seg_desc && pi.type_count == 0 && !pv_descriptors::validate_page(d, m)) return -XEN_EINVAL;
    unsigned level = level_of(type);
    if (pi.type_count == 0 && level) {
        if (pi.flags & PAGE_VALIDATING) return -XEN_EINVAL;  // a table that contains itself
        if (!ft.get_type(m, type)) return -XEN_EINVAL;
        pi.flags |= PAGE_VALIDATING;
        long rc = validate_table(d, m, level);
        pi.flags &= ~PAGE_VALIDATING;
        if (rc) ft.put_type(m);
        return rc;
    }
    if (pi.flags & PAGE_VALIDATING) return -XEN_EINVAL;
    return ft.get_type(m, type) ? 0 : -XEN_EINVAL;
}

void put_page_type(Domain& d, Mfn m) {
    FrameTable& ft = table(d);
    PageInfo& pi = ft.info(m);
    if (pi.type_count == 1) {
        unsigned level = level_of(pi.type);
        if (level) devalidate_table(d, m, level);
    }
    ft.put_type(m);
}

long get_page_and_type(Domain& d, Mfn m, PageType type) {
    long rc = get_page(d, m);
    if (rc) return rc;
    rc = get_page_type(d, m, type);
    if (rc) put_page(d, m);
    return rc;
}

void put_page_and_type(Domain& d, Mfn m) {
    put_page_type(d, m);
    put_page(d, m);
}

uint64_t adjust_guest_l1e(uint64_t pte) {
    if (!(pte & PTE_P)) return pte;
    // The guest kernel runs in ring 3: its own mappings need the user bit, which Xen adds
    // and marks with the guest-kernel software bit, so the guest can tell them apart.
    if (!(pte & PTE_US)) pte |= PTE_US | PTE_GUEST_KERNEL;
    // A global guest mapping would outlive the switch to another domain's page tables; Kestrel
    // accepts the bit but does not let the TLB keep it across address spaces.
    return pte & ~PTE_G;
}

long get_l1e(Domain& d, uint64_t pte) {
    if (!(pte & PTE_P)) return 0;
    FrameTable* ft = d.machine().table();
    if (!ft) return -XEN_EINVAL;
    uint64_t allowed = L1_ALLOWED | (d.privileged() ? CACHE_ATTRS : 0);
    if (pte & ~(allowed | PTE_ADDR)) return -XEN_EINVAL;
    Mfn m = mfn_in(pte);
    long rc = get_page(d, m);
    if (rc) return rc;
    // A frame that is a page table (or a descriptor page) cannot be mapped writable: Xen
    // reports this conflict as -EBUSY.
    if ((pte & PTE_RW) && get_page_type(d, m, PageType::writable)) {
        put_page(d, m);
        return -XEN_EBUSY;
    }
    return 0;
}

void put_l1e(Domain& d, uint64_t pte) {
    if (!(pte & PTE_P)) return;
    FrameTable* ft = d.machine().table();
    Mfn m = mfn_in(pte);
    if (!ft || !ft->valid(m)) return;
    Domain* owner = &d;
    if (!ft->owned_by(m, d.id())) {
        // A grant mapping of another domain's frame (no other way in): its references are
        // that domain's, which stays until every frame mapped by others is unmapped.
        uint16_t id = ft->info(m).owner;
        owner = id == FrameTable::NO_OWNER ? nullptr : domain_control::lookup(DomId(id));
        if (!owner) return;
    }
    if (pte & PTE_RW) put_page_type(*owner, m);
    put_page(*owner, m);
}

long update_entry(Domain& d, Mfn t, unsigned index, uint64_t value, bool preserve_ad) {
    unsigned level = level_of(table(d).info(t).type);
    if (!level || index >= 512) return -XEN_EINVAL;
    if (hypervisor_slot(level, index)) return -XEN_EINVAL;
    uint64_t* slot = &entries_of(d, t)[index];
    uint64_t old = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (preserve_ad) value |= old & (PTE_A | PTE_D);
    value = adjust_entry(level, value);
    long rc = get_entry(d, level, value);
    if (rc) return rc;
    old = __atomic_exchange_n(slot, value, __ATOMIC_SEQ_CST);
    put_entry(d, level, old);
    return 0;
}

bool translate(Domain& d, Mfn root, uint64_t va, Mfn& frame) {
    Mfn l1;
    uint64_t* slot = find_l1e(d, root, va, l1);
    if (!slot || !(*slot & PTE_P)) return false;
    frame = mfn_in(*slot);
    return true;
}

uint64_t* l1e_slot(Domain& d, Mfn root, uint64_t va, Mfn& l1) { return find_l1e(d, root, va, l1); }

bool adopt_initial_tables(Domain& d, Mfn l4) {
    if (get_page_and_type(d, l4, PageType::l4)) return false;
    table(d).info(l4).flags |= PAGE_PINNED;  // as Xen pins dom0's initial L4
    return get_page_and_type(d, l4, PageType::l4) == 0;  // and the vCPU's CR3 holds another
}

}  // namespace pv_mm

long do_update_va_mapping(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    using namespace pv_mm;
    uint64_t va = args.a0, pte = args.a1, flags = args.a2;
    Domain& d = v.domain();
    if (!d.machine().table() || !guest::range_ok(Gva(va), 1)) return -XEN_EINVAL;
    Mfn l1;
    uint64_t* slot = find_l1e(d, v.kernel_mode ? v.cr3_kernel : v.cr3_user, va, l1);
    if (!slot) return -XEN_EINVAL;
    long rc = update_entry(d, l1, unsigned(slot - entries_of(d, l1)), pte, false);
    if (rc) return rc;
    switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_TLB_FLUSH: pv_arch::flush_tlb(v); break;
    case UVMF_INVLPG: pv_arch::invalidate_page(v, va); break;
    default: break;
    }
    return 0;
}

namespace {

using namespace pv_mm;

// One MMU_NORMAL_PT_UPDATE: into a validated table of d, checked for its level; into any
// other frame of d, a plain write if the frame may be written.
long normal_update(Domain& d, uint64_t ptr, uint64_t val, bool preserve_ad) {
    FrameTable& ft = table(d);
    Mfn m(ptr >> PAGE_SHIFT);
    if (!ft.owned_by(m, d.id())) return -XEN_EINVAL;
    unsigned index = unsigned((ptr & (PAGE_SIZE - 1)) / 8);
    const PageInfo& pi = ft.info(m);
    if (level_of(pi.type) && pi.type_count) return pv_mm::update_entry(d, m, index, val, preserve_ad);
    if (get_page_type(d, m, PageType::writable)) return -XEN_EINVAL;
    __atomic_store_n(&entries_of(d, m)[index], val, __ATOMIC_RELAXED);
    put_page_type(d, m);
    return 0;
}

long machphys_update(Domain& d, uint64_t ptr, uint64_t pfn) {
    FrameTable& ft = table(d);
    Mfn m(ptr >> PAGE_SHIFT);
    if (!ft.owned_by(m, d.id())) return -XEN_EINVAL;
    ft.set_m2p(m, pfn);
    return 0;
}

}  // namespace

long do_mmu_update(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint64_t reqs = args.a0, pdone = args.a2;
    uint32_t count = uint32_t(args.a1);
    uint16_t foreign = uint16_t(args.a3);
    Domain& d = v.domain();
    if (!d.machine().table()) return -XEN_EINVAL;
    if (!guest::range_ok(Gva(reqs), size_t(count) * sizeof(mmu_update))) return -XEN_EFAULT;
    // Updates of another domain's tables need a toolstack's rights; none exist yet.
    if (foreign != DOMID_SELF && foreign != d.id().raw()) {
        if (!domain_control::lookup(DomId(foreign))) return -XEN_ESRCH;
        return -XEN_EPERM;
    }
    long rc = 0;
    uint32_t i = 0;
    bool flush = false;
    for (; i < count; ++i) {
        mmu_update req;
        if (!guest::read(Gva(reqs + uint64_t(i) * sizeof req), req)) {
            rc = -XEN_EFAULT;
            break;
        }
        switch (req.ptr & 3) {
        case MMU_NORMAL_PT_UPDATE:
        case MMU_PT_UPDATE_NO_TRANSLATE: rc = normal_update(d, req.ptr & ~uint64_t{7}, req.val, false); break;
        case MMU_PT_UPDATE_PRESERVE_AD: rc = normal_update(d, req.ptr & ~uint64_t{7}, req.val, true); break;
        case MMU_MACHPHYS_UPDATE: rc = machphys_update(d, req.ptr, req.val); break;
        }
        if (rc) break;
        flush = true;
    }
    // A changed entry may be cached by this CPU's TLB (every vCPU of a domain runs on one CPU).
    if (flush) pv_arch::flush_tlb(v);
    if (pdone && !guest::write(Gva(pdone), i)) return -XEN_EFAULT;
    return rc;
}
