// Malformed XZ input: every truncation of small streams, every single-bit flip (each one is
// detected when the stream has a check), random corruption (only bounds are asserted there:
// the sanitizers report any access outside the buffers), hand-built streams breaking one rule
// of the container or of LZMA2 at a time, and filters and checks Kestrel refuses by name.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "xz_test_support.hpp"

namespace {

using xz_test::Bytes;
using xz_test::decode;
using xz_test::describe;
using xz_test::host_xz;
using xz_test::StreamBuilder;

Bytes raw_lzma2(const Bytes& data, const std::string& options) { return host_xz(data, "--format=raw " + options); }

xz::Error error_of(const Bytes& file, size_t capacity) {
    auto d = decode(file, capacity);
    EXPECT_FALSE(d.ok) << "decoded although malformed";
    return d.ok ? xz::Error::ok : d.failure.error;
}

std::vector<std::pair<std::string, Bytes>> small_streams(Bytes& data) {
    data = xz_test::text_like(400, 21);
    return {{"crc64", host_xz(data, "")},
            {"crc32 x86", host_xz(data, "--check=crc32 --x86 --lzma2")},
            {"two blocks", host_xz(data, "--check=crc32 --block-size=200")}};
}

TEST(XzMalformed, EveryTruncationFails) {
    Bytes data;
    for (auto& [name, file] : small_streams(data)) {
        ASSERT_FALSE(file.empty());
        for (size_t n = 0; n < file.size(); ++n) {
            Bytes cut(file.begin(), file.begin() + long(n));
            for (xz::Mode mode : {xz::Mode::file, xz::Mode::single_stream}) {
                auto d = decode(cut, data.size(), mode);
                ASSERT_FALSE(d.ok) << name << " cut to " << n << " bytes";
            }
        }
    }
}

TEST(XzMalformed, EverySingleBitFlipIsDetectedWithACheck) {
    Bytes data;
    for (auto& [name, file] : small_streams(data)) {
        for (size_t bit = 0; bit < file.size() * 8; ++bit) {
            Bytes bad = file;
            bad[bit / 8] ^= uint8_t(1u << (bit % 8));
            auto d = decode(bad, data.size());
            ASSERT_FALSE(d.ok && d.out == data) << name << ": flip of bit " << bit << " gives the original";
            EXPECT_FALSE(d.ok) << name << ": flip of bit " << bit << " undetected";
        }
    }
}

TEST(XzMalformed, BitFlipsWithoutACheckStayInBoundsAndHitTheLzmaChecks) {
    Bytes data = xz_test::text_like(3000, 22);
    Bytes file = host_xz(data, "--check=none");
    std::set<xz::Error> seen;
    for (size_t bit = 0; bit < file.size() * 8; ++bit) {
        Bytes bad = file;
        bad[bit / 8] ^= uint8_t(1u << (bit % 8));
        auto d = decode(bad, data.size());
        if (d.ok) {
            EXPECT_LE(d.result.out_size, data.size());
        } else {
            seen.insert(d.failure.error);
            EXPECT_LE(d.failure.offset, bad.size());
        }
    }
    // The range-coded data's own consistency checks fire.
    EXPECT_TRUE(seen.count(xz::Error::lzma_bad_distance));
    EXPECT_TRUE(seen.count(xz::Error::lzma_chunk_size));
}

TEST(XzMalformed, RandomCorruptionStaysInBounds) {
    Bytes data = xz_test::mixed(20000, 23);
    std::vector<Bytes> files = {host_xz(data, "--check=none"), host_xz(data, "--check=crc32 --x86 --lzma2"),
                                host_xz(data, "--block-size=3000 -0")};
    std::mt19937 rng(24);
    for (int iter = 0; iter < 4000; ++iter) {
        Bytes bad = files[size_t(iter) % files.size()];
        unsigned edits = 1 + rng() % 8;
        for (unsigned e = 0; e < edits; ++e) bad[rng() % bad.size()] = uint8_t(rng());
        if (rng() % 4 == 0) bad.resize(rng() % bad.size());
        size_t capacity = rng() % 3 == 0 ? rng() % data.size() : data.size();
        auto d = decode(bad, capacity, rng() % 2 ? xz::Mode::file : xz::Mode::single_stream);
        if (d.ok) {
            EXPECT_LE(d.result.out_size, capacity);
        }
    }
}

TEST(XzMalformed, UnsupportedFiltersAreNamed) {
    Bytes data = xz_test::x86_like(5000, 25);
    for (const char* f : {"--delta=dist=4 --lzma2", "--arm --lzma2", "--armthumb --lzma2", "--powerpc --lzma2",
                          "--ia64 --lzma2", "--sparc --lzma2", "--arm64 --lzma2", "--delta --x86 --lzma2"}) {
        Bytes file = host_xz(data, f);
        auto d = decode(file, data.size());
        ASSERT_FALSE(d.ok) << f;
        EXPECT_EQ(d.failure.error, xz::Error::unsupported_filter) << f << ": " << describe(d);
        EXPECT_EQ(d.failure.offset, 12u + 2) << f << ": the first filter's flags in the first block header";
    }
}

TEST(XzMalformed, OtherFormatsAreNotXz) {
    Bytes data = xz_test::text_like(5000, 26);
    EXPECT_EQ(error_of(host_xz(data, "--format=lzma"), data.size()), xz::Error::bad_magic);
    EXPECT_EQ(error_of(host_xz(data, "--format=raw"), data.size()), xz::Error::bad_magic);
    EXPECT_EQ(error_of({}, 0), xz::Error::truncated);
    EXPECT_EQ(error_of(Bytes(16, 0), 0), xz::Error::bad_magic);
    EXPECT_EQ(error_of({0xfd, '7', 'z'}, 0), xz::Error::truncated);
}

// A valid hand-built stream around host-made raw LZMA2 data, for the variants below.
struct Fixture {
    Bytes data = xz_test::x86_like(20001, 27);
    Bytes lzma2 = raw_lzma2(data, "--lzma2=dict=64KiB");
    StreamBuilder valid() const {
        StreamBuilder sb;
        sb.add(lzma2, data);
        return sb;
    }
};

TEST(XzMalformed, StreamHeaderAndFooter) {
    Fixture f;
    ASSERT_TRUE(decode(f.valid().build(), f.data.size()).ok);
    StreamBuilder sb = f.valid();
    sb.stream_flags0 = 1;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_stream_flags);
    for (uint8_t check : {0x02, 0x03, 0x05, 0x0a, 0x0f}) {
        sb = f.valid();
        sb.check = check;
        EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::unsupported_check) << int(check);
    }
    sb = f.valid();
    sb.check = 0x11;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_stream_flags);
    Bytes file = f.valid().build();
    file[8] ^= 1;
    EXPECT_EQ(error_of(file, f.data.size()), xz::Error::stream_header_crc);

    sb = f.valid();
    sb.backward_size_delta = 1;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_footer);
    sb = f.valid();
    sb.footer_check = 0x04;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_footer);
    file = f.valid().build();
    file[file.size() - 1] = 'X';
    EXPECT_EQ(error_of(file, f.data.size()), xz::Error::bad_footer);
    file = f.valid().build();
    file[file.size() - 12] ^= 0x80;
    EXPECT_EQ(error_of(file, f.data.size()), xz::Error::footer_crc);
}

