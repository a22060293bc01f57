// domctl, as Xen 4.17's do_domctl (common/domctl.c) with the dummy XSM policy, sched_adjust
// (common/sched/core.c) and csched2_dom_cntl (common/sched/credit2.c): -EFAULT for an
// unreadable argument, -EACCES for another interface version, -ESRCH for an unknown target
// (looked up before the caller's privilege is checked, except for the commands that need no
// target), -EPERM for any caller but the control domain; XEN_DOMCTL_scheduler_op for credit2
// only (-EINVAL for another scheduler or a per-vCPU command), putinfo's weight 0 keeping the
// weight, cap 0 removing the cap, a cap above 100 per vCPU -EINVAL after the weight is set; the
// whole argument written back (-EFAULT if it cannot be); other commands -ENOSYS.
#include <xen/domctl.h>

#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint32_t PAUSEDOMAIN = 3;  // XEN_DOMCTL_pausedomain: not implemented yet

class Domctl : public PvTest {
protected:
    static constexpr uint64_t ARG = 0xffffffff84000000;
    void SetUp() override {
        PvTest::SetUp();
        dom0 = make_dom0();
        fake_pv::record().domains = {dom0, dom};
        arg = std::make_unique<GuestBuffer>(ARG, sizeof(xen_domctl));
    }
    xen_domctl& op() { return arg->at<xen_domctl>(ARG); }
    // Prepares a scheduler_op for domain `target`.
    void sched_op(uint16_t target, uint32_t cmd, uint16_t weight = 0, uint16_t cap = 0,
                  uint32_t sched_id = XEN_SCHEDULER_CREDIT2) {
        op() = xen_domctl{};
        op().cmd = XEN_DOMCTL_scheduler_op;
        op().interface_version = XEN_DOMCTL_INTERFACE_VERSION;
        op().domain = target;
        op().u.scheduler_op.sched_id = sched_id;
        op().u.scheduler_op.cmd = cmd;
        op().u.scheduler_op.u.credit2.weight = weight;
        op().u.scheduler_op.u.credit2.cap = cap;
    }
    void command(uint32_t cmd, uint16_t target) {
        op() = xen_domctl{};
        op().cmd = cmd;
        op().interface_version = XEN_DOMCTL_INTERFACE_VERSION;
        op().domain = target;
    }
    long domctl(Vcpu& caller, uint64_t a = ARG) { return call(caller, __HYPERVISOR_domctl, a); }
    long from_dom0() { return domctl(*dom0->vcpu(VcpuId(0))); }
    const xen_domctl_sched_credit2& credit2() { return op().u.scheduler_op.u.credit2; }

    Domain* dom0 = nullptr;
    std::unique_ptr<GuestBuffer> arg;
};

TEST_F(Domctl, IsInTheHypercallTable) { EXPECT_EQ(hypercall::handler(__HYPERVISOR_domctl), &do_domctl); }

TEST_F(Domctl, GetinfoReportsCredit2Defaults) {
    sched_op(1, XEN_DOMCTL_SCHEDOP_getinfo, 7, 7);
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(credit2().weight, 256);
    EXPECT_EQ(credit2().cap, 0);
    EXPECT_EQ(op().u.scheduler_op.sched_id, uint32_t(XEN_SCHEDULER_CREDIT2)) << "the rest is written back as read";
    EXPECT_EQ(op().u.scheduler_op.cmd, uint32_t(XEN_DOMCTL_SCHEDOP_getinfo));
    EXPECT_EQ(op().domain, 1);
}

TEST_F(Domctl, TheControlDomainMayAskAboutItself) {
    sched_op(0, XEN_DOMCTL_SCHEDOP_getinfo);
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(credit2().weight, 256);
}

TEST_F(Domctl, PutinfoSetsWeightAndCap) {
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 512, 50);
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_TRUE(fake_pv::happened("weight d1 512"));
    EXPECT_TRUE(fake_pv::happened("cap d1 50"));
    sched_op(1, XEN_DOMCTL_SCHEDOP_getinfo);
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(credit2().weight, 512);
    EXPECT_EQ(credit2().cap, 50);
}

TEST_F(Domctl, TheWholeWeightRangeIsTaken) {
    for (uint16_t w : {uint16_t(1), uint16_t(65535)}) {
        sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, w, 0);
        EXPECT_EQ(from_dom0(), 0);
        EXPECT_EQ(dom->sched().weight, w);
    }
}

TEST_F(Domctl, WeightZeroKeepsTheWeightAndCapZeroRemovesTheCap) {
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 300, 20);
    ASSERT_EQ(from_dom0(), 0);
    fake_pv::record().events.clear();
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 0, 0);
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_FALSE(fake_pv::happened("weight d1 0"));
    EXPECT_EQ(dom->sched().weight, 300);
    EXPECT_TRUE(fake_pv::happened("cap d1 0"));
    EXPECT_EQ(dom->sched().cap, 0);
}

TEST_F(Domctl, CapsUpTo100PerVcpu) {
    // dom has two vCPUs: 200 is both of them.
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 0, 200);
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(dom->sched().cap, 200);
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 0, 201);
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    EXPECT_EQ(dom->sched().cap, 200) << "a refused cap changes no cap";
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 0, 65535);
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
}

