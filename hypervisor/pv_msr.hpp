// Model-specific registers as a 64-bit PV guest's kernel sees them through rdmsr/wrmsr (both
// fault in ring 3 and are emulated), by Xen 4.17's rules (guest_rdmsr/guest_wrmsr and the PV
// read_msr/write_msr):
//
//   FS_BASE, GS_BASE, SHADOW_GS_BASE   the guest's segment bases (writes: canonical only)
//   APIC_BASE                          enabled at the default address, BSP on vCPU 0
//   EFER                               the host's known bits less SVME; a write must not change it
//   PAT                                Xen's fixed PAT; writes fault
//   TSC                                the host TSC (no TSC emulation)
//   MISC_ENABLE                        the host's with performance monitoring and MONITOR off,
//                                      BTS/PEBS unavailable, xTPR off; writing that value back
//                                      is ignored, any other value is ignored with a warning
//   PERF_CAPABILITIES, performance counters (no vPMU)   read 0, writes ignored
//   AMD P-state, FID/VID, HWCR, NB_CFG, MMIO_CONF_BASE  read 0, writes ignored (no dom0
//                                      is a cpufreq controller or pinned)
//   SPEC_CTRL, PRED_CMD, FLUSH_CMD, TSC_AUX, VIRT_SPEC_CTRL, DR address masks, XSS
//                                      only if the guest's CPUID offers them; per vCPU
//   Intel PLATFORM_INFO, MISC_FEATURES_ENABLES, FEATURE_CONTROL, PERF_STATUS/CTL,
//   THERM_STATUS, PLATFORM_ID, microcode revision, AMD DE_CFG and SYSCFG/TOP_MEM/IORR/TSEG
//                                      as Xen answers them for the vendor
//   0x40000000                         the hypercall-page MSR: reads 0, a write fills the page
//   machine-check MSRs                 Xen's vMCE: two banks that never report an error
//
// Anything else raises #GP(0), logged once per MSR number; but a read of an MSR the host has,
// outside the hypervisor range, by a guest that has no #GP handler yet reads 0 ("faking
// RDMSR"), as on Xen.
#pragma once

#include "types.hpp"

class Vcpu;

namespace pv_msr {

enum class Outcome { done, fault };

Outcome read(Vcpu& v, uint32_t msr, uint64_t& value);
Outcome write(Vcpu& v, uint32_t msr, uint64_t value);

}  // namespace pv_msr