TEST(XzMalformed, BlockHeaders) {
    Fixture f;
    StreamBuilder sb = f.valid();
    sb.blocks[0].extra_flags = 0x04;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_block_header);
    sb = f.valid();
    sb.blocks[0].extra_header_padding = 1;
    ASSERT_TRUE(decode(sb.build(), f.data.size()).ok) << "longer zero padding is fine";
    sb.blocks[0].header_padding_byte = 0x20;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_block_header);
    sb = f.valid();
    sb.blocks[0].filter_count = 2;  // says two filters, lists LZMA2 first
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_filter_chain);
    Bytes file = f.valid().build();
    file[12 + 2] ^= 0x01;  // the filter ID, under the header's CRC32
    EXPECT_EQ(error_of(file, f.data.size()), xz::Error::block_header_crc);
}

TEST(XzMalformed, DeclaredBlockSizes) {
    Fixture f;
    StreamBuilder sb = f.valid();
    sb.blocks[0].declare_compressed = sb.blocks[0].declare_uncompressed = true;
    ASSERT_TRUE(decode(sb.build(), f.data.size()).ok);
    for (int64_t delta : {-1, 1, 4}) {
        StreamBuilder c = sb;
        c.blocks[0].compressed_delta = delta;
        EXPECT_NE(error_of(c.build(), f.data.size()), xz::Error::ok) << delta;
        StreamBuilder u = sb;
        u.blocks[0].uncompressed_delta = delta;
        EXPECT_EQ(error_of(u.build(), f.data.size() + 8), xz::Error::block_size_mismatch) << delta;
    }
    StreamBuilder c = sb;
    c.blocks[0].compressed_delta = 4;
    EXPECT_EQ(error_of(c.build(), f.data.size()), xz::Error::block_size_mismatch);
    c.blocks[0].compressed_delta = -int64_t(f.lzma2.size());
    EXPECT_EQ(error_of(c.build(), f.data.size()), xz::Error::bad_block_header) << "a compressed size of zero";
    c.blocks[0].compressed_delta = 1000000;
    EXPECT_EQ(error_of(c.build(), f.data.size()), xz::Error::truncated);
}

