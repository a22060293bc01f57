// System time: nanoseconds since boot, read from the TSC and scaled by a frequency measured
// once on the boot CPU against the legacy PIT.
#pragma once

#include <stdint.h>

namespace tsc {

// Measures the TSC frequency; boot CPU, interrupts off. Always succeeds: if the PIT does not
// answer, it warns and assumes a nominal frequency.
void calibrate();
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
