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

// The unchecked copies with fault recovery, provided by the architecture (or a host fake):
// they return the number of bytes NOT copied (0 on success).
size_t raw_copy_from(void* dst, uint64_t guest_src, size_t n);
size_t raw_copy_to(uint64_t guest_dst, const void* src, size_t n);

// Bits 63..47 all equal: 48-bit virtual addresses, as every x86_64 PV guest uses.
inline bool canonical(uint64_t va) {
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}

// Whether [va, va + n) is a range a guest may name: canonical, not wrapping, outside the hole.
// (Inline, as the copies below: every hypercall and bounce goes through them.) The addresses
// a guest may name are the lower canonical half and the upper half above the hole; a range
// that does not wrap lies within one of them exactly when it ends in the lower half or starts
// above the hole (the non-canonical gap and the hole lie between the two).
inline bool range_ok(Gva va, size_t n) {
    constexpr uint64_t LOWER_HALF_END = 0x0000800000000000;
    uint64_t start = va.raw();
    if (n == 0) return true;
    uint64_t last = start + (n - 1);
    return last >= start && (last < LOWER_HALF_END || start >= HOLE_END);
}

inline bool copy_from(void* dst, Gva src, size_t n) { return range_ok(src, n) && raw_copy_from(dst, src.raw(), n) == 0; }
inline bool copy_to(Gva dst, const void* src, size_t n) { return range_ok(dst, n) && raw_copy_to(dst.raw(), src, n) == 0; }

// The guest address a XEN_GUEST_HANDLE holds.
template <typename Handle>
Gva address_of(const Handle& h) { return Gva(reinterpret_cast<uint64_t>(h.p)); }

template <typename T>
bool read(Gva src, T& out) { return copy_from(&out, src, sizeof(T)); }
template <typename T>
bool write(Gva dst, const T& v) { return copy_to(dst, &v, sizeof(T)); }

}  // namespace guest
