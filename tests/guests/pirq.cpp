// pirq: a machine interrupt line lent to the control domain, end to end. The CMOS RTC's line
// (ISA IRQ 8, GSI 8 on a PC without an override for it) is mapped to pirq 8, bound to an event
// channel, and the RTC is set to interrupt 64 times a second: each interrupt must arrive as an
// event on that port, which the kernel ends with PHYSDEVOP_eoi after acknowledging the RTC.
// Around that: the pirq ops' refusals, setup_gsi's once-only rule, the serial console's line
// kept by the hypervisor, unmapping, and PCI devices reported by dom0. The same kernel
// runs as dom0 on Xen 4.17 and on Kestrel.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/physdev.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/lib.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

constexpr std::int32_t RTC_GSI = 8;
constexpr std::uint16_t CMOS_INDEX = 0x70, CMOS_DATA = 0x71;
constexpr std::uint8_t RTC_REG_A = 0x0a, RTC_REG_B = 0x0b, RTC_REG_C = 0x0c;
constexpr std::uint8_t REG_B_PIE = 0x40;       // periodic interrupt enable
constexpr std::uint8_t REG_A_RATE_64HZ = 0x0a;  // rate select: 32768 >> (10 - 1)

long physdev(int cmd, void* a) { return kt::hypercall(__HYPERVISOR_physdev_op, cmd, kt::arg(a)); }

void outb(std::uint16_t port, std::uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
std::uint8_t inb(std::uint16_t port)
{
    std::uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
std::uint8_t cmos_read(std::uint8_t reg)
{
    outb(CMOS_INDEX, reg);
    return inb(CMOS_DATA);
}
void cmos_write(std::uint8_t reg, std::uint8_t v)
{
    outb(CMOS_INDEX, reg);
    outb(CMOS_DATA, v);
}

long map_gsi(std::int32_t gsi, std::int32_t& pirq, domid_t dom = DOMID_SELF, std::int32_t type = MAP_PIRQ_TYPE_GSI)
{
    physdev_map_pirq_t m{};
    m.domid = dom;
    m.type = type;
    m.index = gsi;
    m.pirq = pirq;
    long rc = physdev(PHYSDEVOP_map_pirq, &m);
    pirq = m.pirq;
    return rc;
}

long bind_pirq(std::uint32_t pirq, std::uint32_t& port)
{
    evtchn_bind_pirq_t b{};
    b.pirq = pirq;
    long rc = kt::evtchn_op(EVTCHNOP_bind_pirq, &b);
    port = b.port;
    return rc;
}

long eoi(std::uint32_t pirq)
{
    physdev_eoi_t e{};
    e.irq = pirq;
    return physdev(PHYSDEVOP_eoi, &e);
}

bool take_pending(std::uint32_t port)
{
    std::uint64_t bit = 1ull << (port % 64);
    return __atomic_fetch_and(&kt::shared_info()->evtchn_pending[port / 64], ~bit, __ATOMIC_SEQ_CST) & bit;
}

std::uint32_t rtc_port;

TEST(port_io_for_the_rtc)
{
    physdev_set_iopl_t s{};
    s.iopl = 1;
    ASSERT_EQ(physdev(PHYSDEVOP_set_iopl, &s), 0);
    // The RTC keeps its dividers in register A's upper bits: a sane value reads back.
    EXPECT_EQ(cmos_read(RTC_REG_A) & 0x70, 0x20);
}

TEST(map_pirq_refuses_bad_arguments)
{
    std::int32_t pirq = -1;
    EXPECT_EQ(map_gsi(-1, pirq), -XEN_EINVAL);
    EXPECT_EQ(map_gsi(9999, pirq), -XEN_EINVAL);
    EXPECT_EQ(map_gsi(RTC_GSI, pirq, DOMID_SELF, 77), -XEN_EINVAL);
    EXPECT_EQ(map_gsi(RTC_GSI, pirq, 0x7fe0), -XEN_ESRCH);
    pirq = 0x7fffffff;
    EXPECT_EQ(map_gsi(RTC_GSI, pirq), -XEN_EINVAL);
    pirq = -1;
    EXPECT_EQ(map_gsi(0, pirq), -XEN_EPERM);  // IRQ 0: the hypervisor's
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_physdev_op, PHYSDEVOP_map_pirq, 0x1000), -XEN_EFAULT);
}

