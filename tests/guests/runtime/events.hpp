// An event callback for tests that count upcalls: it counts each one (kt_event_count), clears
// the upcall-pending flag of the vCPU kt_event_vcpu_info points at (the tests read the pending
// bits or queues themselves) and returns through the iret hypercall.
#pragma once

#include <cstdint>

#include <xen/event_channel.h>
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

// The 2-level ABI's pending bit of a port, in shared_info: read, cleared atomically.
bool pending(evtchn_port_t port);
void clear_pending(evtchn_port_t port);
long send(evtchn_port_t port);
// SCHEDOP_poll on one port: returns once it is pending (at once if it is) or at `timeout`
// (system time in ns; 0 for none).
long poll(evtchn_port_t port, std::uint64_t timeout = 0);

} // namespace kt
