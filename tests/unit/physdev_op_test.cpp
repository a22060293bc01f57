// physdev_op and EVTCHNOP_bind_pirq on the host: the pirq table (map, get_free, unmap, their
// numbering rules), binding a pirq to a port and the line behind it (the fake irq_lines),
// interrupts arriving as events, EOI, and the control-domain-only ops, with Xen 4.17's error
// numbers for every refused argument.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/physdev.h>
#include <xen/xen.h>

#include "event_channel.hpp"
#include "pci_devices.hpp"
#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80200000;

class Physdev : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(ARG, 64);
        d0 = make_dom0();
        ASSERT_NE(d0, nullptr);
        p0 = d0->vcpu(VcpuId(0));
        fake_pv::record().domains = {dom, d0};  // found by domain_control::lookup
        pci_devices::clear();
    }
    void TearDown() override {
        pci_devices::clear();
        PvTest::TearDown();
    }
    template <typename T>
    long op(Vcpu& v, uint64_t hypercall, int cmd, T& arg) { return call_struct(v, hypercall, cmd, arg, *buf); }
    template <typename T>
    long physdev(Vcpu& v, int cmd, T& arg) { return op(v, __HYPERVISOR_physdev_op, cmd, arg); }
    template <typename T>
    long physdev(int cmd, T& arg) { return physdev(*p0, cmd, arg); }

    long map_gsi(int32_t gsi, int32_t& pirq, domid_t dom = DOMID_SELF, Vcpu* by = nullptr) {
        physdev_map_pirq m{};
        m.domid = dom;
        m.type = MAP_PIRQ_TYPE_GSI;
        m.index = gsi;
        m.pirq = pirq;
        long rc = physdev(by ? *by : *p0, PHYSDEVOP_map_pirq, m);
        pirq = m.pirq;
        return rc;
    }
    long bind(uint32_t pirq, uint32_t& port, Vcpu* by = nullptr) {
        evtchn_bind_pirq b{pirq, 0, 0};
        long rc = op(by ? *by : *p0, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_pirq, b);
        port = b.port;
        return rc;
    }
    long close(uint32_t port) {
        evtchn_close c{port};
        return op(*p0, __HYPERVISOR_event_channel_op, EVTCHNOP_close, c);
    }
    long eoi(uint32_t pirq) {
        physdev_eoi e{pirq};
        return physdev(PHYSDEVOP_eoi, e);
    }
    fake_irq::Line& line(uint32_t gsi) { return fake_irq::state().lines[gsi]; }

    std::unique_ptr<GuestBuffer> buf;
    Domain* d0 = nullptr;
    Vcpu* p0 = nullptr;
};

TEST_F(Physdev, TheControlDomainMapsAGsiToTheWantedPirq) {
    int32_t pirq = 8;
    ASSERT_EQ(map_gsi(8, pirq), 0);
    EXPECT_EQ(pirq, 8);
    EXPECT_EQ(d0->pirqs().gsi_of(8), 8);
    pirq = 8;
    EXPECT_EQ(map_gsi(8, pirq), 0);  // the same mapping again
    pirq = 9;
    EXPECT_EQ(map_gsi(8, pirq), -XEN_EEXIST);  // the GSI has pirq 8
    pirq = -1;
    EXPECT_EQ(map_gsi(8, pirq), 0);  // any pirq: the one it has
    EXPECT_EQ(pirq, 8);
}

TEST_F(Physdev, AnyPirqForAGsiIsTheLowestFreeFrom16) {
    int32_t a = -1, b = -1;
    ASSERT_EQ(map_gsi(20, a), 0);
    ASSERT_EQ(map_gsi(21, b), 0);
    EXPECT_EQ(a, 16);
    EXPECT_EQ(b, 17);
}

TEST_F(Physdev, APirqMappedToAnotherLineIsLeftAsItIs) {
    int32_t pirq = 5;
    ASSERT_EQ(map_gsi(5, pirq), 0);
    pirq = 5;
    EXPECT_EQ(map_gsi(6, pirq), 0);  // Xen warns and reports success
    EXPECT_EQ(d0->pirqs().gsi_of(5), 5);
    EXPECT_EQ(d0->pirqs().pirq_of_gsi(6), -1);
}

