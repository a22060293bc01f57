// Time as a test kernel can measure it before the PV clock exists: the TSC, whose rate the
// hypervisor's CPUID leaf 0x40000003 gives (subleaf 2: the physical rate in kHz, which Xen
// and Kestrel both fill in).
#pragma once

#include <cstdint>

namespace kt {

std::uint64_t rdtsc();
std::uint32_t tsc_khz();
// Yields the CPU (SCHEDOP_yield) until `ms` milliseconds of TSC time have passed, or `done`
// (if given) returns true; returns how many times it yielded.
unsigned yield_for_ms(std::uint64_t ms, bool (*done)() = nullptr);

// System time (ns since the hypervisor started) from the PV clock in vcpu_info[0], read under
// its version protocol and extrapolated with the TSC.
std::uint64_t system_time();
// Blocks the calling vCPU (SCHEDOP_poll on no port, with a timeout) for `ms` milliseconds of
// system time, leaving the CPU to others.
void sleep_ms(std::uint64_t ms);

} // namespace kt
