// Event channels on the host: the port state machine (free, unbound, interdomain, virq, ipi,
// reserved port 0), ownership and error numbers of every operation, and the 2-level delivery
// rules (pending, mask, selector and upcall bits; the event callback queued only when events
// are unmasked).
#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include <cstring>
#include <initializer_list>

#include "event_channel.hpp"
#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80200000;

class Events : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(ARG, 64);
    }
    template <typename T>
    long op(Vcpu& v, int cmd, T& arg) { return call_struct(v, __HYPERVISOR_event_channel_op, cmd, arg, *buf); }
    template <typename T>
    long op(int cmd, T& arg) { return op(*v0, cmd, arg); }

    uint32_t unbound(domid_t remote = DOMID_SELF) {
        evtchn_alloc_unbound a{DOMID_SELF, remote, 0};
        EXPECT_EQ(op(EVTCHNOP_alloc_unbound, a), 0);
        return a.port;
    }
    bool pending(uint32_t p) { return events::is_pending(*dom, p); }

    std::unique_ptr<GuestBuffer> buf;
};

TEST_F(Events, LoopbackConnectionNotifiesTheOtherEnd) {
    uint32_t a = unbound();
    EXPECT_NE(a, 0u);  // port 0 is reserved
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    EXPECT_TRUE(pending(b.local_port));  // conservatively pending after the connection
    events::clear_pending(*dom, b.local_port);
    v0->info()->evtchn_upcall_pending = 0;
    v0->info()->evtchn_pending_sel = 0;
    evtchn_send s{b.local_port};
    EXPECT_EQ(op(EVTCHNOP_send, s), 0);
    EXPECT_TRUE(pending(a));
    EXPECT_EQ(v0->info()->evtchn_upcall_pending, 1u);
    EXPECT_EQ(v0->info()->evtchn_pending_sel, 1ull << (a / 64));
}

TEST_F(Events, TheUpcallWaitsForUnmaskedEventsAndACallback) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    EXPECT_FALSE(events::queue_upcall(*v0));  // events masked (a new vCPU's state)
    v0->info()->evtchn_upcall_mask = 0;
    EXPECT_FALSE(events::queue_upcall(*v0));  // no event callback registered
    v0->callbacks[CALLBACKTYPE_event] = GuestCallback{0xffffffff80001000, 0};
    EXPECT_TRUE(events::queue_upcall(*v0));
    EXPECT_EQ(v0->bounce.address, 0xffffffff80001000u);
    EXPECT_TRUE(v0->bounce.mask_events);
}

TEST_F(Events, AMaskedPortRaisesNoUpcallUntilUnmasked) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    v0->info()->evtchn_upcall_pending = 0;
    v0->info()->evtchn_pending_sel = 0;
    dom->shared()->evtchn_mask[0] |= 1ull << a;
    evtchn_send s{b.local_port};
    ASSERT_EQ(op(EVTCHNOP_send, s), 0);
    EXPECT_TRUE(pending(a));
    EXPECT_EQ(v0->info()->evtchn_upcall_pending, 0u);
    evtchn_unmask u{a};
    ASSERT_EQ(op(EVTCHNOP_unmask, u), 0);
    EXPECT_EQ(dom->shared()->evtchn_mask[0] & (1ull << a), 0u);
    EXPECT_EQ(v0->info()->evtchn_upcall_pending, 1u);
}

TEST_F(Events, ClosingOneEndUnbindsTheOther) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    evtchn_close c{a};
    ASSERT_EQ(op(EVTCHNOP_close, c), 0);
    evtchn_status st{DOMID_SELF, b.local_port, 0, 0, {}};
    ASSERT_EQ(op(EVTCHNOP_status, st), 0);
    EXPECT_EQ(st.status, uint32_t(EVTCHNSTAT_unbound));
    EXPECT_EQ(st.u.unbound.dom, dom->id().raw());
    st = evtchn_status{DOMID_SELF, a, 0, 0, {}};
    ASSERT_EQ(op(EVTCHNOP_status, st), 0);
    EXPECT_EQ(st.status, uint32_t(EVTCHNSTAT_closed));
    EXPECT_FALSE(pending(a));
    EXPECT_EQ(op(EVTCHNOP_close, c), -XEN_EINVAL);
}

