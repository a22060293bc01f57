// XZ decoding of what the host's xz writes: empty, tiny, incompressible, repetitive and large
// inputs; several blocks; every check type Kestrel verifies; presets -0..-9 and -9e; LZMA
// properties at their limits; the x86 BCJ filter (Linux's kernels use it); concatenated
// streams with stream padding; and the single-stream mode that bzImages need. Each result is
// compared with the original bytes, with buffers of exactly the needed size (ASan, UBSan).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "bcj_x86.hpp"
#include "crc.hpp"
#include "xz_test_support.hpp"

namespace {

using xz_test::Bytes;
using xz_test::decode;
using xz_test::describe;
using xz_test::host_xz;

// Compresses with the host's xz and checks the decoder gives the data back, consuming all of it.
xz_test::Decoded roundtrip(const Bytes& data, const std::string& options) {
    Bytes packed = host_xz(data, options);
    EXPECT_FALSE(packed.empty()) << options;
    auto d = decode(packed, data.size());
    EXPECT_TRUE(d.ok) << "xz " << options << ": " << describe(d);
    if (d.ok) {
        EXPECT_EQ(d.result.out_size, data.size()) << options;
        EXPECT_TRUE(d.out == data) << "xz " << options << ": decoded bytes differ";
        EXPECT_EQ(d.result.in_used, packed.size()) << options;
    }
    return d;
}

TEST(Crc, KnownValues) {
    const Bytes digits = {'1', '2', '3', '4', '5', '6', '7', '8', '9'};
    EXPECT_EQ(crc::crc32(digits), 0xcbf43926u);
    EXPECT_EQ(crc::crc64(digits), 0x995dc9bbdf1939faull);
    EXPECT_EQ(crc::crc32({}), 0u);
    EXPECT_EQ(crc::crc64({}), 0u);
}

// Bit-at-a-time reference, for every length and alignment the sliced loop distinguishes.
template <typename T>
T slow_crc(const uint8_t* p, size_t n, T poly) {
    T r = ~T(0);
    for (size_t i = 0; i < n; ++i) {
        r ^= p[i];
        for (int k = 0; k < 8; ++k) r = (r & 1) ? (r >> 1) ^ poly : r >> 1;
    }
    return ~r;
}

TEST(Crc, MatchesBitwiseReferenceAndChains) {
    Bytes data = xz_test::random_bytes(100, 7);
    for (size_t start = 0; start < 9; ++start)
        for (size_t n = 0; start + n <= data.size(); ++n) {
            std::span<const uint8_t> s(data.data() + start, n);
            ASSERT_EQ(crc::crc32(s), slow_crc<uint32_t>(s.data(), n, 0xedb88320u)) << start << "+" << n;
            ASSERT_EQ(crc::crc64(s), slow_crc<uint64_t>(s.data(), n, 0xc96c5795d7870f42ull)) << start << "+" << n;
            size_t half = n / 3;
            ASSERT_EQ(crc::crc32(s.subspan(half), crc::crc32(s.first(half))), crc::crc32(s));
            ASSERT_EQ(crc::crc64(s.subspan(half), crc::crc64(s.first(half))), crc::crc64(s));
        }
}

TEST(Xz, EmptyInputFile) {
    auto d = roundtrip({}, "");
    EXPECT_EQ(d.result.blocks, 0u);
    EXPECT_EQ(d.result.streams, 1u);
}

TEST(Xz, OneByte) { roundtrip({'k'}, ""); }

TEST(Xz, IncompressibleDataInStoredChunks) { roundtrip(xz_test::random_bytes(300000, 1), "-6"); }

TEST(Xz, HighlyRepetitive) {
    roundtrip(Bytes(5 << 20, 0), "-6");
    Bytes period3;
    for (size_t i = 0; i < (1 << 20); ++i) period3.push_back(uint8_t("abc"[i % 3]));
    roundtrip(period3, "-6");
}

TEST(Xz, SeveralMegabytes) {
    auto d = roundtrip(xz_test::mixed(4 << 20, 2), "-6");
    EXPECT_EQ(d.result.blocks, 1u);
}

TEST(Xz, SeveralBlocks) {
    auto d = roundtrip(xz_test::mixed(1 << 20, 3), "--block-size=65536");
    EXPECT_EQ(d.result.blocks, 16u);
    // A block size that is no multiple of the chunk sizes or of four.
    roundtrip(xz_test::text_like(500000, 4), "--block-size=12345");
}

TEST(Xz, ChecksNoneCrc32Crc64) {
    Bytes data = xz_test::text_like(100000, 5);
    EXPECT_EQ(roundtrip(data, "--check=none").result.check, xz::Check::none);
    EXPECT_EQ(roundtrip(data, "--check=crc32").result.check, xz::Check::crc32);
    EXPECT_EQ(roundtrip(data, "--check=crc64").result.check, xz::Check::crc64);
}

TEST(Xz, Sha256IsRefusedBeforeDecoding) {
    Bytes packed = host_xz(xz_test::text_like(1000, 6), "--check=sha256");
    auto d = decode(packed, 1000);
    ASSERT_FALSE(d.ok);
    EXPECT_EQ(d.failure.error, xz::Error::unsupported_check);
    EXPECT_EQ(d.failure.offset, 7u) << "the check type byte of the stream flags";
}

TEST(Xz, EveryPreset) {
    Bytes data = xz_test::mixed(400000, 8);
    for (const char* p : {"-0", "-1", "-2", "-3", "-4", "-5", "-6", "-7", "-8", "-9", "-9e", "-0e", "-3e"})
        roundtrip(data, p);
}

TEST(Xz, LzmaPropertiesAtTheirLimits) {
    Bytes data = xz_test::mixed(300000, 9);
    for (const char* o : {"lc=4,lp=0,pb=0", "lc=0,lp=4,pb=4", "lc=0,lp=0,pb=0", "lc=1,lp=3,pb=1", "lc=2,lp=2,pb=3",
                          "preset=6,mode=fast,mf=hc3", "preset=6,mf=bt2,nice=273", "preset=9,depth=0,nice=273",
                          "dict=4KiB", "dict=4KiB,lc=4", "dict=12KiB,mf=hc4", "dict=1536MiB"})
        roundtrip(data, std::string("--lzma2=") + o);
}

TEST(Xz, LongMatchesAcrossChunks) {
    // Long repeats with a period bigger than any distance slot's direct range and several
    // uncompressed chunks of 2 MiB.
    Bytes unit = xz_test::random_bytes(300000, 10);
    Bytes data;
    for (int i = 0; i < 20; ++i) data.insert(data.end(), unit.begin(), unit.end());
    roundtrip(data, "--lzma2=preset=6,dict=64MiB");
}

TEST(Xz, X86FilterOnSyntheticCode) {
    for (uint32_t seed = 0; seed < 8; ++seed) {
        Bytes data = xz_test::x86_like(50000 + seed * 997, seed);
        roundtrip(data, "--x86 --lzma2");
        roundtrip(data, "--check=crc32 --x86 --lzma2=dict=32MiB");  // as Linux's kernels
        roundtrip(data, "--x86=start=" + std::to_string(seed * 0x12345671u) + " --lzma2");
    }
    // Sizes around the four bytes the filter leaves at the end.
    for (size_t n = 0; n < 12; ++n) roundtrip(Bytes(n, 0xe8), "--x86 --lzma2");
}

TEST(Xz, X86FilterOnRealCode) {
    // This test program is x86-64 code: its first megabytes, as a kernel's text would be.
    std::ifstream f("/proc/self/exe", std::ios::binary);
    Bytes exe((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    ASSERT_GT(exe.size(), 1u << 20);
    exe.resize(std::min<size_t>(exe.size(), 2 << 20));
    roundtrip(exe, "--check=crc32 --x86 --lzma2=dict=32MiB");
    roundtrip(exe, "--x86 --lzma2 --block-size=300000");
}

TEST(BcjX86, ConvertsAbsoluteCallTargetsBack) {
    // CALL at position 16 whose encoded operand is the absolute target 0x1000: back to
    // 0x1000 - (16 + 5). A JMP at 0 whose operand top byte is neither 00 nor FF stays.
    Bytes b(32, 0x90);
    b[0] = 0xe9;
    b[1] = 0x11, b[2] = 0x22, b[3] = 0x33, b[4] = 0x44;
    b[16] = 0xe8;
    b[17] = 0x00, b[18] = 0x10, b[19] = 0x00, b[20] = 0x00;
    Bytes expect = b;
    uint32_t rel = 0x1000 - 21;
    for (int i = 0; i < 4; ++i) expect[17 + i] = uint8_t(rel >> (8 * i));
    xz::bcj_x86_decode(b.data(), b.size(), 0);
    EXPECT_EQ(b, expect);
    // The start offset counts as the position of the first byte; results are sign-extended
    // from bit 24.
    Bytes c = {0xe8, 0x00, 0x00, 0x00, 0x00, 0x90};
    xz::bcj_x86_decode(c.data(), c.size(), 0x100);
    EXPECT_EQ(c, (Bytes{0xe8, 0xfb, 0xfe, 0xff, 0xff, 0x90}));
}

TEST(Xz, ConcatenatedStreamsWithPadding) {
    Bytes a = xz_test::text_like(70000, 11), b = xz_test::random_bytes(5000, 12), c = {'z'};
    Bytes sa = host_xz(a, "--check=crc32"), sb = host_xz(b, "--check=none"), sc = host_xz(c, "-0");
    Bytes file = sa;
    file.insert(file.end(), 8, 0);
    file.insert(file.end(), sb.begin(), sb.end());
    file.insert(file.end(), sc.begin(), sc.end());
    file.insert(file.end(), 4, 0);
    Bytes all = a;
    all.insert(all.end(), b.begin(), b.end());
    all.insert(all.end(), c.begin(), c.end());
    auto d = decode(file, all.size());
    ASSERT_TRUE(d.ok) << describe(d);
    EXPECT_EQ(d.result.streams, 3u);
    EXPECT_TRUE(d.out == all);
    EXPECT_EQ(d.result.in_used, file.size());

    // Single-stream mode stops after the first and leaves the rest alone.
    auto first = decode(file, all.size(), xz::Mode::single_stream);
    ASSERT_TRUE(first.ok) << describe(first);
    EXPECT_EQ(first.result.in_used, sa.size());
    EXPECT_TRUE(first.out == a);

    // What the host decoder accepts as padding, and what it does not.
    Bytes bad = sa;
    bad.insert(bad.end(), 3, 0);
    auto three = decode(bad, a.size());
    ASSERT_FALSE(three.ok);
    EXPECT_EQ(three.failure.error, xz::Error::bad_stream_padding);
    EXPECT_EQ(three.failure.offset, sa.size());
    bad.push_back(0);
    bad.push_back(1);
    auto junk = decode(bad, a.size());
    ASSERT_FALSE(junk.ok);
    EXPECT_EQ(junk.failure.error, xz::Error::bad_magic);
    EXPECT_EQ(junk.failure.offset, sa.size() + 4);
}

TEST(Xz, HandBuiltStoredChunksAgreeWithTheHostDecoder) {
    Bytes data = xz_test::random_bytes(200000, 13);
    xz_test::StreamBuilder sb;
    sb.add(xz_test::lzma2_stored(data), data);
    sb.add(xz_test::lzma2_stored({}), {});
    sb.blocks.back().declare_compressed = sb.blocks.back().declare_uncompressed = true;
    Bytes file = sb.build();
    auto d = decode(file, data.size());
    ASSERT_TRUE(d.ok) << describe(d);
    EXPECT_TRUE(d.out == data);
    EXPECT_EQ(d.result.blocks, 2u);
    // The host's xz reads the builder's streams the same way (so the malformed variants in
    // xz_malformed_test.cpp differ from valid ones only where they mean to).
    bool host_ok = false;
    Bytes host = xz_test::host_unxz(file, host_ok);
    EXPECT_TRUE(host_ok) << "host xz refuses the hand-built stream";
    EXPECT_TRUE(host == data);
}

TEST(Xz, OutputBufferTooSmall) {
    Bytes data = xz_test::mixed(100000, 14);
    Bytes packed = host_xz(data, "");
    for (size_t cap : {size_t(0), size_t(1), size_t(4096), data.size() / 2, data.size() - 1}) {
        auto d = decode(packed, cap);
        ASSERT_FALSE(d.ok) << cap;
        EXPECT_EQ(d.failure.error, xz::Error::output_full) << cap << ": " << describe(d);
    }
    // Room to spare is fine.
    auto d = decode(packed, data.size() + 12345);
    ASSERT_TRUE(d.ok) << describe(d);
    EXPECT_TRUE(d.out == data);
}

}  // namespace
