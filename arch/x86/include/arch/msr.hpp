// Model-specific register numbers and their bits, by the names the manuals give them.
#pragma once

#include "kstd/types.hpp"

namespace msr {

using kstd::bit;

constexpr uint32_t IA32_APIC_BASE = 0x1b;
constexpr uint64_t APIC_BASE_BSP = bit(8);
constexpr uint64_t APIC_BASE_EXTD = bit(10);   // x2APIC mode
constexpr uint64_t APIC_BASE_EN = bit(11);

constexpr uint32_t IA32_TSC_DEADLINE = 0x6e0;
constexpr uint32_t IA32_PAT = 0x277;

constexpr uint32_t IA32_EFER = 0xc0000080;
constexpr uint64_t EFER_SCE = bit(0);
constexpr uint64_t EFER_LME = bit(8);
constexpr uint64_t EFER_NXE = bit(11);

constexpr uint32_t FS_BASE = 0xc0000100;
constexpr uint32_t GS_BASE = 0xc0000101;
constexpr uint32_t KERNEL_GS_BASE = 0xc0000102;

constexpr uint32_t X2APIC_BASE = 0x800;  // x2APIC register r is MSR 0x800 + (r >> 4)

}  // namespace msr
