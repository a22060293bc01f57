// domctl, as Xen 4.17's do_domctl (common/domctl.c) with the dummy XSM policy, sched_adjust
// (common/sched/core.c) and csched2_dom_cntl (common/sched/credit2.c): -EFAULT for an
// unreadable argument, -EACCES for another interface version, -ESRCH for an unknown target
// (looked up before the caller's privilege is checked, except for the commands that need no
// target), -EPERM for any caller but the control domain; XEN_DOMCTL_scheduler_op for credit2
// only (-EINVAL for another scheduler or a per-vCPU command), putinfo's weight 0 keeping the
// weight, cap 0 removing the cap, a cap above 100 per vCPU -EINVAL after the weight is set; the
// whole argument written back (-EFAULT if it cannot be); other commands -ENOSYS. Then the
// commands that build and run a PV domain (createdomain, destroydomain, pause/unpause,
// getdomaininfo, max_mem, set/getvcpucontext, set/getvcpuaffinity, hypercall_init), each with
// its errors, and a whole build by the control domain through the real hypercalls.
#include <set>

#include <xen/domctl.h>
#include <xen/memory.h>

#include "pv_test_support.hpp"

#include "domain_control.hpp"
#include "memory_fakes.hpp"
#include "pv_mm.hpp"

namespace {

using namespace pv_test;

constexpr uint32_t SETDOMAINHANDLE = 17;  // XEN_DOMCTL_setdomainhandle: not implemented

class Domctl : public PvTest {
protected:
    static constexpr uint64_t ARG = 0xffffffff84000000;
    void SetUp() override {
        uint64_t n = (TestMachine::BASE / PAGE_SIZE) + machine.total_frames();
        info.resize(n);
        m2p.resize(n);
        table.init(info.data(), m2p.data(), n);
        machine.mm.set_table(&table);
        fake_memory::set(600000, Mfn(0x40000));
        PvTest::SetUp();
        dom0 = make_dom0();
        fake_pv::record().domains = {dom0, dom};
        fake_pv::record().machine = &machine.mm;
        arg = std::make_unique<GuestBuffer>(ARG, sizeof(xen_domctl));
    }
    std::vector<PageInfo> info;
    std::vector<uint64_t> m2p;
    FrameTable table;
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
    command(SETDOMAINHANDLE, 1);
    EXPECT_EQ(from_dom0(), -XEN_ENOSYS);
    command(SETDOMAINHANDLE, 5);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH);
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

// --- createdomain ----------------------------------------------------------------------------

class Toolstack : public Domctl {
protected:
    static constexpr uint64_t CTXT = 0xffffffff84100000;  // a vcpu_guest_context
    static constexpr uint64_t MAP = 0xffffffff84200000;   // CPU bitmaps
    static constexpr uint64_t MMU = 0xffffffff84300000;   // mmuext / memory_op arguments
    static constexpr uint64_t RO = 0xffffffff84400000;    // read-only
    void SetUp() override {
        Domctl::SetUp();
        ctxt_buf = std::make_unique<GuestBuffer>(CTXT, sizeof(vcpu_guest_context));
        map_buf = std::make_unique<GuestBuffer>(MAP, 64);
        mmu_buf = std::make_unique<GuestBuffer>(MMU, 2 * PAGE_SIZE);
        ro_buf = std::make_unique<GuestBuffer>(RO, PAGE_SIZE, false);
    }
    xen_domctl_createdomain& config(uint16_t id = 7) {
        command(XEN_DOMCTL_createdomain, id);
        auto& c = op().u.createdomain;
        c.max_vcpus = 2;
        c.max_evtchn_port = 1023;
        c.max_grant_frames = -1;
        c.max_maptrack_frames = -1;
        c.grant_opts = XEN_DOMCTL_GRANT_version(1);
        return c;
    }
    // Creates domain `id` with two vCPUs and makes them (XEN_DOMCTL_max_vcpus), as a toolstack does.
    Domain* create(uint16_t id = 7) {
        config(id);
        EXPECT_EQ(from_dom0(), 0);
        uint16_t made = op().domain;
        command(XEN_DOMCTL_max_vcpus, made);
        op().u.max_vcpus.max = 2;
        EXPECT_EQ(from_dom0(), 0);
        return domain_control::lookup(DomId(made));
    }
    long simple(uint32_t cmd, uint16_t id) {
        command(cmd, id);
        return from_dom0();
    }
    const xen_domctl_getdomaininfo& info(uint16_t id) {
        command(XEN_DOMCTL_getdomaininfo, id);
        EXPECT_EQ(from_dom0(), 0);
        return op().u.getdomaininfo;
    }
    Vcpu& d0v0() { return *dom0->vcpu(VcpuId(0)); }

