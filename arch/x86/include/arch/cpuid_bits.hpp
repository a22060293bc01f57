// CPUID feature bits Kestrel tests for, one per line with its manual name.
#pragma once

#include "kstd/types.hpp"

namespace cpuid_bits {

using kstd::bit;

// Leaf 1, ECX
constexpr uint64_t L1C_X2APIC = bit(21);
constexpr uint64_t L1C_TSC_DEADLINE = bit(24);
constexpr uint64_t L1C_HYPERVISOR = bit(31);
// Leaf 1, EDX
constexpr uint64_t L1D_APIC = bit(9);
// Leaf 0x80000001, EDX
constexpr uint64_t X1D_NX = bit(20);
constexpr uint64_t X1D_PAGE1GB = bit(26);
constexpr uint64_t X1D_LM = bit(29);
// Leaf 0x80000007, EDX
constexpr uint64_t X7D_INVARIANT_TSC = bit(8);

}  // namespace cpuid_bits
