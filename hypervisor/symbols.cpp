#include "symbols.hpp"

namespace symbols {

Lookup lookup(const Table& t, uint64_t address) {
    // Last entry whose start is at or below the address.
    size_t lo = 0, hi = t.count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t.entries[mid].address <= address) lo = mid + 1;
        else hi = mid;
    }
    if (lo == 0) return {nullptr, 0};
    const Entry& e = t.entries[lo - 1];
    uint64_t offset = address - e.address;
    // A sized symbol covers only its own bytes; an unsized one reaches to the next symbol.
    if (e.size != 0 && offset >= e.size) return {nullptr, 0};
    return {t.strings + e.name, offset};
}

}  // namespace symbols