    std::unique_ptr<GuestBuffer> ctxt_buf, map_buf, mmu_buf, ro_buf;
};

TEST_F(Toolstack, CreatesAnEmptyPausedPvDomainWithTheIdAsked) {
    uint64_t before = machine.mm.free_frames();
    auto& c = config(7);
    c.ssidref = 42;
    c.handle[0] = 0xab;
    ASSERT_EQ(from_dom0(), 0);
    EXPECT_EQ(op().domain, 7);
    EXPECT_TRUE(op().u.createdomain.flags & XEN_DOMCTL_CDF_oos_off) << "the argument comes back as Xen fixed it";
    Domain* d = domain_control::lookup(DomId(7));
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->toolstack_built());
    EXPECT_EQ(d->nr_pages(), 0u);
    EXPECT_EQ(d->max_pages(), 0u);
    EXPECT_EQ(d->nr_vcpus(), 2u);
    EXPECT_TRUE(d->paused());
    EXPECT_TRUE(d->controller_paused());
    EXPECT_FALSE(d->privileged());
    for (unsigned i = 0; i < 2; ++i) EXPECT_EQ(d->vcpu(VcpuId(i))->state, VcpuState::down);
    EXPECT_LT(machine.mm.free_frames(), before);
}

TEST_F(Toolstack, IdZeroOrReservedTakesTheNextFreeOne) {
    std::set<uint16_t> ids = {0, 1};
    for (uint16_t asked : {uint16_t(0), uint16_t(DOMID_FIRST_RESERVED), uint16_t(0xffff)}) {
        config(asked);
        ASSERT_EQ(from_dom0(), 0) << asked;
        EXPECT_GT(op().domain, 0);
        EXPECT_LT(op().domain, DOMID_FIRST_RESERVED);
        EXPECT_TRUE(ids.insert(op().domain).second) << "a new id each time: " << op().domain;
    }
}

TEST_F(Toolstack, AnIdInUseIsEexist) {
    config(1);
    EXPECT_EQ(from_dom0(), -XEN_EEXIST);
    create(9);
    config(9);
    EXPECT_EQ(from_dom0(), -XEN_EEXIST);
    config(9).flags = ~0u;
    EXPECT_EQ(from_dom0(), -XEN_EEXIST) << "the id is checked before the configuration, as Xen";
}

TEST_F(Toolstack, TheConfigurationIsCheckedAsXenDoesForPv) {
    struct Case {
        const char* what;
        void (*set)(xen_domctl_createdomain&);
        long rc;
    };
    const Case cases[] = {
        {"unknown flag", [](auto& c) { c.flags = 1u << 8; }, -XEN_EINVAL},
        {"hvm (Kestrel has none)", [](auto& c) { c.flags = XEN_DOMCTL_CDF_hvm; }, -XEN_EINVAL},
        {"hap without hvm", [](auto& c) { c.flags = XEN_DOMCTL_CDF_hap; }, -XEN_EINVAL},
        {"iommu", [](auto& c) { c.flags = XEN_DOMCTL_CDF_iommu; }, -XEN_EINVAL},
        {"iommu options", [](auto& c) { c.iommu_opts = XEN_DOMCTL_IOMMU_no_sharept; }, -XEN_EINVAL},
        {"vpmu", [](auto& c) { c.flags = XEN_DOMCTL_CDF_vpmu; }, -XEN_EINVAL},
        {"nested virt", [](auto& c) { c.flags = XEN_DOMCTL_CDF_nested_virt; }, -XEN_EINVAL},
        {"s3 integrity", [](auto& c) { c.flags = XEN_DOMCTL_CDF_s3_integrity; }, -XEN_EINVAL},
        {"no vCPU", [](auto& c) { c.max_vcpus = 0; }, -XEN_EINVAL},
        {"too many vCPUs", [](auto& c) { c.max_vcpus = Domain::MAX_VCPUS + 1; }, -XEN_EINVAL},
        {"vmtrace", [](auto& c) { c.vmtrace_size = 4096; }, -XEN_EINVAL},
        {"grant option bits", [](auto& c) { c.grant_opts = 0x11; }, -XEN_EINVAL},
        {"grant version 0", [](auto& c) { c.grant_opts = 0; }, -XEN_EINVAL},
        {"grant version 3", [](auto& c) { c.grant_opts = 3; }, -XEN_EINVAL},
        {"no grant frame", [](auto& c) { c.max_grant_frames = 0; }, -XEN_EINVAL},
        {"too many grant frames", [](auto& c) { c.max_grant_frames = 65; }, -XEN_EINVAL},
        {"too many maptrack frames", [](auto& c) { c.max_maptrack_frames = 1025; }, -XEN_EINVAL},
        {"misc flags", [](auto& c) { c.arch.misc_flags = 2; }, -XEN_EINVAL},
        {"unknown emulation bit", [](auto& c) { c.arch.emulation_flags = 1u << 11; }, -XEN_EINVAL},
        {"emulated LAPIC for PV", [](auto& c) { c.arch.emulation_flags = XEN_X86_EMU_LAPIC; }, -XEN_EOPNOTSUPP},
        {"a cpupool", [](auto& c) { c.cpupool_id = 1; }, -XEN_ESRCH},
    };
    for (const Case& k : cases) {
        k.set(config(7));
        EXPECT_EQ(from_dom0(), k.rc) << k.what;
        EXPECT_EQ(domain_control::lookup(DomId(7)), nullptr) << k.what;
    }
    for (auto set : {+[](xen_domctl_createdomain& c) { c.arch.emulation_flags = XEN_X86_EMU_PIT; },
                     +[](xen_domctl_createdomain& c) { c.grant_opts = 2; c.max_grant_frames = 64; },
                     +[](xen_domctl_createdomain& c) { c.arch.misc_flags = XEN_X86_MSR_RELAXED; c.max_vcpus = 32; }}) {
        set(config(0));
        EXPECT_EQ(from_dom0(), 0) << "accepted as on Xen";
    }
}

