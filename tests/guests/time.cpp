// time: the PV clock in vcpu_info. The hypervisor publishes system time (ns since it booted),
// the TSC value it was taken at and the scale from TSC ticks to ns, updating under an
// odd/even version; the guest extrapolates with the TSC. Checked: a consistent snapshot,
// system time that moves forward, and 200 ms of TSC time reading as 200 ms of system time.
// And the wall clock in shared_info (the time of day at system time 0, read under wc_version):
// published, even, the same on two reads; the kernel prints wall clock + system time and the
// harness (boottest.py --wallclock) holds it to the host's time of day.
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

std::uint64_t system_time() { return kt::system_time_ns(); }

struct WallClock {
    std::uint32_t version;
    std::uint64_t sec;  // wc_sec_hi:wc_sec
    std::uint32_t nsec;
};

// shared_info's wall clock (the time of day at system time 0), read under wc_version.
WallClock wall_clock_base()
{
    const volatile shared_info_t& s = *kt::shared_info();
    for (;;) {
        WallClock w{};
        w.version = s.wc_version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        w.sec = (static_cast<std::uint64_t>(s.wc_sec_hi) << 32) | s.wc_sec;
        w.nsec = s.wc_nsec;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (!(w.version & 1) && w.version == s.wc_version)
            return w;
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
    // Both clocks are read at the same two points, so that a host that stalls the guest past
    // the end of the 200 ms (a loaded machine) lengthens both alike.
    const std::uint64_t t0 = system_time();
    const std::uint64_t c0 = kt::rdtsc();
    kt::yield_for_ms(200);
    const std::uint64_t c1 = kt::rdtsc();
    const std::uint64_t t1 = system_time();
    const std::uint64_t elapsed = t1 - t0;
    const std::uint64_t tsc_ns = (c1 - c0) * 1'000'000 / kt::tsc_khz();
    kt::print("time: {} ns of TSC time read as {} ns of system time\n", tsc_ns, elapsed);
    EXPECT_GT(t1, t0);
    EXPECT_GE(tsc_ns, 200'000'000u);
    EXPECT_GE(elapsed, tsc_ns - tsc_ns / 20);  // within 5%: the TSC rate from CPUID and the
    EXPECT_LE(elapsed, tsc_ns + tsc_ns / 20);  // hypervisor's scale come from one calibration
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

namespace {

long vcpu_op(int cmd, unsigned vcpu, void* arg) { return kt::hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu, kt::arg(arg)); }

evtchn_port_t timer_port;

bool timer_pending() { return (kt::shared_info()->evtchn_pending[timer_port / 64] >> (timer_port % 64)) & 1; }
void clear_timer() { kt::shared_info()->evtchn_pending[timer_port / 64] &= ~(1ull << (timer_port % 64)); }

// Waits on the timer's port until it is pending or `limit_ns` of system time from now.
void poll_timer(std::uint64_t limit_ns)
{
    evtchn_port_t ports[1] = {timer_port};
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, ports);
    p.nr_ports = 1;
    p.timeout = system_time() + limit_ns;
    while (!timer_pending() && system_time() < p.timeout)
        kt::sched_op(SCHEDOP_poll, &p);
}

} // namespace

// A PV vCPU starts with a 10 ms periodic timer raising VIRQ_TIMER (Xen's default): it is
// stopped first so that only the timer under test can raise the port.
TEST(set_timer_op_raises_virq_timer)
{
    evtchn_bind_virq_t v{};
    v.virq = VIRQ_TIMER;
    v.vcpu = 0;
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, kt::arg(&v)), 0);
    timer_port = v.port;
    ASSERT_EQ(vcpu_op(VCPUOP_stop_periodic_timer, 0, nullptr), 0);
    clear_timer();
    const std::uint64_t start = system_time();
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_set_timer_op, start + 10'000'000), 0);
    poll_timer(1'000'000'000);
    const std::uint64_t waited = system_time() - start;
    kt::print("time: a 10 ms timer fired after {} ns\n", waited);
    EXPECT_TRUE(timer_pending());
    EXPECT_GE(waited, 9'500'000u);
    EXPECT_LT(waited, 500'000'000u);
}

TEST(vcpu_timers)
{
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 0, nullptr), 1);
    EXPECT_EQ(vcpu_op(VCPUOP_is_up, 31, nullptr), -XEN_ENOENT);
    vcpu_set_periodic_timer_t per{500'000};  // below 1 ms
    EXPECT_EQ(vcpu_op(VCPUOP_set_periodic_timer, 0, &per), -XEN_EINVAL);
    per.period_ns = 20'000'000;
    ASSERT_EQ(vcpu_op(VCPUOP_set_periodic_timer, 0, &per), 0);
    clear_timer();
    poll_timer(500'000'000);
    EXPECT_TRUE(timer_pending());  // the periodic timer ticked
    // With the periodic timer stopped and the single-shot one cancelled, nothing comes.
    ASSERT_EQ(vcpu_op(VCPUOP_stop_periodic_timer, 0, nullptr), 0);
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_set_timer_op, system_time() + 10'000'000), 0);
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_set_timer_op, 0), 0);
    clear_timer();
    poll_timer(50'000'000);
    EXPECT_FALSE(timer_pending());
    // A single-shot timer through vcpu_op.
    vcpu_set_singleshot_timer_t one{system_time() + 5'000'000, 0};
    ASSERT_EQ(vcpu_op(VCPUOP_set_singleshot_timer, 0, &one), 0);
    poll_timer(500'000'000);
    EXPECT_TRUE(timer_pending());
    EXPECT_EQ(vcpu_op(VCPUOP_set_singleshot_timer, 0, reinterpret_cast<void*>(0x10)), -XEN_EFAULT);
}

TEST(wall_clock_is_published_and_stable)
{
    const WallClock a = wall_clock_base();
    kt::print("time: wc_version {}, wc_sec {}, wc_nsec {}\n", a.version, a.sec, a.nsec);
    EXPECT_NE(a.version, 0u);  // written when the domain was built
    EXPECT_EQ(a.version % 2, 0u);
    EXPECT_LT(a.nsec, 1'000'000'000u);
    EXPECT_GT(a.sec, 1'600'000'000u);  // the RTC says some time after September 2020
    kt::yield_for_ms(20);
    const WallClock b = wall_clock_base();
    EXPECT_EQ(b.version, a.version);
    EXPECT_EQ(b.sec, a.sec);
    EXPECT_EQ(b.nsec, a.nsec);
}

TEST(wall_time_is_the_clock_plus_system_time)
{
    const WallClock w = wall_clock_base();
    const std::uint64_t now = system_time();
    const std::uint64_t ns = w.nsec + now % 1'000'000'000u;
    const std::uint64_t sec = w.sec + now / 1'000'000'000u + ns / 1'000'000'000u;
    const std::uint64_t ms = ns % 1'000'000'000u / 1'000'000u;
    kt::print("time: wall clock {}.{}{}{} s since 1970\n", sec, ms / 100, ms / 10 % 10, ms % 10);
    EXPECT_GT(sec, w.sec);
}
