#include "pv_msr.hpp"

#include "domain.hpp"
#include "frame_table.hpp"
#include "guest_access.hpp"
#include "hypercall_page.hpp"
#include "log.hpp"
#include "pv_arch.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

namespace pv_msr {

namespace {

constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }

// MSR numbers, by the names of Intel's SDM and AMD's APM.
namespace reg {
constexpr uint32_t TSC = 0x10, PLATFORM_ID = 0x17, APIC_BASE = 0x1b, TEST_CTRL = 0x33, FEATURE_CONTROL = 0x3a;
constexpr uint32_t SPEC_CTRL = 0x48, PRED_CMD = 0x49, PPIN_CTL = 0x4e, PPIN = 0x4f, UCODE_WRITE = 0x79;
constexpr uint32_t UCODE_REV = 0x8b, P6_PERFCTR0 = 0xc1, P6_PERFCTR7 = 0xc8, PLATFORM_INFO = 0xce;
constexpr uint32_t CORE_CAPABILITIES = 0xcf, MPERF = 0xe7, APERF = 0xe8, ARCH_CAPABILITIES = 0x10a;
constexpr uint32_t FLUSH_CMD = 0x10b, TSX_FORCE_ABORT = 0x10f, TSX_CTRL = 0x122, MCU_OPT_CTRL = 0x123;
constexpr uint32_t MISC_FEATURES_ENABLES = 0x140, P6_EVNTSEL0 = 0x186, P6_EVNTSEL3 = 0x189;
constexpr uint32_t PERF_STATUS = 0x198, PERF_CTL = 0x199, THERM_CONTROL = 0x19a, THERM_STATUS = 0x19c;
constexpr uint32_t MISC_ENABLE = 0x1a0, ENERGY_PERF_BIAS = 0x1b0, PAT = 0x277;
constexpr uint32_t FIXED_CTR0 = 0x309, FIXED_CTR2 = 0x30b, PERF_CAPABILITIES = 0x345;
constexpr uint32_t FIXED_CTR_CTRL = 0x38d, GLOBAL_OVF_CTRL = 0x390;
constexpr uint32_t RTIT_FIRST = 0x560, RTIT_LAST = 0x58f, U_CET = 0x6a0, S_CET = 0x6a2;
constexpr uint32_t PL0_SSP = 0x6a4, INTERRUPT_SSP_TABLE = 0x6a8, X2APIC_FIRST = 0x800, X2APIC_LAST = 0x8ff;
constexpr uint32_t XSS = 0xda0, HYPERCALL_PAGE = 0x40000000;
constexpr uint32_t EFER = 0xc0000080, FS_BASE = 0xc0000100, GS_BASE = 0xc0000101, SHADOW_GS_BASE = 0xc0000102;
constexpr uint32_t TSC_AUX = 0xc0000103, LWP_CFG = 0xc0000105, LWP_CBADDR = 0xc0000106;
constexpr uint32_t K7_EVNTSEL0 = 0xc0010000, K7_PERFCTR3 = 0xc0010007, K8_SYSCFG = 0xc0010010;
constexpr uint32_t K8_HWCR = 0xc0010015, K8_IORR_BASE0 = 0xc0010016, K8_IORR_MASK1 = 0xc0010019;
constexpr uint32_t K8_TOP_MEM1 = 0xc001001a, K8_TOP_MEM2 = 0xc001001d, AMD64_NB_CFG = 0xc001001f;
constexpr uint32_t AMD_PATCHLOADER = 0xc0010020, K7_FID_VID_CTL = 0xc0010041, K7_FID_VID_STATUS = 0xc0010042;
constexpr uint32_t FAM10H_MMIO_CONF_BASE = 0xc0010058, K8_PSTATE_LIMIT = 0xc0010061, K8_PSTATE7 = 0xc001006b;
constexpr uint32_t K8_TSEG_BASE = 0xc0010112, K8_TSEG_MASK = 0xc0010113, VIRT_SPEC_CTRL = 0xc001011f;
constexpr uint32_t FAM15H_EVNTSEL0 = 0xc0010200, FAM15H_PERFCTR5 = 0xc001020b, AMD_PPIN_CTL = 0xc00102f0;
constexpr uint32_t AMD_PPIN = 0xc00102f1, DR1_ADDRESS_MASK = 0xc0011019, DR3_ADDRESS_MASK = 0xc001101b;
constexpr uint32_t DR0_ADDRESS_MASK = 0xc0011027, AMD64_DE_CFG = 0xc0011029;
constexpr uint32_t P5_MC_ADDR = 0, P5_MC_TYPE = 1, MCG_CAP = 0x179, MCG_STATUS = 0x17a, MCG_CTL = 0x17b;
constexpr uint32_t MC0_CTL2 = 0x280, MC31_CTL2 = 0x29f, MC0_CTL = 0x400, MC31_MISC = 0x47f, MCG_EXT_CTL = 0x4d0;
}  // namespace reg

constexpr uint64_t APIC_DEFAULT_BASE = 0xfee00000, APIC_BASE_BSP = bit(8), APIC_BASE_ENABLE = bit(11);
// EFER bits Xen knows of (SCE, LME, LMA, NXE, SVME, FFXSE); SVME is never shown.
constexpr uint64_t EFER_KNOWN = bit(0) | bit(8) | bit(10) | bit(11) | bit(12) | bit(14), EFER_SVME = bit(12);
// Xen's PAT: WB, WT, UC-, UC, WC, WP, UC, UC (entries 0-7).
constexpr uint64_t XEN_PAT = 0x0000050100070406;
constexpr uint64_t MISC_ENABLE_PERF_AVAIL = bit(7), MISC_ENABLE_BTS_UNAVAIL = bit(11);
constexpr uint64_t MISC_ENABLE_PEBS_UNAVAIL = bit(12), MISC_ENABLE_MONITOR = bit(18), MISC_ENABLE_XTPR_DISABLE = bit(23);
constexpr uint64_t FEATURE_CONTROL_LOCK = bit(0);
constexpr uint64_t SPEC_CTRL_IBRS = bit(0), SPEC_CTRL_STIBP = bit(1), SPEC_CTRL_SSBD = bit(2);
constexpr uint64_t PRED_CMD_IBPB = bit(0), FLUSH_CMD_L1D = bit(0);
constexpr uint64_t DE_CFG_LFENCE_SERIALISE = bit(1);
// SYSCFG bits a hardware domain sees: MtrrFixDramEn, MtrrVarDramEn, MtrrTom2En, Tom2ForceMemTypeWB.
constexpr uint64_t SYSCFG_SHOWN = bit(18) | bit(20) | bit(21) | bit(22);

bool in(uint32_t msr, uint32_t first, uint32_t last) { return msr >= first && msr <= last; }

bool is_intel(const pv_arch::HostCpu& c) { return c.vendor == pv_arch::CpuVendor::intel; }
bool is_amd_like(const pv_arch::HostCpu& c) {
    return c.vendor == pv_arch::CpuVendor::amd || c.vendor == pv_arch::CpuVendor::hygon;
}

// The CPUID features that make MSRs exist for the guest, from its CPUID view.
struct Features {
    bool lm, rdtscp, rdpid, ibrsb, ssbd, arch_caps, l1d_flush, ibrs, ibpb, amd_ssbd, virt_ssbd, dbext, xsaves;
};

Features features() {
    CpuidRegs l7 = pv_arch::guest_cpuid(7, 0), x1 = pv_arch::guest_cpuid(0x80000001, 0);
    CpuidRegs x8 = pv_arch::guest_cpuid(0x80000008, 0), xd = pv_arch::guest_cpuid(0xd, 1);
    auto has = [](uint32_t r, unsigned b) { return ((r >> b) & 1) != 0; };
    return Features{
        .lm = has(x1.edx, 29), .rdtscp = has(x1.edx, 27), .rdpid = has(l7.ecx, 22),
        .ibrsb = has(l7.edx, 26), .ssbd = has(l7.edx, 31), .arch_caps = has(l7.edx, 29),
        .l1d_flush = has(l7.edx, 28), .ibrs = has(x8.ebx, 14), .ibpb = has(x8.ebx, 12),
        .amd_ssbd = has(x8.ebx, 24), .virt_ssbd = has(x8.ebx, 25), .dbext = has(x1.ecx, 26),
        .xsaves = has(xd.eax, 3),
    };
}

uint64_t spec_ctrl_valid(const Features& f) {
    return SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | ((f.ssbd || f.amd_ssbd) ? SPEC_CTRL_SSBD : 0);
}

unsigned dr_mask_index(uint32_t msr) { return msr == reg::DR0_ADDRESS_MASK ? 0 : msr - reg::DR1_ADDRESS_MASK + 1; }

uint64_t guest_efer() { return pv_arch::read_efer() & EFER_KNOWN & ~EFER_SVME; }

uint64_t guest_misc_enable(uint64_t host) {
    return (host & ~(MISC_ENABLE_PERF_AVAIL | MISC_ENABLE_MONITOR)) | MISC_ENABLE_BTS_UNAVAIL |
           MISC_ENABLE_PEBS_UNAVAIL | MISC_ENABLE_XTPR_DISABLE;
}

// Each unknown MSR number is reported once (a guest probing in a loop must not flood the log).
bool first_report(uint32_t msr, bool write) {
    static uint32_t seen[64];
    static unsigned count;
    uint32_t key = msr ^ (write ? 0x80000000u : 0);  // reads and writes apart
    for (unsigned i = 0; i < __atomic_load_n(&count, __ATOMIC_RELAXED) && i < 64; ++i)
        if (__atomic_load_n(&seen[i], __ATOMIC_RELAXED) == key) return false;
    unsigned slot = __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED);
    if (slot < 64) __atomic_store_n(&seen[slot], key, __ATOMIC_RELAXED);
    return true;
}

