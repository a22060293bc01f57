// events: event channels with the 2-level ABI. A port connected to another port of the same
// domain (alloc_unbound + bind_interdomain to ourselves) carries a notification to the event
// callback, which runs once events are unmasked; masking a port holds its notifications until
// unmask; closing one end leaves the other unbound; IPI and VIRQ bindings; error numbers;
// a poll ended by a masked port; EVTCHNOP_reset closing every port.
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

long evtchn(int cmd, void* arg) { return kt::evtchn_op(cmd, arg); }

using kt::clear_pending;
using kt::pending;
void set_mask(evtchn_port_t p, bool on)
{
    if (on)
        kt::shared_info()->evtchn_mask[p / 64] |= 1ull << (p % 64);
    else
        kt::shared_info()->evtchn_mask[p / 64] &= ~(1ull << (p % 64));
}

void quiet()
{
    kt::vcpu0()->evtchn_upcall_pending = 0;
    kt::vcpu0()->evtchn_pending_sel = 0;
}

evtchn_port_t loop_a, loop_b;

} // namespace

TEST(a_port_connected_to_ourselves_notifies_the_callback)
{
    ASSERT_TRUE(kt::install_counting_event_callback());

    evtchn_alloc_unbound_t a{};
    a.dom = DOMID_SELF;
    a.remote_dom = DOMID_SELF;
    ASSERT_EQ(evtchn(EVTCHNOP_alloc_unbound, &a), 0);
    evtchn_bind_interdomain_t b{};
    b.remote_dom = DOMID_SELF;
    b.remote_port = a.port;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_interdomain, &b), 0);
    loop_a = a.port;
    loop_b = b.local_port;
    EXPECT_NE(loop_a, loop_b);
    EXPECT_TRUE(pending(loop_b));  // a new connection starts pending

    evtchn_status_t st{};
    st.dom = DOMID_SELF;
    st.port = loop_a;
    ASSERT_EQ(evtchn(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, static_cast<std::uint32_t>(EVTCHNSTAT_interdomain));
    EXPECT_EQ(st.u.interdomain.port, loop_b);

    clear_pending(loop_a);
    clear_pending(loop_b);
    quiet();
    kt_event_count = 0;
    evtchn_send_t s{loop_b};
    ASSERT_EQ(evtchn(EVTCHNOP_send, &s), 0);
    EXPECT_TRUE(pending(loop_a));
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 1u);
    EXPECT_EQ(kt_event_count, 0u);  // events are masked
    kt::deliver_events();
    EXPECT_EQ(kt_event_count, 1u);
    EXPECT_NE(kt::vcpu0()->evtchn_pending_sel & (1ull << (loop_a / 64)), 0u);
}

TEST(a_masked_port_waits_for_unmask)
{
    clear_pending(loop_a);
    quiet();
    set_mask(loop_a, true);
    evtchn_send_t s{loop_b};
    ASSERT_EQ(evtchn(EVTCHNOP_send, &s), 0);
    EXPECT_TRUE(pending(loop_a));
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);
    kt_event_count = 0;
    evtchn_unmask_t u{loop_a};
    ASSERT_EQ(evtchn(EVTCHNOP_unmask, &u), 0);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 1u);
    kt::deliver_events();
    EXPECT_EQ(kt_event_count, 1u);
}

TEST(closing_one_end_leaves_the_other_unbound)
{
    evtchn_close_t c{loop_a};
    ASSERT_EQ(evtchn(EVTCHNOP_close, &c), 0);
    evtchn_status_t st{};
    st.dom = DOMID_SELF;
    st.port = loop_b;
    ASSERT_EQ(evtchn(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, static_cast<std::uint32_t>(EVTCHNSTAT_unbound));
    evtchn_send_t s{loop_b};
    EXPECT_EQ(evtchn(EVTCHNOP_send, &s), 0);  // nobody listens: dropped
    c.port = loop_b;
    ASSERT_EQ(evtchn(EVTCHNOP_close, &c), 0);
    st.port = loop_b;
    ASSERT_EQ(evtchn(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, static_cast<std::uint32_t>(EVTCHNSTAT_closed));
    EXPECT_EQ(evtchn(EVTCHNOP_close, &c), -XEN_EINVAL);  // closed already
}

TEST(ipi_and_virq_bindings)
{
    evtchn_bind_ipi_t ipi{};
    ipi.vcpu = 0;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_ipi, &ipi), 0);
    clear_pending(ipi.port);
    evtchn_send_t s{ipi.port};
    EXPECT_EQ(evtchn(EVTCHNOP_send, &s), 0);
    EXPECT_TRUE(pending(ipi.port));
    evtchn_close_t c{ipi.port};
    EXPECT_EQ(evtchn(EVTCHNOP_close, &c), 0);

    evtchn_bind_virq_t v{};
    v.virq = VIRQ_DEBUG;
    v.vcpu = 0;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_virq, &v), 0);
    evtchn_bind_virq_t again = v;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &again), -XEN_EEXIST);
    evtchn_status_t st{};
    st.dom = DOMID_SELF;
    st.port = v.port;
    ASSERT_EQ(evtchn(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, static_cast<std::uint32_t>(EVTCHNSTAT_virq));
    EXPECT_EQ(st.u.virq, static_cast<std::uint32_t>(VIRQ_DEBUG));
    s.port = v.port;
    EXPECT_EQ(evtchn(EVTCHNOP_send, &s), -XEN_EINVAL);  // a VIRQ port is the hypervisor's to raise
    c.port = v.port;
    EXPECT_EQ(evtchn(EVTCHNOP_close, &c), 0);
}

