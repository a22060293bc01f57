// The PV clock's arithmetic: the scale turns one second of TSC ticks into one second of
// nanoseconds for TSC rates from below 1 GHz to several GHz, and the version protocol
// leaves an even version with the fields written.
#include <xen/xen.h>

#include "pv_time.hpp"
#include "pv_test_support.hpp"

namespace {

using pv_test::PvTest;

TEST(PvTime, ScaleMapsOneSecondOfTicksToOneSecond) {
    for (uint64_t hz : {100'000'000ull, 999'999'999ull, 1'000'000'000ull, 1'000'000'001ull, 2'596'200'000ull,
                        4'000'000'000ull, 10'000'000'000ull}) {
        pv_time::Scale s = pv_time::scale_for(hz);
        uint64_t ns = pv_time::apply(s, hz);
        EXPECT_NEAR(double(ns), 1e9, 2.0) << hz;
        EXPECT_NEAR(double(pv_time::apply(s, hz * 60)), 60e9, 120.0) << hz;  // under 2 ppb over a minute
    }
}

TEST(PvTime, ScaleIsInXensNormalForm) {
    // The rate is brought into (1e9, 2e9] by the shift, so the fraction is above 1/2.
    pv_time::Scale s = pv_time::scale_for(2'596'200'000ull);
    EXPECT_EQ(s.shift, -1);
    EXPECT_GT(s.mul, 0x80000000u);
    s = pv_time::scale_for(500'000'000ull);
    EXPECT_EQ(s.shift, 2);
}

class PvTimePublish : public PvTest {};

TEST_F(PvTimePublish, PublishingLeavesAnEvenVersionAndTheFields) {
    pv_time::Scale s = pv_time::scale_for(2'000'000'000ull);
    uint32_t before = v0->info()->time.version;
    pv_time::publish(*v0, 12345, 678, s, true);
    const vcpu_time_info& t = v0->info()->time;
    EXPECT_EQ(t.version, before + 2);
    EXPECT_EQ(t.tsc_timestamp, 12345u);
    EXPECT_EQ(t.system_time, 678u);
    EXPECT_EQ(t.tsc_to_system_mul, s.mul);
    EXPECT_EQ(t.tsc_shift, s.shift);
    EXPECT_EQ(t.flags, XEN_PVCLOCK_TSC_STABLE_BIT);
}

}  // namespace
