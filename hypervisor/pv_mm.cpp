#include "pv_mm.hpp"

#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "iomem_policy.hpp"
#include "pv_arch.hpp"
#include "pv_descriptors.hpp"
#include "tlb_clock.hpp"
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

Spinlock mm_lock;

// A frame whose type count fell to zero may still be reachable through TLB entries on other
// CPUs: a writable mapping, or a walk cached through it while it was a page table. Before a
// frame takes a new type those could subvert, every CPU running a guest that has not flushed
// since flushes (Xen's type-change flush). Xen stamps each frame with the TLB clock when its
// type goes; Kestrel keeps one stamp per kind, the clock's reading at the latest such drop
// (tlb_clock.hpp), cleared by the flush: CPUs that loaded page tables since are left alone.
TlbTime stale_writable = tlb_clock::CLEAN;  // the latest writable type dropped since the flush
TlbTime stale_table = tlb_clock::CLEAN;     // the latest page-table or descriptor type dropped

void before_new_type(PageType type) {
    TlbTime stamp = type == PageType::writable ? stale_table : tlb_clock::later(stale_table, stale_writable);
    if (stamp == tlb_clock::CLEAN) return;
    pv_arch::flush_stale_tlbs(stamp);
    stale_writable = stale_table = tlb_clock::CLEAN;
}

void type_dropped(PageType type) {
    if (type == PageType::writable) stale_writable = tlb_clock::tick();
    else if (type != PageType::none) stale_table = tlb_clock::tick();
}

// A linear page table (Xen's pv-linear-pt, on by default in 4.17): an entry of a level-N
// table that points, read-only, at a level-N table instead of one of level N-1, so that the
// guest can read its own tables through it. Pointing at the table holding the entry takes no
// reference (a table must be able to map itself); pointing at another takes a reference and
// a type reference on it, which must already be a validated table of d. The linear field
// keeps chains out: a table with linear entries (counted up) is never itself the target of
// one (counted down), so a put can never recurse through linear entries.
constexpr int16_t LINEAR_MAX = 0x7fff;

bool get_linear(Domain& d, unsigned level, uint64_t e, Mfn self) {
    if (e & PTE_RW) return false;  // a writable one would let the guest write its entries
    Mfn m = mfn_in(e);
    if (m == self) return true;
    if (get_page(d, m)) return false;
    FrameTable& ft = table(d);
    PageInfo &container = ft.info(self), &target = ft.info(m);
    bool ok = container.linear >= 0 && container.linear < LINEAR_MAX && target.linear <= 0 &&
              target.linear > -LINEAR_MAX && target.type == table_type(level) && target.type_count != 0 &&
              target.type_count != UINT32_MAX && !(target.flags & PAGE_VALIDATING);
    if (!ok) {
        put_page(d, m);
        return false;
    }
    ++container.linear;
    --target.linear;
    ++target.type_count;
    return true;
}

// An entry of an L2, L3 or L4 table at self: the next table down, validated as that level
// (recursively, on its first use), or a linear entry.
long get_upper_entry(Domain& d, unsigned level, uint64_t e, Mfn self) {
    if (!(e & PTE_P)) return 0;
    if (e & ~(BASE_ALLOWED | PTE_ADDR)) return -XEN_EINVAL;  // superpages (PS) included
    long rc = get_page_and_type(d, mfn_in(e), table_type(level - 1));
    if (rc == -XEN_EINVAL && get_linear(d, level, e, self)) rc = 0;
    return rc;
}

void put_upper_entry(Domain& d, unsigned level, uint64_t e, Mfn self) {
    if (!(e & PTE_P)) return;
    Mfn m = mfn_in(e);
    if (m == self) return;  // a table mapping itself holds no reference
    FrameTable& ft = table(d);
    // The target keeps its type while referenced: the same level as the entry's table means
    // a linear entry.
    if (ft.info(m).type == table_type(level)) {
        ++ft.info(m).linear;
        --ft.info(self).linear;
    }
    put_page_and_type(d, m);
}

long get_entry(Domain& d, unsigned level, uint64_t e, Mfn self) {
    return level == 1 ? get_l1e(d, e) : get_upper_entry(d, level, e, self);
}

void put_entry(Domain& d, unsigned level, uint64_t e, Mfn self) {
    if (level == 1) put_l1e(d, e);
    else put_upper_entry(d, level, e, self);
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
        // Most entries of a new table are empty: they need neither adjusting nor a reference.
        if (e[i] == 0 || hypervisor_slot(level, i)) continue;
        e[i] = adjust_entry(level, e[i]);
        long rc = get_entry(d, level, e[i], m);
        if (rc > 0) {
            e[i] ^= uint64_t(rc);  // an I/O mapping's attributes, as the hypervisor wants them
            rc = 0;
        }
        if (rc) {
            while (i-- > 0)
                if (e[i] != 0 && !hypervisor_slot(level, i)) put_entry(d, level, e[i], m);
            return rc;
        }
    }
    if (level == 4) pv_arch::install_hypervisor_slots(e);
    return 0;
}

