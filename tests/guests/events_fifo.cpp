// events_fifo: the FIFO event channel ABI, as Linux's events_fifo.c drives it, and
// EVTCHNOP_reset back to 2-level.
//   - init_control's checks (vCPU, offset past the page or unaligned, a frame that cannot be
//     taken writable) and -EOPNOTSUPP / -ENOSYS for the FIFO-only ops while still 2-level;
//   - the switch: a port pending under 2-level is carried over and linked once an array page
//     covers it; a second init_control for the vCPU is -EINVAL;
//   - delivery: a pending, unmasked port is linked at the tail of its priority's queue (link
//     field of the previous tail, or the queue's head in the control block when the queue was
//     empty), the queue's `ready` bit and the upcall come with the first event only, and the
//     event callback runs as with 2-level; a masked port waits for EVTCHNOP_unmask; priorities
//     pick the queue; SCHEDOP_poll sees a FIFO-pending port, and a masked port that becomes
//     pending ends a poll on it;
//   - expand_array up to 128 pages (-ENOSPC after), and ports past the 2-level 4096;
//   - EVTCHNOP_reset: every port closed, back to 2-level, FIFO can start again.
#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/events.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"


namespace {

constexpr std::uint32_t PENDING = 1u << EVTCHN_FIFO_PENDING;
constexpr std::uint32_t MASKED = 1u << EVTCHN_FIFO_MASKED;
constexpr std::uint32_t LINKED = 1u << EVTCHN_FIFO_LINKED;
constexpr unsigned DEFAULT_Q = EVTCHN_FIFO_PRIORITY_DEFAULT;

// The control block's page and two event array pages (ports 0-2047), plus a spare page that
// backs the rest of the array when it is filled to the limit.
alignas(4096) std::uint8_t control_page[4096];
alignas(4096) std::uint32_t array_pages[2][1024];
alignas(4096) std::uint32_t spare_page[1024];

long evtchn(int cmd, void* arg) { return kt::evtchn_op(cmd, arg); }

evtchn_fifo_control_block_t* control() { return reinterpret_cast<evtchn_fifo_control_block_t*>(control_page); }
volatile std::uint32_t& word(evtchn_port_t p) { return array_pages[p / 1024][p % 1024]; }
void mask(evtchn_port_t p) { __atomic_fetch_or(&array_pages[p / 1024][p % 1024], MASKED, __ATOMIC_SEQ_CST); }
std::uint32_t link(evtchn_port_t p) { return word(p) & EVTCHN_FIFO_LINK_MASK; }
volatile std::uint32_t& head(unsigned q) { return control()->head[q]; }
volatile std::uint32_t& ready() { return control()->ready; }

long init_control(std::uint64_t gfn, std::uint32_t offset, std::uint32_t vcpu, std::uint8_t* link_bits = nullptr)
{
    evtchn_init_control_t ic{};
    ic.control_gfn = gfn;
    ic.offset = offset;
    ic.vcpu = vcpu;
    long rc = evtchn(EVTCHNOP_init_control, &ic);
    if (link_bits) *link_bits = ic.link_bits;
    return rc;
}

long expand(const void* page)
{
    evtchn_expand_array_t e{};
    e.array_gfn = kt::virt_to_mfn(page);
    return evtchn(EVTCHNOP_expand_array, &e);
}

long set_priority(evtchn_port_t port, std::uint32_t prio)
{
    evtchn_set_priority_t p{};
    p.port = port;
    p.priority = prio;
    return evtchn(EVTCHNOP_set_priority, &p);
}

long send(evtchn_port_t port)
{
    evtchn_send_t s{port};
    return evtchn(EVTCHNOP_send, &s);
}

evtchn_port_t unbound()
{
    evtchn_alloc_unbound_t a{};
    a.dom = DOMID_SELF;
    a.remote_dom = DOMID_SELF;
    long rc = evtchn(EVTCHNOP_alloc_unbound, &a);
    return rc == 0 ? a.port : 0;
}

// A loopback pair: sending on `from` makes `to` pending; `from` starts pending.
void pair(evtchn_port_t& to, evtchn_port_t& from)
{
    to = unbound();
    evtchn_bind_interdomain_t b{};
    b.remote_dom = DOMID_SELF;
    b.remote_port = to;
    from = evtchn(EVTCHNOP_bind_interdomain, &b) == 0 ? b.local_port : 0;
}

std::uint32_t status(evtchn_port_t port)
{
    evtchn_status_t st{};
    st.dom = DOMID_SELF;
    st.port = port;
    return evtchn(EVTCHNOP_status, &st) == 0 ? st.status : 0xffffffffu;
}

// Linux's consumer: take the ready bits, walk each ready queue from its head clearing LINKED
// (and PENDING, as the handler would). Returns how many ports it saw; `order` gets them.
unsigned consume(evtchn_port_t* order = nullptr, unsigned max = 0)
{
    unsigned n = 0;
    std::uint32_t r = __atomic_exchange_n(&control()->ready, 0u, __ATOMIC_SEQ_CST);
    for (unsigned q = 0; q < EVTCHN_FIFO_MAX_QUEUES; ++q) {
        if (!(r & (1u << q))) continue;
        for (evtchn_port_t p = head(q); p;) {
            evtchn_port_t next = link(p);
            __atomic_fetch_and(&array_pages[p / 1024][p % 1024], ~(LINKED | EVTCHN_FIFO_LINK_MASK | PENDING),
                               __ATOMIC_SEQ_CST);
            if (order && n < max) order[n] = p;
            ++n;
            p = next;
        }
    }
    kt::vcpu0()->evtchn_upcall_pending = 0;
    return n;
}

evtchn_port_t old_a, old_b;  // bound while still 2-level
evtchn_port_t a, b;          // a second pair, bound under FIFO

} // namespace

