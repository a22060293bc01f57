// The FIFO event channel ABI (Xen 4.17's event_fifo.c), for a domain that asked for it with
// EVTCHNOP_init_control.
//
// Shared with the guest, in frames it owns (held by a general and a writable-type reference,
// so that they can never become page tables, and mapped through the direct map):
//   - per vCPU, a control block: the `ready` bitmap (bit q: queue q became non-empty) and the
//     head of each of the 16 priority queues;
//   - the event array, pages of 1024 32-bit event words added one by one by expand_array:
//     PENDING, MASKED, LINKED, BUSY and a 17-bit link to the next port on the queue.
//
// The hypervisor links a newly pending, unmasked port at the tail of the queue of its priority
// on the vCPU it notifies; the guest consumes a queue from its head, clearing LINKED. Only the
// hypervisor knows the tails; it writes a head only when it finds the queue empty (the old
// tail no longer LINKED), and raises the upcall only then, with the queue's `ready` bit.
// While it rewrites the link of a tail the guest may be changing the same word; it sets BUSY
// so that the guest does not unmask meanwhile (the guest may only set or clear MASKED, clear
// PENDING, and clear LINKED with the link).
//
// Locking: Xen locks each queue; Kestrel holds the domain's event lock (with interrupts off)
// for every queue change, which gives the same order of events with one lock.
#pragma once

#include "event_channel.hpp"

struct evtchn_fifo_control_block;
struct evtchn_init_control;

namespace events {

class Fifo {
public:
    static constexpr uint32_t WORDS_PER_PAGE = PAGE_SIZE / sizeof(uint32_t);
    static constexpr uint32_t MAX_PAGES = FIFO_PORTS / WORDS_PER_PAGE;
    static constexpr unsigned QUEUES = 16;
    static constexpr unsigned MAX_VCPUS = 32;

    struct VcpuQueues {
        evtchn_fifo_control_block* block = nullptr;  // null until init_control for the vCPU
        uint32_t tail[QUEUES]{};                     // 0: none known
    };

    // The port's event word, or null while no array page covers it.
    uint32_t* word(uint32_t port) const;
    uint32_t nr_ports() const { return __atomic_load_n(&nr_words_, __ATOMIC_ACQUIRE); }

    VcpuQueues vcpus[MAX_VCPUS];
    uint32_t* pages[MAX_PAGES]{};
    uint32_t nr_words_ = 0;
};

namespace fifo {

// EVTCHNOP_init_control, EVTCHNOP_expand_array for the calling vCPU's domain. 0 or -XEN_E*.
long init_control(Vcpu& caller, evtchn_init_control& ic);
long expand_array(Vcpu& caller, uint64_t gfn);

// Delivery under the FIFO ABI, each under the event lock (the FIFO state is only ever used
// under it, so that reset can free it; a switch back to 2-level meanwhile drops the event,
// as on Xen). The port is bound.
void set_pending(Domain& d, uint32_t port);
void clear_pending(Domain& d, uint32_t port);
void unmask(Domain& d, uint32_t port);
bool is_pending(const Domain& d, uint32_t port);
// A free port still on a queue cannot be allocated yet (Xen's is_busy). Lock held.
bool is_busy(const Fifo& f, uint32_t port);
// A port being bound starts at the default priority.
void bind(Channel& c);

// Back to no FIFO state (reset, domain destruction): the guest's frames are released. Takes
// the event lock to detach the state, and frees it after.
void destroy(Domain& d);

}  // namespace fifo
}  // namespace events
