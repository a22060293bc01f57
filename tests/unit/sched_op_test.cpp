// sched_op, as Xen 4.17's do_sched_op (common/sched/core.c) and domain_shutdown
// (common/domain.c): yield, block with events re-enabled first, shutdown with the reason's
// low 8 bits, shutdown_code recorded for a later shutdown (the first one sticks),
// remote_shutdown for the control domain only (-ESRCH before -EPERM), -EFAULT for unreadable
// arguments with nothing changed; poll with Xen's argument checks in Xen's order.
#include <xen/event_channel.h>
#include <xen/sched.h>

#include <cstring>

#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

class SchedOp : public PvTest {
protected:
    static constexpr uint64_t ARG = 0xffffffff84000000;
    void SetUp() override {
        PvTest::SetUp();
        arg = std::make_unique<GuestBuffer>(ARG, 64);
        v0->state = VcpuState::running;
    }
    long op(Vcpu& v, int cmd, uint64_t a = ARG) { return call(v, __HYPERVISOR_sched_op, uint64_t(uint32_t(cmd)), a); }
    long shutdown_with(Vcpu& v, int cmd, uint32_t reason) {
        arg->at<sched_shutdown>(ARG).reason = reason;
        return op(v, cmd);
    }
    long remote(Vcpu& v, uint16_t domid, uint32_t reason) {
        auto& rs = arg->at<sched_remote_shutdown>(ARG);
        rs.domain_id = domid;
        rs.reason = reason;
        return op(v, SCHEDOP_remote_shutdown);
    }
    std::unique_ptr<GuestBuffer> arg;
};

TEST_F(SchedOp, YieldKeepsTheVcpuRunnable) {
    EXPECT_EQ(op(*v0, SCHEDOP_yield, 0), 0);
    EXPECT_TRUE(fake_pv::happened("yield"));
    EXPECT_EQ(v0->state, VcpuState::running);
}

TEST_F(SchedOp, BlockUnmasksEventsAndBlocks) {
    v0->info()->evtchn_upcall_mask = 1;
    v0->info()->evtchn_upcall_pending = 0;
    EXPECT_EQ(op(*v0, SCHEDOP_block, 0), 0);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0);
    EXPECT_TRUE(fake_pv::happened("block"));
    EXPECT_EQ(v0->state, VcpuState::blocked);
}

TEST_F(SchedOp, BlockWithAnEventPendingReturnsAtOnce) {
    v0->info()->evtchn_upcall_mask = 1;
    v0->info()->evtchn_upcall_pending = 1;
    EXPECT_EQ(op(*v0, SCHEDOP_block, 0), 0);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0);
    // Blocked, then woken at once by the pending flag it checks after blocking.
    EXPECT_TRUE(fake_pv::happened("block"));
    EXPECT_NE(v0->state, VcpuState::blocked);
}

TEST_F(SchedOp, BlockTouchesOnlyTheCallersVcpuInfo) {
    v1->info()->evtchn_upcall_mask = 1;
    EXPECT_EQ(op(*v0, SCHEDOP_block, 0), 0);
    EXPECT_EQ(v1->info()->evtchn_upcall_mask, 1);
}

TEST_F(SchedOp, ShutdownStopsTheDomainWithItsReason) {
    EXPECT_EQ(shutdown_with(*v1, SCHEDOP_shutdown, SHUTDOWN_reboot), 0);
    EXPECT_EQ(dom->state(), DomainState::shutdown);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::reboot);
    EXPECT_TRUE(fake_pv::happened("shutdown d1 1"));
    EXPECT_EQ(v0->state, VcpuState::dead);
    EXPECT_EQ(v1->state, VcpuState::dead);
}

TEST_F(SchedOp, ShutdownReasonIsCutTo8Bits) {
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown, 0x104), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::watchdog);
}

TEST_F(SchedOp, UnknownShutdownReasonsPassThrough) {
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown, 200), 0);
    EXPECT_EQ(dom->state(), DomainState::shutdown);
    EXPECT_EQ(dom->shutdown_reason(), 200);
}

TEST_F(SchedOp, SecondShutdownKeepsTheFirstReason) {
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown, SHUTDOWN_suspend), 0);
    EXPECT_EQ(shutdown_with(*v1, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::suspend);
}

TEST_F(SchedOp, ShutdownWithUnreadableArgumentIsEfault) {
    EXPECT_EQ(op(*v0, SCHEDOP_shutdown, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(op(*v0, SCHEDOP_shutdown, ARG + 62), -XEN_EFAULT) << "runs off the mapping";
    EXPECT_EQ(op(*v0, SCHEDOP_shutdown, HOLE_START), -XEN_EFAULT);
    EXPECT_EQ(dom->state(), DomainState::running);
    EXPECT_TRUE(fake_pv::record().events.empty());
}

TEST_F(SchedOp, ShutdownCodeIsReportedByALaterShutdown) {
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown_code, SHUTDOWN_crash), 0);
    EXPECT_EQ(dom->state(), DomainState::running) << "recording the code does not stop the domain";
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::crash);
}

