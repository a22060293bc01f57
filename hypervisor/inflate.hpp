// DEFLATE (RFC 1951) decoding, single-call into a caller's buffer, and the gzip container
// around it (RFC 1952), for kernels whose bzImage payload is gzip-compressed.
//
// DEFLATE: blocks stored, with the fixed Huffman codes, or with codes described at the block's
// start; literals and (length, distance) back-references into the last 32 KiB of output.
// gzip: a 10-byte header (1f 8b, method 8, flags, time, extra flags, OS) with optional extra
// field, name, comment and header CRC16, the DEFLATE data, then the CRC32 and the size modulo
// 2^32 of the data. Only one member is decoded (Linux's payloads have one); what follows it is
// the caller's.
//
// Bounds: every code, length and distance is checked before it is used, codes that are
// over-subscribed or incomplete (beyond what RFC 1951 allows) are refused, and input past its
// end reads as zeros and fails the decoding, so malformed input gives an Error and never an
// access outside `in` or `out`; every step consumes input bits or produces output, so decoding
// ends.
#pragma once

#include <span>

#include "kstd/expected.hpp"
#include "kstd/types.hpp"

namespace inflate {

enum class Error : uint8_t {
    ok,
    truncated,             // the input ends inside the data
    bad_magic,             // not 1f 8b
    unsupported_method,    // a compression method other than 8 (deflate)
    bad_flags,             // reserved header flag bits set
    header_crc,            // FHCRC does not match
    bad_block_type,        // block type 3
    stored_length,         // a stored block's LEN and NLEN disagree
    bad_code_lengths,      // a Huffman code over-subscribed, incomplete, or described wrongly
    no_end_of_block_code,  // a literal/length code without symbol 256
    bad_symbol,            // length symbol 286/287 or distance symbol 30/31
    distance_too_far,      // a back-reference before the start of the output or beyond 32 KiB
    output_full,           // the data is larger than the output buffer
    crc_mismatch,          // the gzip trailer's CRC32
    size_mismatch,         // the gzip trailer's size
};

const char* error_name(Error e);

struct Failure {
    Error error;
    uint64_t offset;  // in the input, of the byte being read when it failed
};

struct Result {
    uint64_t in_used;   // up to and including the gzip trailer
    uint64_t out_size;
};

// The Huffman decoding tables, which a decoder keeps between blocks (a few KiB).
class Decoder final {
public:
    kstd::Expected<Result, Failure> decode_gzip(std::span<const uint8_t> in, std::span<uint8_t> out);
    // Raw DEFLATE data (no container): out_size is what it decodes to.
    kstd::Expected<Result, Failure> decode_deflate(std::span<const uint8_t> in, std::span<uint8_t> out);

    static constexpr unsigned MAX_BITS = 15;
    static constexpr unsigned FAST_BITS = 10;

    // A canonical Huffman code: how many codes of each length, the symbols in code order, and
    // a table resolving every code of at most FAST_BITS bits at once.
    struct Huffman {
        uint16_t count[MAX_BITS + 1];
        uint16_t symbol[288];
        uint16_t fast[1u << FAST_BITS];  // (length << 9) | symbol, 0 when longer than FAST_BITS
    };

private:
    struct Blocks;  // the decoding state (inflate.cpp)

    Huffman literal_;
    Huffman distance_;
    Huffman lengths_;  // the code-length code of a dynamic block
};

}  // namespace inflate
