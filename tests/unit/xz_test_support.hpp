// Shared by the XZ, bzImage and kernel-image tests: the host's `xz` command as the reference
// encoder, generators of test data with chosen statistics, and a decode helper whose buffers
// are exactly as large as asked, so that AddressSanitizer catches any access past them.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "xz.hpp"

namespace xz_test {

using Bytes = std::vector<uint8_t>;

// `xz -c OPTIONS` of data (OPTIONS also chooses the format, check and filters). Fails the
// test, naming the command, if xz is missing or refuses.
Bytes host_xz(const Bytes& data, const std::string& options);

// `gzip -c OPTIONS` of data, failing the test if gzip refuses.
Bytes host_gzip(const Bytes& data, const std::string& options);

// `xz -dc` of packed; ok says whether the host decoder accepted it.
Bytes host_unxz(const Bytes& packed, bool& ok);

// Deterministic data of four kinds (same seed, same bytes).
Bytes random_bytes(size_t n, uint32_t seed);
Bytes text_like(size_t n, uint32_t seed);   // words from a small vocabulary: long matches, literals
Bytes x86_like(size_t n, uint32_t seed);    // E8/E9 opcodes and 00/FF bytes, crowded
Bytes mixed(size_t n, uint32_t seed);       // runs of the above and of repeated bytes

struct Decoded {
    bool ok;
    xz::Failure failure;
    xz::Result result;
    Bytes out;  // out_size bytes on success
};

// Decodes a copy of `in` into a buffer of exactly `capacity` bytes.
Decoded decode(const Bytes& in, size_t capacity, xz::Mode mode = xz::Mode::file);

// Names an error for test messages.
std::string describe(const Decoded& d);

// Builds .xz streams by hand, to break one rule at a time. Blocks hold raw LZMA2 data.
struct StreamBuilder {
    uint8_t check = 0x01;  // check type byte
    uint8_t stream_flags0 = 0;
    struct Block {
        Bytes lzma2;                   // the block's data (LZMA2 chunks with the end byte)
        Bytes uncompressed;            // what it decodes to (for the check and the index)
        Bytes filters;                 // encoded filter flags; empty: LZMA2 with an 8 MiB dictionary
        uint8_t filter_count = 1;
        bool declare_compressed = false;
        bool declare_uncompressed = false;
        int64_t compressed_delta = 0;    // added to the declared compressed size
        int64_t uncompressed_delta = 0;
        uint8_t extra_flags = 0;        // ORed into the block flags
        uint8_t header_padding_byte = 0;
        uint8_t padding_byte = 0;       // of the block padding
        size_t extra_header_padding = 0;  // words of header padding beyond the minimum
    };
    std::vector<Block> blocks;
    // Adds a block of LZMA2 data with default header settings.
    Block& add(Bytes lzma2, Bytes uncompressed) {
        Block b;
        b.lzma2 = std::move(lzma2);
        b.uncompressed = std::move(uncompressed);
        blocks.push_back(b);
        return blocks.back();
    }
    // Index tweaks.
    int64_t record_count_delta = 0;
    int64_t unpadded_delta = 0;  // added to the first record's unpadded size
    // Footer tweaks.
    int64_t backward_size_delta = 0;
    uint8_t footer_check = 0xff;  // 0xff: same as the header

    Bytes build() const;
};

// Variable-length integer encoding and little-endian stores, for hand-made structures.
void put_vli(Bytes& b, uint64_t v);
void put_le32(Bytes& b, uint32_t v);

// LZMA2 data holding `data` in stored chunks (at most 64 KiB each), the first with a
// dictionary reset, and the end byte.
Bytes lzma2_stored(const Bytes& data);

}  // namespace xz_test
