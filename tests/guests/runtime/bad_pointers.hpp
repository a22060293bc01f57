// Guest addresses a hypervisor must refuse to copy to or from, with -EFAULT and no side effect.
#pragma once

#include <cstdint>

#include <xen/xen.h>

#include "runtime/runtime.hpp"

namespace kt {

struct BadPointer {
    const char* what;
    std::uint64_t address;
};

// Unmapped low memory, a non-canonical address, and the hypervisor's own area.
inline constexpr BadPointer bad_pointers[] = {
    {"unmapped", 0x1000},
    {"non-canonical", 0x0000800000000000ull},
    {"hypervisor area", HYPERVISOR_VIRT_START},
};

template <typename T> T* bad(const BadPointer& b) { return reinterpret_cast<T*>(b.address); }

// A page the guest may read but not write: its own top-level page table.
inline void* read_only_page() { return reinterpret_cast<void*>(start_info()->pt_base); }

} // namespace kt
