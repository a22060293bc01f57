// platform_op on the host: the interface version and privilege checks in Xen's order, the wall
// clock it sets, the CPU reports, firmware information, ACPI sleep and power-management data,
// with every refusal's error number.
#include <xen/errno.h>
#include <xen/platform.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include <cstring>

#include "pv_test_support.hpp"
#include "wallclock.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80200000;

class PlatformOp : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(ARG, sizeof(xen_platform_op));
        d0 = make_dom0();
        ASSERT_NE(d0, nullptr);
        p0 = d0->vcpu(VcpuId(0));
        fake_pv::record().domains = {dom, d0};  // what the wall clock is published to
    }
    xen_platform_op make(uint32_t cmd) {
        xen_platform_op op{};
        op.cmd = cmd;
        op.interface_version = XENPF_INTERFACE_VERSION;
        return op;
    }
    long run(xen_platform_op& op, Vcpu* by = nullptr) {
        buf->put(ARG, &op, sizeof op);
        long rc = call(by ? *by : *p0, __HYPERVISOR_platform_op, ARG);
        op = buf->at<xen_platform_op>(ARG);
        return rc;
    }

    std::unique_ptr<GuestBuffer> buf;
    Domain* d0 = nullptr;
    Vcpu* p0 = nullptr;
};

TEST_F(PlatformOp, TheInterfaceVersionIsCheckedBeforePrivilege) {
    xen_platform_op op = make(XENPF_get_cpuinfo);
    op.interface_version = XENPF_INTERFACE_VERSION - 1;
    EXPECT_EQ(run(op, v0), -XEN_EACCES);
    op.interface_version = XENPF_INTERFACE_VERSION;
    EXPECT_EQ(run(op, v0), -XEN_EPERM);
    EXPECT_EQ(call(*p0, __HYPERVISOR_platform_op, 0x1000), -XEN_EFAULT);
}