TEST_F(Toolstack, OnlyTheControlDomainCreates) {
    config(7);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
    EXPECT_EQ(domain_control::lookup(DomId(7)), nullptr);
}

// --- getdomaininfo ---------------------------------------------------------------------------

TEST_F(Toolstack, GetdomaininfoDescribesTheFirstDomainAtOrAboveTheId) {
    Domain* d = create(7);
    auto& i = info(2);
    EXPECT_EQ(op().domain, 7) << "op.domain names the domain found";
    EXPECT_EQ(i.domain, 7);
    EXPECT_EQ(i.flags, XEN_DOMINF_paused | 0xffu << XEN_DOMINF_shutdownshift) << "no vCPU up: neither blocked nor running";
    EXPECT_EQ(i.tot_pages, 0u);
    EXPECT_EQ(i.shared_info_frame, d->shared_info_mfn().raw());
    EXPECT_EQ(i.nr_online_vcpus, 0u);
    EXPECT_EQ(i.max_vcpu_id, 1u);
    EXPECT_EQ(i.cpupool, 0u);
    EXPECT_GE(i.gpaddr_bits, 36);
    command(XEN_DOMCTL_getdomaininfo, 8);
    EXPECT_EQ(from_dom0(), -XEN_ESRCH) << "none at or above";
    command(XEN_DOMCTL_getdomaininfo, DOMID_FIRST_RESERVED);
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    command(XEN_DOMCTL_getdomaininfo, 1);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
    EXPECT_EQ(info(0).domain, 0);
    EXPECT_EQ(info(1).domain, 1);
}

// Xen's createdomain only sets the vCPU limit; XEN_DOMCTL_max_vcpus makes them (max must equal
// that limit), and until then no vCPU domctl finds one.
TEST_F(Toolstack, VcpusExistOnlyAfterMaxVcpus) {
    config(7);
    ASSERT_EQ(from_dom0(), 0);
    EXPECT_EQ(info(7).max_vcpu_id, XEN_INVALID_MAX_VCPU_ID);
    command(XEN_DOMCTL_setvcpuaffinity, 7);
    op().u.vcpuaffinity.vcpu = 0;
    op().u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    EXPECT_EQ(from_dom0(), -XEN_ESRCH);
    command(XEN_DOMCTL_setvcpucontext, 7);
    op().u.vcpucontext.ctxt.p = reinterpret_cast<vcpu_guest_context*>(CTXT);
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    command(XEN_DOMCTL_getvcpucontext, 7);
    op().u.vcpucontext.ctxt.p = reinterpret_cast<vcpu_guest_context*>(CTXT);
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    for (uint32_t wrong : {1u, 3u}) {
        command(XEN_DOMCTL_max_vcpus, 7);
        op().u.max_vcpus.max = wrong;
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "max " << wrong << " is not createdomain's 2";
    }
    command(XEN_DOMCTL_max_vcpus, 0);
    op().u.max_vcpus.max = dom0->nr_vcpus();
    EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "not for the caller's own domain";
    for (int again = 0; again < 2; ++again) {
        command(XEN_DOMCTL_max_vcpus, 7);
        op().u.max_vcpus.max = 2;
        EXPECT_EQ(from_dom0(), 0);
    }
    EXPECT_EQ(info(7).max_vcpu_id, 1u);
    EXPECT_EQ(info(7).nr_online_vcpus, 0u) << "made, still down";
}

