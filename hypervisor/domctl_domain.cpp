// domctl commands on whole domains (see domctl.hpp), as Xen 4.17 with the dummy XSM policy:
// createdomain (the id as Xen picks it, the configuration checked as sanitise_domain_config,
// arch_sanitise_domain_config, arch_domain_create, grant_table_init and the cpupool lookup do
// for a PV domain), destroydomain, the toolstack's pause and unpause (Xen's
// controller_pause_count), getdomaininfo and max_mem.
#include <xen/errno.h>
#include <xen/xen.h>

#include "cpuid_policy.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "domctl.hpp"
#include "grant_table.hpp"
#include "kstd/string.hpp"
#include "log.hpp"
#include "pv_arch.hpp"
#include "pv_mm.hpp"
#include "runstate.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace domctl {

namespace {

constexpr uint32_t KNOWN_FLAGS = XEN_DOMCTL_CDF_hvm | XEN_DOMCTL_CDF_hap | XEN_DOMCTL_CDF_s3_integrity |
                                 XEN_DOMCTL_CDF_oos_off | XEN_DOMCTL_CDF_xs_domain | XEN_DOMCTL_CDF_iommu |
                                 XEN_DOMCTL_CDF_nested_virt | XEN_DOMCTL_CDF_vpmu;
constexpr unsigned MAX_GRANT_VERSION = 2;  // Xen's gnttab_max_version default
constexpr uint8_t NO_SHUTDOWN_CODE = 0xff; // Xen's SHUTDOWN_CODE_INVALID, as getdomaininfo shows it

// sanitise_domain_config and arch_sanitise_domain_config for what Kestrel has: PV only (Xen
// built without HVM answers the same), no IOMMU, no vPMU by domctl, no processor trace, no
// TBOOT. PV domains always get oos_off, as on Xen (and see it in the copied-back argument).
long sanitise(xen_domctl_createdomain& c) {
    const bool hvm = c.flags & XEN_DOMCTL_CDF_hvm, hap = c.flags & XEN_DOMCTL_CDF_hap;
    if (c.flags & ~KNOWN_FLAGS) return -XEN_EINVAL;
    if (c.grant_opts & ~uint32_t(XEN_DOMCTL_GRANT_version_mask)) return -XEN_EINVAL;
    if (c.max_vcpus < 1) return -XEN_EINVAL;
    if (hap && !hvm) return -XEN_EINVAL;
    if (c.flags & XEN_DOMCTL_CDF_iommu) return -XEN_EINVAL;  // options checked first by Xen: same answer
    if (c.iommu_opts) return -XEN_EINVAL;
    if (c.vmtrace_size) return -XEN_EINVAL;
    if (c.flags & XEN_DOMCTL_CDF_vpmu) return -XEN_EINVAL;
    if (hvm) {
        log::info("domctl: createdomain asked for an HVM domain: Kestrel runs PV domains only");
        return -XEN_EINVAL;
    }
    // Xen allows 8192 PV vCPUs; Kestrel keeps every vcpu_info in shared_info.
    if (c.max_vcpus > Domain::MAX_VCPUS) return -XEN_EINVAL;
    if (c.flags & XEN_DOMCTL_CDF_s3_integrity) return -XEN_EINVAL;
    c.flags |= XEN_DOMCTL_CDF_oos_off;
    if (c.flags & XEN_DOMCTL_CDF_nested_virt) return -XEN_EINVAL;  // needs HAP
    if (c.arch.misc_flags & ~uint32_t(XEN_X86_MSR_RELAXED)) return -XEN_EINVAL;
    return 0;
}

// What domain_create checks after that, in its order: the emulated devices (a PV domain may
// have the PIT only), the grant table's version and sizes, the cpupool (Kestrel has pool 0).
long check_resources(const xen_domctl_createdomain& c) {
    if (c.arch.emulation_flags & ~uint32_t(XEN_X86_EMU_ALL)) return -XEN_EINVAL;
    if (c.arch.emulation_flags != 0 && c.arch.emulation_flags != XEN_X86_EMU_PIT) return -XEN_EOPNOTSUPP;
    unsigned version = XEN_DOMCTL_GRANT_version(c.grant_opts);
    if (version == 0 || version > MAX_GRANT_VERSION) return -XEN_EINVAL;
    int32_t grant_frames = c.max_grant_frames < 0 ? int32_t(grant::MAX_FRAMES) : c.max_grant_frames;
    int32_t maptrack_frames = c.max_maptrack_frames < 0 ? int32_t(grant::MAX_MAPTRACK_FRAMES) : c.max_maptrack_frames;
    if (grant_frames < 1 || grant_frames > int32_t(grant::MAX_FRAMES) ||
        maptrack_frames > int32_t(grant::MAX_MAPTRACK_FRAMES))
        return -XEN_EINVAL;
    if (c.cpupool_id != 0) return -XEN_ESRCH;
    return 0;
}

// The id: the one asked for (-EEXIST if taken), or with 0 or a reserved id the next free one
// after the last one given (Xen's rover; -ENOMEM when none is left).
long choose_id(domid_t wanted, DomId& id) {
    static domid_t rover = 0;
    if (wanted > 0 && wanted < DOMID_FIRST_RESERVED) {
        if (!domain_control::id_free(DomId(wanted))) return -XEN_EEXIST;
        id = DomId(wanted);
        return 0;
    }
    domid_t dom = rover;
    for (unsigned tries = 0; tries < DOMID_FIRST_RESERVED - 1; ++tries) {
        dom = unsigned(dom) + 1 >= DOMID_FIRST_RESERVED ? domid_t(1) : domid_t(dom + 1);
        if (domain_control::id_free(DomId(dom))) {
            rover = dom;
            id = DomId(dom);
            return 0;
        }
    }
    return -XEN_ENOMEM;
}

long creation_error(DomainError e) {
    switch (e) {
    case DomainError::id_in_use: return -XEN_EEXIST;
    case DomainError::out_of_memory: return -XEN_ENOMEM;
    default: return -XEN_EINVAL;
    }
}

// Xen's hap_paddr_bits, which getdomaininfo reports for every domain: the guest physical
// address width of CPUID 0x80000008 (else the physical one, 36 without the leaf), at most 52.
uint8_t gpaddr_bits() {
    uint32_t eax = pv_arch::guest_cpuid(0x80000008, 0).eax;
    uint32_t bits = (eax >> 16) & 0xff ? (eax >> 16) & 0xff : eax & 0xff ? eax & 0xff : 36;
    return uint8_t(bits > 52 ? 52 : bits);
}

// The vCPU part of getdomaininfo: the domain is blocked only if every vCPU that is up is, and
// running if any is on a CPU. A shut-down domain's vCPUs stay up (Xen pauses them).
uint32_t vcpu_flags(const Domain& d, xen_domctl_getdomaininfo& info) {
    uint32_t flags = XEN_DOMINF_blocked;
    uint64_t now = sched::system_time();
    info.max_vcpu_id = XEN_INVALID_MAX_VCPU_ID;
    for (unsigned i = 0; d.vcpus_made() && i < d.nr_vcpus(); ++i) {
        const Vcpu& v = *d.vcpu(VcpuId(i));
        info.cpu_time += runstate::snapshot(v, now).time[RUNSTATE_running];
        info.max_vcpu_id = i;
        if (v.state == VcpuState::down) continue;
        if (v.state != VcpuState::blocked) flags &= ~XEN_DOMINF_blocked;
        if (__atomic_load_n(&v.on_cpu, __ATOMIC_ACQUIRE)) flags |= XEN_DOMINF_running;
        ++info.nr_online_vcpus;
    }
    return info.nr_online_vcpus ? flags : 0;
}

void describe(const Domain& d, xen_domctl_getdomaininfo& info) {
    memset(&info, 0, sizeof info);
    info.domain = d.id().raw();
    uint32_t flags = vcpu_flags(d, info);
    if (d.state() == DomainState::dying) flags |= XEN_DOMINF_dying;
    if (d.has_shut_down()) flags |= XEN_DOMINF_shutdown;
    if (d.controller_paused()) flags |= XEN_DOMINF_paused;
    if (d.xs_domain()) flags |= XEN_DOMINF_xs_domain;
    uint8_t code = d.has_shut_down() ? d.shutdown_reason() : d.has_shutdown_code() ? d.shutdown_code() : NO_SHUTDOWN_CODE;
    info.flags = flags | uint32_t(code) << XEN_DOMINF_shutdownshift;
    info.tot_pages = d.nr_pages();
    info.max_pages = d.max_pages();
    info.shared_info_frame = d.shared_info_mfn().raw();  // a PV domain's "gfn" is the machine frame
    info.ssidref = d.ssidref();
    memcpy(info.handle, d.handle(), sizeof info.handle);
    info.cpupool = 0;
    info.gpaddr_bits = gpaddr_bits();
    info.arch_config.emulation_flags = d.emulation_flags();
}

}  // namespace

