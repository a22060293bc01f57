#include "cpuid_policy.hpp"

#include <xen/arch-x86/cpuid.h>

#include "xen_version.hpp"

namespace cpuid_policy {

namespace {

constexpr uint32_t bit(unsigned n) { return uint32_t{1} << n; }

// What Xen's feature table (public/arch-x86/cpufeatureset.h) does not mark for all guests:
// features for HVM guests only ('S', 'H'), never offered (no mark), or off by default ('a').
// Leaf 1.
constexpr uint32_t L1_ECX_HIDDEN = bit(2) /* DTES64 */ | bit(3) /* MONITOR */ | bit(4) /* DS-CPL */ |
                                   bit(5) /* VMX */ | bit(6) /* SMX */ | bit(7) /* EST */ | bit(8) /* TM2 */ |
                                   bit(12) /* FMA */ | bit(14) /* xTPR */ | bit(15) /* PDCM */ | bit(17) /* PCID */ |
                                   bit(18) /* DCA */ | bit(21) /* x2APIC */ | bit(24) /* TSC-deadline */ |
                                   bit(26) /* XSAVE */ | bit(27) /* OSXSAVE */ | bit(28) /* AVX */ | bit(29) /* F16C */;
constexpr uint32_t L1_ECX_HYPERVISOR = bit(31);
// Paging features (VME, PSE, PGE, PSE36) and MTRRs are the hypervisor's: a PV guest's page
// tables take neither large nor global pages.
constexpr uint32_t L1_EDX_HIDDEN = bit(1) /* VME */ | bit(3) /* PSE */ | bit(12) /* MTRR */ | bit(13) /* PGE */ |
                                   bit(17) /* PSE36 */ | bit(21) /* DS */ | bit(22) /* ACPI thermal */ |
                                   bit(29) /* TM */ | bit(31) /* PBE */;
// Leaf 7 subleaf 0, EBX: AVX2 and AVX-512 need XSAVE; SMEP/SMAP/INVPCID are ring-0 features;
// TSC_ADJUST, SGX, HLE, resource monitoring, MPX and processor trace are not offered.
constexpr uint32_t L7_EBX_HIDDEN = bit(1) | bit(2) | bit(4) | bit(5) /* AVX2 */ | bit(7) /* SMEP */ |
                                   bit(10) /* INVPCID */ | bit(12) | bit(14) | bit(15) | bit(16) | bit(17) |
                                   bit(20) /* SMAP */ | bit(21) | bit(25) | bit(26) | bit(27) | bit(28) | bit(30) |
                                   bit(31);
// Leaf 7 subleaf 0, ECX: UMIP and protection keys are the hypervisor's ring-0 business; CET
// shadow stacks, MOVDIRI/MOVDIR64B and ENQCMD are not offered.
constexpr uint32_t L7_ECX_HIDDEN = bit(2) /* UMIP */ | bit(3) /* PKU */ | bit(4) /* OSPKE */ | bit(7) /* CET_SS */ |
                                   bit(27) | bit(28) | bit(29);
// Leaf 7 subleaf 0, EDX: VP2INTERSECT, SRBDS_CTRL, TSX_FORCE_ABORT, HYBRID, TSXLDTRK, CET_IBT,
// AVX512_FP16, L1D_FLUSH and CORE_CAPS are not offered.
constexpr uint32_t L7_EDX_HIDDEN = bit(8) | bit(9) | bit(13) | bit(15) | bit(16) | bit(20) | bit(23) | bit(28) | bit(30);
// Leaf 0x80000001, ECX: SVM, extended APIC space, CR8 in legacy mode, OSVW, IBS, SKINIT, WDT,
// LWP, node-id MSR, topology extensions and MONITORX.
constexpr uint32_t LX1_ECX_HIDDEN = bit(2) | bit(3) | bit(4) | bit(9) | bit(10) | bit(12) | bit(13) | bit(15) |
                                    bit(19) | bit(22) | bit(29);
// Leaf 0x80000001, EDX: 1 GiB pages.
constexpr uint32_t LX1_EDX_HIDDEN = bit(26);
// Leaf 0x80000008, EBX: WBNOINVD, AMD's IBRS/STIBP family, NO_LMSL, PPIN, AMD_SSBD,
// VIRT_SSBD and PSFD.
constexpr uint32_t LX8_EBX_HIDDEN = bit(9) | bit(14) | bit(15) | bit(16) | bit(17) | bit(18) | bit(19) | bit(20) |
                                    bit(23) | bit(24) | bit(25) | bit(28);

}  // namespace

bool is_hypervisor_leaf(uint32_t leaf) { return leaf >= HV_BASE && leaf < HV_BASE + 0x10000; }

CpuidRegs hypervisor_leaf(uint32_t leaf, uint32_t subleaf, const CpuidContext& c) {
    CpuidRegs r{0, 0, 0, 0};
    uint32_t idx = leaf - HV_BASE;
    switch (idx) {
    case 0:
        r = {HV_BASE + HV_LIMIT, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX, XEN_CPUID_SIGNATURE_EDX};
        break;
    case 1: r.eax = (xen_version::MAJOR << 16) | xen_version::MINOR; break;
    case 2:
        r.eax = 1;         // one hypercall page
        r.ebx = HV_BASE;   // the MSR that would place it (HVM guests)
        break;
    case 3:
        // Time: native TSC (mode 0, no emulation); the TSC counts at tsc_khz on every CPU.
        if (subleaf == 0) r = {uint32_t(c.host_has_rdtscp) << 2, 0, c.tsc_khz, 0};
        else if (subleaf == 2) r.eax = c.tsc_khz;
        break;
    default: break;  // 4 is for HVM guests, 5 reports nothing yet
    }
    return r;
}

namespace {

// XSAVE state: what the guest may enable, the leaf 0xD subleaves of those components, and
// XSAVES (supervisor state) never.
CpuidRegs xstate_leaf(uint32_t subleaf, CpuidRegs host, uint64_t mask) {
    if (!mask) return {0, 0, 0, 0};
    if (subleaf == 0) return {host.eax & uint32_t(mask), host.ebx, host.ecx, host.edx & uint32_t(mask >> 32)};
    if (subleaf == 1) return {host.eax & ~bit(3), 0, 0, 0};
    if (subleaf < 64 && (mask >> subleaf) & 1) return host;
    return {0, 0, 0, 0};
}

}  // namespace

CpuidRegs filter_host_leaf(uint32_t leaf, uint32_t subleaf, CpuidRegs host, uint64_t xstate_mask) {
    constexpr uint64_t XSTATE_AVX = 1u << 2, XSTATE_AVX512 = 7u << 5;
    switch (leaf) {
    case 1: {
        uint32_t hidden = L1_ECX_HIDDEN;
        if (xstate_mask) hidden &= ~(bit(26) | bit(27));                     // XSAVE, OSXSAVE
        if (xstate_mask & XSTATE_AVX) hidden &= ~(bit(12) | bit(28) | bit(29));  // FMA, AVX, F16C
        host.ecx = (host.ecx & ~hidden) | L1_ECX_HYPERVISOR;
        host.edx &= ~L1_EDX_HIDDEN;
        break;
    }
    case 5:  // MONITOR/MWAIT
        host = {0, 0, 0, 0};
        break;
    case 0xd: host = xstate_leaf(subleaf, host, xstate_mask); break;
    case 7:
        if (subleaf == 0) {
            uint32_t hidden = L7_EBX_HIDDEN;
            if (xstate_mask & XSTATE_AVX) hidden &= ~bit(5);  // AVX2
            if ((xstate_mask & XSTATE_AVX512) == XSTATE_AVX512)
                hidden &= ~(bit(16) | bit(17) | bit(21) | bit(26) | bit(27) | bit(28) | bit(30) | bit(31));
            host.ebx &= ~hidden;
            host.ecx &= ~L7_ECX_HIDDEN;
            host.edx &= ~L7_EDX_HIDDEN;
        }
        break;
    case 0x80000001:
        host.ecx &= ~LX1_ECX_HIDDEN;
        host.edx &= ~LX1_EDX_HIDDEN;
        break;
    case 0x80000008: host.ebx &= ~LX8_EBX_HIDDEN; break;
    case 0x8000000a: host = {0, 0, 0, 0}; break;  // SVM features
    default: break;
    }
    return host;
}

}  // namespace cpuid_policy