TEST_F(Physdev, MapRefusesBadArguments) {
    int32_t pirq = -1;
    EXPECT_EQ(map_gsi(-1, pirq), -XEN_EINVAL);
    EXPECT_EQ(map_gsi(24, pirq), -XEN_EINVAL);  // past the machine's GSIs
    EXPECT_EQ(map_gsi(0, pirq), -XEN_EPERM);    // IRQ 0 is no domain's
    pirq = int32_t(d0->pirqs().limit());
    EXPECT_EQ(map_gsi(3, pirq), -XEN_EINVAL);   // past the domain's pirqs
    EXPECT_EQ(pirq, int32_t(d0->pirqs().limit()));  // written back unchanged
    pirq = -1;
    EXPECT_EQ(map_gsi(3, pirq, 77), -XEN_ESRCH);
    EXPECT_EQ(map_gsi(3, pirq, DOMID_SELF, v0), -XEN_EPERM);  // an unprivileged caller

    physdev_map_pirq m{};
    m.domid = DOMID_SELF;
    m.type = 7;
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, m), -XEN_EINVAL);
    m.type = MAP_PIRQ_TYPE_MSI;
    m.index = -1;
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, m), -XEN_ENODEV);  // no PCI device known
    m.type = MAP_PIRQ_TYPE_MULTI_MSI;
    m.table_base = 0x1000;
    EXPECT_EQ(physdev(PHYSDEVOP_map_pirq, m), -XEN_EINVAL);
    EXPECT_EQ(call(*p0, __HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, 0x1000), -XEN_EFAULT);
    EXPECT_EQ(d0->pirqs().pirq_of_gsi(3), -1);
}

TEST_F(Physdev, TheControlDomainMapsForAnotherDomain) {
    int32_t pirq = -1;
    ASSERT_EQ(map_gsi(19, pirq, 1), 0);
    EXPECT_EQ(dom->pirqs().gsi_of(uint32_t(pirq)), 19);
    EXPECT_EQ(d0->pirqs().pirq_of_gsi(19), -1);
    physdev_unmap_pirq u{1, pirq};
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_unmap_pirq, u), -XEN_EPERM);
    EXPECT_EQ(physdev(PHYSDEVOP_unmap_pirq, u), 0);
    EXPECT_EQ(dom->pirqs().gsi_of(uint32_t(pirq)), -1);
}

TEST_F(Physdev, BindingAPirqStartsItsLineOnTheNewPort) {
    int32_t pirq = 8;
    ASSERT_EQ(map_gsi(8, pirq), 0);
    uint32_t port = 0;
    ASSERT_EQ(bind(8, port), 0);
    EXPECT_NE(port, 0u);
    EXPECT_EQ(line(8).owner, d0);
    EXPECT_EQ(line(8).port, port);

    evtchn_status st{DOMID_SELF, port, 0, 0, {}};
    ASSERT_EQ(op(*p0, __HYPERVISOR_event_channel_op, EVTCHNOP_status, st), 0);
    EXPECT_EQ(st.status, uint32_t(EVTCHNSTAT_pirq));
    EXPECT_EQ(st.u.pirq, 8u);

    uint32_t again = 0;
    EXPECT_EQ(bind(8, again), -XEN_EEXIST);
    ASSERT_EQ(close(port), 0);
    EXPECT_EQ(line(8).owner, nullptr);
    EXPECT_EQ(bind(8, again), 0);  // bindable again once closed
    EXPECT_EQ(line(8).port, again);
}

TEST_F(Physdev, BindRefusesPirqsOutOfRangeOrNotMapped) {
    uint32_t port = 0;
    EXPECT_EQ(bind(d0->pirqs().limit(), port), -XEN_EINVAL);
    EXPECT_EQ(bind(0x80000000u, port), -XEN_EINVAL);
    EXPECT_EQ(bind(30, port), -XEN_EPERM);  // no line behind it
    int32_t pirq = 12;
    ASSERT_EQ(map_gsi(12, pirq), 0);
    line(12).owner = dom;  // the line is another domain's
    EXPECT_EQ(bind(12, port), -XEN_EBUSY);
    EXPECT_EQ(d0->pirqs().get(12)->port, 0u);  // nothing kept of the failed bind
}

TEST_F(Physdev, AnInterruptBecomesAnEventAndEachNeedsAnEoi) {
    int32_t pirq = 8;
    ASSERT_EQ(map_gsi(8, pirq), 0);
    uint32_t port = 0;
    ASSERT_EQ(bind(8, port), 0);
    EXPECT_FALSE(events::is_pending(*d0, port));
    ASSERT_TRUE(fake_irq::fire(8));
    EXPECT_TRUE(events::is_pending(*d0, port));

    physdev_irq_status_query q{8, 0};
    ASSERT_EQ(physdev(PHYSDEVOP_irq_status_query, q), 0);
    EXPECT_EQ(q.flags, uint32_t(XENIRQSTAT_needs_eoi));
    EXPECT_EQ(eoi(8), 0);
    EXPECT_EQ(line(8).eois, 1u);
}