enum class Result { done, fault, unhandled };

Result value_or_fault(bool ok) { return ok ? Result::done : Result::fault; }

// AMD's memory-map MSRs: the hardware domain reads the host's (SYSCFG only its memory-type
// bits); for any other domain they are unknown MSRs.
Result amd_memory_map_read(Vcpu& v, uint32_t msr, uint64_t& val, const pv_arch::HostCpu& cpu) {
    if (!is_amd_like(cpu)) return Result::fault;
    if (!v.domain().privileged()) return Result::unhandled;
    if (!pv_arch::read_host_msr(msr, val)) return Result::fault;
    if (msr == reg::K8_SYSCFG) val &= SYSCFG_SHOWN;
    return Result::done;
}

// The hypercall-page MSR: the value is the address of a page of the domain (a PV guest's
// frame numbers are machine frames), page-aligned, which gets the hypercall stubs.
bool write_hypercall_page(Vcpu& v, uint64_t val) {
    if (val & (PAGE_SIZE - 1)) return false;
    pv_mm::MmGuard g;
    Domain& d = v.domain();
    Mfn frame(val >> PAGE_SHIFT);
    FrameTable* ft = d.machine().table();
    if (!ft || !ft->owned_by(frame, d.id())) return false;
    if (pv_mm::get_page_and_type(d, frame, PageType::writable)) return false;
    hypercall_page::fill_pv64(std::span<uint8_t, PAGE_SIZE>(static_cast<uint8_t*>(d.machine().map(frame)), PAGE_SIZE));
    pv_mm::put_page_and_type(d, frame);
    return true;
}

