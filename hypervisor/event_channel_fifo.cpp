#include "event_channel_fifo.hpp"

#include <xen/errno.h>
#include <xen/event_channel.h>

#include "domain.hpp"
#include "machine_memory.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

static_assert(events::Fifo::WORDS_PER_PAGE * events::Fifo::MAX_PAGES == EVTCHN_FIFO_NR_CHANNELS);
static_assert(events::Fifo::QUEUES == EVTCHN_FIFO_MAX_QUEUES);
static_assert(events::Fifo::MAX_VCPUS == Domain::MAX_VCPUS);
static_assert(events::FIFO_PORTS == EVTCHN_FIFO_NR_CHANNELS);
static_assert(sizeof(event_word_t) == sizeof(uint32_t));

namespace events {

uint32_t* Fifo::word(uint32_t port) const {
    // Ordering: acquire pairs with the release in expand_array, after the page is in place.
    if (port >= nr_ports()) return nullptr;
    return pages[port / WORDS_PER_PAGE] + port % WORDS_PER_PAGE;
}

namespace {

constexpr uint32_t bit(unsigned n) { return uint32_t{1} << n; }
constexpr uint32_t PENDING = bit(EVTCHN_FIFO_PENDING);
constexpr uint32_t MASKED = bit(EVTCHN_FIFO_MASKED);
constexpr uint32_t LINKED = bit(EVTCHN_FIFO_LINKED);
constexpr uint32_t BUSY = bit(EVTCHN_FIFO_BUSY);
constexpr uint32_t LINK_MASK = EVTCHN_FIFO_LINK_MASK;

// Event words and the ready bitmap are written by the guest at the same time: every access is
// an atomic read-modify-write or load.
bool test_and_set(uint32_t* w, uint32_t m) { return __atomic_fetch_or(w, m, __ATOMIC_SEQ_CST) & m; }
bool test(const uint32_t* w, uint32_t m) { return __atomic_load_n(w, __ATOMIC_SEQ_CST) & m; }
void clear(uint32_t* w, uint32_t m) { __atomic_fetch_and(w, ~m, __ATOMIC_SEQ_CST); }

// A frame the guest shares with us (Xen's map_guest_page). A PV guest names it by machine
// frame; it must be the domain's and take a writable type, which keeps it from becoming a
// page table or descriptor page while we write to it. Any refusal is -EINVAL, as on Xen.
long take_frame(Domain& d, uint64_t gfn, void*& page) {
    Mfn m(gfn);
    if (pv_mm::get_page_and_type(d, m, PageType::writable)) return -XEN_EINVAL;
    page = d.machine().map(m);
    return 0;
}

void drop_frame(Domain& d, const void* p) {
    if (p) pv_mm::put_page_and_type(d, d.machine().mfn_of(p));
}

// The guest may have unlinked the tail word (consumed it) or be masking, unmasking or clearing
// it. 1: port linked after it; 0: the tail is no longer linked (the queue ran empty); -1: the
// word changed under us (w holds its new value).
int try_link(uint32_t* word, uint32_t& w, uint32_t port) {
    if (!(w & LINKED)) return 0;
    uint32_t linked = (w & ~(BUSY | LINK_MASK)) | port;
    return __atomic_compare_exchange_n(word, &w, linked, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) ? 1 : -1;
}

// Links port after the queue's tail word if that is still linked. BUSY stops the guest from
// unmasking meanwhile, so a few retries suffice; after them Xen gives up (the event is lost
// and counted as linked), and so does Kestrel.
bool link_after(uint32_t* tail, uint32_t port) {
    uint32_t w = __atomic_load_n(tail, __ATOMIC_SEQ_CST);
    int rc = try_link(tail, w, port);
    if (rc >= 0) return rc;
    __atomic_fetch_or(tail, BUSY, __ATOMIC_SEQ_CST);
    w = __atomic_load_n(tail, __ATOMIC_SEQ_CST);
    for (int attempt = 0; attempt < 4; ++attempt) {
        rc = try_link(tail, w, port);
        if (rc == 1) return true;  // the new value has BUSY clear
        if (rc == 0) break;
    }
    clear(tail, BUSY);
    return rc != 0;
}

Vcpu& notified(Domain& d, const Channel& c) {
    Vcpu* v = d.vcpu(VcpuId(c.notify_vcpu));
    return v ? *v : *d.vcpu(VcpuId(0));
}

// Xen's evtchn_fifo_set_pending, with the event lock held.
void link_pending(Domain& d, Fifo& f, Channel& c, uint32_t port) {
    uint32_t* w = f.word(port);
    if (!w) {
        c.fifo_pending = true;  // raised again when a page covers the port
        return;
    }
    Vcpu& v = notified(d, c);
    Fifo::VcpuQueues& q = f.vcpus[v.id().raw()];
    // No control block yet: the guest cannot have unmasked the port, the event is dropped.
    if (!q.block) return;
    if (!test_and_set(w, PENDING)) wake_pollers(d, port);
    if (test(w, MASKED) || test_and_set(w, LINKED)) return;

    // The port was last linked on another queue, of which it may still be the tail: that
    // queue is empty now, and must not link anything after it.
    uint32_t& old_tail = f.vcpus[c.last_vcpu].tail[c.last_priority];
    if (old_tail == port) old_tail = 0;
    const unsigned prio = c.priority;
    c.last_vcpu = uint16_t(v.id().raw());
    c.last_priority = uint8_t(prio);

    uint32_t& tail = q.tail[prio];
    bool linked = tail && link_after(f.word(tail), port);
    if (!linked) __atomic_store_n(&q.block->head[prio], port, __ATOMIC_SEQ_CST);
    tail = port;
    // A queue that was empty is newly ready: that, and only that, raises the upcall.
    if (!linked && !test_and_set(&q.block->ready, bit(prio))) mark_pending(v);
}

unsigned fifo_frames() { return 1u << MachineMemory::order_for(sizeof(Fifo)); }

// Ports bound under 2-level keep working: their pending bit is carried over (raised once a
// page of the array covers them) and they move to the default priority.
void convert_ports(Domain& d) {
    uint32_t end = d.events().valid_ports();
    if (end > TWO_LEVEL_PORTS) end = TWO_LEVEL_PORTS;
    const xen_ulong_t* pending = d.shared()->evtchn_pending;
    for (uint32_t port = 1; port < end; ++port) {
        Channel& c = *d.channel(port);
        if (__atomic_load_n(&pending[port / 64], __ATOMIC_SEQ_CST) & (xen_ulong_t{1} << (port % 64)))
            c.fifo_pending = true;
        c.priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
    }
}

long map_control_block(Domain& d, Fifo& f, unsigned vcpu, uint64_t gfn, uint32_t offset) {
    Fifo::VcpuQueues& q = f.vcpus[vcpu];
    if (q.block) return -XEN_EINVAL;  // already initialised
    void* page;
    if (long rc = take_frame(d, gfn, page)) return rc;
    q.block = reinterpret_cast<evtchn_fifo_control_block*>(static_cast<uint8_t*>(page) + offset);
    return 0;
}

}  // namespace

namespace fifo {

long init_control(Vcpu& caller, evtchn_init_control& ic) {
    Domain& d = caller.domain();
    ic.link_bits = EVTCHN_FIFO_LINK_BITS;
    Vcpu* v = d.vcpu(VcpuId(ic.vcpu));
    if (!v) return -XEN_ENOENT;
    if (ic.offset > PAGE_SIZE - sizeof(evtchn_fifo_control_block)) return -XEN_EINVAL;  // crosses the page
    if (ic.offset % 8) return -XEN_EINVAL;

    EventChannels& ev = d.events();
    // The state a first control block needs, allocated without the lock; given back if the
    // domain turns out to have it already, or on failure.
    Fifo* fresh = ev.fifo() ? nullptr : d.machine().create<Fifo>();
    long rc = 0;
    {
        EventLock lock(ev);
        if (Fifo* f = ev.fifo()) {
            rc = map_control_block(d, *f, v->id().raw(), ic.control_gfn, ic.offset);
        } else if (!fresh) {
            rc = -XEN_ENOMEM;
        } else if (!(rc = map_control_block(d, *fresh, v->id().raw(), ic.control_gfn, ic.offset))) {
            // The first control block switches the domain to FIFO, with an empty event array.
            ev.count_frames(fifo_frames());
            ev.set_fifo(fresh);
            convert_ports(d);
            fresh = nullptr;
        }
    }
    if (fresh) d.machine().destroy(fresh);
    return rc;
}

long expand_array(Vcpu& caller, uint64_t gfn) {
    Domain& d = caller.domain();
    EventChannels& ev = d.events();
    EventLock lock(ev);
    Fifo* f = ev.fifo();
    if (!f) return -XEN_EOPNOTSUPP;
    const uint32_t first = f->nr_words_;
    const uint32_t slot = first / Fifo::WORDS_PER_PAGE;
    if (slot >= Fifo::MAX_PAGES) return -XEN_ENOSPC;
    void* page;
    if (long rc = take_frame(d, gfn, page)) return rc;
    f->pages[slot] = static_cast<uint32_t*>(page);
    // Ordering: release pairs with the acquire in Fifo::word: the page is seen before its ports.
    __atomic_store_n(&f->nr_words_, first + Fifo::WORDS_PER_PAGE, __ATOMIC_RELEASE);

    // Events raised while their word had no page are delivered now.
    uint32_t end = first + Fifo::WORDS_PER_PAGE;
    if (end > ev.valid_ports()) end = ev.valid_ports();
    for (uint32_t port = first; port < end; ++port) {
        Channel& c = *d.channel(port);
        if (!c.fifo_pending) continue;
        c.fifo_pending = false;
        link_pending(d, *f, c, port);
    }
    return 0;
}

void set_pending(Domain& d, uint32_t port) {
    EventLock lock(d.events());
    Fifo* f = d.events().fifo();
    if (Channel* c = d.channel(port); f && c) link_pending(d, *f, *c, port);
}

void clear_pending(Domain& d, uint32_t port) {
    EventLock lock(d.events());
    Fifo* f = d.events().fifo();
    // The guest unlinks (and skips) ports that are no longer pending: no need to unlink here.
    if (uint32_t* w = f ? f->word(port) : nullptr) clear(w, PENDING);
}

void unmask(Domain& d, uint32_t port) {
    EventLock lock(d.events());
    Fifo* f = d.events().fifo();
    Channel* c = d.channel(port);
    uint32_t* w = f && c ? f->word(port) : nullptr;
    if (!w) return;
    clear(w, MASKED);
    if (test(w, PENDING)) link_pending(d, *f, *c, port);
}

bool is_pending(const Domain& d, uint32_t port) {
    EventLock lock(d.events());
    const Fifo* f = d.events().fifo();
    const uint32_t* w = f ? f->word(port) : nullptr;
    return w && test(w, PENDING);
}

bool is_busy(const Fifo& f, uint32_t port) {
    const uint32_t* w = f.word(port);
    return w && test(w, LINKED);
}

void bind(Channel& c) { c.priority = EVTCHN_FIFO_PRIORITY_DEFAULT; }

void destroy(Domain& d) {
    EventChannels& ev = d.events();
    Fifo* f;
    {
        EventLock lock(ev);
        f = ev.fifo();
        ev.set_fifo(nullptr);
    }
    if (!f) return;
    for (auto& q : f->vcpus) drop_frame(d, q.block);
    for (uint32_t i = 0; i < f->nr_words_ / Fifo::WORDS_PER_PAGE; ++i) drop_frame(d, f->pages[i]);
    d.machine().destroy(f);
    ev.count_frames(-int64_t(fifo_frames()));
}

}  // namespace fifo
}  // namespace events
