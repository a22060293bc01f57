#include "guest_memory.hpp"

#include <cstring>

#include "guest_access.hpp"

namespace {
struct Region {
    uint64_t va;
    uint8_t* buf;
    size_t size;
    bool writable;
};
std::vector<Region> regions;

// The host byte behind guest address va, or null.
uint8_t* lookup(uint64_t va, bool write) {
    for (auto& r : regions)
        if (va >= r.va && va - r.va < r.size) return (write && !r.writable) ? nullptr : r.buf + (va - r.va);
    return nullptr;
}
}  // namespace

namespace fake_guest {
void clear() { regions.clear(); }
void map(uint64_t va, void* buf, size_t size, bool writable) {
    regions.push_back({va, static_cast<uint8_t*>(buf), size, writable});
}
}  // namespace fake_guest

namespace guest {
size_t raw_copy_from(void* dst, uint64_t guest_src, size_t n) {
    auto* to = static_cast<uint8_t*>(dst);
    for (size_t i = 0; i < n; ++i) {
        const uint8_t* from = lookup(guest_src + i, false);
        if (!from) return n - i;
        to[i] = *from;
    }
    return 0;
}

size_t raw_copy_to(uint64_t guest_dst, const void* src, size_t n) {
    auto* from = static_cast<const uint8_t*>(src);
    for (size_t i = 0; i < n; ++i) {
        uint8_t* to = lookup(guest_dst + i, true);
        if (!to) return n - i;
        *to = from[i];
    }
    return 0;
}
}  // namespace guest
