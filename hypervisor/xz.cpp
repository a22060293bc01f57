// The .xz container: streams of blocks, an index and a footer. Sizes and layouts from the
// XZ file format specification:
//   stream header  6-byte magic, 2 flag bytes (0, check type), CRC32 of the flags;
//   block          header: size byte ((size + 1) * 4 bytes in all), flags (filter count - 1
//                  in bits 0-1, compressed / uncompressed size present in bits 6 / 7),
//                  the sizes and each filter's ID, property size and properties as
//                  variable-length integers, zero padding, CRC32 of all that; then the
//                  filtered data, zero padding to a multiple of four, and the check of the
//                  uncompressed data;
//   index          a zero byte, the record count, per block its unpadded size (header +
//                  compressed data + check) and uncompressed size, zero padding to four,
//                  CRC32;
//   stream footer  CRC32 of the next six bytes, the index size / 4 - 1 (32 bits), the same
//                  flags as the header, "YZ";
//   stream padding zero bytes, a multiple of four, between and after streams.
// Integers are little-endian; variable-length integers are 7 bits per byte, least significant
// first, the top bit set on every byte but the last, at most 9 bytes and never with a
// redundant last byte of zero.
#include "xz.hpp"

#include "bcj_x86.hpp"
#include "crc.hpp"
#include "kstd/string.hpp"
#include "lzma2.hpp"

namespace xz {

namespace {

constexpr unsigned VLI_BYTES_MAX = 9;
constexpr uint8_t BLOCK_FILTER_COUNT = 0x03;
constexpr uint8_t BLOCK_RESERVED = 0x3c;
constexpr uint8_t BLOCK_HAS_COMPRESSED_SIZE = 0x40;
constexpr uint8_t BLOCK_HAS_UNCOMPRESSED_SIZE = 0x80;
constexpr uint64_t UNPADDED_SIZE_MIN = 5;
constexpr size_t CHECK_FIELD = 4;  // the CRC32 closing headers and the index

// Size of the check field for each check type (the specification's table, reserved IDs too).
constexpr uint8_t CHECK_SIZE[16] = {0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64};

uint32_t load_le32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

uint64_t load_le64(const uint8_t* p) { return uint64_t(load_le32(p)) | uint64_t(load_le32(p + 4)) << 32; }

// Reads a variable-length integer from in[at, limit).
Error read_vli(std::span<const uint8_t> in, size_t& at, size_t limit, uint64_t& value) {
    value = 0;
    for (unsigned i = 0; i < VLI_BYTES_MAX; ++i) {
        if (at >= limit) return Error::truncated;
        uint8_t b = in[at++];
        value |= uint64_t(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) return b == 0 && i > 0 ? Error::bad_vli : Error::ok;
    }
    return Error::bad_vli;
}

// What the index must list: the blocks' sizes, folded into a digest so that any number of
// blocks needs no memory. Both sides fold their records the same way and compare.
struct RecordDigest {
    uint64_t count = 0;
    uint64_t unpadded_sum = 0;
    uint64_t uncompressed_sum = 0;
    uint64_t crc = 0;

