// clock_drift: the PV clock keeps time with the host over a minute. The kernel prints its system
// time (vcpu_time_info, read under the version protocol) in a burst of marks, sleeps for most of
// a minute in SCHEDOP_poll, and prints a second burst; the harness (boottest.py --clock-marks)
// stamps each mark with the host's monotonic clock as it arrives and compares the guest's elapsed
// time with the host's, taking from each burst the mark that came through fastest so that serial
// latency mostly cancels out. The kernel itself checks only that its sleep lasted as long as it
// asked, by its own clock.
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

namespace {

constexpr unsigned marks_per_burst = 25;
constexpr std::uint64_t mark_spacing_ns = 4'000'000;
constexpr std::uint64_t sleep_ns = 58'000'000'000ull;

// One line per mark, each printed in one console write right after the clock is read, spaced
// so that each line reaches the host on its own.
void burst()
{
    for (unsigned i = 0; i < marks_per_burst; ++i) {
        kt::print("clock_drift: mark {}\n", kt::system_time_ns());
        const std::uint64_t next = kt::system_time_ns() + mark_spacing_ns;
        while (kt::system_time_ns() < next)
            asm volatile("pause");
    }
}

} // namespace

TEST(system_time_keeps_pace_with_the_host_over_a_minute)
{
    burst();
    const std::uint64_t start = kt::system_time_ns();
    sched_poll_t p{};
    p.nr_ports = 0;
    p.timeout = start + sleep_ns;
    // A poll on no ports ends at its timeout; an early end (an event) polls again.
    while (kt::system_time_ns() < p.timeout)
        ASSERT_EQ(kt::sched_op(SCHEDOP_poll, &p), 0);
    const std::uint64_t slept = kt::system_time_ns() - start;
    burst();
    kt::print("clock_drift: slept {} ns of system time\n", slept);
    EXPECT_GE(slept, sleep_ns);
    EXPECT_LT(slept, sleep_ns + 1'000'000'000ull);
}
