// The privileged instructions a 64-bit PV guest's kernel may execute although it runs in
// ring 3, emulated as Xen emulates them after the #GP they raise:
//
//   in/out (immediate or DX port, 8/16/32 bits)  at virtual IOPL >= 1 in kernel mode, 3 in
//                                                 user mode; a port the domain may not use
//                                                 reads all ones and ignores writes
//   cli/sti                                       at the same IOPL: accepted and ignored (the
//                                                 event mask is the guest's interrupt flag)
//   clts                                          kernel mode: fpu_taskswitch(0)
//   mov from cr0/cr2/cr3/cr4                      kernel mode: the guest's view (TS virtual)
//
// Everything else (hlt, lgdt, mov to a control register, rdmsr/wrmsr, string I/O, ...) is
// not emulated and the caller bounces the #GP(0) to the guest.
#pragma once

#include <arch/frame.hpp>

class Vcpu;

namespace pv_priv_op {

// True if the instruction at regs.rip was emulated (rip now past it).
bool emulate(Vcpu& v, arch::ExceptionFrame& regs);

}  // namespace pv_priv_op