void devalidate_table(Domain& d, Mfn m, unsigned level) {
    const uint64_t* e = entries_of(d, m);
    for (unsigned i = 0; i < 512; ++i)
        if (e[i] != 0 && !hypervisor_slot(level, i)) put_entry(d, level, e[i], m);
}

}  // namespace

uint64_t* entries_of(Domain& d, Mfn m) { return static_cast<uint64_t*>(d.machine().map(m)); }

namespace {

// One level of find_l1e: whether t is a table of d's at that level in use, and if so the
// entry va selects in it. A template, so that each level's type and index shift are constants
// (the lookup is update_va_mapping's largest part).
template <unsigned LEVEL>
uint64_t* walk_level(Domain& d, const FrameTable& ft, Mfn t, uint64_t va) {
    if (!ft.owned_by(t, d.id())) return nullptr;
    const PageInfo& pi = ft.info(t);
    if (pi.type != table_type(LEVEL) || pi.type_count == 0) return nullptr;
    return &entries_of(d, t)[index_at(va, LEVEL)];
}

// The table an upper entry points to, or false for an absent entry or a superpage.
bool next_table(const uint64_t* e, Mfn& t) {
    if (!(*e & PTE_P) || (*e & PTE_PS)) return false;
    t = mfn_in(*e);
    return true;
}

}  // namespace

uint64_t* find_l1e(Domain& d, Mfn root, uint64_t va, Mfn& l1) {
    const FrameTable& ft = table(d);
    Mfn t = root;
    uint64_t* e = walk_level<4>(d, ft, t, va);
    if (!e || !next_table(e, t) || !(e = walk_level<3>(d, ft, t, va))) return nullptr;
    if (!next_table(e, t) || !(e = walk_level<2>(d, ft, t, va))) return nullptr;
    if (!next_table(e, t) || !(e = walk_level<1>(d, ft, t, va))) return nullptr;
    l1 = t;
    return e;
}

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
    // A frame being traded by XENMEM_exchange is no longer the domain's to use (Xen's stolen
    // page: owner and count cleared).
    if (pi.flags & PAGE_EXCHANGING) return -XEN_EINVAL;
    ++pi.refs;
    return 0;
}

void put_page(Domain& d, Mfn m) {
    PageInfo& pi = table(d).info(m);
    // The reference just dropped may have been a mapping some CPU still caches: the free
    // stamps the frame, and the allocator has those CPUs flush before it serves anyone again.
    if (pi.refs && --pi.refs == 0 && (pi.flags & PAGE_FREE_PENDING)) d.free_if_pending(m);
}

// A ticket, not try_lock in a loop: the holder may wait for this CPU's TLB flush (answered
// while waiting), and a CPU that only tried would lose every race to a holder that takes the
// lock again at once (seen under single-threaded TCG as a dom0 vCPU starved of the lock for
// good while the other issued mmu_updates).
namespace {

[[gnu::always_inline]] inline void lock_mm() { mm_lock.lock_servicing([] { pv_arch::service_tlb_flush(); }); }

}  // namespace

MmGuard::MmGuard() { lock_mm(); }

namespace {

// Domains to reap once the MMU lock is free (reaping destroys, which takes the lock): a bit per
// domain id.
constexpr unsigned REAP_WORDS = DOMID_FIRST_RESERVED / 64;
uint64_t reap_pending[REAP_WORDS];
// Whether any bit may be set: every unlock looks at this word, not at all 511 (they cost a
// single mmu_update four thousand instructions, found by tools/bench micro).
uint32_t reap_any;

// Whoever unlocks, or finds the lock free, reaps. Each id is taken by one caller only.
void reap_pending_domains() {
    if (!__atomic_exchange_n(&reap_any, 0u, __ATOMIC_SEQ_CST)) return;
    for (unsigned w = 0; w < REAP_WORDS; ++w) {
        uint64_t bits = __atomic_exchange_n(&reap_pending[w], 0, __ATOMIC_SEQ_CST);
        while (bits) {
            unsigned b = unsigned(__builtin_ctzll(bits));
            bits &= bits - 1;
            domain_control::reap(DomId(uint16_t(w * 64 + b)));
        }
    }
}

[[gnu::always_inline]] inline void unlock_mm() {
    mm_lock.unlock();
    // Ordering: pairs with reap_later's store of reap_any and its look at the lock; one of
    // the two sees the other.
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&reap_any, __ATOMIC_RELAXED)) reap_pending_domains();
}

}  // namespace