TEST(XzMalformed, FilterChains) {
    Fixture f;
    auto with_filters = [&](Bytes filters, uint8_t count) {
        StreamBuilder sb = f.valid();
        sb.blocks[0].filters = filters;
        sb.blocks[0].filter_count = count;
        auto d = decode(sb.build(), f.data.size());
        return d.ok ? xz::Error::ok : d.failure.error;
    };
    const Bytes lzma2 = {0x21, 0x01, 16};  // 1 MiB dictionary
    auto chain = [&](Bytes first) {
        first.insert(first.end(), lzma2.begin(), lzma2.end());
        return first;
    };
    EXPECT_EQ(with_filters(lzma2, 1), xz::Error::ok);
    EXPECT_EQ(with_filters({0x21, 0x01, 41}, 1), xz::Error::bad_filter_properties);
    EXPECT_EQ(with_filters({0x21, 0x02, 16, 0}, 1), xz::Error::bad_filter_properties);
    EXPECT_EQ(with_filters({0xa1, 0x00, 0x01, 16}, 1), xz::Error::bad_vli) << "ID 0x21 in two bytes";
    EXPECT_EQ(with_filters(chain({0x03, 0x01, 0x00}), 2), xz::Error::unsupported_filter) << "delta";
    EXPECT_EQ(with_filters(chain({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x00}), 2),
              xz::Error::unsupported_filter)
        << "a custom filter ID";
    EXPECT_EQ(with_filters(chain({0x04, 0x02, 0, 0}), 2), xz::Error::bad_filter_properties);
    EXPECT_EQ(with_filters({0x21, 0x01, 16, 0x04, 0x00}, 2), xz::Error::bad_filter_chain) << "LZMA2 first";
    EXPECT_EQ(with_filters({0x04, 0x00}, 1), xz::Error::bad_filter_chain) << "x86 alone";
    EXPECT_EQ(with_filters(chain({0x04, 0x00, 0x04, 0x00}), 3), xz::Error::bad_filter_chain) << "two x86 filters";
    // x86 in front of LZMA2 data that was not filtered decodes, with (wrong) converted bytes:
    // only the check can tell, and does.
    EXPECT_EQ(with_filters(chain({0x04, 0x04, 0x10, 0, 0, 0}), 2), xz::Error::check_mismatch);
}

TEST(XzMalformed, ChecksPaddingAndIndex) {
    Fixture f;
    StreamBuilder sb = f.valid();
    sb.blocks[0].uncompressed[5] ^= 1;  // the check is computed over other bytes
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::check_mismatch);
    sb = f.valid();
    sb.check = 0x04;
    sb.blocks[0].uncompressed[5] ^= 1;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::check_mismatch);
    ASSERT_NE(f.lzma2.size() % 4, 0u) << "the fixture needs block padding";
    sb = f.valid();
    sb.blocks[0].padding_byte = 1;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_block_padding);
    sb = f.valid();
    sb.record_count_delta = 1;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_index);
    sb = f.valid();
    sb.unpadded_delta = 4;
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_index);
    sb = f.valid();
    sb.unpadded_delta = -int64_t(f.lzma2.size()) - 12 - 4 + 3;  // below the minimum of 5
    EXPECT_EQ(error_of(sb.build(), f.data.size()), xz::Error::bad_index);
    Bytes file = f.valid().build();
    file[file.size() - 12 - 1] ^= 1;  // the index CRC32
    EXPECT_EQ(error_of(file, f.data.size()), xz::Error::index_crc);
}

// One LZMA2 stream in a block with a valid container around it.
xz::Error lzma2_error(const Bytes& lzma2, const Bytes& uncompressed, size_t capacity, uint8_t dict = 22) {
    StreamBuilder sb;
    sb.add(lzma2, uncompressed);
    sb.blocks[0].filters = {0x21, 0x01, dict};
    auto d = decode(sb.build(), capacity);
    return d.ok ? xz::Error::ok : d.failure.error;
}

Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

