// A decoder for the .xz container (the XZ file format specification, version 1.x) into a
// buffer the caller supplies, for kernels and initrds that arrive compressed.
//
// What is decoded: stream header and footer, blocks (header, LZMA2 data, padding, check),
// the index (checked record by record against the blocks, through a running digest of the
// records), stream padding and concatenated streams. Filters: LZMA2, optionally preceded by
// the x86 BCJ filter (how Linux compresses x86 kernels: `xz --check=crc32 --x86 --lzma2`).
// Checks: none, CRC32, CRC64; SHA-256 and the reserved check types are refused before any
// data is decoded, as are other filters.
//
// Everything is decoded in one call with the whole input and output in memory, so the output
// buffer is also the LZMA2 dictionary and no dictionary is allocated, whatever size the
// stream asks for. Memory: the Decoder object itself (about 28 KiB of probabilities), which
// the caller places (the hypervisor allocates it from frames: it is too big for a stack).
//
// Errors: every rule the input breaks gives an Error with the input offset of the structure
// at fault; decoding never reads outside `in` or writes outside `out`, and always ends (each
// step consumes input or produces output, and both are bounded). On failure `out` may hold
// partial data.
#pragma once

#include <span>

#include "kstd/expected.hpp"
#include "lzma_decoder.hpp"
#include "xz_error.hpp"

namespace xz {

// Check types (stream flags, second byte).
enum class Check : uint8_t { none = 0x00, crc32 = 0x01, crc64 = 0x04, sha256 = 0x0a };

// Filter IDs Kestrel knows by name.
constexpr uint64_t FILTER_X86 = 0x04;
constexpr uint64_t FILTER_LZMA2 = 0x21;

constexpr size_t STREAM_HEADER_SIZE = 12;
constexpr size_t STREAM_FOOTER_SIZE = 12;
constexpr uint8_t HEADER_MAGIC[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
constexpr uint8_t FOOTER_MAGIC[2] = {'Y', 'Z'};

// Whether bytes start like an XZ stream (its six-byte magic).
bool has_magic(std::span<const uint8_t> bytes);

enum class Mode : uint8_t {
    single_stream,  // decode the first stream and stop after its footer; what follows is the caller's
    file,           // the whole input: streams, each optionally followed by stream padding
};

struct Result {
    uint64_t in_used;   // bytes of input decoded (all of it in file mode)
    uint64_t out_size;  // bytes written to out[0...]
    uint64_t streams;
    uint64_t blocks;
    Check check;        // of the last stream
};

class Decoder final {
public:
    kstd::Expected<Result, Failure> decode(std::span<const uint8_t> in, std::span<uint8_t> out, Mode mode);

private:
    struct Stream;  // one stream's decoding (xz.cpp)

    LzmaDecoder lzma_;
};

}  // namespace xz
