// sched_fair: the scheduler as one domain with more vCPUs than CPUs sees it (kt.vcpus=N vCPUs
// on kt.cpus=M physical CPUs, from the command line). Its credit2 parameters through
// XEN_DOMCTL_scheduler_op on itself: getinfo reports weight 256 and no cap, putinfo sets them
// (weight 0 keeps the weight, cap 0 removes the cap), and what Xen 4.17 refuses is refused
// with its error numbers. Then every secondary vCPU spins counting while the boot vCPU sleeps
// for a few seconds: each spinner makes progress, gets at least half the average spinner's CPU
// time (runstate time[RUNSTATE_running]), and the CPUs are kept busy (85% of their time at least).
#include <xen/domctl.h>
#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/smp.hpp"
#include "runtime/test.hpp"

namespace {

constexpr std::uint64_t WINDOW_MS = 3000;

unsigned nr_vcpus, nr_cpus;
volatile std::uint64_t counts[kt::max_vcpus];

long domctl(xen_domctl_t* op) { return kt::hypercall(__HYPERVISOR_domctl, kt::arg(op)); }

xen_domctl_t sched_op(std::uint32_t cmd, std::uint16_t weight = 0, std::uint16_t cap = 0)
{
    xen_domctl_t op{};
    op.cmd = XEN_DOMCTL_scheduler_op;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op.domain = 0;  // ourselves: the control domain
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT2;
    op.u.scheduler_op.cmd = cmd;
    op.u.scheduler_op.u.credit2.weight = weight;
    op.u.scheduler_op.u.credit2.cap = cap;
    return op;
}

// Our weight and cap, or {0, 0} if getinfo failed.
xen_domctl_sched_credit2 params()
{
    xen_domctl_t op = sched_op(XEN_DOMCTL_SCHEDOP_getinfo);
    if (domctl(&op) != 0)
        return {0, 0};
    return op.u.scheduler_op.u.credit2;
}

long put(std::uint16_t weight, std::uint16_t cap)
{
    xen_domctl_t op = sched_op(XEN_DOMCTL_SCHEDOP_putinfo, weight, cap);
    return domctl(&op);
}

std::uint64_t running_ns(unsigned vcpu)
{
    vcpu_runstate_info_t info{};
    if (kt::vcpu_op(VCPUOP_get_runstate_info, vcpu, &info) != 0)
        return 0;
    return info.time[RUNSTATE_running];
}

void spin(unsigned id)
{
    for (;;)
        counts[id] = counts[id] + 1;
}

} // namespace

TEST(the_domain_has_the_vcpus_the_command_line_says)
{
    const char* line = kt::command_line();
    std::uint64_t v = 0, c = 0;
    ASSERT_TRUE(kt::cmdline_number(line, "kt.vcpus", &v));
    ASSERT_TRUE(kt::cmdline_number(line, "kt.cpus", &c));
    ASSERT_GT(v, c);
    ASSERT_LE(v, kt::max_vcpus);
    nr_vcpus = static_cast<unsigned>(v);
    nr_cpus = static_cast<unsigned>(c);
    EXPECT_EQ(kt::vcpu_op(VCPUOP_is_up, nr_vcpus - 1, nullptr), 0);
    EXPECT_EQ(kt::vcpu_op(VCPUOP_is_up, nr_vcpus, nullptr), -XEN_ENOENT);
}

TEST(getinfo_reports_credit2_defaults)
{
    xen_domctl_t op = sched_op(XEN_DOMCTL_SCHEDOP_getinfo, 7, 7);
    ASSERT_EQ(domctl(&op), 0);
    EXPECT_EQ(op.u.scheduler_op.u.credit2.weight, 256u);
    EXPECT_EQ(op.u.scheduler_op.u.credit2.cap, 0u);
    EXPECT_EQ(op.u.scheduler_op.sched_id, static_cast<std::uint32_t>(XEN_SCHEDULER_CREDIT2));
    EXPECT_EQ(op.domain, 0u);
}

