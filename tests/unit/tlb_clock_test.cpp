// The TLB flush clock's rules (tlb_clock.hpp): which CPUs must flush for a frame's stamp, the
// filter over a set of CPUs, ticks ordering stamps before later readings, and a clock that
// does not wrap where Xen's 32-bit one does.
#include <gtest/gtest.h>

#include <map>

#include "tlb_clock.hpp"

namespace {

using tlb_clock::CLEAN;
using tlb_clock::must_flush;

TEST(TlbClock, ACpuMustFlushUnlessItsLastFlushReadTheClockAfterTheStamp) {
    const TlbTime stamp(100);
    EXPECT_TRUE(must_flush(TlbTime(0), stamp));     // never flushed
    EXPECT_TRUE(must_flush(TlbTime(99), stamp));    // flushed before the frame was let go
    EXPECT_TRUE(must_flush(TlbTime(100), stamp));   // read the same value: maybe before the tick
    EXPECT_FALSE(must_flush(TlbTime(101), stamp));  // read it after the tick: flushed since
    EXPECT_FALSE(must_flush(TlbTime(5000), stamp));
}

TEST(TlbClock, ACleanStampAsksNoFlush) {
    EXPECT_FALSE(must_flush(TlbTime(0), CLEAN));
    EXPECT_FALSE(must_flush(TlbTime(7), CLEAN));
}

TEST(TlbClock, StampsComparePastThirtyTwoBits) {
    // Xen's clock wraps at 2^32 (and flushes everything then); this one is 64 bits and never
    // wraps, so a CPU that flushed at 2^32 + 1 is newer than a stamp of 2^32 - 1, not older.
    const TlbTime before_wrap(0xffffffffu), after_wrap(uint64_t{1} << 32 | 1);
    EXPECT_FALSE(must_flush(after_wrap, before_wrap));
    EXPECT_TRUE(must_flush(before_wrap, after_wrap));
    EXPECT_EQ(tlb_clock::later(before_wrap, after_wrap), after_wrap);
    EXPECT_EQ(tlb_clock::later(after_wrap, before_wrap), after_wrap);
    EXPECT_EQ(tlb_clock::later(CLEAN, before_wrap), before_wrap);
}

TEST(TlbClock, ATickSeparatesEarlierFlushesFromLaterOnes) {
    TlbTime flushed_before = tlb_clock::now();  // a CPU reads the clock, then flushes
    TlbTime stamp = tlb_clock::tick();          // a frame is let go
    TlbTime flushed_after = tlb_clock::now();   // another CPU flushes
    EXPECT_NE(stamp, CLEAN);
    EXPECT_TRUE(must_flush(flushed_before, stamp));
    EXPECT_FALSE(must_flush(flushed_after, stamp));
    // Each tick's stamp is newer than the one before.
    EXPECT_LT(stamp, tlb_clock::tick());
}

TEST(TlbClock, TheFilterKeepsOnlyCandidatesThatHaveNotFlushedSince) {
    std::map<uint32_t, uint64_t> flushed{{0, 10}, {1, 50}, {2, 51}, {3, 0}, {64, 49}, {200, 90}};
    CpuMask candidates;
    for (auto [cpu, t] : flushed) candidates.set(CpuId(cpu));
    candidates.clear(CpuId(0));  // not a candidate (no guest tables loaded): left alone
    CpuMask out;
    unsigned n = tlb_clock::stale_cpus(candidates, TlbTime(50), [&](CpuId c) { return TlbTime(flushed.at(c.raw())); },
                                       out);
    EXPECT_EQ(n, 3u);
    EXPECT_FALSE(out.test(CpuId(0)));
    EXPECT_TRUE(out.test(CpuId(1)));  // read 50: not after the stamp
    EXPECT_FALSE(out.test(CpuId(2)));
    EXPECT_TRUE(out.test(CpuId(3)));
    EXPECT_TRUE(out.test(CpuId(64)));
    EXPECT_FALSE(out.test(CpuId(200)));

    CpuMask none;
    EXPECT_EQ(tlb_clock::stale_cpus(candidates, CLEAN, [&](CpuId) { return TlbTime(0); }, none), 0u);
    EXPECT_TRUE(none.empty());
}

}  // namespace
