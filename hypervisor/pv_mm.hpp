// The PV MMU: a guest's page tables are its own frames, typed and counted in the frame table,
// and every entry the hypervisor lets into them is validated first (Xen's rules):
//
//   - a frame becomes a page table of level N only when every present entry in it checks out:
//     an L1 entry maps a frame of the domain (writable only if that frame is no page table),
//     an L2/L3/L4 entry points at a table of the level below, which is validated in turn
//     (recursively, on its first use) and stays typed while referenced;
//   - no superpages, no linear (self-referencing) tables, only the flags a PV guest may set;
//   - the user bit is forced on every level (the guest kernel runs in ring 3), and L4 slots
//     256-271 always hold the hypervisor's own entries;
//   - when the last reference to a table goes, its entries' references are dropped in turn.
//
// Each reference is counted twice: refs (any use: a mapping, a table pointing at it, a pin, a
// CR3) and type_count (uses that need its current type). A frame changes type only with no
// type references left, so it is never both a page table and writably mapped.
#pragma once

#include "frame_table.hpp"
#include "types.hpp"

class Domain;

namespace pv_mm {

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
constexpr uint64_t CACHE_ATTRS = PTE_PWT | PTE_PCD | PTE_PS;  // PS is the PAT bit in an L1 entry

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
// Validates a new L1 entry for d and takes the references it needs. 0 or a -XEN_E* error.
long get_l1e(Domain& d, uint64_t pte);
// Drops the references an L1 entry held. An entry of d's tables may map a frame of another
// domain only through a grant mapping; its references are dropped on that domain's frame.
void put_l1e(Domain& d, uint64_t pte);

// Replaces entry `index` of the table at m (a validated table of d) with `value`, validated
// for the table's level; the old entry's references are dropped. preserve_ad keeps the
// accessed/dirty bits the old entry had (MMU_PT_UPDATE_PRESERVE_AD).
long update_entry(Domain& d, Mfn table, unsigned index, uint64_t value, bool preserve_ad);

// The frame a guest virtual address maps to in the validated tables rooted at root.
bool translate(Domain& d, Mfn root, uint64_t va, Mfn& frame);
// The L1 entry that maps va in the validated tables of d rooted at root (null if a table on the
// way is missing, a superpage or not a validated table of d); the L1's frame goes to l1.
uint64_t* l1e_slot(Domain& d, Mfn root, uint64_t va, Mfn& l1);

// The builder's tables: the L4 at l4 becomes the domain's pinned, validated root.
bool adopt_initial_tables(Domain& d, Mfn l4);

}  // namespace pv_mm
