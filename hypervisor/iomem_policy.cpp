#include "iomem_policy.hpp"

#include "domain.hpp"
#include "panic.hpp"

namespace iomem_policy {

namespace {

struct Range {
    uint64_t first;
    uint64_t count;
};
// A handful of boot-time ranges (the APICs, the MSI window, unusable memory): a fixed table
// keeps the check allocation-free.
constexpr unsigned MAX_RANGES = 64;
Range denied[MAX_RANGES];
unsigned nr_denied = 0;
// Without CPUID's answer, the architectural minimum of a 64-bit CPU.
constexpr unsigned DEFAULT_ADDRESS_BITS = 36;
unsigned address_bits = DEFAULT_ADDRESS_BITS;

bool is_denied(Mfn m) {
    for (unsigned i = 0; i < nr_denied; ++i)
        if (m.raw() >= denied[i].first && m.raw() - denied[i].first < denied[i].count) return true;
    return false;
}

}  // namespace

void set_address_bits(unsigned bits) {
    if (bits >= 32 && bits <= 52) address_bits = bits;
}

void deny(Mfn first, uint64_t count) {
    if (count == 0) return;
    // Losing a range would let dom0 at hardware the hypervisor drives: better not to boot.
    if (nr_denied == MAX_RANGES) panic("too many I/O memory ranges kept from domains");
    denied[nr_denied++] = Range{first.raw(), count};
}

bool permitted(const Domain& d, Mfn m) {
    if (!d.privileged()) return false;
    if (m.raw() >= (uint64_t{1} << (address_bits - PAGE_SHIFT))) return false;
    return !is_denied(m);
}

bool first_denied_run(uint64_t from, uint64_t to, uint64_t& start, uint64_t& end) {
    bool found = false;
    for (unsigned i = 0; i < nr_denied; ++i) {
        uint64_t s = denied[i].first < from ? from : denied[i].first;
        if (s < to && denied[i].first + denied[i].count > s && (!found || s < start)) {
            start = s;
            found = true;
        }
    }
    if (!found) return false;
    // Grow the run while some range continues it.
    end = start;
    for (bool grew = true; grew;) {
        grew = false;
        for (unsigned i = 0; i < nr_denied; ++i) {
            uint64_t last = denied[i].first + denied[i].count;
            if (denied[i].first <= end && last > end) {
                end = last;
                grew = true;
            }
        }
    }
    if (end > to) end = to;
    return true;
}

uint64_t frame_limit() { return uint64_t{1} << (address_bits - PAGE_SHIFT); }

void reset() {
    nr_denied = 0;
    address_bits = DEFAULT_ADDRESS_BITS;
}

}  // namespace iomem_policy
