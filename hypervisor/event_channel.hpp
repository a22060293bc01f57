// Event channels of a domain, with the 2-level delivery ABI: a port's pending and mask bits
// live in shared_info, a vCPU's vcpu_info has one selector bit per 64 ports and the
// upcall-pending flag; a newly pending, unmasked port raises the upcall of the vCPU the port
// notifies, which the guest takes through its event callback when its events are unmasked.
//
// Ports: 0 is reserved; the others are free, unbound (waiting for a given domain to connect),
// interdomain (connected to a port of another domain, or of the same one), bound to a
// virtual interrupt (VIRQ_*) or to IPIs between the domain's own vCPUs. Every operation
// checks that the port is the caller's. The FIFO ABI is not offered (Linux then uses 2-level).
#pragma once

#include "types.hpp"

class Domain;
class Vcpu;

enum class ChannelState : uint8_t { free, reserved, unbound, interdomain, virq, ipi };

struct Channel {
    ChannelState state;
    uint16_t remote_dom;   // unbound: who may connect; interdomain: the peer
    uint32_t remote_port;  // interdomain
    uint32_t virq;         // virq
    uint32_t notify_vcpu;
};

namespace events {

constexpr uint32_t MAX_PORTS = 1024;
constexpr uint32_t VIRQ_COUNT = 24;  // NR_VIRQS of the ABI

// Per-vCPU virtual interrupts; the others are global and delivered to vCPU 0 by default.
bool virq_is_per_vcpu(uint32_t virq);

// Makes a port of d pending (2-level rules) and wakes the vCPU it notifies if needed.
void set_pending(Domain& d, uint32_t port);
// Wakes the vCPUs of d waiting in SCHEDOP_poll for this port (or for any): a newly pending port
// ends their wait whether or not it raises an upcall.
void wake_pollers(Domain& d, uint32_t port);
// Raises a virtual interrupt of d: on v's port for per-vCPU ones, on the global binding else.
void send_virq(Domain& d, uint32_t virq, uint32_t vcpu = 0);
void clear_pending(Domain& d, uint32_t port);
// Whether a port of d is pending (SCHEDOP_poll).
bool is_pending(const Domain& d, uint32_t port);
// When the guest's events are unmasked and an upcall is due, arranges the event callback
// for v's next return to the guest. False if nothing was due.
bool queue_upcall(Vcpu& v);

}  // namespace events