TEST(XzMalformed, Lzma2ControlRules) {
    Bytes abc = {'a', 'b', 'c'};
    Bytes stored_reset = {0x01, 0x00, 0x02, 'a', 'b', 'c'};
    EXPECT_EQ(lzma2_error(cat({stored_reset, {0x00}}), abc, 3), xz::Error::ok);
    EXPECT_EQ(lzma2_error({0x02, 0x00, 0x02, 'a', 'b', 'c', 0x00}, abc, 3), xz::Error::lzma2_missing_dict_reset);
    EXPECT_EQ(lzma2_error({0xa0, 0x00, 0x02, 0x00, 0x04, 0, 0, 0, 0, 0, 0x00}, abc, 3), xz::Error::lzma2_missing_dict_reset);
    for (uint8_t c : {0x03, 0x10, 0x7f}) {
        EXPECT_EQ(lzma2_error({c, 0x00}, {}, 3), xz::Error::bad_lzma2_control) << int(c);
        EXPECT_EQ(lzma2_error(cat({stored_reset, {c, 0x00}}), abc, 3), xz::Error::bad_lzma2_control) << int(c);
    }
    // An LZMA chunk after a dictionary reset must bring properties.
    EXPECT_EQ(lzma2_error(cat({stored_reset, {0xa0, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0, 0x00}}), abc, 4),
              xz::Error::lzma2_missing_properties);
    EXPECT_EQ(lzma2_error(cat({stored_reset, {0x80, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 0, 0, 0x00}}), abc, 4),
              xz::Error::lzma2_missing_properties);
    // Properties out of range: past pb = 4, and lc + lp > 4.
    for (uint8_t props : {225, 255, 13, 37}) {  // pb 5; pb 5; lc 4 lp 1; lc 1 lp 4
        EXPECT_EQ(lzma2_error({0xe0, 0x00, 0x00, 0x00, 0x04, props, 0, 0, 0, 0, 0, 0x00}, {}, 4),
                  xz::Error::bad_lzma_properties)
            << int(props);
    }
    // Range coder: a non-zero first byte; fewer than its five initial bytes.
    EXPECT_EQ(lzma2_error({0xe0, 0x00, 0x00, 0x00, 0x04, 0x5d, 1, 0, 0, 0, 0, 0x00}, {}, 4), xz::Error::lzma_bad_first_byte);
    EXPECT_EQ(lzma2_error({0xe0, 0x00, 0x00, 0x00, 0x03, 0x5d, 0, 0, 0, 0, 0x00}, {}, 4), xz::Error::lzma_chunk_size);
    // Stored and LZMA chunks that do not fit the output; LZMA2 data with no end byte.
    EXPECT_EQ(lzma2_error(cat({stored_reset, {0x00}}), abc, 2), xz::Error::output_full);
    EXPECT_EQ(lzma2_error({0xe0, 0x00, 0x10, 0x00, 0x04, 0x5d, 0, 0, 0, 0, 0, 0x00}, {}, 16), xz::Error::output_full);
    StreamBuilder sb;
    sb.add(stored_reset, abc);
    sb.blocks[0].declare_compressed = true;
    EXPECT_EQ(error_of(sb.build(), 3), xz::Error::truncated) << "no end byte within the declared size";
}

TEST(XzMalformed, LzmaDistancesBeyondTheDictionary) {
    // Data repeating every 10000 bytes, coded with a 64 KiB dictionary, is refused when the
    // filter declares 4 KiB: its matches reach further back than that.
    Bytes unit = xz_test::random_bytes(10000, 28);
    Bytes data;
    for (int i = 0; i < 5; ++i) data.insert(data.end(), unit.begin(), unit.end());
    Bytes lzma2 = raw_lzma2(data, "--lzma2=dict=64KiB");
    EXPECT_EQ(lzma2_error(lzma2, data, data.size(), 12), xz::Error::ok) << "64 KiB";
    EXPECT_EQ(lzma2_error(lzma2, data, data.size(), 0), xz::Error::lzma_bad_distance) << "4 KiB";
}

TEST(XzMalformed, LzmaEndMarkerAndChunkEnds) {
    // The .lzma format's data ends with an end marker when its size was unknown (stdin);
    // LZMA2 forbids one. Its range-coded data follows a 13-byte header.
    Bytes data = xz_test::text_like(3000, 29);
    Bytes alone = host_xz(data, "--format=lzma --lzma1=preset=6,lc=3,lp=0,pb=2");
    ASSERT_GT(alone.size(), 13u);
    Bytes coded(alone.begin() + 13, alone.end());
    auto chunk = [&](size_t unpacked) {
        Bytes c = {uint8_t(0xe0 | ((unpacked - 1) >> 16)), uint8_t((unpacked - 1) >> 8), uint8_t(unpacked - 1),
                   uint8_t((coded.size() - 1) >> 8), uint8_t(coded.size() - 1), 0x5d};
        c.insert(c.end(), coded.begin(), coded.end());
        c.push_back(0x00);
        return c;
    };
    EXPECT_EQ(lzma2_error(chunk(data.size() + 10), data, data.size() + 10), xz::Error::lzma_end_marker);
    // Stopping at the data's end leaves the marker's bits unread.
    EXPECT_EQ(lzma2_error(chunk(data.size()), data, data.size()), xz::Error::lzma_chunk_size);
}

}  // namespace
