// Copies between the hypervisor and the address space of the PV guest running on this CPU
// (its page tables are loaded while the hypervisor works for it).
//
// A guest pointer is checked before use: a range that wraps, is not canonical or touches the
// area the ABI reserves for the hypervisor fails without being touched. A page fault during a
// copy (nothing mapped, or a read-only mapping written) ends the copy and fails it; the
// caller returns -EFAULT. Guest mappings are validated by the PV MMU, so anything the guest
// maps is its own memory.
#pragma once

#include <stddef.h>

#include "types.hpp"

namespace guest {

// The x86_64 PV hole: [HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_END).
constexpr uint64_t HOLE_START = 0xffff800000000000;
constexpr uint64_t HOLE_END = 0xffff880000000000;

// Whether [va, va + n) is a range a guest may name: canonical, not wrapping, outside the hole.
bool range_ok(Gva va, size_t n);
bool canonical(uint64_t va);

bool copy_from(void* dst, Gva src, size_t n);
bool copy_to(Gva dst, const void* src, size_t n);

// The guest address a XEN_GUEST_HANDLE holds.
template <typename Handle>
Gva address_of(const Handle& h) { return Gva(reinterpret_cast<uint64_t>(h.p)); }

template <typename T>
bool read(Gva src, T& out) { return copy_from(&out, src, sizeof(T)); }
template <typename T>
bool write(Gva dst, const T& v) { return copy_to(dst, &v, sizeof(T)); }

// The unchecked copies with fault recovery, provided by the architecture (or a host fake):
// they return the number of bytes NOT copied (0 on success).
size_t raw_copy_from(void* dst, uint64_t guest_src, size_t n);
size_t raw_copy_to(uint64_t guest_dst, const void* src, size_t n);

}  // namespace guest