TEST_F(Events, BindingErrors) {
    uint32_t a = unbound(7);  // only domain 7 may connect
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    EXPECT_EQ(op(EVTCHNOP_bind_interdomain, b), -XEN_EINVAL);
    b.remote_port = 999;  // not an unbound port
    EXPECT_EQ(op(EVTCHNOP_bind_interdomain, b), -XEN_EINVAL);
    b.remote_port = 5000;  // beyond every port
    EXPECT_EQ(op(EVTCHNOP_bind_interdomain, b), -XEN_EINVAL);
    b.remote_dom = 42;  // no such domain
    EXPECT_EQ(op(EVTCHNOP_bind_interdomain, b), -XEN_ESRCH);
    evtchn_alloc_unbound other{42, DOMID_SELF, 0};
    EXPECT_EQ(op(EVTCHNOP_alloc_unbound, other), -XEN_ESRCH);
}

TEST_F(Events, AnotherDomainsPortsNeedPrivilege) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {dom, d0};
    evtchn_alloc_unbound a{0, DOMID_SELF, 0};  // for dom0, asked by domain 1
    EXPECT_EQ(op(EVTCHNOP_alloc_unbound, a), -XEN_EPERM);
    evtchn_status st{0, 1, 0, 0, {}};
    EXPECT_EQ(op(EVTCHNOP_status, st), -XEN_EPERM);
    // The control domain may allocate a port in domain 1 for domain 1's peer.
    evtchn_alloc_unbound for_one{1, 0, 0};
    EXPECT_EQ(op(*d0->vcpu(VcpuId(0)), EVTCHNOP_alloc_unbound, for_one), 0);
    EXPECT_EQ(dom->channel(for_one.port)->state, ChannelState::unbound);
    // Domain 1 connects to it from its side: the port was allocated for dom0 to bind.
    evtchn_bind_interdomain b{1, for_one.port, 0};
    EXPECT_EQ(op(*d0->vcpu(VcpuId(0)), EVTCHNOP_bind_interdomain, b), 0);
    EXPECT_EQ(dom->channel(for_one.port)->state, ChannelState::interdomain);
    evtchn_send s{b.local_port};
    EXPECT_EQ(op(*d0->vcpu(VcpuId(0)), EVTCHNOP_send, s), 0);
    EXPECT_TRUE(pending(for_one.port));
}

TEST_F(Events, VirqBindings) {
    evtchn_bind_virq v{VIRQ_TIMER, 1, 0};  // per vCPU: any vCPU
    ASSERT_EQ(op(EVTCHNOP_bind_virq, v), 0);
    EXPECT_EQ(v1->virq_port[VIRQ_TIMER], v.port);
    EXPECT_EQ(op(EVTCHNOP_bind_virq, v), -XEN_EEXIST);
    events::send_virq(*dom, VIRQ_TIMER, 1);
    EXPECT_TRUE(pending(v.port));
    EXPECT_EQ(v1->info()->evtchn_upcall_pending, 1u);
    evtchn_bind_virq g{VIRQ_CONSOLE, 1, 0};  // global: vCPU 0 only
    EXPECT_EQ(op(EVTCHNOP_bind_virq, g), -XEN_EINVAL);
    g.virq = 24;
    EXPECT_EQ(op(EVTCHNOP_bind_virq, g), -XEN_EINVAL);
    g = evtchn_bind_virq{VIRQ_DEBUG, 9, 0};
    EXPECT_EQ(op(EVTCHNOP_bind_virq, g), -XEN_ENOENT);
    evtchn_send s{v.port};
    EXPECT_EQ(op(EVTCHNOP_send, s), -XEN_EINVAL);  // the hypervisor raises VIRQs
    evtchn_bind_vcpu bv{v.port, 0};
    EXPECT_EQ(op(EVTCHNOP_bind_vcpu, bv), -XEN_EINVAL);  // a per-vCPU VIRQ stays where it is
    evtchn_close c{v.port};
    ASSERT_EQ(op(EVTCHNOP_close, c), 0);
    EXPECT_EQ(v1->virq_port[VIRQ_TIMER], 0u);
}

