// bystander: a control domain that keeps running while another boot-time domain misbehaves.
// It yields its CPU for about a second of TSC time (the TSC rate comes from the hypervisor's
// time CPUID leaf), which is long enough for a domU started beside it to run, crash and be
// destroyed; its passing result line afterwards shows that it was not affected.
#include <xen/arch-x86/cpuid.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

namespace {

std::uint32_t tsc_khz()
{
    std::uint32_t a, b, c, d;
    // Leaf 3 subleaf 2: the physical TSC rate in kHz (subleaf 0's domain TSC rate may be 0).
    asm volatile(XEN_CPUID : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(XEN_CPUID_LEAF(3)), "c"(2));
    return a;
}

std::uint64_t rdtsc()
{
    std::uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

} // namespace

TEST(keeps_running_while_others_come_and_go)
{
    const std::uint64_t khz = tsc_khz();
    ASSERT_NE(khz, 0u);
    const std::uint64_t end = rdtsc() + khz * 1000;  // one second
    unsigned yields = 0;
    while (rdtsc() < end) {
        EXPECT_EQ(kt::sched_op(SCHEDOP_yield, nullptr), 0);
        ++yields;
    }
    kt::print("bystander: yielded {} times\n", yields);
    EXPECT_GT(yields, 0u);
}
