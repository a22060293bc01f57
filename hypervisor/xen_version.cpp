// xen_version: version and feature queries. Which sub-ops a domain may use follows Xen's
// default policy: version, platform parameters and features for everyone; the build strings,
// page size and handle for everyone too, but the command line and build id for the control
// domain only (others get Xen's "<denied>" answers).
#include "xen_version.hpp"

#include <xen/errno.h>
#include <xen/features.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "vcpu.hpp"

namespace xen_version {

namespace {
char command_line[1024];
constexpr const char* DENIED = "<denied>";

template <size_t N>
void fill(char (&dst)[N], const char* s) {
    size_t i = 0;
    for (; s[i] && i < N - 1; ++i) dst[i] = s[i];
    for (; i < N; ++i) dst[i] = 0;
}

constexpr uint32_t bit_of(unsigned feature) { return uint32_t{1} << feature; }

}  // namespace

uint32_t features(const Domain& d) {
    uint32_t bits = bit_of(XENFEAT_memory_op_vnode_supported)  // accepted, no domain has vNUMA
                    | bit_of(XENFEAT_mmu_pt_update_preserve_ad)   // mmu_update's command 2
                    | bit_of(XENFEAT_highmem_assist)              // MMUEXT_CLEAR_PAGE, MMUEXT_COPY_PAGE
                    | bit_of(XENFEAT_gnttab_map_avail_bits)       // GNTMAP_guest_avail bits in the PTE
                    | bit_of(XENFEAT_direct_mapped);              // a PV guest sees machine frames
    if (d.vm_assist & (uint64_t{1} << VMASST_TYPE_pae_extended_cr3)) bits |= bit_of(XENFEAT_pae_pgdir_above_4gb);
    if (d.privileged()) bits |= bit_of(XENFEAT_dom0);
    return bits;
}

void set_command_line(kstd::StringView s) {
    size_t n = s.size() < sizeof command_line - 1 ? s.size() : sizeof command_line - 1;
    memcpy(command_line, s.data(), n);
    command_line[n] = 0;
}

}  // namespace xen_version

namespace {

// The sub-ops that copy structures: apart, so that XENVER_version (the null hypercall guests
// and benchmarks use) needs no stack frame for their buffers.
[[gnu::noinline]] long query(Vcpu& v, int cmd, Gva arg) {
    using namespace xen_version;
    bool privileged = v.domain().privileged();
    switch (cmd) {
    case XENVER_extraversion: {
        xen_extraversion_t s;
        fill(s, EXTRA);
        return guest::write(arg, s) ? 0 : -XEN_EFAULT;
    }
    case XENVER_compile_info: {
        xen_compile_info_t info;
        fill(info.compiler, "gcc " __VERSION__);
        fill(info.compile_by, "kestrel");
        fill(info.compile_domain, "");
        fill(info.compile_date, __DATE__ " " __TIME__);
        return guest::write(arg, info) ? 0 : -XEN_EFAULT;
    }
    case XENVER_capabilities: {
        static xen_capabilities_info_t caps;
        fill(caps, CAPABILITIES);
        return guest::write(arg, caps) ? 0 : -XEN_EFAULT;
    }
    case XENVER_changeset: {
        xen_changeset_info_t s;
        fill(s, CHANGESET);
        return guest::write(arg, s) ? 0 : -XEN_EFAULT;
    }
    case XENVER_platform_parameters: {
        xen_platform_parameters_t p{HYPERVISOR_VIRT_START};
        return guest::write(arg, p) ? 0 : -XEN_EFAULT;
    }
    case XENVER_get_features: {
        xen_feature_info_t fi;
        if (!guest::read(arg, fi)) return -XEN_EFAULT;
        if (fi.submap_idx != 0) return -XEN_EINVAL;
        fi.submap = features(v.domain());
        return guest::write(arg, fi) ? 0 : -XEN_EFAULT;
    }
    case XENVER_pagesize: return arg.raw() ? -XEN_EINVAL : long(PAGE_SIZE);
    case XENVER_guest_handle: {
        xen_domain_handle_t h{};  // boot-time domains have the all-zero handle
        return guest::write(arg, h) ? 0 : -XEN_EFAULT;
    }
    case XENVER_commandline: {
        if (!privileged) return guest::copy_to(arg, DENIED, 9) ? 0 : -XEN_EFAULT;
        return guest::copy_to(arg, command_line, sizeof command_line) ? 0 : -XEN_EFAULT;
    }
    case XENVER_build_id: {
        if (!privileged) return -XEN_EPERM;
        if (arg.raw()) {
            xen_build_id_t id;
            if (!guest::read(arg, id)) return -XEN_EFAULT;
            if (id.len == 0) return -XEN_EINVAL;
        }
        return -XEN_ENODATA;  // the image carries no build id
    }
    default: return -XEN_ENOSYS;
    }
}

}  // namespace

long do_xen_version(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    if (int(args.a0) == XENVER_version) return long((xen_version::MAJOR << 16) | xen_version::MINOR);
    return query(v, int(args.a0), Gva(args.a1));
}
