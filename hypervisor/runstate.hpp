// Where each vCPU spends its time (Xen's runstate): running, runnable (waiting for a CPU),
// blocked (waiting for an event) or offline (down or paused), with the nanoseconds of system
// time spent in each. The scheduler reports every change; a guest can read the figures with
// VCPUOP_get_runstate_info or have them copied to an area of its own
// (VCPUOP_register_runstate_memory_area), which Linux uses for steal time.
#pragma once

#include <xen/vcpu.h>

#include "types.hpp"

class Vcpu;

namespace runstate {

// v enters `state` (RUNSTATE_*) at system time now; the time since its last change counts
// for the state it leaves.
void change(Vcpu& v, int32_t state, uint64_t now);
// v's figures as of now, the current state's time so far included (as Xen reports them).
vcpu_runstate_info snapshot(const Vcpu& v, uint64_t now);
// Copies v's figures to its registered area through the page tables loaded now (v's own).
// With VMASST_TYPE_runstate_update_flag the guest sees XEN_RUNSTATE_UPDATE in
// state_entry_time while the copy is under way. False if the area could not be written.
bool publish(Vcpu& v);
// publish(), and if it fails while v is in guest user mode (the kernel's area may be
// unmapped there), a retry on v's next entry to kernel mode (v.runstate_pending).
void publish_or_defer(Vcpu& v);

}  // namespace runstate
