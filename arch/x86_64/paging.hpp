// The hypervisor's own address space: one set of 4-level page tables shared by all CPUs,
// built once the memory map is known (paging::init), holding the image with W^X permissions,
// a direct map of all RAM in the largest pages that fit, an I/O window for MMIO and firmware
// tables, and per-CPU stacks with guard pages.
#pragma once

#include <arch/layout.hpp>

#include "types.hpp"

class MemoryMap;

namespace paging {

enum class Cache : uint8_t { writeback, uncached };

// Page-table frames come from here: the early memory-map carve-out, later the buddy.
using TableAllocator = Paddr (*)();
void set_table_allocator(TableAllocator a);

// Builds the final tables from the memory map and switches every later CR3 load to them.
void init(const MemoryMap& map);
// Loads the final tables on the calling CPU (APs, after the trampoline).
void activate();
Paddr root();

inline void* phys_to_virt(Paddr pa) { return reinterpret_cast<void*>(layout::DIRECTMAP_BASE + pa.raw()); }
// Valid for the direct map and for the image.
Paddr virt_to_phys(const void* va);

// Maps [pa, pa+size) into the I/O window and returns the address of pa. Never unmapped: for
// device registers and firmware tables that stay in use.
void* map_io(Paddr pa, size_t size, Cache cache);
// Maps n frames, readable and writable, not executable, at va (stack area).
void map_frames(uint64_t va, Paddr first, size_t n);
// Points one hypervisor page at va to pa (read-only or writable, not executable) and drops
// the calling CPU's stale translation: for per-CPU areas only that CPU uses.
void set_page(uint64_t va, Paddr pa, bool writable);
// Maps n frames read-only for guests too (user-accessible, not writable, not executable):
// for the machine-to-phys table every PV guest reads.
void map_guest_readonly(uint64_t va, Paddr first, size_t n);
// True if va is mapped (for backtraces that must not fault).
bool is_mapped(uint64_t va);

struct Stats {
    uint64_t table_frames;
    uint64_t direct_map_bytes;
    uint64_t pages_1g, pages_2m, pages_4k;
};
Stats stats();

}  // namespace paging