long createdomain(Command& c) {
    xen_domctl_createdomain& cfg = c.op.u.createdomain;
    DomId id{0};
    if (long rc = choose_id(c.op.domain, id)) return rc;
    if (long rc = sanitise(cfg)) return rc;
    if (long rc = check_resources(cfg)) return rc;
    DomainConfig dc{id, 0, 0, cfg.max_vcpus, false, false, cfg.max_evtchn_port};
    dc.toolstack = true;
    dc.ssidref = cfg.ssidref;
    memcpy(dc.handle, cfg.handle, sizeof dc.handle);
    dc.emulation_flags = cfg.arch.emulation_flags;
    dc.misc_flags = cfg.arch.misc_flags;
    dc.xs_domain = cfg.flags & XEN_DOMCTL_CDF_xs_domain;
    auto d = domain_control::create(dc);
    if (!d) return creation_error(d.error());
    log::info("domain {} created by the toolstack ({} vCPUs)", id, cfg.max_vcpus);
    c.op.domain = id.raw();
    c.copyback = true;
    return 0;
}

long destroydomain(Command& c) {
    if (c.target == &c.caller.domain()) return -XEN_EINVAL;
    c.released = true;  // destroy() drops the hold
    domain_control::destroy(*c.target);
    return 0;
}

long pausedomain(Command& c) {
    Domain& d = *c.target;
    if (&d == &c.caller.domain()) return -XEN_EINVAL;  // it would wait for itself
    if (!d.controller_pause()) return -XEN_EOVERFLOW;
    sched::pause(d);
    return 0;
}

