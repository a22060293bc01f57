// LZMA2: LZMA data cut into chunks, each either stored or LZMA-compressed, each saying how
// big it is and what to reset before it. The format, from the XZ Utils / LZMA SDK
// documentation: a control byte per chunk,
//   0x00        end of the LZMA2 data;
//   0x01        stored chunk, dictionary reset first;  0x02  stored chunk;
//               then the size - 1 (16 bits, big-endian) and the bytes;
//   0x80..0xff  LZMA chunk: bits 0-4 are bits 16-20 of the uncompressed size - 1, bits 5-6
//               what is reset: 0 nothing, 1 the model, 2 the model with new properties,
//               3 that and the dictionary; then the uncompressed size - 1 (low 16 bits) and
//               the compressed size - 1 (16 bits), big-endian, and with reset >= 2 a
//               properties byte;
//   0x03..0x7f  invalid.
// The first chunk resets the dictionary; after a dictionary reset the first LZMA chunk brings
// properties; a match never crosses a chunk's end, and a chunk's range coder ends exactly at
// its compressed size.
#pragma once

#include <span>

#include "lzma_decoder.hpp"

namespace xz {

// Decodes LZMA2 data at the start of `in`, up to and including its end byte, into w (which
// gives the output buffer, its free space from w.pos on, and the dictionary size). On success
// `used` is the number of input bytes the LZMA2 data took; on failure `failed_at` is the offset
// in `in` of the chunk (or control byte) at fault.
Error decode_lzma2(std::span<const uint8_t> in, Window& w, LzmaDecoder& lzma, size_t& used, size_t& failed_at);

// The dictionary size an LZMA2 filter's properties byte gives (bits 0-5; at most 40, which
// means 4 GiB - 1), or 0 for a byte out of range.
uint64_t lzma2_dictionary_size(uint8_t props);

}  // namespace xz
