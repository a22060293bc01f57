// The wall clock's source at boot: the CMOS RTC, read as Xen's get_cmos_time reads it.
#pragma once

#include "acpi.hpp"

namespace cmos_rtc {

// Reads the RTC and sets the wall clock (wallclock::set) from it; boot CPU, interrupts off,
// after the TSC is calibrated. To know the time to better than a second it waits (up to a
// second, as Xen does) for the seconds register to change and reads the registers then, when
// they have just turned to a new second. Without a CMOS RTC (FADT), with no change seen, or
// with registers that do not decode, it logs why; the wall clock then stays at 1970 (no RTC,
// bad data) or is read to the second only (no change seen).
void set_wallclock(const acpi::Platform& p);

}  // namespace cmos_rtc