TEST_F(Toolstack, GetdomaininfoShowsTheConfigurationAndTheState) {
    auto& c = config(7);
    c.ssidref = 9;
    for (int k = 0; k < 16; ++k) c.handle[k] = uint8_t(k + 1);
    c.arch.emulation_flags = XEN_X86_EMU_PIT;
    c.flags = XEN_DOMCTL_CDF_xs_domain;
    ASSERT_EQ(from_dom0(), 0);
    auto& i = info(7);
    EXPECT_EQ(i.ssidref, 9u);
    EXPECT_EQ(i.handle[15], 16);
    EXPECT_EQ(i.arch_config.emulation_flags, uint32_t(XEN_X86_EMU_PIT));
    EXPECT_TRUE(i.flags & XEN_DOMINF_xs_domain);
    // dom (1) has two vCPUs: one blocked, one running.
    v0->state = VcpuState::blocked;
    v1->state = VcpuState::runnable;
    v1->on_cpu = true;
    auto& j = info(1);
    EXPECT_EQ(j.nr_online_vcpus, 2u);
    EXPECT_EQ(j.flags & (XEN_DOMINF_blocked | XEN_DOMINF_running), XEN_DOMINF_running);
    v1->state = VcpuState::blocked;
    v1->on_cpu = false;
    EXPECT_EQ(info(1).flags & (XEN_DOMINF_blocked | XEN_DOMINF_running), XEN_DOMINF_blocked);
    dom->shut_down(shutdown::reboot);
    EXPECT_EQ(info(1).flags & (XEN_DOMINF_shutdown | 0xffu << 16), XEN_DOMINF_shutdown | 1u << 16);
}

TEST_F(Toolstack, AnUnwritableArgumentIsEfault) {
    GuestBuffer ro(0xffffffff85000000, sizeof(xen_domctl), false);
    auto& o = ro.at<xen_domctl>(0xffffffff85000000);
    o.cmd = XEN_DOMCTL_getdomaininfo;
    o.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    EXPECT_EQ(domctl(d0v0(), 0xffffffff85000000), -XEN_EFAULT);
}

// --- pause, unpause, destroy -----------------------------------------------------------------

TEST_F(Toolstack, PauseCountsAsXensControllerPause) {
    Domain* d = create(7);
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain, 7), 0);
    EXPECT_FALSE(d->paused());
    EXPECT_FALSE(info(7).flags & XEN_DOMINF_paused);
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain, 7), -XEN_EINVAL) << "not paused by the toolstack";
    EXPECT_EQ(simple(XEN_DOMCTL_pausedomain, 7), 0);
    EXPECT_EQ(simple(XEN_DOMCTL_pausedomain, 7), 0);
    EXPECT_TRUE(info(7).flags & XEN_DOMINF_paused);
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain, 7), 0);
    EXPECT_TRUE(d->paused()) << "pauses nest";
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain, 7), 0);
    EXPECT_FALSE(d->paused());
    EXPECT_EQ(simple(XEN_DOMCTL_pausedomain, 0), -XEN_EINVAL) << "not oneself";
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain, 0), -XEN_EINVAL);
    EXPECT_EQ(simple(XEN_DOMCTL_pausedomain, 9), -XEN_ESRCH);
    command(XEN_DOMCTL_pausedomain, 7);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
    for (unsigned k = 0; k < 255; ++k) ASSERT_EQ(simple(XEN_DOMCTL_pausedomain, 7), 0) << k;
    EXPECT_EQ(simple(XEN_DOMCTL_pausedomain, 7), -XEN_EOVERFLOW);
    EXPECT_EQ(d->foreign_refs(), 0u) << "every command lets go of its target";
}

TEST_F(Toolstack, DestroyReturnsEveryFrame) {
    uint64_t before = machine.mm.free_frames();
    for (int round = 0; round < 20; ++round) {
        create(7);
        command(XEN_DOMCTL_max_mem, 7);
        op().u.max_mem.max_memkb = 64 * 4;
        ASSERT_EQ(from_dom0(), 0);
        ASSERT_EQ(simple(XEN_DOMCTL_destroydomain, 7), 0) << round;
        EXPECT_EQ(domain_control::lookup(DomId(7)), nullptr);
        EXPECT_EQ(machine.mm.free_frames(), before) << round;
    }
    EXPECT_EQ(simple(XEN_DOMCTL_destroydomain, 7), -XEN_ESRCH);
    EXPECT_EQ(simple(XEN_DOMCTL_destroydomain, 0), -XEN_EINVAL) << "not oneself";
    command(XEN_DOMCTL_destroydomain, 1);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
}

// --- max_mem ---------------------------------------------------------------------------------

