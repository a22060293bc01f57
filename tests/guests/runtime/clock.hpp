// Time as a test kernel can measure it before the PV clock exists: the TSC, whose rate the
// hypervisor's CPUID leaf 0x40000003 gives (subleaf 2: the physical rate in kHz, which Xen
// and Kestrel both fill in); and system time from the PV clock in vcpu_info.
#pragma once

#include <cstdint>

#include <xen/xen.h>

namespace kt {

std::uint64_t rdtsc();
std::uint32_t tsc_khz();
// Yields the CPU (SCHEDOP_yield) until `ms` milliseconds of TSC time have passed, or `done`
// (if given) returns true; returns how many times it yielded.
unsigned yield_for_ms(std::uint64_t ms, bool (*done)() = nullptr);

// System time in ns (since the hypervisor started) from a vCPU's PV clock, read under its
// version protocol and extrapolated with the TSC; the one-argument form reads vCPU 0's.
std::uint64_t system_time_ns(const volatile vcpu_time_info_t& t);
std::uint64_t system_time_ns();
// SCHEDOP_poll on `port` alone with a timeout `timeout_ns` of system time ahead; returns the
// system time the poll took.
std::uint64_t poll_port_for(std::uint32_t port, std::uint64_t timeout_ns);
// Lets a due upcall in on vCPU 0: events unmasked across one hypercall, as Linux forces a
// callback, then masked again.
void deliver_events();
// Blocks the calling vCPU (SCHEDOP_poll on no port, with a timeout) for `ms` milliseconds of
// system time, leaving the CPU to others.
void sleep_ms(std::uint64_t ms);

} // namespace kt
