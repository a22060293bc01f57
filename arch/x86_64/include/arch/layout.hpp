// The hypervisor's virtual address layout. Everything lives in the 16 top-half PML4 slots
// 256..271 (0xffff800000000000..0xffff87ffffffffff) that the Xen x86_64 PV ABI leaves to the
// hypervisor, so that PV guests can later own the rest of every address space.
//
//   slot 256        0xffff800000000000  reserved for the guest-visible read-only M2P table
//   slot 261        0xffff828000000000  image window: image virtual = physical + IMAGE_OFFSET
//                   0xffff82c000000000  I/O window: MMIO and firmware tables mapped on demand
//                   0xffff82d000000000  per-CPU GDTs: 14 pages for the guest's, 2 for Kestrel's
//                   0xffff82d100000000  per-CPU LDTs: the running vCPU's LDT frames
//                   0xffff82e000000000  per-CPU stacks with unmapped guard pages
//   slots 262..271  0xffff830000000000  direct map of all RAM (5 TiB)
#pragma once

#include <stdint.h>

namespace layout {

constexpr uint64_t M2P_BASE = 0xffff800000000000;  // MACH2PHYS_VIRT_START: read-only for guests
constexpr uint64_t M2P_END = 0xffff804000000000;
constexpr uint64_t IMAGE_OFFSET = 0xffff828000000000;
constexpr uint64_t IO_WINDOW_BASE = 0xffff82c000000000;
constexpr uint64_t IO_WINDOW_SIZE = uint64_t{1} << 30;
constexpr uint64_t GDT_AREA_BASE = 0xffff82d000000000;  // per CPU: 16 pages of GDT
constexpr uint64_t GDT_AREA_SLOT = 64 * 1024;
constexpr uint64_t LDT_AREA_BASE = 0xffff82d100000000;  // per CPU: 16 pages for a guest's LDT
constexpr uint64_t LDT_AREA_SLOT = 64 * 1024;
constexpr uint64_t STACKS_BASE = 0xffff82e000000000;
constexpr uint64_t DIRECTMAP_BASE = 0xffff830000000000;
constexpr uint64_t DIRECTMAP_SIZE = uint64_t{5} << 40;

constexpr uint64_t HYPERVISOR_SLOT_FIRST = 256;
constexpr uint64_t HYPERVISOR_SLOT_LAST = 271;

// Per-CPU stack area: [guard][#DF IST][guard][NMI IST][guard][#MC IST][guard][main stack]
constexpr uint64_t STACK_SLOT_SIZE = 64 * 1024;
constexpr uint64_t IST_STACK_SIZE = 4096;
constexpr uint64_t MAIN_STACK_SIZE = 32 * 1024;

}  // namespace layout