TEST_F(Toolstack, MaxMemSetsTheLimitInPages) {
    Domain* d = create(7);
    command(XEN_DOMCTL_max_mem, 7);
    op().u.max_mem.max_memkb = 4096 + 3;  // KiB, rounded down to pages
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(d->max_pages(), 1024u);
    EXPECT_EQ(info(7).max_pages, 1024u);
    command(XEN_DOMCTL_max_mem, 7);
    op().u.max_mem.max_memkb = ~uint64_t{0};
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(d->max_pages(), 0xffffffffu) << "Xen keeps at most UINT_MAX";
    command(XEN_DOMCTL_max_mem, 1);
    op().u.max_mem.max_memkb = 4;  // below what dom holds: allowed
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(dom->max_pages(), 1u);
    EXPECT_EQ(dom->nr_pages(), 4u);
}

// --- vCPU affinity ---------------------------------------------------------------------------

TEST_F(Toolstack, HardAffinityIsSetAndWrittenBackAsXen) {
    create(7);
    auto& a = op().u.vcpuaffinity;
    command(XEN_DOMCTL_setvcpuaffinity, 7);
    a.vcpu = 1;
    a.flags = XEN_VCPUAFFINITY_HARD;
    a.cpumap_hard.bitmap.p = reinterpret_cast<uint8_t*>(MAP);
    a.cpumap_hard.nr_bits = 24;  // three bytes; Kestrel has 4 CPUs (one byte)
    map_buf->bytes[0] = 0x32;    // CPUs 1, 4, 5: only 1 is online
    map_buf->bytes[1] = 0xff;
    map_buf->bytes[2] = 0xff;
    EXPECT_EQ(from_dom0(), 0);
    Vcpu& v = *domain_control::lookup(DomId(7))->vcpu(VcpuId(1));
    EXPECT_TRUE(v.hard_affinity.test(CpuId(1)));
    EXPECT_FALSE(v.hard_affinity.test(CpuId(0)));
    EXPECT_TRUE(v.sched.allowed(CpuId(1)));
    EXPECT_FALSE(v.sched.allowed(CpuId(2)));
    EXPECT_EQ(map_buf->bytes[0], 0x02) << "the online part";
    EXPECT_EQ(map_buf->bytes[1], 0) << "the rest of the guest's buffer cleared";
    EXPECT_EQ(map_buf->bytes[2], 0);
    // get reports the mask as set, clamped to the CPU ids.
    command(XEN_DOMCTL_getvcpuaffinity, 7);
    a.vcpu = 1;
    a.flags = XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT;
    a.cpumap_hard.bitmap.p = reinterpret_cast<uint8_t*>(MAP);
    a.cpumap_hard.nr_bits = 8;
    a.cpumap_soft.bitmap.p = reinterpret_cast<uint8_t*>(MAP + 8);
    a.cpumap_soft.nr_bits = 16;
    map_buf->bytes[9] = 0x55;
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(map_buf->bytes[0], 0x02);
    EXPECT_EQ(map_buf->bytes[8], 0x0f) << "soft: all, as 4 CPU ids";
    EXPECT_EQ(map_buf->bytes[9], 0);
}

TEST_F(Toolstack, BitsPastTheGuestsNrBitsAreIgnored) {
    command(XEN_DOMCTL_setvcpuaffinity, 1);
    auto& a = op().u.vcpuaffinity;
    a.flags = XEN_VCPUAFFINITY_HARD;
    a.cpumap_hard.bitmap.p = reinterpret_cast<uint8_t*>(MAP);
    a.cpumap_hard.nr_bits = 2;
    map_buf->bytes[0] = 0x0c;  // CPUs 2 and 3, past the two bits: none online left
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    EXPECT_TRUE(v0->hard_affinity == CpuSet::all()) << "unchanged";
    map_buf->bytes[0] = 0x0e;
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_TRUE(v0->hard_affinity.test(CpuId(1)));
    EXPECT_FALSE(v0->hard_affinity.test(CpuId(2)));
    EXPECT_TRUE(fake_pv::happened("affinity d1v0 0x2"));
}

