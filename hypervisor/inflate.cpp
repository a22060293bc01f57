// DEFLATE blocks and the gzip member around them. Facts from RFC 1951: bits are taken from
// each byte least significant first; Huffman codes are canonical (for each length, codes are
// consecutive in symbol order, shorter codes first) and are sent most significant bit first;
// a block starts with BFINAL (1 bit) and BTYPE (2 bits). The tables below are the RFC's.
#include "inflate.hpp"

#include "crc.hpp"
#include "kstd/string.hpp"

namespace inflate {

namespace {

// Length symbols 257..285 and distance symbols 0..29: the first value of each, and how many
// extra bits follow the symbol.
constexpr uint16_t LENGTH_BASE[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr uint8_t LENGTH_EXTRA[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
constexpr uint16_t DIST_BASE[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                    33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
constexpr uint8_t DIST_EXTRA[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                    6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
// The order in which a dynamic block gives the code-length code's lengths.
constexpr uint8_t CODE_LENGTH_ORDER[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

constexpr unsigned END_OF_BLOCK = 256;
constexpr unsigned LENGTH_SYMBOLS = 29;   // 257..285
constexpr unsigned DISTANCE_SYMBOLS = 30;
constexpr unsigned MAX_LITERAL_CODES = 286;
constexpr uint16_t NO_SYMBOL = 0xffff;

constexpr uint8_t GZIP_ID1 = 0x1f, GZIP_ID2 = 0x8b, GZIP_DEFLATE = 8;
constexpr uint8_t FHCRC = 0x02, FEXTRA = 0x04, FNAME = 0x08, FCOMMENT = 0x10, FRESERVED = 0xe0;
constexpr size_t GZIP_HEADER = 10, GZIP_TRAILER = 8;

using Huffman = Decoder::Huffman;

// Bits of the input, least significant first, through a 64-bit buffer. Past the end it
// supplies zeros and records that it did.
class BitReader {
public:
    BitReader(std::span<const uint8_t> in, size_t at) : in_(in), next_(at) {}

    uint32_t peek(unsigned n) {
        while (count_ <= 56 && next_ < in_.size()) {
            buf_ |= uint64_t(in_[next_++]) << count_;
            count_ += 8;
        }
        return uint32_t(buf_ & ((uint64_t{1} << n) - 1));
    }
    void consume(unsigned n) {
        if (n > count_) {
            overrun_ = true;
            buf_ = 0;
            count_ = 0;
            return;
        }
        buf_ >>= n;
        count_ -= n;
    }
    uint32_t bits(unsigned n) {
        uint32_t v = peek(n);
        consume(n);
        return v;
    }
    // Drops the bits left of the current byte and gives back the whole bytes still buffered:
    // afterwards position() is the next unread byte.
    void to_byte_boundary() {
        consume(count_ % 8);
        next_ -= count_ / 8;
        buf_ = 0;
        count_ = 0;
    }
    size_t position() const { return next_ - count_ / 8; }
    size_t bytes_left() const { return in_.size() - next_; }
    // After to_byte_boundary(): copies the next n bytes (the caller has checked they exist).
    void take(uint8_t* dst, size_t n) {
        memcpy(dst, in_.data() + next_, n);
        next_ += n;
    }
    bool overrun() const { return overrun_; }

private:
    std::span<const uint8_t> in_;
    size_t next_;
    uint64_t buf_ = 0;
    unsigned count_ = 0;
    bool overrun_ = false;
};

unsigned reverse_bits(unsigned code, unsigned len) {
    unsigned r = 0;
    for (unsigned i = 0; i < len; ++i) r |= ((code >> i) & 1) << (len - 1 - i);
    return r;
}

// Builds the canonical code for n symbols with the given lengths (0: unused). Refuses an
// over-subscribed code, and an incomplete one unless `partial` and it has at most one code
// (of one bit): RFC 1951 allows a lone distance code, and a block with no distances at all.
Error build(Huffman& h, const uint8_t* lengths, unsigned n, bool partial) {
    for (auto& c : h.count) c = 0;
    for (unsigned s = 0; s < n; ++s) ++h.count[lengths[s]];
    h.count[0] = 0;
    int left = 1;
    unsigned used = 0;
    for (unsigned len = 1; len <= Decoder::MAX_BITS; ++len) {
        left = (left << 1) - h.count[len];
        if (left < 0) return Error::bad_code_lengths;
        used += h.count[len];
    }
    if (left > 0 && !(partial && used <= 1)) return Error::bad_code_lengths;
    uint16_t offset[Decoder::MAX_BITS + 2] = {};
    for (unsigned len = 1; len <= Decoder::MAX_BITS; ++len) offset[len + 1] = uint16_t(offset[len] + h.count[len]);
    for (unsigned s = 0; s < n; ++s)
        if (lengths[s]) h.symbol[offset[lengths[s]]++] = uint16_t(s);
    // The fast table: each code of at most FAST_BITS bits, as it arrives (reversed), fills
    // every slot whose low bits it is.
    for (auto& e : h.fast) e = 0;
    unsigned code = 0, len = 1, index = 0;
    for (; len <= Decoder::FAST_BITS; ++len, code <<= 1) {
        for (unsigned k = 0; k < h.count[len]; ++k, ++code, ++index) {
            uint16_t entry = uint16_t(len << 9 | h.symbol[index]);
            for (unsigned slot = reverse_bits(code, len); slot < (1u << Decoder::FAST_BITS); slot += 1u << len)
                h.fast[slot] = entry;
        }
    }
    return Error::ok;
}

// The next symbol of code h, or NO_SYMBOL for a bit pattern the code does not use.
uint16_t decode_symbol(BitReader& br, const Huffman& h) {
    uint32_t bits = br.peek(Decoder::MAX_BITS);
    uint16_t e = h.fast[bits & ((1u << Decoder::FAST_BITS) - 1)];
    if (e != 0) {
        br.consume(e >> 9);
        return e & 0x1ff;
    }
    // Longer codes: walk the lengths, comparing the code read so far with the first code of
    // each length.
    unsigned code = 0, first = 0, index = 0;
    for (unsigned len = 1; len <= Decoder::MAX_BITS; ++len) {
        code |= (bits >> (len - 1)) & 1;
        unsigned count = h.count[len];
        if (code - first < count) {
            br.consume(len);
            return h.symbol[index + (code - first)];
        }
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return NO_SYMBOL;
}

}  // namespace

// One DEFLATE stream's decoding: the input bits, the output, and the decoder's tables.
struct Decoder::Blocks {
    Decoder& d;
    BitReader br;
    std::span<uint8_t> out;
    size_t pos = 0;

    Error stored() {
        br.to_byte_boundary();
        if (br.bytes_left() < 4) return Error::truncated;
        unsigned len = br.bits(16), nlen = br.bits(16);
        if (len != (~nlen & 0xffff)) return Error::stored_length;
        br.to_byte_boundary();
        if (br.bytes_left() < len) return Error::truncated;
        if (len > out.size() - pos) return Error::output_full;
        br.take(out.data() + pos, len);
        pos += len;
        return Error::ok;
    }

    Error fixed_codes() {
        uint8_t lengths[288 + 32];
        for (unsigned s = 0; s < 288; ++s) lengths[s] = s < 144 ? 8 : s < 256 ? 9 : s < 280 ? 7 : 8;
        for (unsigned s = 288; s < 288 + 32; ++s) lengths[s] = 5;
        // Symbols 286, 287 and distances 30, 31 have codes but are invalid when decoded.
        if (Error e = build(d.literal_, lengths, 288, false); e != Error::ok) return e;
        return build(d.distance_, lengths + 288, 32, false);
    }

    // Reads the code lengths of a dynamic block into lengths[0, n).
    Error code_lengths(uint8_t* lengths, unsigned n) {
        for (unsigned i = 0; i < n;) {
            uint16_t sym = decode_symbol(br, d.lengths_);
            if (sym == NO_SYMBOL || br.overrun()) return br.overrun() ? Error::truncated : Error::bad_code_lengths;
            if (sym < 16) {
                lengths[i++] = uint8_t(sym);
                continue;
            }
            uint8_t value = 0;
            unsigned repeat;
            if (sym == 16) {
                if (i == 0) return Error::bad_code_lengths;
                value = lengths[i - 1];
                repeat = 3 + br.bits(2);
            } else if (sym == 17) {
                repeat = 3 + br.bits(3);
            } else {
                repeat = 11 + br.bits(7);
            }
            if (repeat > n - i) return Error::bad_code_lengths;
            for (unsigned k = 0; k < repeat; ++k) lengths[i++] = value;
        }
        return Error::ok;
    }

    Error dynamic_codes() {
        unsigned hlit = br.bits(5) + 257, hdist = br.bits(5) + 1, hclen = br.bits(4) + 4;
        if (hlit > MAX_LITERAL_CODES || hdist > DISTANCE_SYMBOLS) return Error::bad_code_lengths;
        uint8_t lengths[MAX_LITERAL_CODES + DISTANCE_SYMBOLS] = {};
        for (unsigned i = 0; i < hclen; ++i) lengths[CODE_LENGTH_ORDER[i]] = uint8_t(br.bits(3));
        if (br.overrun()) return Error::truncated;
        if (Error e = build(d.lengths_, lengths, 19, false); e != Error::ok) return e;
        for (auto& l : lengths) l = 0;
        if (Error e = code_lengths(lengths, hlit + hdist); e != Error::ok) return e;
        if (lengths[END_OF_BLOCK] == 0) return Error::no_end_of_block_code;
        if (Error e = build(d.literal_, lengths, hlit, true); e != Error::ok) return e;
        return build(d.distance_, lengths + hlit, hdist, true);
    }

    Error copy(unsigned len, unsigned dist) {
        if (dist > pos) return Error::distance_too_far;
        if (len > out.size() - pos) return Error::output_full;
        uint8_t* dst = out.data() + pos;
        const uint8_t* src = dst - dist;
        for (unsigned i = 0; i < len; ++i) dst[i] = src[i];
        pos += len;
        return Error::ok;
    }

    // Literals and back-references up to the end-of-block symbol.
    Error codes() {
        for (;;) {
            uint16_t sym = decode_symbol(br, d.literal_);
            if (br.overrun()) return Error::truncated;
            if (sym == NO_SYMBOL) return Error::bad_symbol;
            if (sym < END_OF_BLOCK) {
                if (pos == out.size()) return Error::output_full;
                out[pos++] = uint8_t(sym);
                continue;
            }
            if (sym == END_OF_BLOCK) return Error::ok;
            unsigned l = sym - END_OF_BLOCK - 1;
            if (l >= LENGTH_SYMBOLS) return Error::bad_symbol;
            unsigned len = LENGTH_BASE[l] + br.bits(LENGTH_EXTRA[l]);
            uint16_t ds = decode_symbol(br, d.distance_);
            if (ds == NO_SYMBOL || ds >= DISTANCE_SYMBOLS) return Error::bad_symbol;
            unsigned dist = DIST_BASE[ds] + br.bits(DIST_EXTRA[ds]);
            if (br.overrun()) return Error::truncated;
            if (Error e = copy(len, dist); e != Error::ok) return e;
        }
    }

    Error run() {
        for (bool last = false; !last;) {
            last = br.bits(1) != 0;
            unsigned type = br.bits(2);
            Error e = Error::ok;
            if (type == 0)
                e = stored();
            else if (type == 1)
                e = fixed_codes();
            else if (type == 2)
                e = dynamic_codes();
            else
                e = Error::bad_block_type;
            if (e == Error::ok && type != 0) e = codes();
            if (e == Error::ok && br.overrun()) e = Error::truncated;
            if (e != Error::ok) return e;
        }
        br.to_byte_boundary();
        return Error::ok;
    }
};

const char* error_name(Error e) {
    switch (e) {
    case Error::ok: return "no error";
    case Error::truncated: return "input ends early";
    case Error::bad_magic: return "not gzip data (bad magic)";
    case Error::unsupported_method: return "gzip compression method is not deflate";
    case Error::bad_flags: return "reserved gzip flags set";
    case Error::header_crc: return "gzip header CRC16 mismatch";
    case Error::bad_block_type: return "invalid deflate block type";
    case Error::stored_length: return "stored block length and its complement differ";
    case Error::bad_code_lengths: return "invalid Huffman code lengths";
    case Error::no_end_of_block_code: return "Huffman code without an end-of-block symbol";
    case Error::bad_symbol: return "invalid length or distance symbol";
    case Error::distance_too_far: return "back-reference before the start of the data";
    case Error::output_full: return "decoded data larger than the output buffer";
    case Error::crc_mismatch: return "CRC32 of the decoded data fails";
    case Error::size_mismatch: return "size of the decoded data differs from the trailer's";
    }
    return "unknown error";
}

kstd::Expected<Result, Failure> Decoder::decode_deflate(std::span<const uint8_t> in, std::span<uint8_t> out) {
    Blocks b{*this, BitReader(in, 0), out, 0};
    if (Error e = b.run(); e != Error::ok) return kstd::unexpected(Failure{e, b.br.position()});
    return Result{b.br.position(), b.pos};
}

namespace {

uint32_t load_le32(const uint8_t* p) {
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

// Skips a zero-terminated field starting at `at`; false if the input ends first.
bool skip_string(std::span<const uint8_t> in, size_t& at) {
    while (at < in.size())
        if (in[at++] == 0) return true;
    return false;
}

// Parses the gzip header; `at` ends on the first byte of the DEFLATE data.
Error gzip_header(std::span<const uint8_t> in, size_t& at) {
    const uint8_t magic[2] = {GZIP_ID1, GZIP_ID2};
    size_t n = in.size() < 2 ? in.size() : 2;
    if (memcmp(in.data(), magic, n) != 0) return Error::bad_magic;
    if (in.size() < GZIP_HEADER) return Error::truncated;
    at = 2;
    if (in[2] != GZIP_DEFLATE) return Error::unsupported_method;
    uint8_t flags = in[3];
    at = 3;
    if (flags & FRESERVED) return Error::bad_flags;
    at = GZIP_HEADER;
    if (flags & FEXTRA) {
        if (in.size() - at < 2) return Error::truncated;
        size_t xlen = size_t(in[at]) | size_t(in[at + 1]) << 8;
        at += 2;
        if (in.size() - at < xlen) return Error::truncated;
        at += xlen;
    }
    if ((flags & FNAME) && !skip_string(in, at)) return Error::truncated;
    if ((flags & FCOMMENT) && !skip_string(in, at)) return Error::truncated;
    if (flags & FHCRC) {
        if (in.size() - at < 2) return Error::truncated;
        unsigned stored = unsigned(in[at]) | unsigned(in[at + 1]) << 8;
        if ((crc::crc32(in.first(at)) & 0xffff) != stored) return Error::header_crc;
        at += 2;
    }
    return Error::ok;
}

}  // namespace

kstd::Expected<Result, Failure> Decoder::decode_gzip(std::span<const uint8_t> in, std::span<uint8_t> out) {
    size_t at = 0;
    if (Error e = gzip_header(in, at); e != Error::ok) return kstd::unexpected(Failure{e, at});
    Blocks b{*this, BitReader(in, at), out, 0};
    if (Error e = b.run(); e != Error::ok) return kstd::unexpected(Failure{e, b.br.position()});
    at = b.br.position();
    if (in.size() - at < GZIP_TRAILER) return kstd::unexpected(Failure{Error::truncated, at});
    if (crc::crc32(out.first(b.pos)) != load_le32(in.data() + at))
        return kstd::unexpected(Failure{Error::crc_mismatch, at});
    if (uint32_t(b.pos) != load_le32(in.data() + at + 4))
        return kstd::unexpected(Failure{Error::size_mismatch, at + 4});
    return Result{at + GZIP_TRAILER, b.pos};
}

}  // namespace inflate
