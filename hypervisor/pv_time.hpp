// The PV clock: each vCPU's vcpu_time_info says which system time (nanoseconds since the
// hypervisor started) a TSC value stands for, and how to scale TSC deltas into nanoseconds:
//     ns = system_time + (((tsc - tsc_timestamp) << tsc_shift, or >> -tsc_shift) * mul) >> 32
// Updates follow the version protocol: odd while the fields change, even when they are done.
#pragma once

#include <stdint.h>

struct vcpu_time_info;

class Vcpu;

namespace pv_time {

struct Scale {
    uint32_t mul;   // 32.32 fixed-point fraction
    int8_t shift;
};

// The scale for a TSC of tsc_hz, as guests apply it.
Scale scale_for(uint64_t tsc_hz);
uint64_t apply(const Scale& s, uint64_t delta);
// Publishes v's time: now_ns was the system time at TSC value tsc.
// Also writes the copy at v.time_area, or keeps it in v.pending_time if that cannot be
// written now (the guest is in user mode).
void publish(Vcpu& v, uint64_t tsc, uint64_t now_ns, const Scale& s, bool tsc_stable);
// Writes the copy at v.time_area (by the version protocol: the version odd first, then the
// whole record, then the version even); false if the guest address cannot be written.
bool write_secondary(const Vcpu& v, const vcpu_time_info& t);
// On the way into guest kernel mode: the copy that waited, if any.
void flush_pending(Vcpu& v);

}  // namespace pv_time