TEST(fifo_ops_before_init_control)
{
    EXPECT_EQ(expand(array_pages[0]), -XEN_EOPNOTSUPP);
    pair(old_a, old_b);
    ASSERT_NE(old_b, 0u);
    EXPECT_EQ(set_priority(old_a, 1), -XEN_ENOSYS);  // 2-level has no priorities
    EXPECT_EQ(set_priority(0x7fffffff, 1), -XEN_EINVAL);  // not a port: checked first
    // old_b starts pending (a new connection), in shared_info.
    EXPECT_NE(kt::shared_info()->evtchn_pending[0] & (1ull << old_b), 0u);
}

TEST(init_control_checks)
{
    std::uint64_t gfn = kt::virt_to_mfn(control_page);
    EXPECT_EQ(init_control(gfn, 4, 1000), -XEN_ENOENT);  // the vCPU is checked first
    EXPECT_EQ(init_control(gfn, 4096 - sizeof(evtchn_fifo_control_block_t) + 8, 0), -XEN_EINVAL);
    EXPECT_EQ(init_control(gfn, 0xfffffff8, 0), -XEN_EINVAL);
    EXPECT_EQ(init_control(gfn, 4, 0), -XEN_EINVAL);  // not 8-byte aligned
    // A page table cannot become a control block; nor can a frame that does not exist.
    EXPECT_EQ(init_control(kt::virt_to_mfn(kt::read_only_page()), 0, 0), -XEN_EINVAL);
    EXPECT_EQ(init_control(1ull << 40, 0, 0), -XEN_EINVAL);
    for (const auto& bp : kt::bad_pointers)
        EXPECT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_init_control, bp.address), -XEN_EFAULT);
    EXPECT_EQ(expand(array_pages[0]), -XEN_EOPNOTSUPP);  // still 2-level
}

TEST(init_control_switches_to_fifo)
{
    ASSERT_TRUE(kt::install_counting_event_callback());
    kt::vcpu0()->evtchn_upcall_pending = 0;

    std::uint8_t bits = 0;
    ASSERT_EQ(init_control(kt::virt_to_mfn(control_page), 0, 0, &bits), 0);
    EXPECT_EQ(bits, static_cast<std::uint8_t>(EVTCHN_FIFO_LINK_BITS));
    EXPECT_EQ(init_control(kt::virt_to_mfn(control_page), 0, 0), -XEN_EINVAL);  // initialised already
    // No array page yet: old_b's pending state waits for one.
    EXPECT_EQ(ready(), 0u);
    ASSERT_EQ(expand(array_pages[0]), 0);
    EXPECT_EQ(word(old_b), PENDING | LINKED);
    EXPECT_EQ(head(DEFAULT_Q), old_b);
    EXPECT_EQ(ready(), 1u << DEFAULT_Q);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 1u);
    EXPECT_EQ(consume(), 1u);
    // The 2-level pair still works.
    ASSERT_EQ(send(old_b), 0);
    EXPECT_EQ(word(old_a), PENDING | LINKED);
    EXPECT_EQ(head(DEFAULT_Q), old_a);
    EXPECT_EQ(consume(), 1u);
}

