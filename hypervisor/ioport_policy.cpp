#include "ioport_policy.hpp"

#include "domain.hpp"

namespace ioport_policy {

namespace {

struct Range {
    uint16_t first;
    uint16_t count;
};
constexpr unsigned MAX_RANGES = 16;
// Always the hypervisor's: the legacy PICs (masked and parked by Kestrel) and the PIT.
Range reserved[MAX_RANGES] = {{0x20, 2}, {0xa0, 2}, {0x40, 4}};
unsigned nr_reserved = 3;

bool is_reserved(uint32_t port) {
    for (unsigned i = 0; i < nr_reserved; ++i)
        if (port >= reserved[i].first && port < uint32_t(reserved[i].first) + reserved[i].count) return true;
    return false;
}

}  // namespace

void reserve(uint16_t first, uint16_t count) {
    if (nr_reserved < MAX_RANGES) reserved[nr_reserved++] = Range{first, count};
}

bool allowed(const Domain& d, uint16_t port, unsigned bytes) {
    if (!d.privileged()) return false;
    for (uint32_t p = port; p < uint32_t(port) + bytes; ++p)
        if (p > 0xffff || is_reserved(p)) return false;
    return true;
}

}  // namespace ioport_policy
