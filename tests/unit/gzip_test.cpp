// gzip/DEFLATE decoding (inflate.hpp) of what the host's gzip writes (every level; empty,
// tiny, incompressible, repetitive and large inputs; a stored name), optional header fields
// added by hand (extra field, comment, header CRC16), DEFLATE blocks written bit by bit to
// break one rule at a time, every truncation and bit flip of a small member, and random
// corruption, with buffers of exactly the needed size (ASan, UBSan).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>

#include "crc.hpp"
#include "inflate.hpp"
#include "xz_test_support.hpp"

namespace {

using xz_test::Bytes;
using xz_test::host_gzip;

struct Decoded {
    bool ok;
    inflate::Failure failure;
    inflate::Result result;
    Bytes out;
};

Decoded gunzip(const Bytes& in, size_t capacity, bool raw = false) {
    std::unique_ptr<uint8_t[]> input(new uint8_t[in.size() ? in.size() : 1]);
    std::copy(in.begin(), in.end(), input.get());
    std::unique_ptr<uint8_t[]> output(new uint8_t[capacity ? capacity : 1]);
    auto decoder = std::make_unique<inflate::Decoder>();
    std::span<const uint8_t> i(input.get(), in.size());
    std::span<uint8_t> o(output.get(), capacity);
    auto r = raw ? decoder->decode_deflate(i, o) : decoder->decode_gzip(i, o);
    Decoded d{};
    d.ok = r.has_value();
    if (!d.ok) {
        d.failure = r.error();
        EXPECT_LE(d.failure.offset, in.size());
        return d;
    }
    d.result = *r;
    EXPECT_LE(r->out_size, capacity);
    EXPECT_LE(r->in_used, in.size());
    d.out.assign(output.get(), output.get() + r->out_size);
    return d;
}

std::string describe(const Decoded& d) {
    return d.ok ? "decoded" : std::string(inflate::error_name(d.failure.error)) + " at " + std::to_string(d.failure.offset);
}

void roundtrip(const Bytes& data, const std::string& options) {
    Bytes packed = host_gzip(data, options);
    auto d = gunzip(packed, data.size());
    ASSERT_TRUE(d.ok) << "gzip " << options << ": " << describe(d);
    EXPECT_TRUE(d.out == data) << "gzip " << options;
    EXPECT_EQ(d.result.in_used, packed.size());
}

TEST(Gzip, HostGzipOutputs) {
    roundtrip({}, "-9");
    roundtrip({'k'}, "-6");
    roundtrip(xz_test::random_bytes(200000, 41), "-6");  // stored blocks
    roundtrip(Bytes(3 << 20, 0), "-9");
    roundtrip(xz_test::text_like(100, 42), "-6");  // a fixed-code block
    for (const char* level : {"-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9"})
        roundtrip(xz_test::mixed(300000, 43), level);
    roundtrip(xz_test::mixed(4 << 20, 44), "-6 -N");  // with the file name stored
}

// Sets header flags on a gzip member and inserts the fields they announce.
Bytes with_fields(const Bytes& gz, bool extra, bool comment, bool header_crc) {
    Bytes out(gz.begin(), gz.begin() + 10);
    out[3] = uint8_t(out[3] | (extra ? 0x04 : 0) | (comment ? 0x10 : 0) | (header_crc ? 0x02 : 0));
    size_t at = 10;
    if (extra) out.insert(out.end(), {5, 0, 'K', 'x', 3, 0, 9});
    if (gz[3] & 0x08)  // FNAME present already: keep it
        while (true) {
            out.push_back(gz[at]);
            if (gz[at++] == 0) break;
        }
    if (comment) out.insert(out.end(), {'h', 'i', 0});
    if (header_crc) {
        uint32_t c = crc::crc32(out);
        out.push_back(uint8_t(c));
        out.push_back(uint8_t(c >> 8));
    }
    out.insert(out.end(), gz.begin() + long(at), gz.end());
    return out;
}

TEST(Gzip, OptionalHeaderFields) {
    Bytes data = xz_test::text_like(5000, 45);
    Bytes gz = host_gzip(data, "-N");
    ASSERT_TRUE(gz[3] & 0x08) << "gzip -N stores the name";
    for (int mask = 0; mask < 8; ++mask) {
        Bytes m = with_fields(gz, mask & 1, mask & 2, mask & 4);
        auto d = gunzip(m, data.size());
        ASSERT_TRUE(d.ok) << mask << ": " << describe(d);
        EXPECT_TRUE(d.out == data);
    }
    Bytes bad = with_fields(gz, true, true, true);
    bad[12] ^= 1;  // inside the extra field, covered by the header CRC16
    auto d = gunzip(bad, data.size());
    ASSERT_FALSE(d.ok);
    EXPECT_EQ(d.failure.error, inflate::Error::header_crc);
}

inflate::Error error_of(const Bytes& in, size_t capacity, bool raw = false) {
    auto d = gunzip(in, capacity, raw);
    EXPECT_FALSE(d.ok);
    return d.ok ? inflate::Error::ok : d.failure.error;
}

TEST(Gzip, HeaderAndTrailer) {
    Bytes data = xz_test::text_like(3000, 46);
    Bytes gz = host_gzip(data, "-n");
    Bytes b = gz;
    b[1] = 0x9e;
    EXPECT_EQ(error_of(b, data.size()), inflate::Error::bad_magic);
    b = gz;
    b[2] = 7;
    EXPECT_EQ(error_of(b, data.size()), inflate::Error::unsupported_method);
    b = gz;
    b[3] = 0x20;
    EXPECT_EQ(error_of(b, data.size()), inflate::Error::bad_flags);
    b = gz;
    b[b.size() - 8] ^= 1;
    EXPECT_EQ(error_of(b, data.size()), inflate::Error::crc_mismatch);
    b = gz;
    b[b.size() - 1] ^= 1;
    EXPECT_EQ(error_of(b, data.size()), inflate::Error::size_mismatch);
    EXPECT_EQ(error_of(gz, data.size() - 1), inflate::Error::output_full);
    EXPECT_EQ(error_of({}, 0), inflate::Error::truncated);
    EXPECT_EQ(error_of({0x1f}, 0), inflate::Error::truncated);
}

TEST(Gzip, EveryTruncationAndBitFlip) {
    Bytes data = xz_test::text_like(600, 47);
    for (const char* level : {"-1 -n", "-9 -N"}) {
        Bytes gz = host_gzip(data, level);
        for (size_t n = 0; n < gz.size(); ++n)
            ASSERT_FALSE(gunzip(Bytes(gz.begin(), gz.begin() + long(n)), data.size()).ok) << level << " cut to " << n;
        // A flip either fails or gives the original bytes back: nothing checks the header's
        // time, OS and name or the padding after the last block, and a back-reference whose
        // distance changes to another copy of the same bytes decodes to the same data.
        size_t detected = 0, flips = gz.size() * 8;
        for (size_t bit = 0; bit < flips; ++bit) {
            Bytes b = gz;
            b[bit / 8] ^= uint8_t(1u << (bit % 8));
            auto d = gunzip(b, data.size());
            EXPECT_TRUE(!d.ok || d.out == data) << level << ": flip of bit " << bit << " gives other data";
            detected += !d.ok;
        }
        EXPECT_GT(detected, flips * 9 / 10) << level;
    }
}

TEST(Gzip, RandomCorruptionStaysInBounds) {
    Bytes data = xz_test::mixed(30000, 48);
    Bytes gz = host_gzip(data, "-6 -n");
    std::mt19937 rng(49);
    for (int iter = 0; iter < 3000; ++iter) {
        Bytes b = gz;
        for (unsigned e = 1 + rng() % 6; e > 0; --e) b[10 + rng() % (b.size() - 10)] = uint8_t(rng());
        if (rng() % 4 == 0) b.resize(rng() % b.size());
        gunzip(b, rng() % 3 == 0 ? rng() % data.size() : data.size());
    }
}

// DEFLATE data written bit by bit: fields least significant bit first, Huffman codes most
// significant bit first.
struct BitWriter {
    Bytes out;
    unsigned used = 8;
    void bit(unsigned b) {
        if (used == 8) {
            out.push_back(0);
            used = 0;
        }
        out.back() = uint8_t(out.back() | (b & 1) << used++);
    }
    void field(unsigned v, unsigned n) {
        for (unsigned i = 0; i < n; ++i) bit(v >> i);
    }
    void code(unsigned c, unsigned n) {
        for (unsigned i = n; i-- > 0;) bit(c >> i);
    }
    // A symbol of the fixed literal/length code (RFC 1951, 3.2.6).
    void fixed_literal(unsigned s) {
        if (s < 144) code(0x30 + s, 8);
        else if (s < 256) code(0x190 + s - 144, 9);
        else if (s < 280) code(s - 256, 7);
        else code(0xc0 + s - 280, 8);
    }
};

TEST(Gzip, HandWrittenBlocks) {
    const size_t cap = 64;
    // A fixed block: 'a', 'b', then length 4 at distance 2 ("abab"), end.
    BitWriter w;
    w.field(1, 1);
    w.field(1, 2);
    w.fixed_literal('a');
    w.fixed_literal('b');
    w.fixed_literal(258);  // length 4
    w.code(1, 5);          // distance 2
    w.fixed_literal(256);
    auto d = gunzip(w.out, cap, true);
    ASSERT_TRUE(d.ok) << describe(d);
    EXPECT_EQ(d.out, (Bytes{'a', 'b', 'a', 'b', 'a', 'b'}));

    BitWriter far;  // distance 3 with two bytes written
    far.field(1, 1);
    far.field(1, 2);
    far.fixed_literal('a');
    far.fixed_literal('b');
    far.fixed_literal(257);
    far.code(2, 5);
    far.fixed_literal(256);
    EXPECT_EQ(error_of(far.out, cap, true), inflate::Error::distance_too_far);

    for (unsigned bad : {286u, 287u}) {  // length symbols with codes but no meaning
        BitWriter s;
        s.field(1, 1);
        s.field(1, 2);
        s.fixed_literal('a');
        s.fixed_literal(bad);
        s.code(0, 5);
        s.fixed_literal(256);
        EXPECT_EQ(error_of(s.out, cap, true), inflate::Error::bad_symbol) << bad;
    }
    for (unsigned bad : {30u, 31u}) {
        BitWriter s;
        s.field(1, 1);
        s.field(1, 2);
        s.fixed_literal('a');
        s.fixed_literal(257);
        s.code(bad, 5);
        s.fixed_literal(256);
        EXPECT_EQ(error_of(s.out, cap, true), inflate::Error::bad_symbol) << bad;
    }

    BitWriter type3;
    type3.field(1, 1);
    type3.field(3, 2);
    EXPECT_EQ(error_of(type3.out, cap, true), inflate::Error::bad_block_type);

    // Stored blocks: one good, one whose NLEN is wrong, one longer than the input.
    Bytes stored = {0x01, 3, 0, 0xfc, 0xff, 'x', 'y', 'z'};
    d = gunzip(stored, cap, true);
    ASSERT_TRUE(d.ok) << describe(d);
    EXPECT_EQ(d.out, (Bytes{'x', 'y', 'z'}));
    EXPECT_EQ(error_of({0x01, 3, 0, 0xfc, 0xfe, 'x', 'y', 'z'}, cap, true), inflate::Error::stored_length);
    EXPECT_EQ(error_of({0x01, 4, 0, 0xfb, 0xff, 'x', 'y', 'z'}, cap, true), inflate::Error::truncated);
    EXPECT_EQ(error_of({0x01, 3, 0, 0xfc, 0xff, 'x', 'y', 'z'}, 2, true), inflate::Error::output_full);
    // A non-final block with nothing after it.
    EXPECT_EQ(error_of({0x00, 0, 0, 0xff, 0xff}, cap, true), inflate::Error::truncated);
}

// The head of a dynamic block: HLIT, HDIST, HCLEN and the code-length code's lengths, given
// in the RFC's order.
BitWriter dynamic_head(unsigned hlit, unsigned hdist, const std::vector<unsigned>& clen_lengths) {
    BitWriter w;
    w.field(1, 1);
    w.field(2, 2);
    w.field(hlit - 257, 5);
    w.field(hdist - 1, 5);
    w.field(unsigned(clen_lengths.size()) - 4, 4);
    for (unsigned l : clen_lengths) w.field(l, 3);
    return w;
}

TEST(Gzip, DynamicCodeDescriptions) {
    const size_t cap = 64;
    // Code-length code: over-subscribed (three codes of one bit), and incomplete (one code of
    // two bits), both refused.
    EXPECT_EQ(error_of(dynamic_head(257, 1, {1, 1, 1, 0}).out, cap, true), inflate::Error::bad_code_lengths);
    EXPECT_EQ(error_of(dynamic_head(257, 1, {2, 0, 0, 0}).out, cap, true), inflate::Error::bad_code_lengths);
    // Too many literal/length or distance codes.
    EXPECT_EQ(error_of(dynamic_head(287, 1, {1, 1, 0, 0}).out, cap, true), inflate::Error::bad_code_lengths);
    EXPECT_EQ(error_of(dynamic_head(257, 31, {1, 1, 0, 0}).out, cap, true), inflate::Error::bad_code_lengths);
    // A repeat (symbol 16) before any length. Code-length code: 16 and 17 of one bit each
    // (order 16, 17, 18, 0): code 0 is 16, code 1 is 17.
    BitWriter w = dynamic_head(257, 1, {1, 1, 0, 0});
    w.code(0, 1);
    EXPECT_EQ(error_of(w.out, cap, true), inflate::Error::bad_code_lengths);
    // Zeros past the number of codes: 17 repeats 3..10 zeros, 258 codes in all.
    w = dynamic_head(257, 1, {1, 1, 0, 0});
    for (int i = 0; i < 33; ++i) {
        w.code(1, 1);
        w.field(7, 3);  // ten zeros
    }
    EXPECT_EQ(error_of(w.out, cap, true), inflate::Error::bad_code_lengths);
    // All 258 lengths zero: no end-of-block code. Code-length code 0 and 18 of one bit each
    // (order 16, 17, 18, 0): by symbol value, 0 is code 0 and 18 is code 1.
    w = dynamic_head(257, 1, {0, 0, 1, 1});
    w.code(1, 1);
    w.field(127, 7);  // 138 zeros
    w.code(1, 1);
    w.field(109, 7);  // 120 zeros
    EXPECT_EQ(error_of(w.out, cap, true), inflate::Error::no_end_of_block_code);
}

}  // namespace