TEST(the_rtc_line_maps_to_its_isa_pirq)
{
    std::int32_t pirq = RTC_GSI;
    ASSERT_EQ(map_gsi(RTC_GSI, pirq), 0);
    EXPECT_EQ(pirq, RTC_GSI);
    pirq = -1;
    ASSERT_EQ(map_gsi(RTC_GSI, pirq), 0);  // any pirq: the one it has
    EXPECT_EQ(pirq, RTC_GSI);
    pirq = RTC_GSI + 1;
    EXPECT_EQ(map_gsi(RTC_GSI, pirq), -XEN_EEXIST);
}

TEST(status_query_and_eoi_check_the_pirq)
{
    physdev_irq_status_query_t q{};
    q.irq = RTC_GSI;
    ASSERT_EQ(physdev(PHYSDEVOP_irq_status_query, &q), 0);
    EXPECT_EQ(q.flags & XENIRQSTAT_needs_eoi, XENIRQSTAT_needs_eoi);
    q.irq = 0x7fffffff;
    EXPECT_EQ(physdev(PHYSDEVOP_irq_status_query, &q), -XEN_EINVAL);
    EXPECT_EQ(eoi(0x7fffffff), -XEN_EINVAL);
}

TEST(get_free_pirq_hands_out_distinct_pirqs)
{
    physdev_get_free_pirq_t a{}, b{}, m{};
    a.type = b.type = MAP_PIRQ_TYPE_GSI;
    m.type = MAP_PIRQ_TYPE_MSI;
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, &a), 0);
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, &b), 0);
    ASSERT_EQ(physdev(PHYSDEVOP_get_free_pirq, &m), 0);
    EXPECT_GE(a.pirq, 16u);  // GSI pirqs above the ISA interrupts' own
    EXPECT_NE(a.pirq, b.pirq);
    EXPECT_GT(m.pirq, b.pirq);  // MSI pirqs come from above every GSI
}

TEST(setup_gsi_programs_a_line_once)
{
    physdev_setup_gsi_t s{};
    s.gsi = 9999;
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, &s), -XEN_EINVAL);
    s.gsi = RTC_GSI;  // ISA: edge triggered, active high
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, &s), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, &s), -XEN_EEXIST);
}

TEST(the_serial_consoles_line_is_the_hypervisors)
{
    // COM1's ISA IRQ 4: both hypervisors drive that port (console=com1).
    physdev_setup_gsi_t s{};
    s.gsi = 4;
    EXPECT_EQ(physdev(PHYSDEVOP_setup_gsi, &s), -XEN_EEXIST);
    std::int32_t pirq = 4;
    ASSERT_EQ(map_gsi(4, pirq), 0);
    std::uint32_t port = 0;
    EXPECT_EQ(bind_pirq(4, port), -XEN_EBUSY);
    physdev_unmap_pirq_t u{};
    u.domid = DOMID_SELF;
    u.pirq = 4;
    EXPECT_EQ(physdev(PHYSDEVOP_unmap_pirq, &u), 0);
}

TEST(bind_pirq_wants_a_mapped_pirq_once)
{
    std::uint32_t port = 0;
    EXPECT_EQ(bind_pirq(0x7fffffff, port), -XEN_EINVAL);
    EXPECT_EQ(bind_pirq(30, port), -XEN_EPERM);  // no line mapped to it
    ASSERT_EQ(bind_pirq(RTC_GSI, rtc_port), 0);
    EXPECT_NE(rtc_port, 0u);
    EXPECT_EQ(bind_pirq(RTC_GSI, port), -XEN_EEXIST);
    evtchn_status_t st{};
    st.dom = DOMID_SELF;
    st.port = rtc_port;
    ASSERT_EQ(kt::evtchn_op(EVTCHNOP_status, &st), 0);
    EXPECT_EQ(st.status, std::uint32_t(EVTCHNSTAT_pirq));
    EXPECT_EQ(st.u.pirq, std::uint32_t(RTC_GSI));
}