TEST_F(Events, IpiAndBindVcpu) {
    evtchn_bind_ipi i{1, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_ipi, i), 0);
    evtchn_send s{i.port};
    ASSERT_EQ(op(EVTCHNOP_send, s), 0);
    EXPECT_EQ(v1->info()->evtchn_upcall_pending, 1u);  // the vCPU it was bound for
    EXPECT_EQ(v0->info()->evtchn_upcall_pending, 0u);
    i.vcpu = 5;
    EXPECT_EQ(op(EVTCHNOP_bind_ipi, i), -XEN_ENOENT);
    uint32_t u = unbound();
    evtchn_bind_vcpu bv{u, 1};
    EXPECT_EQ(op(EVTCHNOP_bind_vcpu, bv), 0);
    EXPECT_EQ(dom->channel(u)->notify_vcpu, 1u);
    bv.vcpu = 7;
    EXPECT_EQ(op(EVTCHNOP_bind_vcpu, bv), -XEN_ENOENT);
}

TEST_F(Events, PortErrorsAndUnsupportedOps) {
    evtchn_close c{0};
    EXPECT_EQ(op(EVTCHNOP_close, c), -XEN_EINVAL);  // reserved
    c.port = 100;
    EXPECT_EQ(op(EVTCHNOP_close, c), -XEN_EINVAL);  // free
    evtchn_send s{100};
    EXPECT_EQ(op(EVTCHNOP_send, s), -XEN_EINVAL);
    s.port = 4096;
    EXPECT_EQ(op(EVTCHNOP_send, s), -XEN_EINVAL);
    evtchn_unmask u{4096};
    EXPECT_EQ(op(EVTCHNOP_unmask, u), -XEN_EINVAL);
    uint32_t unb = unbound();
    s.port = unb;
    EXPECT_EQ(op(EVTCHNOP_send, s), 0);  // unbound: dropped
    EXPECT_FALSE(pending(unb));
    uint64_t any = 0;
    evtchn_bind_pirq bp{1, 0, 0};
    EXPECT_EQ(op(EVTCHNOP_bind_pirq, bp), -XEN_EPERM);  // no line behind it (physdev_op_test.cpp)
    EXPECT_EQ(op(EVTCHNOP_reset_cont + 1, any), -XEN_ENOSYS);
    EXPECT_EQ(op(99, any), -XEN_ENOSYS);
    EXPECT_EQ(call(__HYPERVISOR_event_channel_op, EVTCHNOP_send, 0x1000), -XEN_EFAULT);
}

TEST_F(Events, PortsRunOutAtTheDomainsLimit) {
    // A domain other than the control domain has xl's max_evtchn_port, 1023.
    for (uint32_t i = 1; i <= events::DOMU_MAX_PORT; ++i) ASSERT_EQ(unbound(), i);
    evtchn_alloc_unbound a{DOMID_SELF, DOMID_SELF, 0};
    EXPECT_EQ(op(EVTCHNOP_alloc_unbound, a), -XEN_ENOSPC);
    EXPECT_EQ(dom->events().valid_ports(), 1024u);
    // Closing one makes it the next one handed out.
    evtchn_close c{500};
    ASSERT_EQ(op(EVTCHNOP_close, c), 0);
    EXPECT_EQ(unbound(), 500u);
}

TEST_F(Events, TheControlDomainHasTheWhole2LevelRange) {
    Domain* d0 = make_dom0();
    Vcpu& v = *d0->vcpu(VcpuId(0));
    evtchn_alloc_unbound a{DOMID_SELF, DOMID_SELF, 0};
    for (uint32_t i = 1; i < events::TWO_LEVEL_PORTS; ++i) {
        a = evtchn_alloc_unbound{DOMID_SELF, DOMID_SELF, 0};
        ASSERT_EQ(op(v, EVTCHNOP_alloc_unbound, a), 0);
        ASSERT_EQ(a.port, i);
    }
    EXPECT_EQ(op(v, EVTCHNOP_alloc_unbound, a), -XEN_ENOSPC);  // 4096 ports: 64 x 64 bits
}

