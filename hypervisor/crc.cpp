// Table-driven CRCs, eight bytes per step ("slicing by 8"): table[0] advances the register
// by one byte, and table[k][b] is the effect of byte b followed by k zero bytes, so eight
// lookups combine into one step over eight bytes. Data is consumed in memory order; the
// register is little-endian on every machine Kestrel runs on.
#include "crc.hpp"

#include "kstd/string.hpp"

namespace crc {

namespace {

constexpr uint32_t CRC32_POLY = 0xEDB88320u;
constexpr uint64_t CRC64_POLY = 0xC96C5795D7870F42ull;
constexpr unsigned SLICES = 8;

template <typename T>
struct Tables {
    T t[SLICES][256];
};

template <typename T>
constexpr Tables<T> make_tables(T poly) {
    Tables<T> tables{};
    for (unsigned b = 0; b < 256; ++b) {
        T r = T(b);
        for (int i = 0; i < 8; ++i) r = (r & 1) ? (r >> 1) ^ poly : r >> 1;
        tables.t[0][b] = r;
    }
    for (unsigned k = 1; k < SLICES; ++k)
        for (unsigned b = 0; b < 256; ++b) {
            T prev = tables.t[k - 1][b];
            tables.t[k][b] = (prev >> 8) ^ tables.t[0][prev & 0xff];
        }
    return tables;
}

constexpr Tables<uint32_t> CRC32_TABLES = make_tables<uint32_t>(CRC32_POLY);
constexpr Tables<uint64_t> CRC64_TABLES = make_tables<uint64_t>(CRC64_POLY);

static_assert(CRC32_TABLES.t[0][1] == 0x77073096u, "first entry of the well-known CRC-32 table");

template <typename T>
T update(const Tables<T>& tab, std::span<const uint8_t> data, T reg) {
    const uint8_t* p = data.data();
    size_t n = data.size();
    while (n >= SLICES) {
        uint64_t word;
        memcpy(&word, p, sizeof word);
        // Fold the register into the word's first bytes (a 32-bit register covers four of
        // them), then each byte's lookup accounts for the bytes that follow it.
        uint64_t x = word ^ uint64_t(reg);
        T next = 0;
        for (unsigned k = 0; k < SLICES; ++k) next ^= tab.t[SLICES - 1 - k][(x >> (8 * k)) & 0xff];
        reg = next;
        p += SLICES;
        n -= SLICES;
    }
    for (; n > 0; --n, ++p) reg = (reg >> 8) ^ tab.t[0][(reg ^ *p) & 0xff];
    return reg;
}

}  // namespace

uint32_t crc32(std::span<const uint8_t> data, uint32_t previous) {
    return ~update<uint32_t>(CRC32_TABLES, data, ~previous);
}

uint64_t crc64(std::span<const uint8_t> data, uint64_t previous) {
    return ~update<uint64_t>(CRC64_TABLES, data, ~previous);
}

}  // namespace crc