    void add(uint64_t unpadded, uint64_t uncompressed) {
        uint8_t record[16];
        for (int i = 0; i < 8; ++i) {
            record[i] = uint8_t(unpadded >> (8 * i));
            record[8 + i] = uint8_t(uncompressed >> (8 * i));
        }
        ++count;
        unpadded_sum += unpadded;
        uncompressed_sum += uncompressed;
        crc = crc::crc64(record, crc);
    }
    bool operator==(const RecordDigest&) const = default;
};

// The filters of one block.
struct BlockFilters {
    bool x86;
    uint32_t x86_start;
    uint64_t dict_size;
};

// Reads one filter's flags from the block header and adds it to the chain; `last` says it is
// the chain's final filter.
Error read_filter(std::span<const uint8_t> in, size_t& at, size_t limit, bool last, BlockFilters& f) {
    uint64_t id, props_size;
    // Running out of header bytes is a malformed header, not a truncated input.
    for (uint64_t* v : {&id, &props_size}) {
        Error e = read_vli(in, at, limit, *v);
        if (e != Error::ok) return e == Error::truncated ? Error::bad_block_header : e;
    }
    if (props_size > limit - at) return Error::bad_block_header;
    const uint8_t* props = in.data() + at;
    at += props_size;
    if (id == FILTER_LZMA2) {
        if (!last) return Error::bad_filter_chain;
        if (props_size != 1) return Error::bad_filter_properties;
        f.dict_size = lzma2_dictionary_size(props[0]);
        if (f.dict_size == 0) return Error::bad_filter_properties;
        return Error::ok;
    }
    if (id == FILTER_X86) {
        if (last || f.x86) return Error::bad_filter_chain;
        if (props_size == 4)
            f.x86_start = load_le32(props);
        else if (props_size != 0)
            return Error::bad_filter_properties;
        f.x86 = true;
        return Error::ok;
    }
    return Error::unsupported_filter;
}

}  // namespace

const char* error_name(Error e) {
    switch (e) {
    case Error::ok: return "no error";
    case Error::truncated: return "input ends early";
    case Error::bad_magic: return "not an XZ stream (bad magic)";
    case Error::stream_header_crc: return "stream header CRC32 mismatch";
    case Error::bad_stream_flags: return "reserved stream flags set";
    case Error::unsupported_check: return "unsupported integrity check (only none, CRC32 and CRC64 are)";
    case Error::block_header_crc: return "block header CRC32 mismatch";
    case Error::bad_block_header: return "malformed block header";
    case Error::bad_vli: return "malformed variable-length integer";
    case Error::unsupported_filter: return "unsupported filter (only LZMA2 and x86 BCJ are)";
    case Error::bad_filter_chain: return "invalid filter chain";
    case Error::bad_filter_properties: return "invalid filter properties";
    case Error::block_size_mismatch: return "block size differs from its header";
    case Error::bad_block_padding: return "non-zero block padding";
    case Error::check_mismatch: return "integrity check of the decoded data fails";
    case Error::bad_index: return "index does not match the blocks";
    case Error::index_crc: return "index CRC32 mismatch";
    case Error::footer_crc: return "stream footer CRC32 mismatch";
    case Error::bad_footer: return "malformed stream footer";
    case Error::bad_stream_padding: return "malformed stream padding";
    case Error::output_full: return "decoded data larger than the output buffer";
    case Error::bad_lzma2_control: return "invalid LZMA2 control byte";
    case Error::lzma2_missing_dict_reset: return "LZMA2 data does not start with a dictionary reset";
    case Error::lzma2_missing_properties: return "LZMA2 chunk without properties after a dictionary reset";
    case Error::bad_lzma_properties: return "invalid LZMA properties";
    case Error::lzma_bad_first_byte: return "corrupt LZMA chunk start";
    case Error::lzma_bad_distance: return "LZMA match distance out of range";
    case Error::lzma_end_marker: return "LZMA end marker inside LZMA2 data";
    case Error::lzma_match_past_chunk: return "LZMA match past the end of its chunk";
    case Error::lzma_chunk_size: return "LZMA chunk size does not match its data";
    }
    return "unknown error";
}

bool has_magic(std::span<const uint8_t> bytes) {
    return bytes.size() >= sizeof HEADER_MAGIC && memcmp(bytes.data(), HEADER_MAGIC, sizeof HEADER_MAGIC) == 0;
}

// One stream: header, blocks, index, footer. `at` walks the input; on failure `fail_at` is
// the offset of the structure at fault.
struct Decoder::Stream {
    LzmaDecoder& lzma;
    std::span<const uint8_t> in;
    std::span<uint8_t> out;
    size_t at;
    size_t out_pos;
    Check check = Check::none;
    size_t check_size = 0;
    uint8_t flags[2] = {};
    RecordDigest blocks;
    size_t fail_at = 0;

    size_t left() const { return in.size() - at; }
    Error fail(Error e, size_t where) {
        fail_at = where;
        return e;
    }