TEST_F(Toolstack, AffinityErrorsAreXens) {
    auto prepare = [&](uint32_t cmd, uint32_t vcpu, uint32_t flags, uint64_t hard, uint64_t soft) {
        command(cmd, 1);
        auto& a = op().u.vcpuaffinity;
        a.vcpu = vcpu;
        a.flags = flags;
        a.cpumap_hard.bitmap.p = reinterpret_cast<uint8_t*>(hard);
        a.cpumap_hard.nr_bits = 8;
        a.cpumap_soft.bitmap.p = reinterpret_cast<uint8_t*>(soft);
        a.cpumap_soft.nr_bits = 8;
    };
    map_buf->bytes[0] = 1;
    for (uint32_t cmd : {uint32_t(XEN_DOMCTL_setvcpuaffinity), uint32_t(XEN_DOMCTL_getvcpuaffinity)}) {
        prepare(cmd, 2, XEN_VCPUAFFINITY_HARD, MAP, MAP);
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "no vCPU 2";
        prepare(cmd, 0, 0, MAP, MAP);
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "no flag";
        prepare(cmd, 0, XEN_VCPUAFFINITY_HARD, 0, MAP);
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "null hard map";
        prepare(cmd, 0, XEN_VCPUAFFINITY_SOFT, MAP, 0);
        EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "null soft map";
        prepare(cmd, 0, XEN_VCPUAFFINITY_HARD, 0xffffffff86000000, MAP);
        EXPECT_EQ(from_dom0(), -XEN_EFAULT) << "unmapped hard map";
        prepare(cmd, 0, XEN_VCPUAFFINITY_HARD, RO, MAP);
        ro_buf->bytes[0] = 1;
        EXPECT_EQ(from_dom0(), -XEN_EFAULT) << "readable, not writable: set acts, then fails to write back (Xen too)";
        prepare(cmd, 0, XEN_VCPUAFFINITY_HARD, MAP, MAP);
        EXPECT_EQ(domctl(*v0), -XEN_EPERM);
    }
    // A soft map that cannot be read undoes the hard one.
    const CpuSet before = v0->hard_affinity;
    map_buf->bytes[0] = 0x6;
    prepare(XEN_DOMCTL_setvcpuaffinity, 0, XEN_VCPUAFFINITY_HARD | XEN_VCPUAFFINITY_SOFT, MAP, 0xffffffff86000000);
    EXPECT_EQ(from_dom0(), -XEN_EFAULT);
    EXPECT_TRUE(v0->hard_affinity == before);
    EXPECT_TRUE(v0->sched.hard == before);
}

// --- vCPU context, hypercall page and a whole build ----------------------------------------

class Build : public Toolstack {
protected:
    // Issues a hypercall from dom0 with a structure at MMU.
    template <typename T>
    long from_dom0_struct(uint64_t nr, uint64_t a0, const T& s, uint64_t a2 = 0, uint64_t a3 = 0) {
        mmu_buf->put(MMU, &s, sizeof s);
        return call(d0v0(), nr, a0, MMU, a2, a3);
    }
    // XENMEM_populate_physmap for domain `id`: frames at gpfns first..first+n-1, the machine
    // frames written back at MMU + 512.
    long populate(uint16_t id, uint64_t first, unsigned n) {
        for (unsigned i = 0; i < n; ++i) {
            uint64_t g = first + i;
            mmu_buf->put(MMU + 512 + 8 * i, &g, 8);
        }
        xen_memory_reservation r{};
        r.extent_start.p = reinterpret_cast<xen_pfn_t*>(MMU + 512);
        r.nr_extents = n;
        r.domid = id;
        mmu_buf->put(MMU, &r, sizeof r);
        return call(d0v0(), __HYPERVISOR_memory_op, XENMEM_populate_physmap, MMU);
    }
    uint64_t frame(unsigned i) { return mmu_buf->u64(MMU + 512 + 8 * i); }
    long pin_l4(uint64_t mfn, uint16_t foreign) {
        mmuext_op m{};
        m.cmd = MMUEXT_PIN_L4_TABLE;
        m.arg1.mfn = mfn;
        mmu_buf->put(MMU, &m, sizeof m);
        return call(d0v0(), __HYPERVISOR_mmuext_op, MMU, 1, 0, foreign);
    }
    vcpu_guest_context& ctxt() { return ctxt_buf->at<vcpu_guest_context>(CTXT); }
    void kernel_context(uint64_t l4) {
        ctxt() = vcpu_guest_context{};
        ctxt().flags = VGCF_in_kernel | VGCF_online;
        ctxt().user_regs.rip = 0xffffffff80001000;
        ctxt().user_regs.rsp = 0xffffffff80002000;
        ctxt().user_regs.cs = 0xe030;  // RPL 0: fixed up to 3
        ctxt().user_regs.ss = 0xe02b;
        ctxt().kernel_ss = 0xe02b;
        ctxt().kernel_sp = 0xffffffff80002000;
        ctxt().event_callback_eip = 0xffffffff80003000;
        ctxt().ctrlreg[3] = l4 << PAGE_SHIFT;
        ctxt().vm_assist = 1u << VMASST_TYPE_writable_pagetables;
    }
    long setctxt(uint16_t id, uint32_t vcpu, uint64_t handle = CTXT) {
        command(XEN_DOMCTL_setvcpucontext, id);
        op().u.vcpucontext.vcpu = vcpu;
        op().u.vcpucontext.ctxt.p = reinterpret_cast<vcpu_guest_context_t*>(handle);
        return from_dom0();
    }
    long hypercall_page(uint16_t id, uint64_t mfn) {
        command(XEN_DOMCTL_hypercall_init, id);
        op().u.hypercall_init.gmfn = mfn;
        return from_dom0();
    }
};

