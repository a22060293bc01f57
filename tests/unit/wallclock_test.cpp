// The wall clock in shared_info, as Xen's do_settime and update_domain_wallclock_time keep it:
// the time at system time 0, split into seconds (the upper half in wc_sec_hi) and nanoseconds,
// published into every listed domain under an even wc_version that advances by two, into a new
// domain only when it is published, and never seen torn by a reader following the protocol.
#include <xen/xen.h>

#include <atomic>
#include <thread>

#include "pv_test_support.hpp"
#include "wallclock.hpp"

namespace {

using pv_test::PvTest;

class Wallclock : public PvTest {
protected:
    void TearDown() override {
        wallclock::set(wallclock::Time{0, 0}, 0);
        PvTest::TearDown();
    }
    static uint64_t seconds(const shared_info& s) { return (uint64_t(s.wc_sec_hi) << 32) | s.wc_sec; }
};

TEST_F(Wallclock, SetPublishesTheTimeAtSystemTimeZeroToEveryDomain) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {dom, d0};
    const uint32_t before = dom->shared()->wc_version;
    // 1700000000.25 s at 3.5 s of system time: 1699999996.75 s at system time 0.
    wallclock::set(wallclock::Time{1'700'000'000, 250'000'000}, 3'500'000'000);
    for (Domain* d : {dom, d0}) {
        const shared_info& s = *d->shared();
        EXPECT_EQ(seconds(s), 1'699'999'996u);
        EXPECT_EQ(s.wc_nsec, 750'000'000u);
        EXPECT_EQ(s.wc_version % 2, 0u);
    }
    EXPECT_EQ(dom->shared()->wc_version, before + 2);
    EXPECT_EQ(wallclock::base().sec, 1'699'999'996u);
    EXPECT_EQ(wallclock::base().nsec, 750'000'000u);
    // Again: the version moves on by two, the fields follow.
    wallclock::set(wallclock::Time{1'800'000'000, 0}, 1);
    EXPECT_EQ(dom->shared()->wc_version, before + 4);
    EXPECT_EQ(seconds(*dom->shared()), 1'799'999'999u);
    EXPECT_EQ(dom->shared()->wc_nsec, 999'999'999u);
}

TEST_F(Wallclock, SecondsPast32BitsGoToWcSecHi) {
    fake_pv::record().domains = {dom};
    wallclock::set(wallclock::Time{(uint64_t{5} << 32) + 7, 9}, 0);
    EXPECT_EQ(dom->shared()->wc_sec, 7u);
    EXPECT_EQ(dom->shared()->wc_sec_hi, 5u);
    EXPECT_EQ(dom->shared()->wc_nsec, 9u);
}

TEST_F(Wallclock, ASystemTimeBeyondTheInstantLeaves1970) {
    fake_pv::record().domains = {dom};
    wallclock::set(wallclock::Time{1, 0}, 2'000'000'000);
    EXPECT_EQ(seconds(*dom->shared()), 0u);
    EXPECT_EQ(dom->shared()->wc_nsec, 0u);
}

TEST_F(Wallclock, ANewDomainGetsTheClockWhenPublished) {
    wallclock::set(wallclock::Time{1'700'000'000, 0}, 0);
    Domain* d0 = make_dom0();  // not listed: set() did not reach it
    EXPECT_EQ(d0->shared()->wc_version, 0u);
    EXPECT_EQ(d0->shared()->wc_sec, 0u);
    wallclock::publish(*d0);
    EXPECT_EQ(d0->shared()->wc_version, 2u);
    EXPECT_EQ(d0->shared()->wc_sec, 1'700'000'000u);
}

TEST_F(Wallclock, AReaderFollowingTheVersionProtocolNeverSeesATornClock) {
    // The writer sets clocks whose seconds and nanoseconds are equal; a consistent snapshot
    // always shows them equal.
    fake_pv::record().domains = {dom};
    const shared_info* s = dom->shared();
    std::atomic<bool> done{false};
    std::atomic<uint64_t> snapshots{0}, torn{0};
    std::thread reader([&] {
        while (!done.load()) {
            const uint32_t v = __atomic_load_n(&s->wc_version, __ATOMIC_ACQUIRE);
            const uint32_t sec = __atomic_load_n(&s->wc_sec, __ATOMIC_RELAXED);
            const uint32_t nsec = __atomic_load_n(&s->wc_nsec, __ATOMIC_RELAXED);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            if ((v & 1) || v != __atomic_load_n(&s->wc_version, __ATOMIC_RELAXED)) continue;
            snapshots.fetch_add(1);
            if (sec != nsec) torn.fetch_add(1);
        }
    });
    while (snapshots.load() == 0) std::this_thread::yield();
    for (uint32_t k = 1; k < 20000 || snapshots.load() < 1000; ++k) wallclock::set(wallclock::Time{k, k}, 0);
    done.store(true);
    reader.join();
    EXPECT_GT(snapshots.load(), 0u);
    EXPECT_EQ(torn.load(), 0u);
}

}  // namespace
