// time: the PV clock in vcpu_info. The hypervisor publishes system time (ns since it booted),
// the TSC value it was taken at and the scale from TSC ticks to ns, updating under an
// odd/even version; the guest extrapolates with the TSC. Checked: a consistent snapshot,
// system time that moves forward, and 200 ms of TSC time reading as 200 ms of system time.
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

// System time now, read under the version protocol.
std::uint64_t system_time()
{
    const volatile vcpu_time_info_t& t = kt::vcpu0()->time;
    for (;;) {
        const std::uint32_t v = t.version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        const std::uint64_t stamp = t.tsc_timestamp, base = t.system_time;
        const std::uint32_t mul = t.tsc_to_system_mul;
        const std::int8_t shift = t.tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((v & 1) || v != t.version)
            continue;
        std::uint64_t delta = kt::rdtsc() - stamp;
        delta = shift >= 0 ? delta << shift : delta >> -shift;
        return base + static_cast<std::uint64_t>((static_cast<unsigned __int128>(delta) * mul) >> 32);
    }
}

} // namespace

TEST(snapshot_is_published)
{
    const volatile vcpu_time_info_t& t = kt::vcpu0()->time;
    EXPECT_EQ(t.version & 1, 0u);
    EXPECT_NE(t.version, 0u);
    EXPECT_NE(t.tsc_to_system_mul, 0u);
    EXPECT_NE(t.tsc_timestamp, 0u);
    EXPECT_GT(system_time(), 0u);
}

TEST(system_time_follows_the_tsc)
{
    const std::uint64_t t0 = system_time();
    kt::yield_for_ms(200);
    const std::uint64_t t1 = system_time();
    const std::uint64_t elapsed = t1 - t0;
    kt::print("time: 200 ms of TSC time read as {} ns of system time\n", elapsed);
    EXPECT_GT(t1, t0);
    EXPECT_GE(elapsed, 190'000'000u);  // within 5%: the TSC rate from CPUID and the
    EXPECT_LE(elapsed, 210'000'000u);  // hypervisor's scale come from one calibration
}

TEST(poll_timeout_is_in_system_time)
{
    // A poll on no port with a timeout 20 ms ahead returns after about that long.
    sched_poll_t p{};
    p.nr_ports = 0;
    const std::uint64_t start = system_time();
    p.timeout = start + 20'000'000;
    EXPECT_EQ(kt::sched_op(SCHEDOP_poll, &p), 0);
    const std::uint64_t waited = system_time() - start;
    kt::print("time: poll for 20 ms took {} ns\n", waited);
    EXPECT_GE(waited, 19'000'000u);
}