TEST_F(Build, AWholeBuildByTheControlDomainAndItsTeardown) {
    uint64_t before = machine.mm.free_frames();
    Domain* d = create(7);
    ASSERT_NE(d, nullptr);
    command(XEN_DOMCTL_max_mem, 7);
    op().u.max_mem.max_memkb = 8 * 4;
    ASSERT_EQ(from_dom0(), 0);
    EXPECT_EQ(populate(7, 0, 16), 8) << "max_mem holds: 8 of 16 extents";
    EXPECT_EQ(d->nr_pages(), 8u);
    for (unsigned i = 0; i < 8; ++i) {
        EXPECT_TRUE(table.owned_by(Mfn(frame(i)), DomId(7))) << i;
        EXPECT_EQ(m2p[frame(i)], i) << "the M2P entry is the gpfn given";
    }
    // Frame 0: an empty L4, pinned by the control domain for domain 7.
    const uint64_t l4 = frame(0), hc = frame(1);
    EXPECT_EQ(pin_l4(l4, 7), 0);
    EXPECT_EQ(table.info(Mfn(l4)).type, PageType::l4);
    // The hypercall page.
    EXPECT_EQ(hypercall_page(7, hc), 0);
    auto* page = static_cast<uint8_t*>(machine.mm.map(Mfn(hc)));
    EXPECT_EQ(page[32 * 1 + 0], 0x51) << "push %rcx starts each slot";
    EXPECT_EQ(hypercall_page(7, l4), -XEN_EPERM) << "a page table takes no writable type";
    EXPECT_EQ(hypercall_page(7, dom0->shared_info_mfn().raw()), -XEN_EINVAL) << "not the domain's frame";
    // vCPU 0's context: it comes up when the domain is unpaused.
    kernel_context(l4);
    ASSERT_EQ(setctxt(7, 0), 0);
    Vcpu& v = *d->vcpu(VcpuId(0));
    EXPECT_TRUE(v.initialised);
    EXPECT_EQ(v.cr3_kernel, Mfn(l4));
    EXPECT_EQ(v.regs.cs & 3, 3u);
    EXPECT_EQ(v.kernel_ss, 0xe02bu);
    EXPECT_EQ(d->vm_assist, 1u << VMASST_TYPE_writable_pagetables);
    EXPECT_TRUE(fake_pv::happened("up 0"));
    EXPECT_TRUE(fake_pv::happened("pause d7"));
    EXPECT_TRUE(d->paused()) << "still the toolstack's pause";
    EXPECT_EQ(simple(XEN_DOMCTL_unpausedomain, 7), 0);
    EXPECT_FALSE(d->paused());
    EXPECT_EQ(v.state, VcpuState::runnable);
    // Its context reads back.
    command(XEN_DOMCTL_getvcpucontext, 7);
    op().u.vcpucontext.vcpu = 0;
    op().u.vcpucontext.ctxt.p = reinterpret_cast<vcpu_guest_context_t*>(CTXT);
    ctxt() = vcpu_guest_context{};
    EXPECT_EQ(from_dom0(), 0);
    EXPECT_EQ(ctxt().ctrlreg[3], l4 << PAGE_SHIFT);
    EXPECT_EQ(ctxt().user_regs.rip, 0xffffffff80001000u);
    EXPECT_EQ(ctxt().flags & (VGCF_online | VGCF_in_kernel), uint64_t(VGCF_online | VGCF_in_kernel));
    EXPECT_EQ(ctxt().event_callback_eip, 0xffffffff80003000u);
    // Shut down, it stays until destroyed.
    d->shut_down(shutdown::poweroff);
    EXPECT_TRUE(info(7).flags & XEN_DOMINF_shutdown);
    EXPECT_EQ(simple(XEN_DOMCTL_destroydomain, 7), 0);
    EXPECT_EQ(domain_control::lookup(DomId(7)), nullptr);
    EXPECT_EQ(machine.mm.free_frames(), before) << "every frame back";
}

