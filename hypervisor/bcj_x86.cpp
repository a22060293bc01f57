// The rule, for an E8/E9 byte at position i whose operand is buf[i+1..i+4] (little-endian):
//  - `skipped` remembers which of the three bytes before i held E8/E9 bytes that were left
//    alone (bit k: the byte k + 1 positions back). A converted opcode clears it, since its
//    operand covers the next four bytes.
//  - If two or more of those are set, i is left alone. If one is, at k + 1 back, the operand
//    that opcode would have had ends inside ours, at buf[i + 3 - k]; if that byte is 00 or FF
//    (the top byte of a plausible near displacement) i is left alone too.
//  - Otherwise i is converted when its operand's top byte buf[i+4] is 00 or FF: the absolute
//    address minus (start + i + 5) is the displacement. When one earlier opcode was skipped,
//    the byte of the result at that opcode's operand top (byte 3 - (k + 1) of the result)
//    must not look like 00/FF either; if it does, the encoder had complemented the bits up
//    to that byte, so complement them and subtract again. (A second correction is never
//    needed: modulo 2^(32 - 8 (k + 1)) the corrected value is ~operand, whose top byte there
//    is buf[i + 3 - k], already known not to be 00/FF.) The result is stored sign-extended
//    from bit 24.
//  - An opcode left alone sets bit 0 of `skipped`; the whole mask shifts by the distance to
//    the next E8/E9 byte, and is forgotten past three bytes.
#include "bcj_x86.hpp"

namespace xz {

namespace {

bool displacement_top_byte(uint8_t b) { return b == 0x00 || b == 0xff; }

// Index (1..3) of the highest set bit of a non-zero three-bit mask.
unsigned bytes_back(uint32_t mask) { return mask >= 4 ? 3 : mask >= 2 ? 2 : 1; }

bool single_bit(uint32_t mask) { return (mask & (mask - 1)) == 0; }

uint32_t load_le32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

void store_le32(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

}  // namespace

void bcj_x86_decode(uint8_t* buf, size_t size, uint32_t start) {
    if (size < 5) return;
    const size_t limit = size - 4;
    uint32_t skipped = 0;
    size_t last_opcode = 0;
    bool seen_opcode = false;
    size_t i = 0;
    while (i < limit) {
        if ((buf[i] & 0xfe) != 0xe8) {
            ++i;
            continue;
        }
        size_t gap = seen_opcode ? i - last_opcode : 4;
        skipped = gap > 3 ? 0 : (skipped << (gap - 1)) & 7;
        last_opcode = i;
        seen_opcode = true;
        bool leave = false;
        if (skipped != 0)
            leave = !single_bit(skipped) || displacement_top_byte(buf[i + 4 - bytes_back(skipped)]);
        if (leave || !displacement_top_byte(buf[i + 4])) {
            skipped = (skipped << 1) | 1;
            ++i;
            continue;
        }
        uint32_t here = start + uint32_t(i) + 5;
        uint32_t dest = load_le32(buf + i + 1) - here;
        if (skipped != 0) {
            unsigned shift = 24 - 8 * bytes_back(skipped);
            if (displacement_top_byte(uint8_t(dest >> shift))) {
                uint32_t low_bits = (uint32_t{1} << (shift + 8)) - 1;
                dest = (dest ^ low_bits) - here;
            }
        }
        dest = (dest & 0x00ffffffu) | ((dest & 0x01000000u) ? 0xff000000u : 0);
        store_le32(buf + i + 1, dest);
        skipped = 0;
        i += 5;
    }
}

}  // namespace xz
