// The two cyclic redundancy checks the XZ format uses, both in their reflected (least
// significant bit first) form with an all-ones initial value and final inversion:
//   crc32: the IEEE 802.3 polynomial 0x04C11DB7 (reflected 0xEDB88320), as in gzip and zlib;
//   crc64: the ECMA-182 polynomial 0x42F0E1EBA9EA3693 (reflected 0xC96C5795D7870F42).
// `previous` continues a checksum over more data: crc32(b, crc32(a)) == crc32(a ++ b).
// The lookup tables are computed at compile time; nothing is initialised at run time.
#pragma once

#include <span>

#include "kstd/types.hpp"

namespace crc {

uint32_t crc32(std::span<const uint8_t> data, uint32_t previous = 0);
uint64_t crc64(std::span<const uint8_t> data, uint64_t previous = 0);

}  // namespace crc
