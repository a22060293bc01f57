// platform_op: machine-wide control for the control domain, with Xen 4.17's checks in its
// order: the interface version (-EACCES), then the caller's privilege (-EPERM).
//
//   settime32, settime64       the wall clock every domain sees (wallclock.hpp)
//   get_cpuinfo, get_cpu_version
//                              the physical CPUs by hypervisor index
//   firmware_info              Kestrel collects no BIOS disk (EDD, MBR) or monitor (EDID) data and
//                              offers no EFI services: -ESRCH and -ENOSYS, as Xen answers when it
//                              found none; the BIOS keyboard flags when a BIOS booted it
//   enter_acpi_sleep           S5 powers the machine off (as dom0's shutdown does); Kestrel has no
//                              resume path, so S3 (and the other states) are -EOPNOTSUPP
//   set_processor_pminfo       Kestrel manages no C-, P- or T-states: -ENOSYS for each, as Xen
//                              with that management off
//
// Other commands (MTRRs, microcode, CPU and memory hotplug, EFI runtime calls, MSR access) are
// not offered: -ENOSYS, logged once each.
#include <xen/errno.h>
#include <xen/platform.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "host_platform.hpp"
#include "hypercall.hpp"
#include "log.hpp"
#include "vcpu.hpp"
#include "wallclock.hpp"

namespace {

constexpr uint64_t NS_PER_SEC = 1'000'000'000;
constexpr uint32_t ACPI_STATE_S3 = 3, ACPI_STATE_S5 = 5;
constexpr uint16_t PM1_SLEEP_ENABLE = 1u << 13;

// Xen's do_settime: the wall clock read secs.nsecs at system time `system_ns`.
void settime(uint64_t secs, uint64_t nsecs, uint64_t system_ns) {
    uint64_t total = secs * NS_PER_SEC + nsecs;
    wallclock::set(wallclock::Time{total / NS_PER_SEC, uint32_t(total % NS_PER_SEC)}, system_ns);
}

long get_cpuinfo(xenpf_pcpuinfo& info) {
    host_platform::Cpu c = host_platform::cpu(info.xen_cpuid);
    if (!c.present) {
        info.flags = XEN_PCPU_FLAGS_INVALID;
    } else {
        info.apic_id = c.apic_id;
        info.acpi_id = c.acpi_id;
        info.flags = c.online ? XEN_PCPU_FLAGS_ONLINE : 0;
    }
    info.max_present = host_platform::max_present();
    return 0;
}

long get_cpu_version(xenpf_pcpu_version& ver) {
    host_platform::Cpu c = host_platform::cpu(ver.xen_cpuid);
    if (!c.online) {
        for (char& ch : ver.vendor_id) ch = 0;
        ver.family = ver.model = ver.stepping = 0;
    } else {
        host_platform::CpuVersion id = host_platform::cpu_version();
        for (unsigned i = 0; i < sizeof ver.vendor_id; ++i) ver.vendor_id[i] = id.vendor[i];
        ver.family = id.family;
        ver.model = id.model;
        ver.stepping = id.stepping;
    }
    ver.max_present = host_platform::max_present();
    return 0;
}

long firmware_info(xenpf_firmware_info& fw) {
    switch (fw.type) {
    case XEN_FW_DISK_INFO:
    case XEN_FW_DISK_MBR_SIGNATURE:
    case XEN_FW_VBEDDC_INFO: return -XEN_ESRCH;  // none gathered: no index is valid
    case XEN_FW_EFI_INFO: return -XEN_ENOSYS;
    case XEN_FW_KBD_SHIFT_FLAGS: {
        uint8_t flags;
        if (fw.index != 0 || !host_platform::kbd_shift_flags(flags)) return -XEN_ESRCH;
        fw.u.kbd_shift_flags = flags;
        return 0;
    }
    default: return -XEN_EINVAL;
    }
}

long enter_acpi_sleep(Vcpu& v, const xenpf_enter_acpi_sleep& s) {
    if (s.sleep_state == ACPI_STATE_S3) return -XEN_EOPNOTSUPP;  // no wake-up path
    if (s.flags & XENPF_ACPI_SLEEP_EXTENDED) return -XEN_EPERM;  // no sleep control registers
    if (!host_platform::acpi_pm1a_present()) return -XEN_EPERM;
    if (s.val_b && ((s.val_a ^ s.val_b) & PM1_SLEEP_ENABLE)) return -XEN_EINVAL;
    if (s.flags) return -XEN_EINVAL;
    if (s.sleep_state != ACPI_STATE_S5) return -XEN_EOPNOTSUPP;
    log::info("d{}: ACPI S5 requested: powering off", v.domain().id());
    domain_control::shutdown(v.domain(), shutdown::poweroff);
    return 0;
}

long set_pminfo(const xenpf_set_processor_pminfo& p) {
    switch (p.type) {
    case XEN_PM_CX:
    case XEN_PM_PX:
    case XEN_PM_TX:
    case XEN_PM_PDC: return -XEN_ENOSYS;
    default: return -XEN_EINVAL;
    }
}

}  // namespace

long do_platform_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Gva arg(args.a0);
    xen_platform_op op;
    if (!guest::read(arg, op)) return -XEN_EFAULT;
    if (op.interface_version != XENPF_INTERFACE_VERSION) return -XEN_EACCES;
    if (!v.domain().privileged()) return -XEN_EPERM;
    long rc;
    bool write_back = false;
    switch (op.cmd) {
    case XENPF_settime32:
        settime(op.u.settime32.secs, op.u.settime32.nsecs, op.u.settime32.system_time);
        return 0;
    case XENPF_settime64:
        if (op.u.settime64.mbz) return -XEN_EINVAL;
        settime(op.u.settime64.secs, op.u.settime64.nsecs, op.u.settime64.system_time);
        return 0;
    case XENPF_get_cpuinfo:
        rc = get_cpuinfo(op.u.pcpu_info);
        write_back = true;
        break;
    case XENPF_get_cpu_version:
        rc = get_cpu_version(op.u.pcpu_version);
        write_back = true;
        break;
    case XENPF_firmware_info:
        rc = firmware_info(op.u.firmware_info);
        write_back = rc == 0;
        break;
    case XENPF_enter_acpi_sleep: return enter_acpi_sleep(v, op.u.enter_acpi_sleep);
    case XENPF_set_processor_pminfo: return set_pminfo(op.u.set_pminfo);
    default: return hypercall::unsupported_op(v, __HYPERVISOR_platform_op, op.cmd);
    }
    if (write_back && !guest::write(arg, op)) return -XEN_EFAULT;
    return rc;
}
