#include <gtest/gtest.h>

#include "kstd/format.hpp"
#include "types.hpp"

namespace {


TEST(Format, PlacesArgumentsInOrder) {
    char buf[64];
    size_t n = kstd::format_to(buf, sizeof buf, "{} cpus, {} MiB, {}", 4u, 512, "ok");
    EXPECT_EQ(std::string(buf, n), "4 cpus, 512 MiB, ok");
}

TEST(Format, HexWidthAndPrefix) {
    char buf[64];
    kstd::format_to(buf, sizeof buf, "{:x} {:#x} {:08x} {:#018x} {:#06x}", 255u, 255u, 0xabcu, uint64_t{1} << 40, 8u);
    EXPECT_STREQ(buf, "ff 0xff 00000abc 0x0000010000000000 0x0008");
}

TEST(Format, WidthCountsSignAndPads) {
    char buf[64];
    kstd::format_to(buf, sizeof buf, "[{:5}] [{:05}] [{:4}]", -42, -42, 7u);
    EXPECT_STREQ(buf, "[  -42] [-0042] [   7]");
}

TEST(Format, NegativeNumbersAndBooleans) {
    char buf[64];
    kstd::format_to(buf, sizeof buf, "{} {} {} {}", -22, int64_t{INT64_MIN}, true, 'x');
    EXPECT_STREQ(buf, "-22 -9223372036854775808 true x");
}

TEST(Format, TypedNumbersPrintTheirValue) {
    char buf[64];
    kstd::format_to(buf, sizeof buf, "mfn {:#x} at {:#x}", Mfn(0x1234), mfn_to_paddr(Mfn(0x1234)));
    EXPECT_STREQ(buf, "mfn 0x1234 at 0x1234000");
}

TEST(Format, EscapedBracesAndPadding) {
    char buf[64];
    kstd::format_to(buf, sizeof buf, "{{{}}} [{:6}]", 1, "ab");
    EXPECT_STREQ(buf, "{1} [ab    ]");
}

TEST(Format, TruncatesToBufferAndTerminates) {
    char buf[8];
    kstd::BufferSink sink(buf, sizeof buf);
    kstd::format(sink, "{}", "0123456789");
    EXPECT_TRUE(sink.truncated());
    EXPECT_STREQ(buf, "0123456");
    EXPECT_EQ(sink.size(), 7u);
}

TEST(Format, NullStringIsPrintedSafely) {
    char buf[16];
    const char* s = nullptr;
    kstd::format_to(buf, sizeof buf, "{}", s);
    EXPECT_STREQ(buf, "(null)");
}

}  // namespace