TEST_F(Build, SetvcpucontextChecks) {
    Domain* d = create(7);
    command(XEN_DOMCTL_max_mem, 7);
    op().u.max_mem.max_memkb = 16;
    ASSERT_EQ(from_dom0(), 0);
    ASSERT_EQ(populate(7, 0, 4), 4);
    const uint64_t l4 = frame(0), data = frame(1);
    kernel_context(l4);
    EXPECT_EQ(setctxt(0, 1), -XEN_EINVAL) << "not the caller's own domain";
    EXPECT_EQ(setctxt(7, 2), -XEN_EINVAL) << "no such vCPU";
    EXPECT_EQ(setctxt(7, 0, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(setctxt(9, 0), -XEN_ESRCH);
    command(XEN_DOMCTL_setvcpucontext, 7);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
    ctxt().ctrlreg[3] = frame(0) + 100000;
    ctxt().ctrlreg[3] <<= PAGE_SHIFT;
    EXPECT_EQ(setctxt(7, 0), -XEN_EINVAL) << "not the domain's frame";
    ctxt().ctrlreg[3] = dom0->shared_info_mfn().raw() << PAGE_SHIFT;
    EXPECT_EQ(setctxt(7, 0), -XEN_EINVAL) << "another domain's frame";
    kernel_context(l4);
    ctxt().user_regs.rip = 0x0000800000000000;
    EXPECT_EQ(setctxt(7, 0), -XEN_EINVAL) << "non-canonical";
    kernel_context(l4);
    ctxt().vm_assist = 1u << 7;
    EXPECT_EQ(setctxt(7, 0), -XEN_EINVAL) << "unknown vm_assist for vCPU 0";
    kernel_context(l4);
    ctxt().flags = VGCF_online;
    EXPECT_EQ(setctxt(7, 0), -XEN_EINVAL) << "user mode without user tables";
    kernel_context(l4);
    ctxt().gdt_ents = 15 * 512;
    EXPECT_EQ(setctxt(7, 0), -XEN_EINVAL);
    // A root that does not validate: an L4 entry pointing at a data frame as an L3 whose
    // entries do not validate either.
    auto* t = static_cast<uint64_t*>(machine.mm.map(Mfn(l4)));
    auto* bad = static_cast<uint64_t*>(machine.mm.map(Mfn(data)));
    bad[0] = (uint64_t{1} << 40) | 1;  // not a frame of the domain
    t[0] = (data << PAGE_SHIFT) | 1;
    kernel_context(l4);
    EXPECT_NE(setctxt(7, 0), 0);
    EXPECT_FALSE(d->vcpu(VcpuId(0))->initialised) << "nothing changed";
    EXPECT_EQ(table.info(Mfn(l4)).type_count, 0u);
    t[0] = 0;
    ASSERT_EQ(setctxt(7, 0), 0) << "validated on the way";
    // Again, now initialised: only the same tables.
    ctxt().user_regs.rip = 0xffffffff80005000;
    EXPECT_EQ(setctxt(7, 0), 0);
    EXPECT_EQ(d->vcpu(VcpuId(0))->regs.rip, 0xffffffff80005000u);
    ctxt().ctrlreg[3] = data << PAGE_SHIFT;
    EXPECT_EQ(setctxt(7, 0), -XEN_EOPNOTSUPP);
    // Without VGCF_online it goes down; a null context resets it.
    kernel_context(l4);
    ctxt().flags = VGCF_in_kernel;
    EXPECT_EQ(setctxt(7, 0), 0);
    EXPECT_TRUE(fake_pv::happened("down 0"));
    EXPECT_EQ(setctxt(7, 0, 0), 0);
    EXPECT_FALSE(d->vcpu(VcpuId(0))->initialised);
    EXPECT_EQ(table.info(Mfn(l4)).type_count, 0u) << "the root's reference went";
    EXPECT_EQ(d->foreign_refs(), 0u);
}

TEST_F(Build, GetvcpucontextChecks) {
    create(7);
    command(XEN_DOMCTL_getvcpucontext, 7);
    op().u.vcpucontext.vcpu = 0;
    op().u.vcpucontext.ctxt.p = reinterpret_cast<vcpu_guest_context_t*>(CTXT);
    EXPECT_EQ(from_dom0(), -XEN_ENODATA) << "not initialised";
    op().u.vcpucontext.vcpu = 2;
    EXPECT_EQ(from_dom0(), -XEN_EINVAL);
    command(XEN_DOMCTL_getvcpucontext, 0);
    op().u.vcpucontext.vcpu = 0;
    EXPECT_EQ(from_dom0(), -XEN_EINVAL) << "not the calling vCPU";
    v0->initialised = true;
    command(XEN_DOMCTL_getvcpucontext, 1);
    op().u.vcpucontext.vcpu = 0;
    op().u.vcpucontext.ctxt.p = reinterpret_cast<vcpu_guest_context_t*>(RO);
    EXPECT_EQ(from_dom0(), -XEN_EFAULT);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
}

TEST_F(Build, HypercallInitChecks) {
    create(7);
    EXPECT_EQ(hypercall_page(7, dom0->shared_info_mfn().raw()), -XEN_EINVAL) << "not the domain's";
    EXPECT_EQ(hypercall_page(9, 0), -XEN_ESRCH);
    command(XEN_DOMCTL_hypercall_init, 7);
    EXPECT_EQ(domctl(*v0), -XEN_EPERM);
}

TEST_F(Build, BootTimeDomainsAreFoundAndDestroyedToo) {
    EXPECT_EQ(simple(XEN_DOMCTL_destroydomain, 1), 0);
    EXPECT_TRUE(fake_pv::happened("destroy d1"));
    EXPECT_EQ(domain_control::lookup(DomId(1)), nullptr);
}

}  // namespace
