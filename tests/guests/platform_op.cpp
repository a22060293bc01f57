// platform_op from the control domain: the interface version check, the physical CPU reports,
// the firmware information a BIOS-booted machine without disks has, setting the wall clock
// (which shared_info then shows), and refusals. The same kernel runs as dom0 on Xen 4.17 and
// on Kestrel.
#include <xen/errno.h>
#include <xen/platform.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/lib.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

xen_platform_op_t make(std::uint32_t cmd)
{
    xen_platform_op_t op{};
    op.cmd = cmd;
    op.interface_version = XENPF_INTERFACE_VERSION;
    return op;
}

long platform(xen_platform_op_t& op) { return kt::hypercall(__HYPERVISOR_platform_op, kt::arg(&op)); }

TEST(a_wrong_interface_version_is_refused)
{
    xen_platform_op_t op = make(XENPF_get_cpuinfo);
    op.interface_version = 0x03000000;
    EXPECT_EQ(platform(op), -XEN_EACCES);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_platform_op, 0x1000), -XEN_EFAULT);
}

TEST(cpu_info_reports_the_boot_cpu_online)
{
    xen_platform_op_t op = make(XENPF_get_cpuinfo);
    op.u.pcpu_info.xen_cpuid = 0;
    ASSERT_EQ(platform(op), 0);
    EXPECT_EQ(op.u.pcpu_info.flags, std::uint32_t(XEN_PCPU_FLAGS_ONLINE));
    EXPECT_EQ(op.u.pcpu_info.apic_id, 0u);  // QEMU's boot CPU
    EXPECT_EQ(op.u.pcpu_info.max_present, 0u);  // one CPU
    op.u.pcpu_info.xen_cpuid = 4000;
    ASSERT_EQ(platform(op), 0);
    EXPECT_EQ(op.u.pcpu_info.flags, std::uint32_t(XEN_PCPU_FLAGS_INVALID));
}

TEST(cpu_version_is_the_cpus_own)
{
    xen_platform_op_t op = make(XENPF_get_cpu_version);
    ASSERT_EQ(platform(op), 0);
    std::uint32_t a, b, c, d;
    asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    const std::uint32_t words[3] = {b, d, c};
    bool same = true;
    for (unsigned i = 0; i < 12; ++i)
        same = same && op.u.pcpu_version.vendor_id[i] == char(words[i / 4] >> (8 * (i % 4)));
    EXPECT_TRUE(same);
    EXPECT_GE(op.u.pcpu_version.family, 6u);
    op.u.pcpu_version.xen_cpuid = 4000;  // no such CPU: zeros
    ASSERT_EQ(platform(op), 0);
    EXPECT_EQ(op.u.pcpu_version.family, 0u);
}

TEST(firmware_info_of_a_bios_machine_without_disks)
{
    xen_platform_op_t op = make(XENPF_firmware_info);
    op.u.firmware_info.type = XEN_FW_DISK_INFO;
    EXPECT_EQ(platform(op), -XEN_ESRCH);
    op.u.firmware_info.type = XEN_FW_DISK_MBR_SIGNATURE;
    EXPECT_EQ(platform(op), -XEN_ESRCH);
    op.u.firmware_info.type = XEN_FW_KBD_SHIFT_FLAGS;
    EXPECT_EQ(platform(op), 0);
    op.u.firmware_info.index = 1;
    EXPECT_EQ(platform(op), -XEN_ESRCH);
    op.u.firmware_info.type = 77;
    EXPECT_EQ(platform(op), -XEN_EINVAL);
}

TEST(settime_moves_the_wall_clock_of_shared_info)
{
    xen_platform_op_t op = make(XENPF_settime64);
    op.u.settime64.secs = 2'000'000'000;
    op.u.settime64.nsecs = 0;
    op.u.settime64.system_time = 0;
    op.u.settime64.mbz = 7;
    EXPECT_EQ(platform(op), -XEN_EINVAL);
    op.u.settime64.mbz = 0;
    ASSERT_EQ(platform(op), 0);
    const volatile shared_info_t& s = *kt::shared_info();
    EXPECT_EQ(s.wc_version % 2, 0u);
    EXPECT_EQ(s.wc_sec, 2'000'000'000u);
    EXPECT_EQ(s.wc_nsec, 0u);
}

TEST(refusals)
{
    xen_platform_op_t op = make(XENPF_enter_acpi_sleep);
    op.u.enter_acpi_sleep.sleep_state = 5;
    op.u.enter_acpi_sleep.flags = 2;  // no such flag
    EXPECT_EQ(platform(op), -XEN_EINVAL);
    op = make(XENPF_set_processor_pminfo);
    op.u.set_pminfo.type = 9;
    EXPECT_EQ(platform(op), -XEN_EINVAL);
    op = make(12345);
    EXPECT_EQ(platform(op), -XEN_ENOSYS);
}

} // namespace
