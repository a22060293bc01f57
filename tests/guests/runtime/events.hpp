// An event callback for tests that count upcalls: it counts each one (kt_event_count), clears
// the upcall-pending flag of the vCPU kt_event_vcpu_info points at (the tests read the pending
// bits or queues themselves) and returns through the iret hypercall.
#pragma once

#include <cstdint>

#include <xen/xen.h>

extern "C" {
extern volatile std::uint64_t kt_event_count;
extern vcpu_info_t* kt_event_vcpu_info;
void kt_event_entry();
}

namespace kt {

// Registers kt_event_entry as vCPU 0's event callback (its vcpu_info is the one cleared);
// false if the hypervisor refused.
bool install_counting_event_callback();

} // namespace kt
