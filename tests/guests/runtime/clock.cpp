#include "clock.hpp"

#include <xen/arch-x86/cpuid.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "hypercall.hpp"
#include "runtime.hpp"

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

std::uint64_t system_time_ns(const volatile vcpu_time_info_t& t)
{
    for (;;) {
        const std::uint32_t version = t.version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        const std::uint64_t stamp = t.tsc_timestamp, base = t.system_time;
        const std::uint32_t mul = t.tsc_to_system_mul;
        const std::int8_t shift = t.tsc_shift;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if ((version & 1) || version != t.version)
            continue;  // caught in an update: read again
        std::uint64_t delta = rdtsc() - stamp;
        delta = shift >= 0 ? delta << shift : delta >> -shift;
        return base + static_cast<std::uint64_t>((static_cast<unsigned __int128>(delta) * mul) >> 32);
    }
}

std::uint64_t system_time_ns() { return system_time_ns(vcpu0()->time); }

std::uint64_t poll_port_for(std::uint32_t port, std::uint64_t timeout_ns)
{
    evtchn_port_t ports[1] = {port};
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, ports);
    p.nr_ports = 1;
    const std::uint64_t start = system_time_ns();
    p.timeout = start + timeout_ns;
    sched_op(SCHEDOP_poll, &p);
    return system_time_ns() - start;
}

void deliver_events()
{
    vcpu0()->evtchn_upcall_mask = 0;
    xen_version(0, nullptr);
    vcpu0()->evtchn_upcall_mask = 1;
}

void sleep_ms(std::uint64_t ms)
{
    const std::uint64_t end = system_time_ns() + ms * 1'000'000;
    sched_poll_t p{};
    p.nr_ports = 0;
    p.timeout = end;
    // A poll may end early (an event due for this vCPU): wait again for the rest.
    while (system_time_ns() < end)
        sched_op(SCHEDOP_poll, &p);
}

} // namespace kt
