// Event channels of a domain. A port is bound (unbound waiting for a given domain, interdomain,
// VIRQ, IPI, pirq) or free; port 0 is reserved. Two delivery ABIs, as on Xen 4.17:
//
//   2-level  a port's pending and mask bits live in shared_info; a vCPU's vcpu_info has one
//            selector bit per 64 ports. 4096 ports (64 x 64 bits).
//   FIFO     after EVTCHNOP_init_control: each port has an event word in pages the guest adds
//            with EVTCHNOP_expand_array, pending ports are linked into per-vCPU priority queues
//            whose heads are in the vCPU's control block (event_channel_fifo.hpp). 2^17 ports.
//
// Either way a newly pending, unmasked port sets the evtchn_upcall_pending flag of the vCPU the
// port notifies and wakes it; the guest takes the upcall through its event callback once its
// events are unmasked (queue_upcall). EVTCHNOP_reset closes every port and returns to 2-level.
//
// Storage: a domain's channels sit in page-sized blocks reached through a directory of one
// frame, allocated as ports are first used. valid_ports() grows in steps of 64 as Xen's
// valid_evtchns does: a port at or past it is "not a port" (-EINVAL) even where the block
// exists, exactly where Xen says so. The table also holds the FIFO state, the domain's limit
// (Xen's max_evtchn_port) and the lock that orders port allocation and the FIFO queues.
#pragma once

#include <arch/cpu.hpp>
#include <xen/xen.h>

#include "spinlock.hpp"
#include "types.hpp"

class Domain;
class MachineMemory;
class Vcpu;

enum class ChannelState : uint8_t { free, reserved, unbound, interdomain, virq, ipi, pirq };

struct Channel {
    ChannelState state;      //  0
    uint8_t priority;        //  1 FIFO: queue new events go to (0 highest .. 15)
    uint16_t remote_dom;     //  2 unbound: who may connect; interdomain: the peer
    uint32_t remote_port;    //  4 interdomain; pirq: the pirq
    uint16_t notify_vcpu;    //  8
    uint8_t virq;            // 10 virq
    uint8_t last_priority;   // 11 FIFO: the queue the port was last linked on ...
    uint16_t last_vcpu;      // 12 ... and its vCPU (Xen's fifo_lastq)
    bool fifo_pending;       // 14 FIFO: raised while its event word had no page yet
    uint8_t pad;             // 15
};
static_assert(sizeof(Channel) == 16);

namespace events {

class Fifo;

constexpr uint32_t TWO_LEVEL_PORTS = 64 * 64;   // EVTCHN_2L_NR_CHANNELS for a 64-bit guest
constexpr uint32_t FIFO_PORTS = 1u << 17;       // EVTCHN_FIFO_NR_CHANNELS
constexpr uint32_t PORTS_STEP = 64;             // valid ports grow by Xen's bucket
constexpr uint32_t VIRQ_COUNT = 24;             // NR_VIRQS of the ABI
// Xen's default limits on the highest port: none for the control domain built at boot
// (max_evtchn_port -1, clamped to INT_MAX), xl's 1023 for other domains.
constexpr uint32_t DOM0_MAX_PORT = 0x7fffffff;
constexpr uint32_t DOMU_MAX_PORT = 1023;

}  // namespace events

class EventChannels {
public:
    static constexpr uint32_t PER_BLOCK = PAGE_SIZE / sizeof(Channel);
    static constexpr uint32_t BLOCKS = events::FIFO_PORTS / PER_BLOCK;

    // The directory and the first block (port 0 reserved); false when out of memory.
    bool init(MachineMemory& mm, uint32_t max_port);
    void release(MachineMemory& mm);