TEST_F(Physdev, EoiAndStatusQueryRefuseUnknownPirqs) {
    EXPECT_EQ(eoi(d0->pirqs().limit()), -XEN_EINVAL);
    EXPECT_EQ(eoi(40), -XEN_EINVAL);  // never used
    physdev_irq_status_query q{d0->pirqs().limit(), 0};
    EXPECT_EQ(physdev(PHYSDEVOP_irq_status_query, q), -XEN_EINVAL);
    EXPECT_EQ(call(*p0, __HYPERVISOR_physdev_op, PHYSDEVOP_eoi, 0x1000), -XEN_EFAULT);
    int32_t pirq = 4;
    ASSERT_EQ(map_gsi(4, pirq), 0);
    EXPECT_EQ(eoi(4), 0);  // mapped, not bound: nothing to end
    EXPECT_EQ(line(4).eois, 0u);
}

TEST_F(Physdev, GetFreePirqTakesOneEachTime) {
    physdev_get_free_pirq g{MAP_PIRQ_TYPE_GSI, 0};
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, g), 0);
    EXPECT_EQ(g.pirq, 16u);
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, g), 0);
    EXPECT_EQ(g.pirq, 17u);
    physdev_get_free_pirq m{MAP_PIRQ_TYPE_MSI, 0};
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, m), 0);
    EXPECT_EQ(m.pirq, d0->pirqs().limit() - 1);
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, m), 0);
    EXPECT_EQ(m.pirq, d0->pirqs().limit() - 2);
    // A taken pirq can be mapped, and an unprivileged domain has pirqs of its own.
    int32_t pirq = 16;
    EXPECT_EQ(map_gsi(22, pirq), 0);
    EXPECT_EQ(d0->pirqs().gsi_of(16), 22);
    ASSERT_EQ(physdev(*v0, PHYSDEVOP_get_free_pirq, g), 0);
    EXPECT_EQ(g.pirq, 16u);
}

TEST_F(Physdev, GetFreePirqRunsOut) {
    physdev_get_free_pirq g{MAP_PIRQ_TYPE_GSI, 0};
    long rc = 0;
    for (uint32_t i = 0; i <= d0->pirqs().limit() && rc == 0; ++i) rc = physdev(PHYSDEVOP_get_free_pirq, g);
    EXPECT_EQ(rc, -XEN_ENOSPC);
}

TEST_F(Physdev, UnmapStopsTheLineAndLeavesThePort) {
    int32_t pirq = 8;
    ASSERT_EQ(map_gsi(8, pirq), 0);
    uint32_t port = 0;
    ASSERT_EQ(bind(8, port), 0);
    physdev_unmap_pirq u{DOMID_SELF, 8};
    ASSERT_EQ(physdev(PHYSDEVOP_unmap_pirq, u), 0);
    EXPECT_EQ(line(8).owner, nullptr);
    EXPECT_EQ(physdev(PHYSDEVOP_unmap_pirq, u), -XEN_EINVAL);  // no longer mapped
    u.pirq = -1;
    EXPECT_EQ(physdev(PHYSDEVOP_unmap_pirq, u), -XEN_EINVAL);
    u.domid = 77;
    EXPECT_EQ(physdev(PHYSDEVOP_unmap_pirq, u), -XEN_ESRCH);
    evtchn_status st{DOMID_SELF, port, 0, 0, {}};
    ASSERT_EQ(op(*p0, __HYPERVISOR_event_channel_op, EVTCHNOP_status, st), 0);
    EXPECT_EQ(st.status, uint32_t(EVTCHNSTAT_pirq));
    uint32_t again = 0;
    EXPECT_EQ(bind(8, again), -XEN_EPERM);
    EXPECT_EQ(close(port), 0);
}

TEST_F(Physdev, SetupGsiIsTheControlDomainsOnceALine) {
    physdev_setup_gsi s{20, 1, 1};
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_setup_gsi, s), -XEN_EPERM);
    ASSERT_EQ(physdev(PHYSDEVOP_setup_gsi, s), 0);
    EXPECT_TRUE(line(20).level);
    EXPECT_TRUE(line(20).active_low);
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, s), -XEN_EEXIST);
    physdev_setup_gsi bad{24, 0, 0};
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_setup_gsi, bad), -XEN_EINVAL);  // range before privilege
    bad.gsi = -1;
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, bad), -XEN_EINVAL);
    physdev_setup_gsi legacy{9, 1, 0};
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, legacy), 0);  // the SCI's too (Xen's special case is compiled out)
}

TEST_F(Physdev, ApicReadIsTheControlDomains) {
    physdev_apic a{fake_irq::IOAPIC_BASE, 1, 0};
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_apic_read, a), -XEN_EPERM);
    ASSERT_EQ(physdev(PHYSDEVOP_apic_read, a), 0);
    EXPECT_EQ(a.value, fake_irq::IOAPIC_VERSION);
    physdev_apic none{0xfed00000, 1, 0};
    EXPECT_EQ(physdev(PHYSDEVOP_apic_read, none), -XEN_EINVAL);
    physdev_irq i{11, 0};
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_alloc_irq_vector, i), -XEN_EPERM);
    ASSERT_EQ(physdev(PHYSDEVOP_alloc_irq_vector, i), 0);
    EXPECT_EQ(i.vector, 11u);
}