TEST(events_go_to_the_tail_of_their_queue)
{
    pair(a, b);  // b pending: alone on the default queue, which raises the upcall
    ASSERT_NE(b, 0u);
    EXPECT_EQ(head(DEFAULT_Q), b);
    EXPECT_EQ(ready(), 1u << DEFAULT_Q);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 1u);
    kt_event_count = 0;
    kt::deliver_events();  // the upcall is the same event callback as with 2-level
    EXPECT_EQ(kt_event_count, 1u);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);  // the callback cleared it
    ASSERT_EQ(send(b), 0);    // a after b: the queue was not empty, no new upcall
    ASSERT_EQ(send(old_b), 0);  // old_a after a
    EXPECT_EQ(link(b), a);
    EXPECT_EQ(link(a), old_a);
    EXPECT_EQ(link(old_a), 0u);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);
    evtchn_port_t order[4] = {};
    EXPECT_EQ(consume(order, 4), 3u);
    EXPECT_EQ(order[0], b);
    EXPECT_EQ(order[1], a);
    EXPECT_EQ(order[2], old_a);
    // The queue ran empty: the next event is a new head and raises the upcall again.
    ASSERT_EQ(send(a), 0);
    EXPECT_EQ(head(DEFAULT_Q), b);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 1u);
    consume();
}

TEST(priorities_pick_the_queue)
{
    EXPECT_EQ(set_priority(a, EVTCHN_FIFO_PRIORITY_MIN + 1), -XEN_EINVAL);
    EXPECT_EQ(set_priority(0x7fffffff, 1), -XEN_EINVAL);
    ASSERT_EQ(set_priority(a, 2), 0);
    ASSERT_EQ(set_priority(old_a, 12), 0);
    ASSERT_EQ(send(old_b), 0);
    ASSERT_EQ(send(a), 0);  // b: the default queue
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(head(2), a);
    EXPECT_EQ(head(12), old_a);
    EXPECT_EQ(head(DEFAULT_Q), b);
    EXPECT_EQ(ready(), (1u << 2) | (1u << DEFAULT_Q) | (1u << 12));
    evtchn_port_t order[4] = {};
    EXPECT_EQ(consume(order, 4), 3u);  // highest priority (lowest number) first
    EXPECT_EQ(order[0], a);
    EXPECT_EQ(order[1], b);
    EXPECT_EQ(order[2], old_a);
    ASSERT_EQ(set_priority(a, DEFAULT_Q), 0);
    ASSERT_EQ(set_priority(old_a, DEFAULT_Q), 0);
}

TEST(a_masked_port_waits_for_unmask)
{
    mask(a);
    kt::vcpu0()->evtchn_upcall_pending = 0;
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(word(a), MASKED | PENDING);
    EXPECT_EQ(ready(), 0u);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);

    // SCHEDOP_poll sees it pending: it returns before reaching the bad second port.
    evtchn_port_t ports[2] = {a, 0x7fffffff};
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, ports);
    p.nr_ports = 2;
    EXPECT_EQ(kt::sched_op(SCHEDOP_poll, &p), 0);
    ports[0] = b;  // not pending
    EXPECT_EQ(kt::sched_op(SCHEDOP_poll, &p), -XEN_EINVAL);

    evtchn_unmask_t u{a};
    ASSERT_EQ(evtchn(EVTCHNOP_unmask, &u), 0);
    EXPECT_EQ(word(a), PENDING | LINKED);
    EXPECT_EQ(head(DEFAULT_Q), a);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 1u);
    EXPECT_EQ(consume(), 1u);
    // Unmasking a port that is not pending only clears its mask.
    mask(a);
    ASSERT_EQ(evtchn(EVTCHNOP_unmask, &u), 0);
    EXPECT_EQ(word(a), 0u);
    EXPECT_EQ(ready(), 0u);
}

