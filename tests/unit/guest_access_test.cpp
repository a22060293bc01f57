// Guest pointer checks and checked copies: a range must be canonical at both ends, must not
// wrap, must not cross the non-canonical gap and must stay out of the x86_64 PV hypervisor
// hole [0xffff800000000000, 0xffff880000000000); a range failing the check is never touched,
// and a fault during a copy (unmapped, or a read-only page written) fails it.
#include <cstring>

#include "guest_access.hpp"
#include "pv_test_support.hpp"

namespace {

using pv_test::GuestBuffer;
using pv_test::HOLE_END;
using pv_test::HOLE_START;

class GuestAccess : public ::testing::Test {
protected:
    void SetUp() override { pv_test::reset_fakes(); }
    void TearDown() override { pv_test::reset_fakes(); }
};

TEST(GuestCanonical, FortyEightBitAddresses) {
    EXPECT_TRUE(guest::canonical(0));
    EXPECT_TRUE(guest::canonical(0x00007fffffffffff));
    EXPECT_FALSE(guest::canonical(0x0000800000000000));
    EXPECT_FALSE(guest::canonical(0x1000000000000000));
    EXPECT_FALSE(guest::canonical(0x8000000000000000));
    EXPECT_FALSE(guest::canonical(0xffff7fffffffffff));
    EXPECT_TRUE(guest::canonical(0xffff800000000000));
    EXPECT_TRUE(guest::canonical(0xffffffffffffffff));
    EXPECT_FALSE(guest::canonical(0xfffe800000000000));
}

TEST(GuestRange, HoleBoundsMatchTheAbi) {
    EXPECT_EQ(guest::HOLE_START, uint64_t(__HYPERVISOR_VIRT_START));
    EXPECT_EQ(guest::HOLE_END, uint64_t(__HYPERVISOR_VIRT_END));
}

TEST(GuestRange, OrdinaryRanges) {
    EXPECT_TRUE(guest::range_ok(Gva(0x400000), 4096));
    EXPECT_TRUE(guest::range_ok(Gva(0), 1));
    EXPECT_TRUE(guest::range_ok(Gva(0xffffffff80000000), 0x1000000));
    EXPECT_TRUE(guest::range_ok(Gva(HOLE_END), 8));
}

TEST(GuestRange, EmptyRangeIsAlwaysFine) {
    EXPECT_TRUE(guest::range_ok(Gva(0x0000800000000000), 0));
    EXPECT_TRUE(guest::range_ok(Gva(HOLE_START), 0));
}

TEST(GuestRange, LowerHalfEnds) {
    EXPECT_TRUE(guest::range_ok(Gva(0x00007ffffffff000), 0x1000));
    EXPECT_FALSE(guest::range_ok(Gva(0x00007ffffffff000), 0x1001));
    EXPECT_FALSE(guest::range_ok(Gva(0x0000800000000000), 1));
}

TEST(GuestRange, TopOfTheAddressSpace) {
    EXPECT_TRUE(guest::range_ok(Gva(0xfffffffffffffff8), 8));
    EXPECT_FALSE(guest::range_ok(Gva(0xfffffffffffffff8), 9)) << "wraps to 0";
    EXPECT_FALSE(guest::range_ok(Gva(0xffffffffffffffff), 2));
}

TEST(GuestRange, HugeSizesWrap) {
    EXPECT_FALSE(guest::range_ok(Gva(0x1000), SIZE_MAX));
    EXPECT_FALSE(guest::range_ok(Gva(0xffffffff80000000), size_t(1) << 63));
}

TEST(GuestRange, CrossingTheNonCanonicalGap) {
    // Both ends canonical, but the range runs through the gap between the halves.
    EXPECT_FALSE(guest::range_ok(Gva(0x1000), size_t(0xffff880000001000 - 0x1000)));
}

TEST(GuestRange, TheHole) {
    EXPECT_FALSE(guest::range_ok(Gva(HOLE_START), 1));
    EXPECT_FALSE(guest::range_ok(Gva(HOLE_START + 0x123456), 8));
    EXPECT_FALSE(guest::range_ok(Gva(HOLE_END - 1), 1));
    EXPECT_FALSE(guest::range_ok(Gva(HOLE_END - 8), 16)) << "ends above the hole, starts in it";
    EXPECT_FALSE(guest::range_ok(Gva(HOLE_START), HOLE_END - HOLE_START + 0x1000)) << "spans it";
    EXPECT_TRUE(guest::range_ok(Gva(HOLE_END), 1));
}

TEST_F(GuestAccess, CopyFromMappedMemory) {
    GuestBuffer g(0xffffffff81000000, 64);
    g.put(0xffffffff81000010, "kestrel", 8);
    char out[8] = {};
    EXPECT_TRUE(guest::copy_from(out, Gva(0xffffffff81000010), 8));
    EXPECT_STREQ(out, "kestrel");
}

TEST_F(GuestAccess, CopyToMappedMemory) {
    GuestBuffer g(0x400000, 64);
    EXPECT_TRUE(guest::copy_to(Gva(0x400008), "abc", 3));
    EXPECT_EQ(std::memcmp(g.bytes.data() + 8, "abc", 3), 0);
    EXPECT_EQ(g.bytes[7], 0);
    EXPECT_EQ(g.bytes[11], 0);
}

TEST_F(GuestAccess, TypedReadAndWrite) {
    GuestBuffer g(0x400000, 64);
    EXPECT_TRUE(guest::write(Gva(0x400010), uint64_t{0x1122334455667788}));
    uint64_t x = 0;
    EXPECT_TRUE(guest::read(Gva(0x400010), x));
    EXPECT_EQ(x, 0x1122334455667788u);
    EXPECT_FALSE(guest::read(Gva(0x400039), x)) << "runs past the mapping";
}

TEST_F(GuestAccess, UnmappedCopiesFail) {
    char buf[16] = {};
    EXPECT_FALSE(guest::copy_from(buf, Gva(0x500000), 16));
    EXPECT_FALSE(guest::copy_to(Gva(0x500000), buf, 16));
}

TEST_F(GuestAccess, CopyRunningOffTheMappingFails) {
    GuestBuffer g(0x400000, 16);
    char buf[32] = {};
    EXPECT_FALSE(guest::copy_from(buf, Gva(0x400000), 32));
    EXPECT_FALSE(guest::copy_to(Gva(0x400008), buf, 16));
}

TEST_F(GuestAccess, ReadOnlyMemoryCanBeReadButNotWritten) {
    GuestBuffer g(0x400000, 16, false);
    g.bytes[0] = 0x5a;
    uint8_t b = 0;
    EXPECT_TRUE(guest::read(Gva(0x400000), b));
    EXPECT_EQ(b, 0x5a);
    EXPECT_FALSE(guest::write(Gva(0x400000), uint8_t{1}));
    EXPECT_EQ(g.bytes[0], 0x5a);
}

TEST_F(GuestAccess, RangesFailingTheCheckAreNeverTouched) {
    // Even where something is mapped (the fake maps anything), the checks come first.
    GuestBuffer hole(HOLE_START, 64);
    GuestBuffer odd(0x0000800000000000, 64);
    GuestBuffer top(0xffffffffffffffc0, 64);
    char src[16] = "do not write me";
    char dst[16] = {};
    EXPECT_FALSE(guest::copy_to(Gva(HOLE_START), src, 16));
    EXPECT_FALSE(guest::copy_to(Gva(0x0000800000000000), src, 16));
    for (uint8_t c : hole.bytes) ASSERT_EQ(c, 0);
    for (uint8_t c : odd.bytes) ASSERT_EQ(c, 0);
    hole.bytes[0] = 1;
    EXPECT_FALSE(guest::copy_from(dst, Gva(HOLE_START), 16));
    EXPECT_EQ(dst[0], 0);
    EXPECT_TRUE(guest::copy_to(Gva(0xfffffffffffffff0), src, 16)) << "the last 16 bytes are fine";
    EXPECT_FALSE(guest::copy_to(Gva(0xfffffffffffffff8), src, 16)) << "but not past the end";
}

TEST_F(GuestAccess, ZeroLengthCopiesSucceedWithoutAMapping) {
    char b = 0;
    EXPECT_TRUE(guest::copy_from(&b, Gva(0x600000), 0));
    EXPECT_TRUE(guest::copy_to(Gva(0x600000), &b, 0));
}

}  // namespace