TEST_F(Physdev, AnOpKestrelLacksIsENOSYS) {
    physdev_apic a{fake_irq::IOAPIC_BASE, 0x10, 0};
    EXPECT_EQ(physdev(PHYSDEVOP_apic_write, a), -XEN_ENOSYS);
    EXPECT_EQ(call(*p0, __HYPERVISOR_physdev_op, 999, ARG), -XEN_ENOSYS);
}

TEST_F(Physdev, TheControlDomainReportsPciDevices) {
    physdev_pci_device_add a{};
    a.bus = 0;
    a.devfn = (2 << 3) | 0;
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_pci_device_add, a), -XEN_EPERM);
    ASSERT_EQ(physdev(PHYSDEVOP_pci_device_add, a), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_pci_device_add, a), 0);  // again: the same record
    EXPECT_EQ(pci_devices::count(), 1u);
    a.devfn = (3 << 3) | 1;
    a.flags = XEN_PCI_DEV_VIRTFN;
    a.physfn.bus = 0;
    a.physfn.devfn = 3 << 3;
    ASSERT_EQ(physdev(PHYSDEVOP_pci_device_add, a), 0);
    EXPECT_TRUE(pci_devices::known(0, 0, 3 << 3));  // its physical function with it
    EXPECT_EQ(pci_devices::count(), 3u);

    physdev_restore_msi r{0, 2 << 3};
    EXPECT_EQ(physdev(PHYSDEVOP_restore_msi, r), 0);  // known, no MSI set up: nothing to restore
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_restore_msi, r), -XEN_EPERM);
    r.devfn = 5 << 3;
    EXPECT_EQ(physdev(PHYSDEVOP_restore_msi, r), -XEN_ENODEV);

    physdev_pci_device d{0, 0, 2 << 3};
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_pci_device_remove, d), -XEN_EPERM);
    EXPECT_EQ(physdev(PHYSDEVOP_pci_device_remove, d), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_pci_device_remove, d), -XEN_ENODEV);
    EXPECT_EQ(physdev(PHYSDEVOP_restore_msi_ext, d), -XEN_ENODEV);
}

TEST_F(Physdev, OlderPciOpsAndTheirChecks) {
    physdev_manage_pci m{0, 1 << 3};
    ASSERT_EQ(physdev(PHYSDEVOP_manage_pci_add, m), 0);
    EXPECT_TRUE(pci_devices::known(0, 0, 1 << 3));
    physdev_manage_pci_ext e{};
    e.devfn = 4 << 3;
    e.is_extfn = 2;
    EXPECT_EQ(physdev(PHYSDEVOP_manage_pci_add_ext, e), -XEN_EINVAL);
    e.is_extfn = 1;
    EXPECT_EQ(physdev(*v0, PHYSDEVOP_manage_pci_add_ext, e), -XEN_EPERM);
    EXPECT_EQ(physdev(PHYSDEVOP_manage_pci_add_ext, e), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_manage_pci_remove, m), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_manage_pci_remove, m), -XEN_ENODEV);
    // The proximity domain is read from optarr when flagged: past the buffer, -EFAULT.
    physdev_pci_device_add a{};
    a.flags = XEN_PCI_DEV_PXM;
    const uint64_t at = ARG + 64 - sizeof a;  // the fixed part fits, optarr[0] lies past the end
    buf->put(at, &a, sizeof a);
    EXPECT_EQ(call(*p0, __HYPERVISOR_physdev_op, PHYSDEVOP_pci_device_add, at), -XEN_EFAULT);
}

TEST_F(Physdev, DestroyingTheDomainStopsItsLinesAndFreesTheTable) {
    uint64_t free_before = machine.frames().free_frames();
    auto created = Domain::create(machine.mm, DomainConfig{DomId(5), 4, 0, 1, false, false});
    ASSERT_TRUE(created.has_value());
    Domain* d = *created;
    fake_pv::record().domains.push_back(d);  // found by domain_control::lookup
    int32_t pirq = -1;
    ASSERT_EQ(map_gsi(17, pirq, 5), 0);
    uint32_t port = 0;
    ASSERT_EQ(bind(uint32_t(pirq), port, d->vcpu(VcpuId(0))), 0);
    EXPECT_EQ(line(17).owner, d);
    EXPECT_EQ(d->pirqs().frames(), 1u);
    Domain::destroy(d);
    fake_pv::record().domains.pop_back();
    EXPECT_EQ(line(17).owner, nullptr);
    EXPECT_EQ(machine.frames().free_frames(), free_before);
}

}  // namespace