// A masked FIFO port that becomes pending ends a poll on it (VIRQ_TIMER from a 10 ms timer),
// without being linked or raising the upcall.
TEST(a_masked_port_ends_a_poll)
{
    evtchn_bind_virq_t v{};
    v.virq = VIRQ_TIMER;
    v.vcpu = 0;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_virq, &v), 0);
    ASSERT_LT(v.port, 1024u);
    mask(v.port);
    kt::vcpu0()->evtchn_upcall_pending = 0;
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_set_timer_op, kt::system_time_ns() + 10'000'000), 0);
    const std::uint64_t took = kt::poll_port_for(v.port, 5'000'000'000ull);
    kt::print("events_fifo: poll on a masked port ended after {} ns\n", took);
    EXPECT_EQ(word(v.port) & (PENDING | LINKED), PENDING);
    EXPECT_LT(took, 2'000'000'000u);
    EXPECT_EQ(ready(), 0u);
    evtchn_close_t c{v.port};
    EXPECT_EQ(evtchn(EVTCHNOP_close, &c), 0);
    word(v.port) = 0;
}

TEST(the_array_grows_to_its_limit_and_ports_past_2_level)
{
    ASSERT_EQ(expand(array_pages[1]), 0);
    EXPECT_EQ(expand(kt::read_only_page()), -XEN_EINVAL);  // a page table
    // 128 pages in all; the rest share one spare page (no port there is used for events).
    for (unsigned i = 2; i < 128; ++i) ASSERT_EQ(expand(spare_page), 0);
    EXPECT_EQ(expand(spare_page), -XEN_ENOSPC);
    evtchn_expand_array_t e{};
    e.array_gfn = 1ull << 40;
    EXPECT_EQ(evtchn(EVTCHNOP_expand_array, &e), -XEN_ENOSPC);  // the limit is checked first
    for (const auto& bp : kt::bad_pointers)
        EXPECT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_expand_array, bp.address), -XEN_EFAULT);

    // The control domain has no port limit of its own: FIFO takes it past 4096.
    evtchn_port_t last = 0;
    for (;;) {
        evtchn_port_t p = unbound();
        if (!p) break;
        last = p;
        if (p >= EVTCHN_2L_NR_CHANNELS) break;
    }
    EXPECT_EQ(last, static_cast<evtchn_port_t>(EVTCHN_2L_NR_CHANNELS));
    EXPECT_EQ(status(last), static_cast<std::uint32_t>(EVTCHNSTAT_unbound));
}

TEST(reset_closes_every_port_and_returns_to_two_level)
{
    evtchn_reset_t r{};
    r.dom = 0x1234;
    EXPECT_EQ(evtchn(EVTCHNOP_reset, &r), -XEN_ESRCH);
    r.dom = DOMID_SELF;
    EXPECT_EQ(evtchn(EVTCHNOP_reset_cont, &r), -XEN_EBUSY);  // no reset under way
    for (const auto& bp : kt::bad_pointers)
        EXPECT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_reset, bp.address), -XEN_EFAULT);
    ASSERT_EQ(evtchn(EVTCHNOP_reset, &r), 0);
    EXPECT_EQ(status(a), static_cast<std::uint32_t>(EVTCHNSTAT_closed));
    EXPECT_EQ(status(old_b), static_cast<std::uint32_t>(EVTCHNSTAT_closed));
    EXPECT_EQ(status(EVTCHN_2L_NR_CHANNELS), static_cast<std::uint32_t>(EVTCHNSTAT_closed));
    EXPECT_EQ(expand(array_pages[0]), -XEN_EOPNOTSUPP);
    EXPECT_EQ(set_priority(1, 1), -XEN_ENOSYS);
    EXPECT_EQ(unbound(), 1u);  // the lowest port again

    // 2-level delivery: the new connection's port is pending in shared_info.
    evtchn_port_t x, y;
    kt::shared_info()->evtchn_pending[0] = 0;  // bits left from before FIFO
    pair(x, y);
    ASSERT_NE(y, 0u);
    EXPECT_NE(kt::shared_info()->evtchn_pending[y / 64] & (1ull << (y % 64)), 0u);
    // And FIFO can be set up again.
    for (auto& w : array_pages[0]) w = 0;
    ASSERT_EQ(init_control(kt::virt_to_mfn(control_page), 8, 0), 0);
    ASSERT_EQ(evtchn(EVTCHNOP_reset, &r), 0);
}
