// memory_op (XENMEM_*): a domain's memory reservation and what it may learn about the
// machine's memory. What the portable handler needs from the architecture is below:
// implemented by arch/x86_64/m2p.cpp in the image and by tests/unit/fake/memory_fakes.cpp
// in host tests.
#pragma once

#include "types.hpp"

class MemoryMap;

namespace memory_arch {

// One past the highest machine frame the M2P has an entry for (Xen's max_page).
uint64_t max_page();
// The machine frame that holds page `index` of the M2P table the guest sees at
// MACH2PHYS_VIRT_START (index below the table's size in pages).
Mfn m2p_frame(uint64_t index);

// The machine's memory map as the hypervisor keeps it (XENMEM_machine_memory_map).
const MemoryMap& host_memory_map();

}  // namespace memory_arch