// Machine checks as Xen's vMCE shows them: MCG_CAP names two banks (on Intel also software
// error recovery, threshold-based status and CMCI, never signalled), whose control registers
// read all ones and take any write, and whose status, address and misc registers only take
// 0; every other bank register reads 0 and ignores writes. No local machine checks: MCG_EXT_CTL
// faults.
constexpr uint64_t MCG_CMCI_P = bit(10), MCG_TES_P = bit(11), MCG_SER_P = bit(24);

bool is_mce_msr(uint32_t msr) {
    return msr == reg::P5_MC_ADDR || msr == reg::P5_MC_TYPE || in(msr, reg::MCG_CAP, reg::MCG_CTL) ||
           in(msr, reg::MC0_CTL2, reg::MC31_CTL2) || in(msr, reg::MC0_CTL, reg::MC31_MISC) || msr == reg::MCG_EXT_CTL;
}

uint64_t mcg_cap(const pv_arch::HostCpu& cpu) {
    return GuestMsrs::MC_BANKS | (is_intel(cpu) ? (MCG_SER_P | MCG_TES_P | MCG_CMCI_P) : 0);
}

// The register of one of the guest's banks an MSR names (null: no such bank register).
uint64_t* mce_bank_reg(GuestMsrs& m, uint32_t msr, const pv_arch::HostCpu& cpu, bool& is_ctl) {
    is_ctl = false;
    if (in(msr, reg::MC0_CTL, reg::MC0_CTL + 4 * GuestMsrs::MC_BANKS - 1)) {
        auto& b = m.mc_bank[(msr - reg::MC0_CTL) / 4];
        switch (msr & 3) {
        case 0: is_ctl = true; return nullptr;
        case 1: return &b.status;
        case 2: return &b.addr;
        default: return &b.misc;
        }
    }
    if (is_intel(cpu) && in(msr, reg::MC0_CTL2, reg::MC0_CTL2 + GuestMsrs::MC_BANKS - 1))
        return &m.mc_bank[msr - reg::MC0_CTL2].ctl2;
    return nullptr;
}

