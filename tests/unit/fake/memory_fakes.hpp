// Host stand-in for memory_op's view of the machine (hypervisor/memory_op.hpp): the highest
// RAM frame and where the M2P table lies, as a test sets them.
#pragma once

#include "types.hpp"

class MemoryMap;

namespace fake_memory {

// max_page() answers max_page; the M2P table is m2p_pages frames from m2p_first on.
void set(uint64_t max_page, Mfn m2p_first);
// How many times m2p_frame was asked for a page beyond the table (must stay 0).
unsigned bad_m2p_queries();
// The machine map host_memory_map() answers (empty until a test fills it).
MemoryMap& host_map();

}  // namespace fake_memory