MmGuard::~MmGuard() { unlock_mm(); }

bool mm_locked() { return mm_lock.is_locked(); }

long call_locked(HypercallHandler handler, Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args) {
    lock_mm();
    long rc = handler(v, regs, args);
    unlock_mm();
    return rc;
}

void reap_later(DomId id) {
    if (id.raw() >= DOMID_FIRST_RESERVED) return;
    __atomic_fetch_or(&reap_pending[id.raw() / 64], uint64_t{1} << (id.raw() % 64), __ATOMIC_SEQ_CST);
    __atomic_store_n(&reap_any, 1u, __ATOMIC_SEQ_CST);
    // If the lock is held (here or elsewhere), its holder reaps when it lets go; the SEQ_CST
    // order of the bit and of the unlock means one of the two sees the other.
    if (!mm_locked()) reap_pending_domains();
}

long get_page_type(Domain& d, Mfn m, PageType type) {
    FrameTable& ft = table(d);
    PageInfo& pi = ft.info(m);
    if (pi.type_count == 0) before_new_type(type);
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
        type_dropped(pi.type);
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

namespace {

// The domain that owns frame m now (null for a free frame or one of the hypervisor's).
Domain* owner_of(Domain& d, Mfn m) {
    FrameTable& ft = table(d);
    if (!ft.valid(m)) return nullptr;
    uint16_t o = ft.info(m).owner;
    if (o == d.id().raw()) return &d;
    return o == FrameTable::NO_OWNER ? nullptr : domain_control::lookup(DomId(o));
}

}  // namespace

namespace {

// Xen's largest machine frame number, which it reads as "no frame" rather than as MMIO.
constexpr uint64_t INVALID_MFN_NUMBER = PTE_ADDR >> PAGE_SHIFT;

// An L1 entry of pt_owner's tables showing I/O memory (Xen's get_page_from_l1e for non-RAM
// frames): the domain whose frame it is (pg_owner; the table's owner for DOMID_IO) needs the
// right to map it, and so does the table's owner. No reference is taken: I/O memory never
// goes away. Returns the attribute bits to flip: MMIO asked for as write-back becomes
// uncacheable, write-through or write-protect becomes uncacheable too (Xen's default without
// mmio-relax), since caching device registers would corrupt them.
long get_io_l1e(Domain& pt_owner, uint64_t pte, Domain* pg_owner, Mfn m) {
    Domain& rights = pg_owner ? *pg_owner : pt_owner;
    if (!iomem_policy::permitted(rights, m) || (&rights != &pt_owner && !iomem_policy::permitted(pt_owner, m)))
        return m.raw() == INVALID_MFN_NUMBER ? -XEN_EINVAL : -XEN_EPERM;
    switch (pte & (PTE_PWT | PTE_PCD | PTE_PAT)) {
    case 0: return PTE_PWT | PTE_PCD;                        // WB -> UC
    case PTE_PWT: return PTE_PCD;                            // WT -> UC
    case PTE_PWT | PTE_PAT: return PTE_PCD | PTE_PAT;        // WP -> UC
    default: return 0;                                       // already uncached or WC
    }
}

}  // namespace

long get_l1e(Domain& pt_owner, uint64_t pte, Domain* pg_owner, bool pg_io) {
    if (!(pte & PTE_P)) return 0;
    FrameTable* ft = pt_owner.machine().table();
    if (!ft) return -XEN_EINVAL;
    uint64_t allowed = L1_ALLOWED | (pt_owner.privileged() ? CACHE_ATTRS : 0);
    if (pte & ~(allowed | PTE_ADDR)) return -XEN_EINVAL;
    Mfn m = mfn_in(pte);
    // Beyond RAM, in a hole of the memory map or in the first MiB: I/O memory.
    if (ft->is_io(m)) return get_io_l1e(pt_owner, pte, pg_io ? nullptr : pg_owner, m);
    // A frame of anyone but pg_owner (free, the hypervisor's, another domain's; any RAM frame
    // for DOMID_IO or DOMID_XEN) is Xen's "could not pin": -EBUSY. A dying domain's frames take
    // no new mappings.
    if (!pg_owner || pg_io || !ft->owned_by(m, pg_owner->id()) || pg_owner->state() == DomainState::dying)
        return -XEN_EBUSY;
    if (get_page(*pg_owner, m)) return -XEN_EBUSY;  // the count would overflow
    // A frame that is a page table (or a descriptor page) cannot be mapped writable: Xen
    // reports this conflict as -EBUSY.
    if ((pte & PTE_RW) && get_page_type(*pg_owner, m, PageType::writable)) {
        put_page(*pg_owner, m);
        return -XEN_EBUSY;
    }
    if (pg_owner != &pt_owner) pg_owner->get_foreign_ref();
    return 0;
}

long get_l1e(Domain& d, uint64_t pte) { return get_l1e(d, pte, &d); }

void put_l1e(Domain& d, uint64_t pte) {
    if (!(pte & PTE_P) || !d.machine().table()) return;
    Mfn m = mfn_in(pte);
    if (table(d).is_io(m)) return;  // I/O mappings hold no reference
    Domain* o = owner_of(d, m);
    if (!o) return;
    if (pte & PTE_RW) put_page_type(*o, m);
    put_page(*o, m);
    // Last: the owner may be a dying domain waiting for exactly this.
    if (o != &d && o->put_foreign_ref()) reap_later(o->id());
}

namespace {

// Xen's fast path for an L1 entry rewritten with the same frame and the same present, rw and
// cache bits: only bits that need no reference changed (accessed, dirty, user, global, NX,
// software bits), so none is taken or dropped, whoever is named as pg_owner. Bad flags are
// still refused first (by get_l1e otherwise).
bool l1_fast_path(Domain& d, uint64_t old, uint64_t value) {
    constexpr uint64_t SIGNIFICANT = PTE_ADDR | PTE_P | PTE_RW | CACHE_ATTRS;
    if (!(value & PTE_P) || ((old ^ value) & SIGNIFICANT)) return false;
    const uint64_t allowed = L1_ALLOWED | (d.privileged() ? CACHE_ATTRS : 0);
    return !(value & ~(allowed | PTE_ADDR));
}

}  // namespace

long update_entry(Domain& d, Mfn t, unsigned index, uint64_t value, bool preserve_ad) {
    return update_entry(d, t, index, value, preserve_ad, &d);
}

long update_entry(Domain& d, Mfn t, unsigned index, uint64_t value, bool preserve_ad, Domain* pg_owner, bool pg_io) {
    unsigned level = level_of(table(d).info(t).type);
    if (!level || index >= 512) return -XEN_EINVAL;
    if (hypervisor_slot(level, index)) return -XEN_EINVAL;
    if (pg_owner != &d && level != 1) return -XEN_EINVAL;
    uint64_t* slot = &entries_of(d, t)[index];
    uint64_t old = __atomic_load_n(slot, __ATOMIC_RELAXED);
    if (preserve_ad) value |= old & (PTE_A | PTE_D);
    value = adjust_entry(level, value);
    if (level == 1 && l1_fast_path(d, old, value)) {
        __atomic_store_n(slot, value, __ATOMIC_SEQ_CST);
        return 0;
    }
    long rc = level == 1 ? get_l1e(d, value, pg_owner, pg_io) : get_entry(d, level, value, t);
    if (rc < 0) return rc;
    value ^= uint64_t(rc);  // an I/O mapping's attributes (0 for RAM)
    old = __atomic_exchange_n(slot, value, __ATOMIC_SEQ_CST);
    put_entry(d, level, old, t);
    return 0;
}

bool translate(Domain& d, Mfn root, uint64_t va, Mfn& frame) {
    Mfn l1;
    uint64_t* slot = find_l1e(d, root, va, l1);
    if (!slot || !(*slot & PTE_P)) return false;
    frame = mfn_in(*slot);
    return true;
}

void release_foreign_mappings(Domain& d) {
    FrameTable* ft = d.machine().table();
    if (!ft) return;
    d.for_each_page([&](Mfn t) {
        const PageInfo& pi = ft->info(t);
        if (pi.type != PageType::l1 || pi.type_count == 0) return;
        uint64_t* e = entries_of(d, t);
        for (unsigned i = 0; i < 512; ++i) {
            if (!(e[i] & PTE_P) || ft->owned_by(mfn_in(e[i]), d.id())) continue;
            uint64_t old = __atomic_exchange_n(&e[i], 0, __ATOMIC_SEQ_CST);
            put_l1e(d, old);
        }
    });
}
uint64_t* l1e_slot(Domain& d, Mfn root, uint64_t va, Mfn& l1) { return find_l1e(d, root, va, l1); }

bool adopt_initial_tables(Domain& d, Mfn l4) {
    if (get_page_and_type(d, l4, PageType::l4)) return false;
    table(d).info(l4).flags |= PAGE_PINNED;  // as Xen pins dom0's initial L4
    return get_page_and_type(d, l4, PageType::l4) == 0;  // and the vCPU's CR3 holds another
}

}  // namespace pv_mm