long unpausedomain(Command& c) {
    Domain& d = *c.target;
    if (!d.controller_unpause()) return -XEN_EINVAL;
    sched::unpause(d);
    return 0;
}

// The limit in KiB, as pages (Xen keeps at most UINT_MAX): lower than what the domain holds
// is allowed (nothing more can be added until it is back under). Growing Kestrel's p2m can
// fail where Xen cannot (-ENOMEM).
long max_mem(Command& c) {
    uint64_t pages = c.op.u.max_mem.max_memkb >> (PAGE_SHIFT - 10);
    if (pages > 0xffffffffu) pages = 0xffffffffu;
    Domain& d = *c.target;
    pv_mm::MmGuard mm;
    LockGuard g(d.page_lock());
    return d.set_max_pages(pages) ? 0 : -XEN_ENOMEM;
}

long getdomaininfo(Vcpu& caller, xen_domctl& op, bool& copyback) {
    pv_mm::MmGuard mm;  // the domain found cannot be freed meanwhile
    Domain* d = domain_control::lookup(DomId(op.domain));
    if (!d) {
        if (op.domain >= DOMID_FIRST_RESERVED) return -XEN_EINVAL;
        d = domain_control::first_from(DomId(op.domain));
        if (!d) return -XEN_ESRCH;
    }
    // XSM_XS_PRIV: the control domain, or the xenstore domain.
    if (!caller.domain().privileged() && !caller.domain().xs_domain()) return -XEN_EPERM;
    describe(*d, op.u.getdomaininfo);
    op.domain = d->id().raw();
    copyback = true;
    return 0;
}

}  // namespace domctl
