// bystander: a control domain that keeps running while another boot-time domain misbehaves.
// With kt.await_destroyed=N on its command line it yields its CPU until domain N has come and
// been destroyed (see kt::await_destroyed; 60 s at most), so that its passing result line,
// which shows that it was not affected, comes after that domain's end. Without it, it yields
// for about a second of TSC time (the TSC rate comes from the hypervisor's time CPUID leaf).
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/toolstack.hpp"

TEST(keeps_running_while_others_come_and_go)
{
    std::uint64_t dom = 0;
    if (kt::cmdline_number(kt::command_line(), "kt.await_destroyed", &dom)) {
        ASSERT_TRUE(dom > 0 && dom < DOMID_FIRST_RESERVED);
        ASSERT_TRUE(kt::await_destroyed(static_cast<domid_t>(dom), 60'000));
        kt::print("bystander: domain {} has come and been destroyed\n", dom);
        return;
    }
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