Result mce_read(Vcpu& v, uint32_t msr, uint64_t& val, const pv_arch::HostCpu& cpu) {
    val = 0;
    bool is_ctl;
    switch (msr) {
    case reg::MCG_STATUS: val = v.msrs.mcg_status; break;
    case reg::MCG_CAP: val = mcg_cap(cpu); break;
    case reg::MCG_CTL: break;  // no MCG_CTL_P
    case reg::MCG_EXT_CTL: return Result::fault;
    default:
        if (uint64_t* r = mce_bank_reg(v.msrs, msr, cpu, is_ctl)) val = *r;
        else if (is_ctl) val = ~uint64_t{0};
        break;
    }
    return Result::done;
}

Result mce_write(Vcpu& v, uint32_t msr, uint64_t val, const pv_arch::HostCpu& cpu) {
    bool is_ctl;
    switch (msr) {
    case reg::MCG_STATUS: v.msrs.mcg_status = val; break;
    case reg::MCG_CAP: case reg::MCG_CTL: break;  // read-only; all ones
    case reg::MCG_EXT_CTL: return Result::fault;
    default:
        if (uint64_t* r = mce_bank_reg(v.msrs, msr, cpu, is_ctl)) {
            bool ctl2 = in(msr, reg::MC0_CTL2, reg::MC31_CTL2);
            if (!ctl2 && val) return Result::fault;  // no error to be cleared or made up
            *r = val;
        }
        break;
    }
    return Result::done;
}

// The ranges of common_read: trace, shadow-stack and x2APIC MSRs (not for PV guests), AMD's
// IORRs, the machine-check banks and the hypervisor's MSRs.
Result common_read_ranges(Vcpu& v, uint32_t msr, uint64_t& val, const pv_arch::HostCpu& cpu) {
    if (in(msr, reg::RTIT_FIRST, reg::RTIT_LAST) || in(msr, reg::PL0_SSP, reg::INTERRUPT_SSP_TABLE) ||
        in(msr, reg::X2APIC_FIRST, reg::X2APIC_LAST))
        return Result::fault;
    if (in(msr, reg::K8_IORR_BASE0, reg::K8_IORR_MASK1)) return amd_memory_map_read(v, msr, val, cpu);
    if (is_mce_msr(msr)) return mce_read(v, msr, val, cpu);
    if (in(msr, reg::HYPERCALL_PAGE, reg::HYPERCALL_PAGE + 0x2ff)) {
        if (msr != reg::HYPERCALL_PAGE) return Result::fault;
        val = 0;  // the hypercall-page MSR reads as zero
        return Result::done;
    }
    return Result::unhandled;
}