TEST_F(Events, PortsBecomeValidInStepsOf64) {
    // As Xen's valid_evtchns: a new domain has ports 0..63; a port past them is not one.
    EXPECT_EQ(dom->events().valid_ports(), 64u);
    evtchn_status st{DOMID_SELF, 64, 0, 0, {}};
    EXPECT_EQ(op(EVTCHNOP_status, st), -XEN_EINVAL);
    st.port = 63;
    ASSERT_EQ(op(EVTCHNOP_status, st), 0);
    EXPECT_EQ(st.status, uint32_t(EVTCHNSTAT_closed));
    for (uint32_t i = 1; i <= 64; ++i) unbound();
    EXPECT_EQ(dom->events().valid_ports(), 128u);
    st.port = 127;
    EXPECT_EQ(op(EVTCHNOP_status, st), 0);
    evtchn_unmask u{127};
    EXPECT_EQ(op(EVTCHNOP_unmask, u), 0);  // valid, not bound: nothing to do
    u.port = 128;
    EXPECT_EQ(op(EVTCHNOP_unmask, u), -XEN_EINVAL);
}

TEST_F(Events, ResetClosesEveryPort) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    evtchn_bind_virq vq{VIRQ_TIMER, 1, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_virq, vq), 0);
    evtchn_reset r{DOMID_SELF};
    ASSERT_EQ(op(EVTCHNOP_reset, r), 0);
    for (uint32_t p : {a, b.local_port, vq.port}) {
        EXPECT_EQ(dom->channel(p)->state, ChannelState::free) << p;
        EXPECT_FALSE(pending(p)) << p;
    }
    EXPECT_EQ(dom->channel(0)->state, ChannelState::reserved);
    EXPECT_EQ(v1->virq_port[VIRQ_TIMER], 0u);
    EXPECT_EQ(unbound(), 1u);
    // A continuation with no reset under way.
    EXPECT_EQ(op(EVTCHNOP_reset_cont, r), -XEN_EBUSY);
    r.dom = dom->id().raw();  // its own id works as DOMID_SELF
    EXPECT_EQ(op(EVTCHNOP_reset, r), 0);
    EXPECT_EQ(dom->channel(1)->state, ChannelState::free);
}

TEST_F(Events, ResetOfAnotherDomain) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {dom, d0};
    evtchn_reset r{0};
    EXPECT_EQ(op(EVTCHNOP_reset, r), -XEN_EPERM);  // domain 1 may not reset dom0
    r.dom = 42;
    EXPECT_EQ(op(EVTCHNOP_reset, r), -XEN_ESRCH);
    uint32_t a = unbound();
    Vcpu& v = *d0->vcpu(VcpuId(0));
    r.dom = 1;
    EXPECT_EQ(op(v, EVTCHNOP_reset, r), -XEN_EINVAL);  // only while the domain is paused
    EXPECT_EQ(dom->channel(a)->state, ChannelState::unbound);
    dom->pause();
    EXPECT_EQ(op(v, EVTCHNOP_reset, r), 0);
    EXPECT_EQ(dom->channel(a)->state, ChannelState::free);
    dom->unpause();
    EXPECT_EQ(call(__HYPERVISOR_event_channel_op, EVTCHNOP_reset, 0x1000), -XEN_EFAULT);
}

TEST_F(Events, ResetUnbindsTheOtherEndInAnotherDomain) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {dom, d0};
    Vcpu& v = *d0->vcpu(VcpuId(0));
    evtchn_alloc_unbound a{DOMID_SELF, 1, 0};  // dom0's port for domain 1
    ASSERT_EQ(op(v, EVTCHNOP_alloc_unbound, a), 0);
    evtchn_bind_interdomain b{0, a.port, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    evtchn_reset r{DOMID_SELF};
    ASSERT_EQ(op(EVTCHNOP_reset, r), 0);
    EXPECT_EQ(d0->channel(a.port)->state, ChannelState::unbound);
    EXPECT_EQ(d0->channel(a.port)->remote_dom, 1u);
}

