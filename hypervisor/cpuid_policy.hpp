// What CPUID tells a PV guest: the hypervisor's leaves at 0x40000000 in Xen's format, and
// the host's own leaves with what a PV guest cannot use hidden (virtualization extensions,
// the local APIC's x2APIC and TSC-deadline modes, MONITOR/MWAIT, ring-0 protections such as
// SMEP/SMAP, and XSAVE with what needs it unless the hypervisor offers XSAVE) and the
// hypervisor-present bit set.
#pragma once

#include <stdint.h>

struct CpuidRegs {
    uint32_t eax, ebx, ecx, edx;
};

struct CpuidContext {
    uint32_t tsc_khz;           // the host TSC's frequency
    bool host_has_rdtscp;
    bool hardware_domain;
};

namespace cpuid_policy {

constexpr uint32_t HV_BASE = 0x40000000;
constexpr uint32_t HV_LIMIT = 5;  // XEN_CPUID_MAX_NUM_LEAVES

// Whether the hypervisor answers the leaf itself (no host CPUID needed).
bool is_hypervisor_leaf(uint32_t leaf);
// The hypervisor's leaves; zeros beyond the last one.
CpuidRegs hypervisor_leaf(uint32_t leaf, uint32_t subleaf, const CpuidContext& c);
// A host leaf as the guest sees it, given what the host CPU returned. xstate_mask: the XCR0
// components Kestrel lets guests use (0: XSAVE is not offered, and neither is AVX or
// anything else that needs it).
CpuidRegs filter_host_leaf(uint32_t leaf, uint32_t subleaf, CpuidRegs host, uint64_t xstate_mask = 0);

}  // namespace cpuid_policy