    Channel* get(uint32_t port) const {
        return port < valid_ports() ? &blocks_[port / PER_BLOCK][port % PER_BLOCK] : nullptr;
    }
    uint32_t valid_ports() const { return __atomic_load_n(&valid_, __ATOMIC_ACQUIRE); }
    // Makes ports up to `port` valid. A missing block is made of `spare` (a zeroed frame,
    // which is then used up); false, changing nothing, when one is needed and there is none.
    // Callers hold the lock; the frame is allocated without it (see EventLock).
    bool extend(uint32_t port, Channel*& spare);
    // Ports the ABI in use can address, and the highest the domain may have.
    uint32_t abi_ports() const { return fifo_ ? events::FIFO_PORTS : events::TWO_LEVEL_PORTS; }
    uint32_t max_port() const { return max_port_; }
    // Frames held: directory, blocks, FIFO state.
    uint64_t frames() const { return frames_; }
    void count_frames(int64_t n) { frames_ += uint64_t(n); }

    events::Fifo* fifo() const { return __atomic_load_n(&fifo_, __ATOMIC_ACQUIRE); }
    void set_fifo(events::Fifo* f) { __atomic_store_n(&fifo_, f, __ATOMIC_RELEASE); }

    // Taken with interrupts off: VIRQs are raised from interrupt handlers.
    mutable Spinlock lock;
    // EVTCHNOP_reset's cursor (Xen's next_evtchn): 0 when no reset is under way.
    uint32_t reset_next = 0;

private:
    Channel** blocks_ = nullptr;
    uint32_t valid_ = 0;
    uint32_t max_port_ = 0;
    uint64_t frames_ = 0;
    events::Fifo* fifo_ = nullptr;
};

// Holds a domain's event lock for a scope, with interrupts off (taken first, given back last).
// An interrupt handler may need the lock (a timer raising VIRQ_TIMER) while its CPU holds
// another lock taken with interrupts on, such as the frame allocator's: so nothing that takes
// such a lock (allocating or freeing frames) runs under the event lock.
class EventLock final {
public:
    explicit EventLock(const EventChannels& e) : guard_(e.lock) {}

private:
    IrqLockGuard guard_;
};

namespace events {

// Per-vCPU virtual interrupts; the others are global and delivered to vCPU 0 by default.
bool virq_is_per_vcpu(uint32_t virq);

// Makes a bound port of d pending under the ABI in use and raises the upcall of the vCPU it
// notifies if that is due.
void set_pending(Domain& d, uint32_t port);
// Wakes the vCPUs of d waiting in SCHEDOP_poll for this port (or for any): a newly pending port
// ends their wait whether or not it raises an upcall.
void wake_pollers(Domain& d, uint32_t port);
// Raises a virtual interrupt of d: on v's port for per-vCPU ones, on the global binding else.
void send_virq(Domain& d, uint32_t virq, uint32_t vcpu = 0);
void clear_pending(Domain& d, uint32_t port);
// Whether a bound port of d is pending (SCHEDOP_poll).
bool is_pending(const Domain& d, uint32_t port);
// EVTCHNOP_unmask: clears the mask and delivers what became pending meanwhile.
void unmask(Domain& d, uint32_t port);
// SCHEDOP_poll, having blocked v and before it looks at its ports: from now on a port of the
// domain that becomes pending wakes v, masked or not (Vcpu::poll_port narrows that to one
// port). poll_end: v no longer waits for its ports (the poll returned, or timed out).
void poll_start(Vcpu& v);
void poll_end(Vcpu& v);
// Xen's vcpu_mark_events_pending: sets v's upcall flag, waking v if it was clear.
void mark_pending(Vcpu& v);
// Whether a vCPU's events are pending and unmasked (its vcpu_info, null before it has one).
// Inline: every return to a guest asks.
inline bool upcall_due(const vcpu_info* info) {
    return info && info->evtchn_upcall_pending && !info->evtchn_upcall_mask;
}
// When the guest's events are unmasked and an upcall is due, arranges the event callback
// for v's next return to the guest. False if nothing was due.
bool queue_upcall(Vcpu& v);

}  // namespace events