TEST_F(Domctl, ARefusedCapStillSetsTheWeightAsXenDoes) {
    sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 1000, 201);
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    EXPECT_EQ(dom->sched().weight, 1000);
    EXPECT_EQ(dom->sched().cap, 0);
    EXPECT_FALSE(fake_pv::happened("cap d1 201"));
}

TEST_F(Domctl, AnotherSchedulerIsEinval) {
    for (uint32_t id : {uint32_t(XEN_SCHEDULER_CREDIT), uint32_t(XEN_SCHEDULER_RTDS), uint32_t(XEN_SCHEDULER_NULL), 0u}) {
        sched_op(1, XEN_DOMCTL_SCHEDOP_putinfo, 512, 0, id);
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << id;
    }
    EXPECT_EQ(dom->sched().weight, 256);
    EXPECT_TRUE(fake_pv::record().events.empty());
}

TEST_F(Domctl, PerVcpuAndUnknownSchedopsAreEinval) {
    for (uint32_t cmd : {uint32_t(XEN_DOMCTL_SCHEDOP_putvcpuinfo), uint32_t(XEN_DOMCTL_SCHEDOP_getvcpuinfo), 4u, ~0u}) {
        sched_op(1, cmd, 512, 10);
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << cmd;
    }
    EXPECT_EQ(dom->sched().weight, 256);
    EXPECT_EQ(dom->sched().cap, 0);
}

TEST_F(Domctl, OnlyTheControlDomainMayCall) {
    sched_op(1, XEN_DOMCTL_SCHEDOP_getinfo);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
    sched_op(0, XEN_DOMCTL_SCHEDOP_putinfo, 1, 0);
    EXPECT_EQ(domctl(*v1), -XEN_EPERM);
    EXPECT_EQ(dom0->sched().weight, 256);
    command(XEN_DOMCTL_createdomain, 0);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM) << "no target to look up, still privileged";
}

TEST_F(Domctl, TheTargetIsLookedUpBeforeThePrivilegeCheck) {
    sched_op(5, XEN_DOMCTL_SCHEDOP_getinfo);
    EXPECT_EQ(domctl(*v0), -XEN_ESRCH);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH);
    sched_op(DOMID_SELF, XEN_DOMCTL_SCHEDOP_getinfo);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH) << "domctl has no DOMID_SELF";
}

TEST_F(Domctl, TheInterfaceVersionIsCheckedFirst) {
    for (uint32_t version : {0u, uint32_t(XEN_DOMCTL_INTERFACE_VERSION - 1), uint32_t(XEN_DOMCTL_INTERFACE_VERSION + 1)}) {
        sched_op(5, XEN_DOMCTL_SCHEDOP_getinfo);
        op().interface_version = version;
        EXPECT_EQ(domctl(*v0), -XEN_EACCES) << version;
        EXPECT_EQ(from_dom0(), -XEN_EACCES) << version;
    }
}

TEST_F(Domctl, AnUnreadableArgumentIsEfault) {
    EXPECT_EQ(domctl(*dom0->vcpu(VcpuId(0)), 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(domctl(*dom0->vcpu(VcpuId(0)), ARG + 8), -XEN_EFAULT) << "runs off the mapping";
    EXPECT_EQ(domctl(*dom0->vcpu(VcpuId(0)), HOLE_START), -XEN_EFAULT);
    EXPECT_EQ(domctl(*v0, 0), -XEN_EFAULT);
}

TEST_F(Domctl, AnArgumentThatCannotBeWrittenBackIsEfaultAfterTheChange) {
    constexpr uint64_t RO = 0xffffffff85000000;
    GuestBuffer ro(RO, sizeof(xen_domctl), false);
    xen_domctl& o = ro.at<xen_domctl>(RO);
    o.cmd = XEN_DOMCTL_scheduler_op;
    o.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    o.domain = 1;
    o.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT2;
    o.u.scheduler_op.cmd = XEN_DOMCTL_SCHEDOP_putinfo;
    o.u.scheduler_op.u.credit2.weight = 640;
    EXPECT_EQ(domctl(*dom0->vcpu(VcpuId(0)), RO), -XEN_EFAULT);
    EXPECT_EQ(dom->sched().weight, 640) << "Xen writes back after acting";
}

TEST_F(Domctl, OtherCommandsAreEnosysAfterTheChecks) {
    command(PAUSEDOMAIN, 1);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS);
    command(PAUSEDOMAIN, 5);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH);
    command(XEN_DOMCTL_createdomain, 5);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS) << "createdomain names no existing domain";
    command(XEN_DOMCTL_getdomaininfo, 5);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS) << "getdomaininfo looks for the next domain itself";
}

TEST_F(Domctl, DeviceCommandsTakeTheSpecialDomainIds) {
    command(XEN_DOMCTL_assign_device, DOMID_IO);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS);
    command(XEN_DOMCTL_deassign_device, DOMID_INVALID);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH);
    command(XEN_DOMCTL_test_assign_device, DOMID_INVALID);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS);
    command(XEN_DOMCTL_vm_event_op, DOMID_INVALID);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS);
    command(XEN_DOMCTL_test_assign_device, DOMID_IO);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH) << "only assign and deassign know DOMID_IO";
}

}  // namespace
