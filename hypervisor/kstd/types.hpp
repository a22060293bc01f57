// Basic vocabulary shared by every part of Kestrel, freestanding and host builds alike.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace kstd {

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }

constexpr bool is_power_of_two(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

// Alignment helpers take a power-of-two alignment; callers own that precondition.
constexpr uint64_t align_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }
constexpr uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
constexpr bool is_aligned(uint64_t v, uint64_t a) { return (v & (a - 1)) == 0; }

template <typename T>
constexpr T min(T a, T b) { return b < a ? b : a; }
template <typename T>
constexpr T max(T a, T b) { return a < b ? b : a; }

// Index of the most significant set bit; v must be non-zero.
constexpr unsigned log2_floor(uint64_t v) { return 63u - static_cast<unsigned>(__builtin_clzll(v)); }

constexpr uint64_t KiB = 1024;
constexpr uint64_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

}  // namespace kstd
