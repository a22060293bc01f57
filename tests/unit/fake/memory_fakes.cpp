#include "memory_fakes.hpp"

#include "memory_map.hpp"
#include "memory_op.hpp"

namespace {

uint64_t max_page_ = 0;
Mfn m2p_first_{0};
unsigned bad_queries_ = 0;
MemoryMap host_map_;

uint64_t m2p_pages() { return (max_page_ * sizeof(uint64_t) + PAGE_SIZE - 1) / PAGE_SIZE; }

}  // namespace

namespace fake_memory {

void set(uint64_t max_page, Mfn m2p_first) {
    max_page_ = max_page;
    m2p_first_ = m2p_first;
    bad_queries_ = 0;
}

unsigned bad_m2p_queries() { return bad_queries_; }

MemoryMap& host_map() { return host_map_; }

}  // namespace fake_memory

namespace memory_arch {

uint64_t max_page() { return max_page_; }

const MemoryMap& host_memory_map() { return host_map_; }

Mfn m2p_frame(uint64_t index) {
    if (index >= m2p_pages()) ++bad_queries_;
    return Mfn(m2p_first_.raw() + index);
}

}  // namespace memory_arch