TEST_F(PlatformOp, SettimeSetsTheWallClockAtSystemTimeZero) {
    xen_platform_op op = make(XENPF_settime64);
    op.u.settime64.secs = 1'800'000'000;
    op.u.settime64.nsecs = 250'000'000;
    op.u.settime64.system_time = 5'500'000'000;
    op.u.settime64.mbz = 1;
    EXPECT_EQ(run(op), -XEN_EINVAL);
    op.u.settime64.mbz = 0;
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(wallclock::base().sec, 1'799'999'994u);
    EXPECT_EQ(wallclock::base().nsec, 750'000'000u);
    EXPECT_EQ(d0->shared()->wc_sec, 1'799'999'994u);

    xen_platform_op old = make(XENPF_settime32);
    old.u.settime32.secs = 1000;
    old.u.settime32.nsecs = 0;
    old.u.settime32.system_time = 0;
    ASSERT_EQ(run(old), 0);
    EXPECT_EQ(wallclock::base().sec, 1000u);
}

TEST_F(PlatformOp, CpuInfoReportsPresentAndOnlineCpus) {
    xen_platform_op op = make(XENPF_get_cpuinfo);
    op.u.pcpu_info.xen_cpuid = 0;
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(op.u.pcpu_info.flags, uint32_t(XEN_PCPU_FLAGS_ONLINE));
    EXPECT_EQ(op.u.pcpu_info.apic_id, 0u);
    EXPECT_EQ(op.u.pcpu_info.acpi_id, 1u);
    EXPECT_EQ(op.u.pcpu_info.max_present, 1u);
    op.u.pcpu_info.xen_cpuid = 1;
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(op.u.pcpu_info.flags, 0u);  // present, offline
    EXPECT_EQ(op.u.pcpu_info.apic_id, 2u);
    op.u.pcpu_info.xen_cpuid = 7;
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(op.u.pcpu_info.flags, uint32_t(XEN_PCPU_FLAGS_INVALID));
}

TEST_F(PlatformOp, CpuVersionOfOnlineCpusOnly) {
    xen_platform_op op = make(XENPF_get_cpu_version);
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(std::memcmp(op.u.pcpu_version.vendor_id, "GenuineIntel", 12), 0);
    EXPECT_EQ(op.u.pcpu_version.family, 6u);
    EXPECT_EQ(op.u.pcpu_version.model, 0x55u);
    EXPECT_EQ(op.u.pcpu_version.stepping, 4u);
    op.u.pcpu_version.xen_cpuid = 1;  // offline: zeros
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(op.u.pcpu_version.family, 0u);
    EXPECT_EQ(op.u.pcpu_version.vendor_id[0], 0);
    EXPECT_EQ(op.u.pcpu_version.max_present, 1u);
}

TEST_F(PlatformOp, FirmwareInfoHasOnlyTheKeyboardFlags) {
    xen_platform_op op = make(XENPF_firmware_info);
    op.u.firmware_info.type = XEN_FW_DISK_INFO;
    EXPECT_EQ(run(op), -XEN_ESRCH);
    op.u.firmware_info.type = XEN_FW_DISK_MBR_SIGNATURE;
    EXPECT_EQ(run(op), -XEN_ESRCH);
    op.u.firmware_info.type = XEN_FW_VBEDDC_INFO;
    EXPECT_EQ(run(op), -XEN_ESRCH);
    op.u.firmware_info.type = XEN_FW_EFI_INFO;
    EXPECT_EQ(run(op), -XEN_ENOSYS);
    op.u.firmware_info.type = 99;
    EXPECT_EQ(run(op), -XEN_EINVAL);
    op.u.firmware_info.type = XEN_FW_KBD_SHIFT_FLAGS;
    ASSERT_EQ(run(op), 0);
    EXPECT_EQ(op.u.firmware_info.u.kbd_shift_flags, 0x20);
    op.u.firmware_info.index = 1;
    EXPECT_EQ(run(op), -XEN_ESRCH);
    op.u.firmware_info.index = 0;
    fake_platform::state().bios = false;  // booted by UEFI: no BIOS data area
    EXPECT_EQ(run(op), -XEN_ESRCH);
}

TEST_F(PlatformOp, AcpiSleepPowersOffOnlyForS5) {
    xen_platform_op op = make(XENPF_enter_acpi_sleep);
    op.u.enter_acpi_sleep.sleep_state = 3;
    EXPECT_EQ(run(op), -XEN_EOPNOTSUPP);
    op.u.enter_acpi_sleep.sleep_state = 5;
    op.u.enter_acpi_sleep.flags = XENPF_ACPI_SLEEP_EXTENDED;
    EXPECT_EQ(run(op), -XEN_EPERM);
    op.u.enter_acpi_sleep.flags = 2;
    EXPECT_EQ(run(op), -XEN_EINVAL);
    op.u.enter_acpi_sleep.flags = 0;
    op.u.enter_acpi_sleep.val_a = 0x1400 | (1u << 13);  // SLP_TYP 5 and SLP_EN
    op.u.enter_acpi_sleep.val_b = 0x1400;               // SLP_EN in one value only
    EXPECT_EQ(run(op), -XEN_EINVAL);
    op.u.enter_acpi_sleep.val_b = 0;
    op.u.enter_acpi_sleep.sleep_state = 1;
    EXPECT_EQ(run(op), -XEN_EOPNOTSUPP);
    EXPECT_FALSE(d0->state() == DomainState::shutdown);
    op.u.enter_acpi_sleep.sleep_state = 5;
    EXPECT_EQ(run(op), 0);
    EXPECT_TRUE(fake_pv::happened("shutdown d0 " + std::to_string(SHUTDOWN_poweroff)));
}

TEST_F(PlatformOp, AcpiSleepWithoutPm1aIsRefused) {
    fake_platform::state().pm1a = false;
    xen_platform_op op = make(XENPF_enter_acpi_sleep);
    op.u.enter_acpi_sleep.sleep_state = 5;
    EXPECT_EQ(run(op), -XEN_EPERM);
}

TEST_F(PlatformOp, PowerManagementDataIsNotTaken) {
    xen_platform_op op = make(XENPF_set_processor_pminfo);
    for (uint32_t t : {XEN_PM_CX, XEN_PM_PX, XEN_PM_TX, XEN_PM_PDC}) {
        op.u.set_pminfo.type = t;
        EXPECT_EQ(run(op), -XEN_ENOSYS) << t;
    }
    op.u.set_pminfo.type = 9;
    EXPECT_EQ(run(op), -XEN_EINVAL);
}

TEST_F(PlatformOp, OtherCommandsAreENOSYS) {
    xen_platform_op op = make(XENPF_microcode_update);
    EXPECT_EQ(run(op), -XEN_ENOSYS);
    op = make(12345);
    EXPECT_EQ(run(op), -XEN_ENOSYS);
}

}  // namespace