TEST(rtc_interrupts_arrive_as_events)
{
    ASSERT_NE(rtc_port, 0u);
    take_pending(rtc_port);
    cmos_read(RTC_REG_C);  // drop a stale flag
    cmos_write(RTC_REG_A, std::uint8_t((cmos_read(RTC_REG_A) & 0xf0) | REG_A_RATE_64HZ));
    cmos_write(RTC_REG_B, cmos_read(RTC_REG_B) | REG_B_PIE);
    unsigned events = 0, periodic = 0;
    const std::uint64_t start = kt::system_time_ns();
    while (events < 16 && kt::system_time_ns() - start < 3'000'000'000ull) {
        kt::poll_port_for(rtc_port, 200'000'000);
        if (!take_pending(rtc_port)) continue;
        ++events;
        if (cmos_read(RTC_REG_C) & 0x40) ++periodic;  // PF: this was the periodic interrupt
        EXPECT_EQ(eoi(RTC_GSI), 0);
    }
    const std::uint64_t took = kt::system_time_ns() - start;
    cmos_write(RTC_REG_B, std::uint8_t(cmos_read(RTC_REG_B) & ~REG_B_PIE));
    cmos_read(RTC_REG_C);
    kt::print("pirq: {} events ({} periodic) in {} ms\n", events, periodic, took / 1'000'000);
    EXPECT_EQ(events, 16u);
    EXPECT_GE(periodic, 15u);
    // 16 interrupts at 64 Hz: a quarter of a second, give or take TCG's pace.
    EXPECT_GT(took, 150'000'000ull);
}

TEST(closing_the_port_stops_the_line)
{
    evtchn_close_t c{};
    c.port = rtc_port;
    ASSERT_EQ(kt::evtchn_op(EVTCHNOP_close, &c), 0);
    std::uint32_t port = 0;
    ASSERT_EQ(bind_pirq(RTC_GSI, port), 0);  // free to bind again
    c.port = port;
    EXPECT_EQ(kt::evtchn_op(EVTCHNOP_close, &c), 0);
}

TEST(pci_devices_reported_by_dom0)
{
    // QEMU's VGA at 00:02.0: reporting it is accepted (again, on Xen, which scanned it at
    // boot); it has no MSI state to restore. A device on a bus nobody reported is unknown.
    physdev_pci_device_add_t a{};
    a.devfn = 2 << 3;
    EXPECT_EQ(physdev(PHYSDEVOP_pci_device_add, &a), 0);
    physdev_restore_msi_t r{};
    r.devfn = 2 << 3;
    EXPECT_EQ(physdev(PHYSDEVOP_restore_msi, &r), 0);
    r.bus = 7;
    r.devfn = 9 << 3;
    EXPECT_EQ(physdev(PHYSDEVOP_restore_msi, &r), -XEN_ENODEV);
    physdev_manage_pci_ext_t e{};
    e.is_virtfn = 2;
    EXPECT_EQ(physdev(PHYSDEVOP_manage_pci_add_ext, &e), -XEN_EINVAL);
}

TEST(unmap_pirq_frees_the_pirq)
{
    physdev_unmap_pirq_t u{};
    u.domid = DOMID_SELF;
    u.pirq = RTC_GSI;
    ASSERT_EQ(physdev(PHYSDEVOP_unmap_pirq, &u), 0);
    EXPECT_EQ(physdev(PHYSDEVOP_unmap_pirq, &u), -XEN_EINVAL);
    std::uint32_t port = 0;
    EXPECT_EQ(bind_pirq(RTC_GSI, port), -XEN_EPERM);
}

} // namespace
