// Putting a PV vCPU on this CPU and taking it off: its registers (kept in the frame at the top
// of the CPU's stack while it runs), page tables, segment selectors and bases, and FPU state.
// Called with interrupts off, because loading a GS selector briefly clobbers the hypervisor's
// GS base.
#pragma once

#include <arch/frame.hpp>

#include "percpu.hpp"

class Vcpu;

namespace context {

void save(Vcpu& v, const arch::ExceptionFrame& frame);
void load(Vcpu& v, arch::ExceptionFrame& frame);
// The frame of the vCPU running on a CPU (at the top of the CPU's stack).
inline arch::ExceptionFrame& guest_frame(const arch::PerCpu& cpu) {
    return *reinterpret_cast<arch::ExceptionFrame*>(cpu.guest_frame_top - sizeof(arch::ExceptionFrame));
}
inline arch::ExceptionFrame& guest_frame() { return guest_frame(arch::this_cpu()); }
// v's per-vCPU MSRs (Vcpu::msrs) into this CPU's hardware, where the host has them.
void load_msrs(const Vcpu& v);
// Page tables of no guest, for a CPU with no vCPU (its last guest may be freed).
void load_idle_page_tables();

}  // namespace context