// Rules every guest type shares (Xen's guest_rdmsr); unhandled: the PV rules below decide.
Result common_read(Vcpu& v, uint32_t msr, uint64_t& val, const Features& f, const pv_arch::HostCpu& cpu) {
    GuestMsrs& m = v.msrs;
    switch (msr) {
    case reg::AMD_PATCHLOADER: case reg::UCODE_WRITE: case reg::PRED_CMD: case reg::FLUSH_CMD:  // write-only
    case reg::TEST_CTRL: case reg::CORE_CAPABILITIES: case reg::TSX_FORCE_ABORT: case reg::TSX_CTRL:
    case reg::MCU_OPT_CTRL: case reg::U_CET: case reg::S_CET: case reg::LWP_CFG: case reg::LWP_CBADDR:
    case reg::PPIN_CTL: case reg::PPIN: case reg::AMD_PPIN_CTL: case reg::AMD_PPIN:
        return Result::fault;
    case reg::FEATURE_CONTROL:
        if (!is_intel(cpu) && cpu.vendor != pv_arch::CpuVendor::centaur && cpu.vendor != pv_arch::CpuVendor::shanghai)
            return Result::fault;
        val = FEATURE_CONTROL_LOCK;  // no VMX, no local machine checks for a PV guest
        return Result::done;
    case reg::PLATFORM_ID:
        return value_or_fault(is_intel(cpu) && pv_arch::read_host_msr(msr, val));
    case reg::UCODE_REV:
        return value_or_fault((is_intel(cpu) || cpu.vendor == pv_arch::CpuVendor::amd) && pv_arch::read_host_msr(msr, val));
    case reg::SPEC_CTRL:
        if (!f.ibrsb && !f.ibrs) return Result::fault;
        val = m.spec_ctrl;
        return Result::done;
    case reg::PLATFORM_INFO: val = 0; return Result::done;  // no CPUID faulting offered
    case reg::ARCH_CAPABILITIES:
        return value_or_fault(f.arch_caps && pv_arch::read_host_msr(msr, val));
    case reg::MISC_FEATURES_ENABLES: val = 0; return Result::done;
    case reg::PERF_STATUS: case reg::PERF_CTL:
        if (!is_intel(cpu) && cpu.vendor != pv_arch::CpuVendor::centaur) return Result::fault;
        val = 0;
        return Result::done;
    case reg::THERM_STATUS:
        if (!is_intel(cpu)) return Result::fault;
        val = 0;
        return Result::done;
    case reg::XSS: return Result::fault;  // XSAVES is never offered: no supervisor state
    case reg::TSC_AUX:
        if (!f.rdtscp && !f.rdpid) return Result::fault;
        val = m.tsc_aux;
        return Result::done;
    case reg::K8_HWCR:
        if (!is_amd_like(cpu)) return Result::fault;
        val = 0;
        return Result::done;
    case reg::VIRT_SPEC_CTRL:
        if (!f.virt_ssbd) return Result::fault;
        val = m.virt_spec_ctrl;
        return Result::done;
    case reg::AMD64_DE_CFG:
        if (!is_amd_like(cpu)) return Result::fault;
        val = DE_CFG_LFENCE_SERIALISE;
        return Result::done;
    case reg::DR0_ADDRESS_MASK: case reg::DR1_ADDRESS_MASK: case reg::DR1_ADDRESS_MASK + 1: case reg::DR3_ADDRESS_MASK:
        if (!f.dbext) return Result::fault;
        val = m.dr_mask[dr_mask_index(msr)];
        return Result::done;
    case reg::K8_SYSCFG: case reg::K8_TOP_MEM1: case reg::K8_TOP_MEM2: case reg::K8_TSEG_BASE: case reg::K8_TSEG_MASK:
        return amd_memory_map_read(v, msr, val, cpu);
    default: return common_read_ranges(v, msr, val, cpu);
    }
}

// Performance counters: with no virtual PMU they read 0 and take any write (the vendor's own).
bool is_pmu_msr(uint32_t msr, const pv_arch::HostCpu& cpu) {
    if (is_intel(cpu))
        return in(msr, reg::P6_PERFCTR0, reg::P6_PERFCTR7) || in(msr, reg::P6_EVNTSEL0, reg::P6_EVNTSEL3) ||
               in(msr, reg::FIXED_CTR0, reg::FIXED_CTR2) || in(msr, reg::FIXED_CTR_CTRL, reg::GLOBAL_OVF_CTRL);
    return is_amd_like(cpu) && (in(msr, reg::FAM15H_EVNTSEL0, reg::FAM15H_PERFCTR5) ||
                                in(msr, reg::K7_EVNTSEL0, reg::K7_PERFCTR3));
}

bool is_amd_pstate_msr(uint32_t msr) {
    return msr == reg::K7_FID_VID_CTL || msr == reg::K7_FID_VID_STATUS || in(msr, reg::K8_PSTATE_LIMIT, reg::K8_PSTATE7);
}

// Family 10h to 16h have the MMIO configuration base MSR.
bool has_mmio_conf_base(const pv_arch::HostCpu& cpu) {
    return cpu.vendor == pv_arch::CpuVendor::amd && cpu.family >= 0x10 && cpu.family < 0x17;
}

