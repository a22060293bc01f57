// A CPU exception taken while a PV guest ran: emulated when it is one of the operations Xen
// emulates for PV guests (the forced-emulation CPUID, INT n through a guest gate, the lazy
// FPU switch), otherwise bounced to the guest kernel's handler; with no handler, the domain
// is crashed.
#pragma once

#include <arch/frame.hpp>

class Vcpu;

namespace pv_emulate {

void guest_exception(Vcpu& v, arch::ExceptionFrame& f);
// INT $0x80 from the guest: straight to its trap-table entry for 0x80 if it has one, else the
// #GP the instruction would raise through a DPL 0 gate.
void int80(Vcpu& v, arch::ExceptionFrame& f);

}  // namespace pv_emulate