    Error header() {
        size_t start = at;
        size_t n = left() < sizeof HEADER_MAGIC ? left() : sizeof HEADER_MAGIC;
        if (memcmp(in.data() + at, HEADER_MAGIC, n) != 0) return fail(Error::bad_magic, start);
        if (left() < STREAM_HEADER_SIZE) return fail(Error::truncated, start);
        const uint8_t* p = in.data() + at;
        if (crc::crc32(in.subspan(at + 6, 2)) != load_le32(p + 8)) return fail(Error::stream_header_crc, start + 8);
        if (p[6] != 0 || (p[7] & 0xf0) != 0) return fail(Error::bad_stream_flags, start + 6);
        check = Check(p[7]);
        if (check != Check::none && check != Check::crc32 && check != Check::crc64)
            return fail(Error::unsupported_check, start + 7);
        check_size = CHECK_SIZE[p[7]];
        flags[0] = p[6];
        flags[1] = p[7];
        at += STREAM_HEADER_SIZE;
        return Error::ok;
    }

    // Parses the block header at `at` (its size byte is non-zero).
    Error block_header(BlockFilters& f, uint64_t& compressed, uint64_t& uncompressed, size_t& header_size) {
        size_t start = at;
        header_size = (size_t(in[at]) + 1) * 4;
        if (left() < header_size) return fail(Error::truncated, start);
        size_t crc_at = start + header_size - CHECK_FIELD;
        if (crc::crc32(in.subspan(start, header_size - CHECK_FIELD)) != load_le32(in.data() + crc_at))
            return fail(Error::block_header_crc, crc_at);
        uint8_t bflags = in[start + 1];
        if (bflags & BLOCK_RESERVED) return fail(Error::bad_block_header, start + 1);
        size_t p = start + 2;
        compressed = uncompressed = ~uint64_t{0};
        for (uint8_t flag : {BLOCK_HAS_COMPRESSED_SIZE, BLOCK_HAS_UNCOMPRESSED_SIZE}) {
            if (!(bflags & flag)) continue;
            uint64_t& v = flag == BLOCK_HAS_COMPRESSED_SIZE ? compressed : uncompressed;
            size_t field = p;
            Error e = read_vli(in, p, crc_at, v);
            if (e != Error::ok) return fail(e == Error::truncated ? Error::bad_block_header : e, field);
            if (flag == BLOCK_HAS_COMPRESSED_SIZE && v == 0) return fail(Error::bad_block_header, field);
        }
        unsigned filters = (bflags & BLOCK_FILTER_COUNT) + 1;
        f = BlockFilters{};
        for (unsigned i = 0; i < filters; ++i) {
            size_t field = p;
            if (Error e = read_filter(in, p, crc_at, i + 1 == filters, f); e != Error::ok) return fail(e, field);
        }
        for (; p < crc_at; ++p)
            if (in[p] != 0) return fail(Error::bad_block_header, p);
        at += header_size;
        return Error::ok;
    }

    Error verify_check(size_t block_out, size_t size) {
        if (left() < check_size) return fail(Error::truncated, at);
        std::span<const uint8_t> data(out.data() + block_out, size);
        const uint8_t* stored = in.data() + at;
        bool good = check == Check::crc32   ? crc::crc32(data) == load_le32(stored)
                    : check == Check::crc64 ? crc::crc64(data) == load_le64(stored)
                                            : true;
        if (!good) return fail(Error::check_mismatch, at);
        at += check_size;
        return Error::ok;
    }

    Error block() {
        size_t start = at;
        BlockFilters f;
        uint64_t declared_compressed, declared_uncompressed;
        size_t header_size;
        Error e = block_header(f, declared_compressed, declared_uncompressed, header_size);
        if (e != Error::ok) return e;
        size_t data_limit = left();
        if (declared_compressed != ~uint64_t{0}) {
            if (declared_compressed > data_limit) return fail(Error::truncated, at);
            data_limit = size_t(declared_compressed);
        }
        Window w{out.data(), out.size(), out_pos, out_pos, f.dict_size};
        size_t used = 0, bad_chunk = 0;
        e = decode_lzma2(in.subspan(at, data_limit), w, lzma, used, bad_chunk);
        if (e != Error::ok) return fail(e, at + bad_chunk);
        size_t produced = w.pos - out_pos;
        if (declared_compressed != ~uint64_t{0} && used != declared_compressed)
            return fail(Error::block_size_mismatch, start);
        if (declared_uncompressed != ~uint64_t{0} && produced != declared_uncompressed)
            return fail(Error::block_size_mismatch, start);
        at += used;
        for (size_t pad = (4 - used % 4) % 4; pad > 0; --pad, ++at) {
            if (left() == 0) return fail(Error::truncated, at);
            if (in[at] != 0) return fail(Error::bad_block_padding, at);
        }
        if (f.x86) bcj_x86_decode(out.data() + out_pos, produced, f.x86_start);
        if (Error ce = verify_check(out_pos, produced); ce != Error::ok) return ce;
        blocks.add(header_size + used + check_size, produced);
        out_pos = w.pos;
        return Error::ok;
    }

