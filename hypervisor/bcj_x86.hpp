// The x86 branch/call/jump (BCJ) filter's decoder. An encoder improves compression of x86
// code by turning the 32-bit relative operand of each E8 (CALL rel32) and E9 (JMP rel32) that
// looks like a near branch into an absolute address (operand + position of the next
// instruction); the decoder turns it back. Which opcodes were converted is decided from the
// data alone, by the same rule on both sides, so nothing marks them.
//
// The whole block is filtered in one call: `start` is the filter's start offset (property,
// default 0) and the position of buf[0]; the state the rule keeps between bytes starts empty
// at every block. The last four bytes are never converted (no operand fits after them).
#pragma once

#include "kstd/types.hpp"

namespace xz {

void bcj_x86_decode(uint8_t* buf, size_t size, uint32_t start);

}  // namespace xz
