#include "pv_mm.hpp"

#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_arch.hpp"
#include "vcpu.hpp"

namespace pv_mm {

namespace {

Mfn mfn_in(uint64_t pte) { return Mfn((pte & PTE_ADDR) >> PAGE_SHIFT); }

unsigned index_at(uint64_t va, unsigned level) { return unsigned((va >> (PAGE_SHIFT + 9 * (level - 1))) & 511); }

PageType table_type(unsigned level) {
    switch (level) {
    case 1: return PageType::l1;
    case 2: return PageType::l2;
    case 3: return PageType::l3;
    default: return PageType::l4;
    }
}

// The L1 entry that maps va in the page tables rooted at root, if every table on the way is a
// validated table of d. Null otherwise (not present, a superpage, or not a table of d).
uint64_t* find_l1e(Domain& d, FrameTable& ft, Mfn root, uint64_t va) {
    Mfn table = root;
    for (unsigned level = 4;; --level) {
        if (!ft.owned_by(table, d.id())) return nullptr;
        const PageInfo& pi = ft.info(table);
        if (pi.type != table_type(level) || pi.type_count == 0) return nullptr;
        uint64_t* entries = static_cast<uint64_t*>(d.machine().map(table));
        if (level == 1) return &entries[index_at(va, 1)];
        uint64_t e = entries[index_at(va, level)];
        if (!(e & PTE_P) || (e & PTE_PS)) return nullptr;
        table = mfn_in(e);
    }
}

}  // namespace

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
    if (!ft->owned_by(m, d.id())) return -XEN_EINVAL;
    if ((pte & PTE_RW) && !ft->get_type(m, PageType::writable)) return -XEN_EINVAL;
    return 0;
}

void put_l1e(Domain& d, uint64_t pte) {
    if (!(pte & PTE_P) || !(pte & PTE_RW)) return;
    FrameTable* ft = d.machine().table();
    Mfn m = mfn_in(pte);
    if (ft && ft->owned_by(m, d.id())) ft->put_type(m);
}

bool adopt_initial_tables(Domain& d, const InitialTable* tables, size_t count) {
    FrameTable* ft = d.machine().table();
    if (!ft) return false;
    for (size_t i = 0; i < count; ++i)
        if (!ft->owned_by(tables[i].mfn, d.id()) || !ft->get_type(tables[i].mfn, table_type(tables[i].level)))
            return false;
    for (size_t i = 0; i < count; ++i) {
        if (tables[i].level != 1) continue;
        const auto* entries = static_cast<const uint64_t*>(d.machine().map(tables[i].mfn));
        for (unsigned e = 0; e < 512; ++e)
            if (get_l1e(d, entries[e]) != 0) return false;
    }
    return true;
}

}  // namespace pv_mm

long do_update_va_mapping(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    using namespace pv_mm;
    uint64_t va = args.a0, pte = args.a1, flags = args.a2;
    Domain& d = v.domain();
    FrameTable* ft = d.machine().table();
    if (!ft || !guest::range_ok(Gva(va), 1)) return -XEN_EINVAL;
    uint64_t* slot = find_l1e(d, *ft, v.kernel_mode ? v.cr3_kernel : v.cr3_user, va);
    if (!slot) return -XEN_EINVAL;
    long rc = get_l1e(d, pte);
    if (rc) return rc;
    pte = adjust_guest_l1e(pte);
    uint64_t old = __atomic_exchange_n(slot, pte, __ATOMIC_SEQ_CST);
    put_l1e(d, old);
    switch (flags & UVMF_FLUSHTYPE_MASK) {
    case UVMF_TLB_FLUSH: pv_arch::flush_tlb(v); break;
    case UVMF_INVLPG: pv_arch::invalidate_page(v, va); break;
    default: break;
    }
    return 0;
}
