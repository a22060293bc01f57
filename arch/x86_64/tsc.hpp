// System time: nanoseconds since boot, read from the TSC and scaled by a frequency measured
// once on the boot CPU: against the ACPI PM timer when the FADT names one in I/O space (100 ms,
// each end a TSC/timer pair read back to back, the tightest of many, so that the error is
// bounded and logged), else against the legacy PIT (a 50 ms countdown, the shortest of three).
// Nothing corrects the rate later, so the calibration is what keeps guest time with the
// world's: the clock_drift guest test holds it to 100 ppm.
#pragma once

#include <stdint.h>

namespace acpi {
struct Platform;
}

namespace tsc {

// Measures the TSC frequency; boot CPU, interrupts off. Always succeeds: if neither timer
// answers, it warns and assumes a nominal frequency.
void calibrate(const acpi::Platform& p);
uint64_t frequency_hz();

uint64_t now_ns();
uint64_t ticks_to_ns(uint64_t ticks);
uint64_t ns_to_ticks(uint64_t ns);
// The TSC value at which system time reaches ns.
uint64_t deadline_for(uint64_t ns);
// The TSC value read at kestrel_main's entry, for boot-time figures.
uint64_t boot_tsc();
void record_boot_tsc();

}  // namespace tsc