TEST(putinfo_sets_weight_and_cap)
{
    ASSERT_EQ(put(512, 0), 0);
    EXPECT_EQ(params().weight, 512u);
    EXPECT_EQ(put(0, 150), 0);  // weight 0: unchanged
    EXPECT_EQ(params().weight, 512u);
    EXPECT_EQ(params().cap, 150u);
    EXPECT_EQ(put(65535, 0), 0);  // cap 0: removed
    EXPECT_EQ(params().weight, 65535u);
    EXPECT_EQ(params().cap, 0u);
    EXPECT_EQ(put(1, 100 * nr_vcpus), 0);  // the largest cap
    EXPECT_EQ(params().cap, 100 * nr_vcpus);
    ASSERT_EQ(put(256, 0), 0);
    EXPECT_EQ(params().weight, 256u);
    EXPECT_EQ(params().cap, 0u);
}

TEST(domctl_refuses_what_xen_refuses)
{
    // A cap above 100 per vCPU: -EINVAL, though the weight given with it is set first.
    EXPECT_EQ(put(300, 100 * nr_vcpus + 1), -XEN_EINVAL);
    EXPECT_EQ(params().weight, 300u);
    EXPECT_EQ(params().cap, 0u);
    EXPECT_EQ(put(256, 0), 0);

    xen_domctl_t op = sched_op(XEN_DOMCTL_SCHEDOP_getinfo);
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    EXPECT_EQ(domctl(&op), -XEN_EACCES);
    op = sched_op(XEN_DOMCTL_SCHEDOP_getinfo);
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT;
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
    op = sched_op(XEN_DOMCTL_SCHEDOP_getvcpuinfo);
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
    op = sched_op(7);
    EXPECT_EQ(domctl(&op), -XEN_EINVAL);
    op = sched_op(XEN_DOMCTL_SCHEDOP_getinfo);
    op.domain = 0x7000;  // no such domain
    EXPECT_EQ(domctl(&op), -XEN_ESRCH);
    op.domain = DOMID_SELF;  // not a name domctl knows
    EXPECT_EQ(domctl(&op), -XEN_ESRCH);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_domctl, 0x1000), -XEN_EFAULT);
}

TEST(every_vcpu_makes_progress_and_the_cpus_stay_busy)
{
    for (unsigned i = 1; i < nr_vcpus; ++i)
        ASSERT_EQ(kt::start_vcpu(i, spin), 0);
    kt::sleep_ms(200);  // all of them under way
    std::uint64_t before[kt::max_vcpus], after[kt::max_vcpus], counted[kt::max_vcpus];
    for (unsigned i = 0; i < nr_vcpus; ++i) {
        before[i] = running_ns(i);
        counted[i] = counts[i];
    }
    const std::uint64_t start = kt::system_time_ns();
    kt::sleep_ms(WINDOW_MS);
    const std::uint64_t elapsed = kt::system_time_ns() - start;
    std::uint64_t all = 0, spinners = 0;
    for (unsigned i = 0; i < nr_vcpus; ++i) {
        after[i] = running_ns(i) - before[i];
        all += after[i];
        if (i)
            spinners += after[i];
    }
    const std::uint64_t average = spinners / (nr_vcpus - 1);
    for (unsigned i = 1; i < nr_vcpus; ++i) {
        kt::print("sched_fair: vCPU {} ran {} ms of {} ms ({} per mille of a CPU), counted {}\n", i,
                  after[i] / 1'000'000, elapsed / 1'000'000, after[i] * 1000 / elapsed, counts[i] - counted[i]);
        EXPECT_GT(counts[i], counted[i]);
        EXPECT_GE(after[i] * 2, average);
    }
    // The spinners (and this vCPU, now and then) kept the CPUs busy: Xen 4.17 leaves them idle
    // about 5% of the time here, Kestrel less.
    kt::print("sched_fair: {} vCPUs used {} per mille of {} CPUs\n", nr_vcpus, all * 1000 / (elapsed * nr_cpus), nr_cpus);
    EXPECT_GE(all * 100, elapsed * nr_cpus * 85);
}