TEST_F(Events, ResetContContinuesFromWhereAResetStopped) {
    for (int i = 0; i < 6; ++i) unbound();  // ports 1-6
    dom->events().reset_next = 4;           // a reset under way, stopped before port 4
    evtchn_reset r{DOMID_SELF};
    EXPECT_EQ(op(EVTCHNOP_reset, r), -XEN_EBUSY);  // a second reset meanwhile
    EXPECT_EQ(dom->channel(5)->state, ChannelState::unbound);
    ASSERT_EQ(op(EVTCHNOP_reset_cont, r), 0);
    EXPECT_EQ(dom->channel(3)->state, ChannelState::unbound);  // before the cursor: kept
    for (uint32_t p = 4; p <= 6; ++p) EXPECT_EQ(dom->channel(p)->state, ChannelState::free) << p;
    EXPECT_EQ(dom->events().reset_next, 0u);
    EXPECT_EQ(op(EVTCHNOP_reset_cont, r), -XEN_EBUSY);
}

// SCHEDOP_poll with the port list at LIST: blocks v0 until one of them is pending.
class EventsPoll : public Events {
protected:
    static constexpr uint64_t LIST = 0xffffffff80300000;
    void SetUp() override {
        Events::SetUp();
        list = std::make_unique<GuestBuffer>(LIST, 16);
        v0->state = VcpuState::running;
    }
    long poll(std::initializer_list<uint32_t> ports) {
        uint32_t i = 0;
        for (uint32_t p : ports) list->at<uint32_t>(LIST + 4 * i++) = p;
        sched_poll sp{};
        uint64_t at = LIST;
        std::memcpy(&sp.ports, &at, sizeof at);
        sp.nr_ports = i;
        buf->put(ARG, &sp, sizeof sp);
        return call(*v0, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG);
    }
    std::unique_ptr<GuestBuffer> list;
};

TEST_F(EventsPoll, APortThatBecomesPendingWakesItsPollerEvenMasked) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    dom->shared()->evtchn_mask[0] |= 1ull << a;
    v0->info()->evtchn_upcall_pending = 0;  // the connection's own event, taken
    ASSERT_EQ(poll({a}), 0);
    EXPECT_EQ(v0->state, VcpuState::blocked);
    evtchn_send s{b.local_port};
    ASSERT_EQ(op(*v1, EVTCHNOP_send, s), 0);  // masked: no upcall, but the poller wakes
    EXPECT_EQ(v0->info()->evtchn_upcall_pending, 0u);
    EXPECT_EQ(v0->state, VcpuState::runnable);
}

TEST_F(EventsPoll, OnlyThePolledPortWakesASinglePortPoll) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    evtchn_bind_ipi ipi{0, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_ipi, ipi), 0);
    dom->shared()->evtchn_mask[0] |= (1ull << a) | (1ull << ipi.port);
    ASSERT_EQ(poll({ipi.port}), 0);
    evtchn_send s{b.local_port};
    ASSERT_EQ(op(*v1, EVTCHNOP_send, s), 0);
    EXPECT_EQ(v0->state, VcpuState::blocked);  // a is not the port it waits on
    s.port = ipi.port;
    ASSERT_EQ(op(*v1, EVTCHNOP_send, s), 0);
    EXPECT_EQ(v0->state, VcpuState::runnable);
    // Several ports: any of the domain's wakes it.
    v0->state = VcpuState::running;
    events::clear_pending(*dom, a);
    events::clear_pending(*dom, ipi.port);
    ASSERT_EQ(poll({ipi.port, a}), 0);
    s.port = b.local_port;
    ASSERT_EQ(op(*v1, EVTCHNOP_send, s), 0);
    EXPECT_EQ(v0->state, VcpuState::runnable);
}

TEST_F(EventsPoll, APollThatReturnsAtOnceLeavesNoWaiter) {
    uint32_t a = unbound();
    evtchn_bind_interdomain b{DOMID_SELF, a, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
    ASSERT_EQ(poll({b.local_port}), 0);  // pending from the connection: returns at once
    EXPECT_NE(v0->state, VcpuState::blocked);  // blocked for the check, and at once woken
    EXPECT_FALSE(v0->polling);
    EXPECT_EQ(poll({a, 0x7fffffff}), -XEN_EINVAL);
    EXPECT_FALSE(v0->polling);
}

}  // namespace
