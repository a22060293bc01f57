#include "guest_access.hpp"

namespace guest {

bool canonical(uint64_t va) {
    // Bits 63..47 all equal: 48-bit virtual addresses, as every x86_64 PV guest uses.
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}

bool range_ok(Gva va, size_t n) {
    uint64_t start = va.raw();
    if (n == 0) return true;
    uint64_t last = start + (n - 1);
    if (last < start) return false;
    if (!canonical(start) || !canonical(last)) return false;
    // Both ends canonical and no wrap: a range crossing the non-canonical gap would have one
    // end on each side, so checking that they are on the same side rules it out.
    if ((start >> 63) != (last >> 63)) return false;
    return last < HOLE_START || start >= HOLE_END;
}

bool copy_from(void* dst, Gva src, size_t n) {
    if (!range_ok(src, n)) return false;
    return raw_copy_from(dst, src.raw(), n) == 0;
}

bool copy_to(Gva dst, const void* src, size_t n) {
    if (!range_ok(dst, n)) return false;
    return raw_copy_to(dst.raw(), src, n) == 0;
}

}  // namespace guest
