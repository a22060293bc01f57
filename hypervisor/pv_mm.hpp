// The PV MMU: a guest's page tables are its own frames, typed and counted in the frame table;
// every entry Kestrel writes for it is validated first. So far: the initial tables from the
// builder and update_va_mapping on their L1 entries (mmu_update, mmuext_op and writable page
// tables build on the same rules).
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
// Bits a guest may set in an L1 entry (Xen's rules): present, rw, user, accessed, dirty,
// global, the software bits 9-11 and 52-62, and NX; a domain with I/O memory may choose the
// cache attributes too.
constexpr uint64_t L1_ALLOWED = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | PTE_G | (uint64_t{7} << 9) |
                                (uint64_t{0x7ff} << 52) | PTE_NX;
constexpr uint64_t CACHE_ATTRS = PTE_PWT | PTE_PCD | PTE_PS;  // PS is the PAT bit in an L1 entry

// Types the builder's page tables and references their writable mappings take.
// tables[i] = (mfn, level); false if a frame is not the domain's or has a conflicting type.
struct InitialTable {
    Mfn mfn;
    uint8_t level;
};
bool adopt_initial_tables(Domain& d, const InitialTable* tables, size_t count);

// What Kestrel stores for a guest's L1 entry (user bit for kernel mappings, no global bit).
uint64_t adjust_guest_l1e(uint64_t pte);
// Validates a new L1 entry for d and takes the references it needs. 0 or a -XEN_E* error.
long get_l1e(Domain& d, uint64_t pte);
// Drops the references an L1 entry held.
void put_l1e(Domain& d, uint64_t pte);

}  // namespace pv_mm