TEST_F(SchedOp, FirstShutdownCodeSticks) {
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown_code, SHUTDOWN_suspend), 0);
    EXPECT_EQ(shutdown_with(*v1, SCHEDOP_shutdown_code, SHUTDOWN_reboot), 0);
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown, SHUTDOWN_poweroff), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::suspend);
}

TEST_F(SchedOp, ShutdownCodeWithUnreadableArgumentIsEfault) {
    EXPECT_EQ(op(*v0, SCHEDOP_shutdown_code, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_FALSE(dom->has_shutdown_code());
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown, SHUTDOWN_reboot), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::reboot);
}

TEST_F(SchedOp, ControlDomainShutsAnotherDomainDown) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {d0, dom};
    EXPECT_EQ(remote(*d0->vcpu(VcpuId(0)), 1, SHUTDOWN_poweroff), 0);
    EXPECT_EQ(dom->state(), DomainState::shutdown);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::poweroff);
    EXPECT_EQ(d0->state(), DomainState::running);
    EXPECT_TRUE(fake_pv::happened("shutdown d1 0"));
}

TEST_F(SchedOp, RemoteShutdownReasonIsCutTo8Bits) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {d0, dom};
    EXPECT_EQ(remote(*d0->vcpu(VcpuId(0)), 1, 0x102), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::suspend);
}

TEST_F(SchedOp, RemoteShutdownHonoursTheTargetsShutdownCode) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {d0, dom};
    EXPECT_EQ(shutdown_with(*v0, SCHEDOP_shutdown_code, SHUTDOWN_crash), 0);
    EXPECT_EQ(remote(*d0->vcpu(VcpuId(0)), 1, SHUTDOWN_poweroff), 0);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::crash);
}

TEST_F(SchedOp, RemoteShutdownOfAnUnknownDomainIsEsrch) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {d0, dom};
    EXPECT_EQ(remote(*d0->vcpu(VcpuId(0)), 7, SHUTDOWN_poweroff), -XEN_ESRCH);
    EXPECT_EQ(remote(*v0, 7, SHUTDOWN_poweroff), -XEN_ESRCH) << "the lookup comes before the permission check";
}

TEST_F(SchedOp, RemoteShutdownFromAnOrdinaryDomainIsEperm) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {d0, dom};
    EXPECT_EQ(remote(*v0, 0, SHUTDOWN_poweroff), -XEN_EPERM);
    EXPECT_EQ(remote(*v0, 1, SHUTDOWN_poweroff), -XEN_EPERM) << "itself included";
    EXPECT_EQ(d0->state(), DomainState::running);
    EXPECT_EQ(dom->state(), DomainState::running);
}

