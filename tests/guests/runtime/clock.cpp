#include "clock.hpp"

#include <xen/arch-x86/cpuid.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "hypercall.hpp"

namespace kt {

std::uint64_t rdtsc()
{
    std::uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

std::uint32_t tsc_khz()
{
    std::uint32_t a, b, c, d;
    asm volatile(XEN_CPUID : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(XEN_CPUID_LEAF(3)), "c"(2));
    return a;
}

unsigned yield_for_ms(std::uint64_t ms, bool (*done)())
{
    const std::uint64_t end = rdtsc() + std::uint64_t{tsc_khz()} * ms;
    unsigned yields = 0;
    while (rdtsc() < end && !(done && done())) {
        sched_op(SCHEDOP_yield, nullptr);
        ++yields;
    }
    return yields;
}

} // namespace kt