// The PV rules (Xen's read_msr) for what the common ones left.
Result pv_read(Vcpu& v, uint32_t msr, uint64_t& val, const Features& f, const pv_arch::HostCpu& cpu) {
    switch (msr) {
    case reg::APIC_BASE:
        val = APIC_BASE_ENABLE | APIC_DEFAULT_BASE | (v.id() == VcpuId(0) ? APIC_BASE_BSP : 0);
        return Result::done;
    case reg::FS_BASE: if (!f.lm) break; val = pv_arch::read_fs_base(); return Result::done;
    case reg::GS_BASE: if (!f.lm) break; val = pv_arch::read_gs_base_kernel(); return Result::done;
    case reg::SHADOW_GS_BASE: if (!f.lm) break; val = v.gs_base_user; return Result::done;
    case reg::TSC: val = pv_arch::read_tsc(); return Result::done;
    case reg::EFER: val = guest_efer(); return Result::done;
    case reg::PAT: val = XEN_PAT; return Result::done;
    case reg::MISC_ENABLE:
        if (!pv_arch::read_host_msr(msr, val)) break;
        val = guest_misc_enable(val);
        return Result::done;
    case reg::PERF_CAPABILITIES: val = 0; return Result::done;  // no extra capabilities
    case reg::FAM10H_MMIO_CONF_BASE:
        if (!has_mmio_conf_base(cpu)) break;
        val = 0;
        return Result::done;
    case reg::AMD64_NB_CFG: val = 0; return Result::done;  // no vCPU is pinned to its CPU
    default:
        if (is_amd_pstate_msr(msr) && cpu.vendor == pv_arch::CpuVendor::amd) {
            val = 0;  // dom0 is no cpufreq controller
            return Result::done;
        }
        if (is_pmu_msr(msr, cpu)) {
            val = 0;
            return Result::done;
        }
        break;
    }
    return Result::unhandled;
}

Result common_write(Vcpu& v, uint32_t msr, uint64_t val, const Features& f, const pv_arch::HostCpu& cpu) {
    GuestMsrs& m = v.msrs;
    switch (msr) {
    case reg::PLATFORM_ID: case reg::CORE_CAPABILITIES: case reg::PLATFORM_INFO: case reg::ARCH_CAPABILITIES:  // read-only
    case reg::TEST_CTRL: case reg::TSX_FORCE_ABORT: case reg::TSX_CTRL: case reg::MCU_OPT_CTRL: case reg::U_CET:
    case reg::S_CET: case reg::LWP_CFG: case reg::LWP_CBADDR: case reg::PPIN_CTL: case reg::PPIN:
    case reg::AMD_PPIN_CTL: case reg::AMD_PPIN:
    case reg::AMD_PATCHLOADER: case reg::UCODE_WRITE:  // no microcode loading by PV guests
    case reg::XSS:                                      // XSAVES is never offered
        return Result::fault;
    case reg::UCODE_REV:  // Intel's "write 0 before reading the revision"
        return value_or_fault(is_intel(cpu) && val == 0);
    case reg::SPEC_CTRL:
        if ((!f.ibrsb && !f.ibrs) || (val & ~spec_ctrl_valid(f))) return Result::fault;
        m.spec_ctrl = val;
        pv_arch::load_guest_msrs(v);
        return Result::done;
    case reg::PRED_CMD:
        if ((!f.ibrsb && !f.ibpb) || (val & ~PRED_CMD_IBPB)) return Result::fault;
        pv_arch::write_host_msr(msr, val);
        return Result::done;
    case reg::FLUSH_CMD:
        if (!f.l1d_flush || (val & ~FLUSH_CMD_L1D)) return Result::fault;
        pv_arch::write_host_msr(msr, val);
        return Result::done;
    case reg::MISC_FEATURES_ENABLES: return value_or_fault(val == 0);  // no CPUID faulting to enable
    case reg::PERF_CTL: return value_or_fault(is_intel(cpu) || cpu.vendor == pv_arch::CpuVendor::centaur);
    case reg::TSC_AUX:
        if ((!f.rdtscp && !f.rdpid) || val != uint32_t(val)) return Result::fault;
        m.tsc_aux = val;
        pv_arch::load_guest_msrs(v);
        return Result::done;
    case reg::VIRT_SPEC_CTRL:
        if (!f.virt_ssbd) return Result::fault;
        m.virt_spec_ctrl = val & SPEC_CTRL_SSBD;  // only SSBD; the rest is ignored
        pv_arch::load_guest_msrs(v);
        return Result::done;
    case reg::AMD64_DE_CFG: return value_or_fault(is_amd_like(cpu));  // dropped, as Xen does
    case reg::DR0_ADDRESS_MASK: case reg::DR1_ADDRESS_MASK: case reg::DR1_ADDRESS_MASK + 1: case reg::DR3_ADDRESS_MASK:
        if (!f.dbext || val != uint32_t(val)) return Result::fault;
        m.dr_mask[dr_mask_index(msr)] = val;
        pv_arch::load_guest_msrs(v);
        return Result::done;
    default: break;
    }
    if (in(msr, reg::RTIT_FIRST, reg::RTIT_LAST) || in(msr, reg::PL0_SSP, reg::INTERRUPT_SSP_TABLE) ||
        in(msr, reg::X2APIC_FIRST, reg::X2APIC_LAST))
        return Result::fault;
    if (is_mce_msr(msr)) return mce_write(v, msr, val, cpu);
    if (in(msr, reg::HYPERCALL_PAGE, reg::HYPERCALL_PAGE + 0x2ff))
        return value_or_fault(msr == reg::HYPERCALL_PAGE && write_hypercall_page(v, val));
    return Result::unhandled;
}