TEST_F(SchedOp, RemoteShutdownWithUnreadableArgumentIsEfault) {
    Domain* d0 = make_dom0();
    fake_pv::record().domains = {d0, dom};
    EXPECT_EQ(op(*d0->vcpu(VcpuId(0)), SCHEDOP_remote_shutdown, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(dom->state(), DomainState::running);
}

// ---- SCHEDOP_poll ------------------------------------------------------------------------

class SchedPoll : public SchedOp {
protected:
    static constexpr uint64_t PORTS = 0xffffffff85000000;
    void SetUp() override {
        SchedOp::SetUp();
        ports = std::make_unique<GuestBuffer>(PORTS, 128 * sizeof(evtchn_port_t));
        v0->info()->evtchn_upcall_pending = 0;
        v0->info()->evtchn_upcall_mask = 0;
    }
    long poll(uint64_t list, uint32_t nr, uint64_t timeout = 0) {
        sched_poll& sp = arg->at<sched_poll>(ARG);
        std::memset(&sp, 0, sizeof sp);
        std::memcpy(&sp.ports, &list, sizeof list);
        sp.nr_ports = nr;
        sp.timeout = timeout;
        return op(*v0, SCHEDOP_poll);
    }
    bool blocked() const { return v0->state == VcpuState::blocked; }
    std::unique_ptr<GuestBuffer> ports;
};

TEST_F(SchedPoll, NoPortsBlocksUntilAnEvent) {
    EXPECT_EQ(poll(0, 0), 0);
    EXPECT_TRUE(fake_pv::happened("block"));
    EXPECT_TRUE(blocked());
}

TEST_F(SchedPoll, TimeoutIsAnAbsoluteDeadline) {
    EXPECT_EQ(poll(0, 0, 123456789), 0);
    EXPECT_TRUE(fake_pv::happened("block until 123456789"));
    EXPECT_FALSE(fake_pv::happened("block"));
}

TEST_F(SchedPoll, PendingUnmaskedEventReturnsAtOnce) {
    v0->info()->evtchn_upcall_pending = 1;
    ports->at<evtchn_port_t>(PORTS) = 100000;  // would be -EINVAL if it were looked at
    EXPECT_EQ(poll(PORTS, 1), 0);
    EXPECT_FALSE(blocked());
    EXPECT_EQ(v0->state, VcpuState::runnable);  // blocked for the check, and at once woken
}

TEST_F(SchedPoll, MaskedPendingEventDoesNotEndThePoll) {
    v0->info()->evtchn_upcall_pending = 1;
    v0->info()->evtchn_upcall_mask = 1;
    EXPECT_EQ(poll(0, 0), 0);
    EXPECT_TRUE(blocked());
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1) << "unlike block, poll leaves the mask alone";
}

TEST_F(SchedPoll, MoreThan128PortsIsEinval) {
    EXPECT_EQ(poll(PORTS, 129), -XEN_EINVAL);
    EXPECT_EQ(poll(HOLE_START, 0xffffffff), -XEN_EINVAL) << "the count is checked before the list";
    EXPECT_FALSE(blocked());
}

TEST_F(SchedPoll, PortListOutsideGuestSpaceIsEfault) {
    EXPECT_EQ(poll(HOLE_START, 1), -XEN_EFAULT);
    EXPECT_EQ(poll(0x00007ffffffffffc, 2), -XEN_EFAULT) << "runs into the non-canonical gap";
    EXPECT_EQ(poll(0xfffffffffffffffc, 2), -XEN_EFAULT) << "wraps";
    EXPECT_FALSE(blocked());
}

TEST_F(SchedPoll, UnreadablePortListIsEfault) {
    EXPECT_EQ(poll(0xffffffff86000000, 1), -XEN_EFAULT);
    GuestBuffer half(0xffffffff87000000, 2);
    EXPECT_EQ(poll(0xffffffff87000000, 1), -XEN_EFAULT) << "half a port mapped";
    EXPECT_FALSE(blocked());
}

TEST_F(SchedPoll, UnboundPortInTheFirstBucketIsPolledNotRefused) {
    // Xen's evtchn_port_poll refuses only ports at or above the domain's valid_evtchns (one
    // bucket from domain creation on); port 0 is always valid, reads as not pending, and
    // the poll blocks. The same makes a later unreadable entry -EFAULT, not -EINVAL.
    ports->at<evtchn_port_t>(PORTS) = 0;
    EXPECT_EQ(poll(PORTS, 1), 0);
    EXPECT_TRUE(blocked());
    v0->state = VcpuState::running;
    EXPECT_EQ(poll(PORTS + 128 * 4 - 4, 2), -XEN_EFAULT) << "second port unmapped";
}

TEST_F(SchedPoll, PortBeyondTheDomainsPortsIsEinval) {
    ports->at<evtchn_port_t>(PORTS) = 0x7fffffff;
    EXPECT_EQ(poll(PORTS, 1), -XEN_EINVAL);
    EXPECT_FALSE(blocked());
}

TEST_F(SchedPoll, UnreadableArgumentIsEfault) {
    EXPECT_EQ(op(*v0, SCHEDOP_poll, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(op(*v0, SCHEDOP_poll, ARG + 64 - 16), -XEN_EFAULT);
    EXPECT_FALSE(blocked());
}

TEST_F(SchedOp, UnknownCommandsAreEnosys) {
    for (int cmd : {8, 100, -1}) EXPECT_EQ(op(*v0, cmd), -XEN_ENOSYS) << cmd;
    EXPECT_EQ(dom->state(), DomainState::running);
}

TEST_F(SchedOp, CommandIsAnInt) {
    EXPECT_EQ(call(*v0, __HYPERVISOR_sched_op, (uint64_t{1} << 32) | SCHEDOP_yield, 0), 0);
    EXPECT_TRUE(fake_pv::happened("yield"));
}

}  // namespace

namespace {

using pv_test::PvTest;

class TimerOp : public PvTest {};

TEST_F(TimerOp, SetsCancelsAndClampsHugeTimeouts) {
    fake_pv::record().now_ns = 5'000'000'000;
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 5'010'000'000), 0);
    EXPECT_TRUE(fake_pv::happened("timer 5010000000"));
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 0), 0);
    EXPECT_TRUE(fake_pv::happened("timer stop"));
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 1'000), 0);  // in the past: fires at once
    EXPECT_TRUE(fake_pv::happened("timer 1000"));
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, uint64_t(-5)), 0);  // wrapped negative: 100 ms
    EXPECT_TRUE(fake_pv::happened("timer 5100000000"));
    fake_pv::reset();
    fake_pv::record().now_ns = 5'000'000'000;
    EXPECT_EQ(call(__HYPERVISOR_set_timer_op, 5'000'000'000 + (uint64_t{1} << 51)), 0);  // > 2^50 ns ahead
    EXPECT_TRUE(fake_pv::happened("timer 5100000000"));
}

}  // namespace
