// Host unit tests for the hypervisor-independent parts of the test-kernel runtime: the print()
// formatter, command-line parsing and the comparisons behind EXPECT_*.
#include <cstdint>
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "runtime/cmdline.hpp"
#include "runtime/compare.hpp"
#include "runtime/format.hpp"

namespace {

template <typename... Args> std::string fmt(const char* f, Args... args)
{
    char buf[256];
    const std::size_t n = kt::format(buf, sizeof buf, f, args...);
    EXPECT_EQ(n, std::strlen(buf));
    return buf;
}

TEST(Format, PlainTextAndPlaceholders)
{
    EXPECT_EQ(fmt("no placeholders"), "no placeholders");
    EXPECT_EQ(fmt("{} + {} = {}", 1, 2u, 3l), "1 + 2 = 3");
    EXPECT_EQ(fmt("{x}", 255u), "0xff");
    EXPECT_EQ(fmt("{}", -38), "-38");
    EXPECT_EQ(fmt("{}", INT64_MIN), "-9223372036854775808");
    EXPECT_EQ(fmt("{}", UINT64_MAX), "18446744073709551615");
    EXPECT_EQ(fmt("{x}", UINT64_MAX), "0xffffffffffffffff");
    EXPECT_EQ(fmt("{x}", -1), "0xffffffffffffffff");  // hex shows the bits
    EXPECT_EQ(fmt("{} {}", true, false), "true false");
    EXPECT_EQ(fmt("[{}]", "text"), "[text]");
    EXPECT_EQ(fmt("[{}]", static_cast<const char*>(nullptr)), "[(null)]");
    EXPECT_EQ(fmt("{}", reinterpret_cast<void*>(0x1000)), "0x1000");
    EXPECT_EQ(fmt("{}", 0), "0");
}

TEST(Format, MalformedPlaceholders)
{
    EXPECT_EQ(fmt("{} {}", 1), "1 {?}");  // missing argument is visible
    EXPECT_EQ(fmt("{}", 1, 2), "1");      // extra argument ignored
    EXPECT_EQ(fmt("{", 1), "{");
    EXPECT_EQ(fmt("{y}", 1), "{y}");
    EXPECT_EQ(fmt("{x", 1), "{x");
    EXPECT_EQ(fmt("}{}", 1), "}1");
}

TEST(Format, TruncatesAndTerminates)
{
    char buf[6];
    std::memset(buf, 'z', sizeof buf);
    EXPECT_EQ(kt::format(buf, sizeof buf, "{}", 123456789), 5u);
    EXPECT_STREQ(buf, "12345");
    char one[1] = {'z'};
    EXPECT_EQ(kt::format(one, sizeof one, "abc"), 0u);
    EXPECT_EQ(one[0], '\0');
    char none[1] = {'z'};
    EXPECT_EQ(kt::format(none, 0, "abc"), 0u);
    EXPECT_EQ(none[0], 'z');  // size 0: nothing written
}

TEST(Cmdline, Numbers)
{
    std::uint64_t v = 7;
    EXPECT_TRUE(kt::cmdline_number("start_info kt.arg=42 kt.dom0_mem=64", "kt.arg", &v));
    EXPECT_EQ(v, 42u);
    EXPECT_TRUE(kt::cmdline_number("start_info kt.arg=42 kt.dom0_mem=64", "kt.dom0_mem", &v));
    EXPECT_EQ(v, 64u);
    EXPECT_TRUE(kt::cmdline_number("a=18446744073709551615", "a", &v));
    EXPECT_EQ(v, UINT64_MAX);
    EXPECT_TRUE(kt::cmdline_number("a=0", "a", &v));
    EXPECT_EQ(v, 0u);
}

TEST(Cmdline, NumbersRejected)
{
    std::uint64_t v = 7;
    EXPECT_FALSE(kt::cmdline_number("", "a", &v));
    EXPECT_FALSE(kt::cmdline_number("a=1", "", &v));
    EXPECT_FALSE(kt::cmdline_number("xa=1", "a", &v));          // not at a word start
    EXPECT_FALSE(kt::cmdline_number("ab=1", "a", &v));          // longer key
    EXPECT_FALSE(kt::cmdline_number("a 1", "a", &v));           // no '='
    EXPECT_FALSE(kt::cmdline_number("a=", "a", &v));            // empty value
    EXPECT_FALSE(kt::cmdline_number("a=4x2", "a", &v));         // junk after digits
    EXPECT_FALSE(kt::cmdline_number("a=-1", "a", &v));
    EXPECT_FALSE(kt::cmdline_number("a=18446744073709551616", "a", &v));  // overflow
    EXPECT_EQ(v, 7u);  // untouched on failure
}

TEST(Cmdline, Words)
{
    EXPECT_TRUE(kt::has_word("xen-3.0-x86_64 hvm-3.0-x86_32", "xen-3.0-x86_64"));
    EXPECT_TRUE(kt::has_word("a b c", "c"));
    EXPECT_FALSE(kt::has_word("xen-3.0-x86_64p", "xen-3.0-x86_64"));
    EXPECT_FALSE(kt::has_word("axen-3.0-x86_64", "xen-3.0-x86_64"));
    EXPECT_FALSE(kt::has_word("", "a"));
    EXPECT_FALSE(kt::has_word("a", ""));
}

TEST(Compare, MixedSignedness)
{
    using kt::Cmp;
    EXPECT_FALSE(kt::compare(Cmp::Eq, -38, 0xffffffdau));
    EXPECT_TRUE(kt::compare(Cmp::Ne, -38, 0xffffffdau));
    EXPECT_TRUE(kt::compare(Cmp::Lt, -1, 0u));
    EXPECT_TRUE(kt::compare(Cmp::Gt, 1u, -1));
    EXPECT_TRUE(kt::compare(Cmp::Eq, 5, 5ull));
    EXPECT_TRUE(kt::compare(Cmp::Le, 5l, 5u));
    EXPECT_FALSE(kt::compare(Cmp::Ge, -5l, 0ul));
    EXPECT_TRUE(kt::compare(Cmp::Eq, -5l, -5));
    EXPECT_TRUE(kt::compare(Cmp::Eq, UINT64_MAX, UINT64_MAX));
}

} // namespace
