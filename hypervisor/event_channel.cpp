#include "event_channel.hpp"

#include <xen/callback.h>
#include <xen/event_channel.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "event_channel_fifo.hpp"
#include "machine_memory.hpp"
#include "pv_traps.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

static_assert(events::VIRQ_COUNT == NR_VIRQS);
static_assert(events::TWO_LEVEL_PORTS == EVTCHN_2L_NR_CHANNELS);
static_assert(EventChannels::BLOCKS * sizeof(Channel*) == PAGE_SIZE);  // the directory is one frame
static_assert(EventChannels::PER_BLOCK % events::PORTS_STEP == 0);
static_assert(Domain::MAX_VCPUS <= 32);  // poll_mask has a bit per vCPU

bool EventChannels::init(MachineMemory& mm, uint32_t max_port) {
    max_port_ = max_port;
    auto dir = mm.alloc_zeroed();
    auto first = mm.alloc_zeroed();
    if (dir) blocks_ = static_cast<Channel**>(mm.map(*dir));
    if (!dir || !first) {
        if (first) mm.free(*first);
        return false;
    }
    frames_ = 1;
    Channel* spare = static_cast<Channel*>(mm.map(*first));
    extend(0, spare);
    blocks_[0][0].state = ChannelState::reserved;
    return true;
}

void EventChannels::release(MachineMemory& mm) {
    if (!blocks_) return;
    for (uint32_t i = 0; i < BLOCKS; ++i)
        if (blocks_[i]) mm.free(mm.mfn_of(blocks_[i]));
    mm.free(mm.mfn_of(blocks_));
    blocks_ = nullptr;
    valid_ = 0;
    frames_ = 0;
}

bool EventChannels::extend(uint32_t port, Channel*& spare) {
    for (uint32_t valid = valid_; port >= valid;) {
        Channel*& block = blocks_[valid / PER_BLOCK];
        if (!block) {
            if (!spare) return false;
            block = spare;
            spare = nullptr;
            ++frames_;
        }
        valid += events::PORTS_STEP;
        // Ordering: release pairs with the acquire in valid_ports(): a port is seen valid
        // only after its block is in place.
        __atomic_store_n(&valid_, valid, __ATOMIC_RELEASE);
    }
    return true;
}

namespace events {

namespace {

constexpr unsigned BITS = 64;

bool test_and_set(xen_ulong_t* words, uint32_t bit) {
    xen_ulong_t mask = xen_ulong_t{1} << (bit % BITS);
    return __atomic_fetch_or(&words[bit / BITS], mask, __ATOMIC_SEQ_CST) & mask;
}

bool test(const xen_ulong_t* words, uint32_t bit) {
    return __atomic_load_n(&words[bit / BITS], __ATOMIC_SEQ_CST) & (xen_ulong_t{1} << (bit % BITS));
}

// Only bound ports carry events (Xen's evtchn_usable).
bool usable(const Channel* c) { return c && c->state > ChannelState::reserved; }

Vcpu& notified(Domain& d, const Channel& c) {
    Vcpu* v = d.vcpu(VcpuId(c.notify_vcpu));
    return v ? *v : *d.vcpu(VcpuId(0));
}

// 2-level: v's selector bit for the port's word, then its upcall flag and a wake-up.
void raise_2l(Vcpu& v, uint32_t port) {
    xen_ulong_t sel = xen_ulong_t{1} << (port / BITS);
    if (__atomic_fetch_or(&v.info()->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel) return;
    mark_pending(v);
}

void set_pending_2l(Domain& d, const Channel& c, uint32_t port) {
    shared_info* s = d.shared();
    if (test_and_set(s->evtchn_pending, port)) return;
    if (!test(s->evtchn_mask, port)) raise_2l(notified(d, c), port);
    wake_pollers(d, port);
}

}  // namespace

bool virq_is_per_vcpu(uint32_t virq) {
    return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF || virq == VIRQ_XENPMU;
}

void poll_start(Vcpu& v) {
    v.poll_port = Vcpu::POLL_ANY;
    __atomic_store_n(&v.polling, true, __ATOMIC_SEQ_CST);
}

void poll_end(Vcpu& v) { __atomic_store_n(&v.polling, false, __ATOMIC_SEQ_CST); }

void wake_pollers(Domain& d, uint32_t port) {
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu* v = d.vcpu(VcpuId(i));
        if (!v || !__atomic_load_n(&v->polling, __ATOMIC_SEQ_CST)) continue;
        uint32_t want = __atomic_load_n(&v->poll_port, __ATOMIC_SEQ_CST);
        if (want != Vcpu::POLL_ANY && want != port) continue;
        // Whoever clears the flag does the wake-up.
        if (__atomic_exchange_n(&v->polling, false, __ATOMIC_SEQ_CST)) sched::wake(*v);
    }
}

void mark_pending(Vcpu& v) {
    __atomic_store_n(&v.info()->evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
    sched::wake(v);
}

void set_pending(Domain& d, uint32_t port) {
    Channel* c = d.channel(port);
    if (!usable(c)) return;
    if (d.events().fifo()) fifo::set_pending(d, port);
    else set_pending_2l(d, *c, port);
}

void send_virq(Domain& d, uint32_t virq, uint32_t vcpu) {
    if (virq >= VIRQ_COUNT) return;
    Vcpu* v = d.vcpu(VcpuId(virq_is_per_vcpu(virq) ? vcpu : 0));
    if (v && v->virq_port[virq]) set_pending(d, v->virq_port[virq]);
}

void clear_pending(Domain& d, uint32_t port) {
    if (port >= d.events().valid_ports()) return;
    if (d.events().fifo()) fifo::clear_pending(d, port);
    else __atomic_fetch_and(&d.shared()->evtchn_pending[port / BITS], ~(xen_ulong_t{1} << (port % BITS)), __ATOMIC_SEQ_CST);
}

bool is_pending(const Domain& d, uint32_t port) {
    const Channel* c = d.channel(port);
    if (!usable(c)) return false;
    if (d.events().fifo()) return fifo::is_pending(d, port);
    return test(d.shared()->evtchn_pending, port);
}

void unmask(Domain& d, uint32_t port) {
    Channel* c = d.channel(port);
    if (!usable(c)) return;
    if (d.events().fifo()) return fifo::unmask(d, port);
    shared_info* s = d.shared();
    __atomic_fetch_and(&s->evtchn_mask[port / BITS], ~(xen_ulong_t{1} << (port % BITS)), __ATOMIC_SEQ_CST);
    // A port that became pending while masked raises its upcall now.
    if (test(s->evtchn_pending, port)) raise_2l(notified(d, *c), port);
}

bool queue_upcall(Vcpu& v) {
    if (!upcall_due(v.info()) || v.bounce.pending) return false;
    return pv::queue_callback(v, CALLBACKTYPE_event);
}

}  // namespace events
