// Why an XZ stream could not be decoded: one value per rule of the format that the input
// broke (or per feature Kestrel does not implement), each with a fixed description.
#pragma once

#include "kstd/types.hpp"

namespace xz {

enum class Error : uint8_t {
    ok,
    // Container (the .xz file format)
    truncated,                // the input ends inside a structure
    bad_magic,                // no stream header where one must start
    stream_header_crc,
    bad_stream_flags,         // reserved bits set in the stream flags
    unsupported_check,        // SHA-256 or a reserved check type
    block_header_crc,
    bad_block_header,         // reserved flag bits, fields overrunning the header, non-zero padding
    bad_vli,                  // a variable-length integer over 9 bytes, past 2^63 - 1, or not minimal
    unsupported_filter,       // a filter other than LZMA2 and x86 BCJ
    bad_filter_chain,         // LZMA2 not last, or more than one filter before it
    bad_filter_properties,    // wrong size or value of a filter's properties
    block_size_mismatch,      // a size in the block header disagrees with the block's data
    bad_block_padding,
    check_mismatch,           // the CRC32 / CRC64 of the decoded block is wrong
    bad_index,                // records disagree with the blocks, or malformed
    index_crc,
    footer_crc,
    bad_footer,               // magic, flags differing from the header, backward size
    bad_stream_padding,       // stream padding not a multiple of four zero bytes
    output_full,              // the output buffer is smaller than the data
    // LZMA2 chunks
    bad_lzma2_control,        // a control byte 0x03..0x7f
    lzma2_missing_dict_reset, // the first chunk does not reset the dictionary
    lzma2_missing_properties, // an LZMA chunk without properties after a dictionary reset
    bad_lzma_properties,      // lc/lp/pb out of range, or lc + lp > 4
    // LZMA data
    lzma_bad_first_byte,      // a chunk's range coder does not start with a zero byte
    lzma_bad_distance,        // a match reaches before the dictionary's start or beyond its size
    lzma_end_marker,          // an end-of-payload marker, which LZMA2 forbids
    lzma_match_past_chunk,    // a match runs past the chunk's uncompressed size
    lzma_chunk_size,          // the chunk's compressed size does not match its range-coded data
};

// A short description of each error, for logs ("LZMA match distance out of range").
const char* error_name(Error e);

// An error and the byte offset in the input where the offending structure starts.
struct Failure {
    Error error;
    uint64_t offset;
};

}  // namespace xz