    Error index(size_t& index_size) {
        size_t start = at++;  // the indicator, a zero byte
        uint64_t count;
        size_t field = at;
        if (Error e = read_vli(in, at, in.size(), count); e != Error::ok) return fail(e, field);
        if (count != blocks.count) return fail(Error::bad_index, field);
        RecordDigest listed;
        for (uint64_t i = 0; i < count; ++i) {
            uint64_t unpadded, uncompressed;
            field = at;
            if (Error e = read_vli(in, at, in.size(), unpadded); e != Error::ok) return fail(e, field);
            if (unpadded < UNPADDED_SIZE_MIN) return fail(Error::bad_index, field);
            if (Error e = read_vli(in, at, in.size(), uncompressed); e != Error::ok) return fail(e, field);
            listed.add(unpadded, uncompressed);
        }
        for (; (at - start) % 4 != 0; ++at) {
            if (left() == 0) return fail(Error::truncated, at);
            if (in[at] != 0) return fail(Error::bad_index, at);
        }
        if (left() < CHECK_FIELD) return fail(Error::truncated, at);
        if (crc::crc32(in.subspan(start, at - start)) != load_le32(in.data() + at)) return fail(Error::index_crc, at);
        if (listed != blocks) return fail(Error::bad_index, start);
        at += CHECK_FIELD;
        index_size = at - start;
        return Error::ok;
    }

    Error footer(size_t index_size) {
        size_t start = at;
        if (left() < STREAM_FOOTER_SIZE) return fail(Error::truncated, start);
        const uint8_t* p = in.data() + at;
        if (memcmp(p + 10, FOOTER_MAGIC, sizeof FOOTER_MAGIC) != 0) return fail(Error::bad_footer, start + 10);
        if (crc::crc32(in.subspan(at + 4, 6)) != load_le32(p)) return fail(Error::footer_crc, start);
        if ((uint64_t(load_le32(p + 4)) + 1) * 4 != index_size) return fail(Error::bad_footer, start + 4);
        if (p[8] != flags[0] || p[9] != flags[1]) return fail(Error::bad_footer, start + 8);
        at += STREAM_FOOTER_SIZE;
        return Error::ok;
    }

    Error run() {
        if (Error e = header(); e != Error::ok) return e;
        for (;;) {
            if (left() == 0) return fail(Error::truncated, at);
            if (in[at] == 0) break;  // the index indicator
            if (Error e = block(); e != Error::ok) return e;
        }
        size_t index_size = 0;
        if (Error e = index(index_size); e != Error::ok) return e;
        return footer(index_size);
    }
};

kstd::Expected<Result, Failure> Decoder::decode(std::span<const uint8_t> in, std::span<uint8_t> out, Mode mode) {
    Result r{};
    size_t at = 0, out_pos = 0;
    do {
        Stream s{lzma_, in, out, at, out_pos, Check::none, 0, {}, RecordDigest{}, 0};
        if (Error e = s.run(); e != Error::ok) return kstd::unexpected(Failure{e, s.fail_at});
        at = s.at;
        out_pos = s.out_pos;
        ++r.streams;
        r.blocks += s.blocks.count;
        r.check = s.check;
        if (mode == Mode::single_stream) break;
        size_t padding = at;
        while (at < in.size() && in[at] == 0) ++at;
        if ((at - padding) % 4 != 0) return kstd::unexpected(Failure{Error::bad_stream_padding, padding});
    } while (at < in.size());
    r.in_used = at;
    r.out_size = out_pos;
    return r;
}

}  // namespace xz