// The PV rules (Xen's write_msr) for what the common ones left.
Result pv_write(Vcpu& v, uint32_t msr, uint64_t val, const Features& f, const pv_arch::HostCpu& cpu) {
    switch (msr) {
    case reg::FS_BASE: case reg::GS_BASE: case reg::SHADOW_GS_BASE:
        if (!f.lm || !guest::canonical(val)) break;
        if (msr == reg::FS_BASE) pv_arch::write_fs_base(v, val);
        else if (msr == reg::GS_BASE) pv_arch::write_gs_base_kernel(v, val);
        else v.gs_base_user = val;  // loaded when the guest returns to user mode
        return Result::done;
    case reg::EFER:
        if (val != guest_efer()) break;  // Linux writes back the value it read
        return Result::done;
    case reg::K8_HWCR:
        if (!is_amd_like(cpu)) break;
        return Result::done;
    case reg::AMD64_NB_CFG: return Result::done;
    case reg::FAM10H_MMIO_CONF_BASE:
        if (!has_mmio_conf_base(cpu)) break;
        return Result::done;
    case reg::MISC_ENABLE: {
        uint64_t host;
        if (!pv_arch::read_host_msr(msr, host)) break;
        if (val != guest_misc_enable(host))
            log::warning("d{}v{} attempted WRMSR {:#x} to {:#x}: ignored", v.domain().id().raw(), v.id().raw(), msr, val);
        return Result::done;
    }
    case reg::MPERF: case reg::APERF:
        if (!is_intel(cpu) && !is_amd_like(cpu)) break;
        return Result::done;
    case reg::THERM_CONTROL: case reg::ENERGY_PERF_BIAS:
        if (!is_intel(cpu)) break;
        return Result::done;
    default:
        if (is_amd_pstate_msr(msr) && is_amd_like(cpu)) return Result::done;
        if (is_pmu_msr(msr, cpu)) return Result::done;
        break;
    }
    return Result::unhandled;
}

}  // namespace

Outcome read(Vcpu& v, uint32_t msr, uint64_t& value) {
    Features f = features();
    pv_arch::HostCpu cpu = pv_arch::host_cpu();
    Result r = common_read(v, msr, value, f, cpu);
    if (r == Result::unhandled) r = pv_read(v, msr, value, f, cpu);
    if (r == Result::done) return Outcome::done;
    // A guest too early to handle #GP (no handler in its trap table) reads 0 from an MSR the
    // host has, outside the hypervisor's range.
    constexpr unsigned VECTOR_GP = 13;
    uint64_t host;
    if (!v.traps[VECTOR_GP].address && (msr >> 16) != 0x4000 && pv_arch::read_host_msr(msr, host)) {
        log::warning("d{}v{} faking RDMSR {:#x}", v.domain().id().raw(), v.id().raw(), msr);
        value = 0;
        return Outcome::done;
    }
    if (r == Result::unhandled && first_report(msr, false))
        log::warning("d{}v{} RDMSR {:#x} unimplemented", v.domain().id().raw(), v.id().raw(), msr);
    return Outcome::fault;
}

Outcome write(Vcpu& v, uint32_t msr, uint64_t value) {
    Features f = features();
    pv_arch::HostCpu cpu = pv_arch::host_cpu();
    Result r = common_write(v, msr, value, f, cpu);
    if (r == Result::unhandled) r = pv_write(v, msr, value, f, cpu);
    if (r == Result::done) return Outcome::done;
    if (r == Result::unhandled && first_report(msr, true))
        log::warning("d{}v{} WRMSR {:#x} value {:#x} unimplemented", v.domain().id().raw(), v.id().raw(), msr, value);
    return Outcome::fault;
}

}  // namespace pv_msr
