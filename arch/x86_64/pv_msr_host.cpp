// pv_arch's MSR side: the host CPU's identity, the guest's CPUID view, MSR reads that may
// fault, and the per-vCPU MSRs (pv_msr) loaded into the hardware while their vCPU runs.
#include <arch/cpu.hpp>
#include <arch/msr.hpp>

#include "context.hpp"
#include "percpu.hpp"
#include "pv_arch.hpp"
#include "vcpu.hpp"
#include "xstate.hpp"

extern "C" bool read_msr_safe(uint32_t msr, uint64_t* value);

namespace {

constexpr uint32_t SPEC_CTRL = 0x48, TSC_AUX = 0xc0000103, VIRT_SPEC_CTRL = 0xc001011f;
constexpr uint32_t DR_ADDRESS_MASK[4] = {0xc0011027, 0xc0011019, 0xc001101a, 0xc001101b};

bool host_has(uint32_t leaf, uint32_t subleaf, uint32_t arch::CpuidResult::*reg, unsigned b) {
    if (arch::cpuid(leaf & 0x80000000).eax < leaf) return false;
    return ((arch::cpuid(leaf, subleaf).*reg >> b) & 1) != 0;
}

// Which of the per-vCPU MSRs this host has (the same on every CPU).
struct HostMsrs {
    bool spec_ctrl, tsc_aux, virt_spec_ctrl, dr_masks;
};

const HostMsrs& host_msrs() {
    static const HostMsrs h{
        .spec_ctrl = host_has(7, 0, &arch::CpuidResult::edx, 26) || host_has(0x80000008, 0, &arch::CpuidResult::ebx, 14),
        .tsc_aux = host_has(0x80000001, 0, &arch::CpuidResult::edx, 27) || host_has(7, 0, &arch::CpuidResult::ecx, 22),
        .virt_spec_ctrl = host_has(0x80000008, 0, &arch::CpuidResult::ebx, 25),
        .dr_masks = host_has(0x80000001, 0, &arch::CpuidResult::ecx, 26),
    };
    return h;
}

}  // namespace

namespace pv_arch {

HostCpu host_cpu() {
    auto id = arch::cpuid(0);
    auto is = [&](const char (&name)[13]) {
        uint32_t b, d, c;
        __builtin_memcpy(&b, name, 4);
        __builtin_memcpy(&d, name + 4, 4);
        __builtin_memcpy(&c, name + 8, 4);
        return id.ebx == b && id.edx == d && id.ecx == c;
    };
    CpuVendor v = is("GenuineIntel")   ? CpuVendor::intel
                  : is("AuthenticAMD") ? CpuVendor::amd
                  : is("HygonGenuine") ? CpuVendor::hygon
                  : is("CentaurHauls") ? CpuVendor::centaur
                  : is("  Shanghai  ") ? CpuVendor::shanghai
                                       : CpuVendor::other;
    return HostCpu{v, arch::cpu_signature().family};
}

CpuidRegs guest_cpuid(uint32_t leaf, uint32_t subleaf) {
    auto h = arch::cpuid(leaf, subleaf);
    if (arch::cpuid(leaf & 0x80000000).eax < leaf) h = {0, 0, 0, 0};  // beyond the host's last leaf
    return cpuid_policy::filter_host_leaf(leaf, subleaf, CpuidRegs{h.eax, h.ebx, h.ecx, h.edx}, xstate::guest_mask());
}

bool read_host_msr(uint32_t msr, uint64_t& value) { return read_msr_safe(msr, &value); }
void write_host_msr(uint32_t msr, uint64_t value) { arch::wrmsr(msr, value); }
uint64_t read_fs_base() { return arch::rdmsr(msr::FS_BASE); }
// While the hypervisor runs, the guest's GS base is the swapped-out one.
uint64_t read_gs_base_kernel() { return arch::rdmsr(msr::KERNEL_GS_BASE); }
uint64_t read_efer() { return arch::rdmsr(msr::IA32_EFER); }
uint64_t read_tsc() { return arch::rdtsc(); }

void load_guest_msrs(Vcpu& v) {
    if (arch::this_cpu().current == &v) context::load_msrs(v);
}

}  // namespace pv_arch

namespace context {

void load_msrs(const Vcpu& v) {
    const HostMsrs& h = host_msrs();
    if (h.spec_ctrl) arch::wrmsr(SPEC_CTRL, v.msrs.spec_ctrl);
    if (h.tsc_aux) arch::wrmsr(TSC_AUX, v.msrs.tsc_aux);
    if (h.virt_spec_ctrl) arch::wrmsr(VIRT_SPEC_CTRL, v.msrs.virt_spec_ctrl);
    if (h.dr_masks)
        for (unsigned i = 0; i < 4; ++i) arch::wrmsr(DR_ADDRESS_MASK[i], v.msrs.dr_mask[i]);
}

}  // namespace context
