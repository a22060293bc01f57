// The PV MMU: a guest's page tables are its own frames, typed and counted in the frame table,
// and every entry the hypervisor lets into them is validated first (Xen's rules):
//
//   - a frame becomes a page table of level N only when every present entry in it checks out:
//     an L1 entry maps a frame of the domain (writable only if that frame is no page table),
//     an L2/L3/L4 entry points at a table of the level below, which is validated in turn
//     (recursively, on its first use) and stays typed while referenced;
//   - no superpages, only the flags a PV guest may set;
//   - linear page tables as Xen allows them: a read-only entry pointing at a validated table
//     of the same level (or at its own table), so a guest can read its tables;
//   - the user bit is forced on every level (the guest kernel runs in ring 3), and L4 slots
//     256-271 always hold the hypervisor's own entries;
//   - when the last reference to a table goes, its entries' references are dropped in turn.
//
// Each reference is counted twice: refs (any use: a mapping, a table pointing at it, a pin, a
// CR3) and type_count (uses that need its current type). A frame changes type only with no
// type references left, so it is never both a page table and writably mapped.
#pragma once

#include "frame_table.hpp"
#include "hypercall.hpp"
#include "spinlock.hpp"
#include "types.hpp"

class Domain;
class Vcpu;

namespace pv_mm {

// Every change to the frame table and to guests' page tables happens under one lock, so that
// the vCPUs of one domain (and a domain mapping another's frames) on several CPUs see each
// frame's type and counts change atomically: the page-table hypercalls take it in
// hypercall::dispatch, the writable-page-table fault path and domain destruction take it too.
// A CPU waiting for it keeps answering TLB-flush requests (pv_arch::service_tlb_flush), since
// the holder may be waiting for that CPU's flush with the lock held.
class MmGuard {
public:
    MmGuard();
    ~MmGuard();
    MmGuard(const MmGuard&) = delete;
    MmGuard& operator=(const MmGuard&) = delete;
};
bool mm_locked();
// A page-table hypercall's handler run under the MMU lock (for hypercall::call; here, where
// the guard's lock and unlock are inlined).
long call_locked(HypercallHandler handler, Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
// Asks for domain_control::reap(id) once no CPU holds the MMU lock (at once if none does):
// reaping destroys, and destruction takes the lock.
void reap_later(DomId id);

// Page-table entry bits.
constexpr uint64_t PTE_P = 1u << 0, PTE_RW = 1u << 1, PTE_US = 1u << 2, PTE_PWT = 1u << 3, PTE_PCD = 1u << 4,
                   PTE_A = 1u << 5, PTE_D = 1u << 6, PTE_PS = 1u << 7, PTE_G = 1u << 8;
constexpr uint64_t PTE_NX = uint64_t{1} << 63;
constexpr uint64_t PTE_ADDR = 0x000ffffffffff000;
constexpr uint64_t PTE_GUEST_KERNEL = uint64_t{1} << 52;  // Xen's software bit: a guest-kernel mapping
// Bits a guest may set in any entry: present, rw, user, accessed, dirty, the software bits
// 9-11 and 52-62, NX. L1 entries may also be global; a domain with I/O memory may choose the
// cache attributes of its L1 entries too.
constexpr uint64_t BASE_ALLOWED = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | (uint64_t{7} << 9) |
                                  (uint64_t{0x7ff} << 52) | PTE_NX;
constexpr uint64_t L1_ALLOWED = BASE_ALLOWED | PTE_G;
constexpr uint64_t PTE_PAT = PTE_PS;  // bit 7 of an L1 entry selects the PAT entry
constexpr uint64_t CACHE_ATTRS = PTE_PWT | PTE_PCD | PTE_PAT;

constexpr unsigned HYPERVISOR_SLOT_FIRST = 256, HYPERVISOR_SLOT_LAST = 271;

PageType table_type(unsigned level);

// General references (0 or -XEN_EINVAL: not the domain's frame, or the count would overflow).
long get_page(Domain& d, Mfn m);
void put_page(Domain& d, Mfn m);
// A reference of `type`, validating the frame's contents if it becomes a table now.
long get_page_type(Domain& d, Mfn m, PageType type);
void put_page_type(Domain& d, Mfn m);
long get_page_and_type(Domain& d, Mfn m, PageType type);
void put_page_and_type(Domain& d, Mfn m);

// What Kestrel stores for a guest's L1 entry (user bit for kernel mappings, no global bit).
uint64_t adjust_guest_l1e(uint64_t pte);
// Validates a new L1 entry for the tables of pt_owner, mapping a frame of pg_owner (Xen's
// pg_owner: pt_owner itself, or the domain a privileged caller named as foreign), and takes the
// references it needs. 0 or a -XEN_E* error: -EBUSY for a RAM frame of anyone else (or a page
// table asked for writable), -EPERM for I/O memory the domains may not map, -EINVAL for bad
// flags. A null pg_owner stands for DOMID_IO or DOMID_XEN, which own no RAM frame in Kestrel.
// pg_io: pg_owner is DOMID_IO (then pg_owner is null), which owns I/O memory only. An entry
// showing I/O memory needs the rights to it (iomem_policy: -EPERM) and takes no reference; a
// positive result is the attribute bits to flip in the entry (MMIO is never mapped cached).
long get_l1e(Domain& pt_owner, uint64_t pte, Domain* pg_owner, bool pg_io = false);
long get_l1e(Domain& d, uint64_t pte);
// Drops the references an L1 entry of d's tables held, on whichever domain owns the frame (a
// foreign one through a control domain's foreign mapping or a grant host mapping).
void put_l1e(Domain& d, uint64_t pte);

// Replaces entry `index` of the table at m (a validated table of d) with `value`, validated
// for the table's level; the old entry's references are dropped. preserve_ad keeps the
// accessed/dirty bits the old entry had (MMU_PT_UPDATE_PRESERVE_AD).
// The second form names pg_owner, whose frames an L1 entry may map (as get_l1e); upper levels
// only take d's own tables, so any other pg_owner there is -EINVAL, as on Xen.
long update_entry(Domain& d, Mfn table, unsigned index, uint64_t value, bool preserve_ad);
long update_entry(Domain& d, Mfn table, unsigned index, uint64_t value, bool preserve_ad, Domain* pg_owner,
                  bool pg_io = false);

// The L1 entry that maps va in the validated tables of d rooted at root (its table's frame in
// l1), or null if a table on the way is missing, a superpage or not a validated table of d.
uint64_t* find_l1e(Domain& d, Mfn root, uint64_t va, Mfn& l1);
uint64_t* entries_of(Domain& d, Mfn m);

// The frame a guest virtual address maps to in the validated tables rooted at root.
bool translate(Domain& d, Mfn root, uint64_t va, Mfn& frame);
// The L1 entry that maps va in the validated tables of d rooted at root (null if a table on the
// way is missing, a superpage or not a validated table of d); the L1's frame goes to l1.
uint64_t* l1e_slot(Domain& d, Mfn root, uint64_t va, Mfn& l1);

// Before a domain's frames go back (destroy): the references its L1 tables hold on other
// domains' frames (a control domain's foreign mappings) are dropped, so that those frames
// and their owners are not held forever. Its own frames need nothing: they go whole.
void release_foreign_mappings(Domain& d);

// The builder's tables: the L4 at l4 becomes the domain's pinned, validated root.
bool adopt_initial_tables(Domain& d, Mfn l4);

}  // namespace pv_mm
