// bystander: a control domain that keeps running while another boot-time domain misbehaves.
// It yields its CPU for about a second of TSC time (the TSC rate comes from the hypervisor's
// time CPUID leaf), which is long enough for a domU started beside it to run, crash and be
// destroyed; its passing result line afterwards shows that it was not affected.
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

namespace {



} // namespace

TEST(keeps_running_while_others_come_and_go)
{
    const std::uint64_t khz = kt::tsc_khz();
    ASSERT_NE(khz, 0u);
    const std::uint64_t end = kt::rdtsc() + khz * 1000;  // one second
    unsigned yields = 0;
    while (kt::rdtsc() < end) {
        EXPECT_EQ(kt::sched_op(SCHEDOP_yield, nullptr), 0);
        ++yields;
    }
    kt::print("bystander: yielded {} times\n", yields);
    EXPECT_GT(yields, 0u);
}