TEST(error_numbers)
{
    evtchn_bind_virq_t v{};
    v.virq = 99;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &v), -XEN_EINVAL);
    v.virq = VIRQ_DOM_EXC;  // global: only on vCPU 0
    v.vcpu = 1;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &v), -XEN_EINVAL);
    v.virq = VIRQ_DEBUG;
    v.vcpu = 31;
    EXPECT_EQ(evtchn(EVTCHNOP_bind_virq, &v), -XEN_ENOENT);
    evtchn_close_t c{0};
    EXPECT_EQ(evtchn(EVTCHNOP_close, &c), -XEN_EINVAL);  // port 0 is reserved
    evtchn_send_t s{20};
    EXPECT_EQ(evtchn(EVTCHNOP_send, &s), -XEN_EINVAL);  // not bound
    evtchn_unmask_t u{100000};
    EXPECT_EQ(evtchn(EVTCHNOP_unmask, &u), -XEN_EINVAL);
    evtchn_status_t st{};
    st.dom = 0x1234;
    EXPECT_EQ(evtchn(EVTCHNOP_status, &st), -XEN_ESRCH);
    for (const auto& b : kt::bad_pointers)
        EXPECT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, b.address), -XEN_EFAULT);
}

// A poll ends when its port becomes pending even while the port is masked: VIRQ_TIMER's port,
// masked, raised by a 10 ms single-shot timer (or the default periodic one), well before the
// poll's 5 s timeout.
TEST(a_masked_port_ends_a_poll)
{
    evtchn_bind_virq_t v{};
    v.virq = VIRQ_TIMER;
    v.vcpu = 0;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_virq, &v), 0);
    set_mask(v.port, true);
    clear_pending(v.port);
    quiet();
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_set_timer_op, kt::system_time_ns() + 10'000'000), 0);
    const std::uint64_t took = kt::poll_port_for(v.port, 5'000'000'000ull);
    kt::print("events: poll on a masked port ended after {} ns\n", took);
    EXPECT_TRUE(pending(v.port));
    EXPECT_LT(took, 2'000'000'000u);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);  // masked: no upcall
    evtchn_close_t c{v.port};
    EXPECT_EQ(evtchn(EVTCHNOP_close, &c), 0);
    set_mask(v.port, false);
}

TEST(reset_closes_every_port)
{
    evtchn_bind_ipi_t ipi{};
    ipi.vcpu = 0;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_ipi, &ipi), 0);
    evtchn_alloc_unbound_t a{};
    a.dom = DOMID_SELF;
    a.remote_dom = DOMID_SELF;
    ASSERT_EQ(evtchn(EVTCHNOP_alloc_unbound, &a), 0);
    evtchn_bind_interdomain_t b{};
    b.remote_dom = DOMID_SELF;
    b.remote_port = a.port;
    ASSERT_EQ(evtchn(EVTCHNOP_bind_interdomain, &b), 0);

    evtchn_reset_t r{};
    r.dom = 0x1234;
    EXPECT_EQ(evtchn(EVTCHNOP_reset, &r), -XEN_ESRCH);
    r.dom = DOMID_SELF;
    EXPECT_EQ(evtchn(EVTCHNOP_reset_cont, &r), -XEN_EBUSY);  // no reset under way
    ASSERT_EQ(evtchn(EVTCHNOP_reset, &r), 0);
    const evtchn_port_t closed[] = {ipi.port, a.port, b.local_port};
    for (evtchn_port_t p : closed) {
        evtchn_status_t st{};
        st.dom = DOMID_SELF;
        st.port = p;
        ASSERT_EQ(evtchn(EVTCHNOP_status, &st), 0);
        EXPECT_EQ(st.status, static_cast<std::uint32_t>(EVTCHNSTAT_closed));
        EXPECT_FALSE(pending(p));  // closing clears what was pending
    }
    EXPECT_EQ(evtchn(EVTCHNOP_reset, &r), 0);  // nothing left to close
    evtchn_alloc_unbound_t again{};
    again.dom = DOMID_SELF;
    again.remote_dom = DOMID_SELF;
    ASSERT_EQ(evtchn(EVTCHNOP_alloc_unbound, &again), 0);
    EXPECT_EQ(again.port, 1u);  // the lowest port is free again
    for (const auto& bp : kt::bad_pointers)
        EXPECT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_reset, bp.address), -XEN_EFAULT);
}
