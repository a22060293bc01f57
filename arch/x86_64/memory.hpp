// Hypervisor memory at boot: the switch from the boot page tables to the final ones, the
// frame allocator that owns all free RAM afterwards, and per-CPU stacks.
#pragma once

#include "frame_allocator.hpp"
#include "machine_memory.hpp"
#include "object_cache.hpp"
#include "types.hpp"

class MemoryMap;

namespace arch {
struct PerCpu;
}

namespace memory {

// Builds the final page tables (early page-table frames come from the memory map itself),
// then hands every remaining available frame to the frame allocator.
void init(MemoryMap& map);

FrameAllocator& frames();
// Frames with their direct-map access, for domains and other whole-page objects.
MachineMemory& machine();
// The frame table and the guest-visible machine-to-phys table (after init).
// The frame table over all RAM; frames outside the map's RAM and in the first MiB are I/O
// memory (DOMID_IO).
void init_frame_table(const MemoryMap& map);
// A page below 1 MiB kept for the AP trampoline.
Paddr low_page();
// A page-source for object caches, backed by the frame allocator through the direct map.
PageSource& page_source();

// Allocation failures at boot are fatal: these panic instead of returning an error.
Paddr alloc_frame_below(Paddr limit);
void* alloc_zeroed(size_t bytes);

// Maps the CPU's main and IST stacks, each above an unmapped guard page, and records them.
void setup_stacks(arch::PerCpu& p);

}  // namespace memory
