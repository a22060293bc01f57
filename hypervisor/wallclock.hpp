// The wall clock, kept as Xen keeps it (common/time.c): the time of day at system time 0, in
// seconds and nanoseconds since 1970, which every domain finds in its shared_info (wc_sec,
// wc_nsec and the upper seconds in wc_sec_hi) so that a guest's wall time is that plus its
// system time from vcpu_time_info. Set at boot from the RTC (and, once platform_op exists, by
// XENPF_settime); a change is published into every domain's shared_info, and a new domain gets
// it before it first runs. Writers update a domain's fields under wc_version, odd while they
// change (Xen's version_update_begin/end), so a guest reads them as a consistent snapshot.
//
// Locking: one lock serialises changes and publications, taken inside the domain list's lock
// (set() publishes through domain_control::for_each), never the other way round.
#pragma once

#include <stdint.h>

class Domain;

namespace wallclock {

struct Time {
    uint64_t sec;
    uint32_t nsec;  // < 1e9
};

// The wall clock was `at`.sec seconds and `at`.nsec ns past 1970 at system time `system_ns`:
// records the time at system time 0 and publishes it into every domain.
void set(Time at, uint64_t system_ns);
// The time of day at system time 0 (all zero until set).
Time base();
// Writes the wall clock into d's shared_info.
void publish(Domain& d);

}  // namespace wallclock
