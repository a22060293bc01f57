// Exceptions and callbacks of a PV guest: queueing an exception for the guest kernel and
// building the bounce frame the Xen x86_64 ABI defines on the guest kernel's stack:
//
//     rsp+0   rcx                (the guest's; SYSCALL and the hypercall page clobber them)
//     rsp+8   r11
//    [rsp+16  error code]        (exceptions that have one)
//     then    rip, cs | saved_upcall_mask << 32, rflags, rsp, ss
//
// The frame is 16-byte aligned below the interrupted stack pointer (kernel mode) or below the
// stack registered by stack_switch (user mode, which switches to kernel mode first). The
// failsafe callback's frame has ds, es, fs, gs between r11 and rip instead of an error code. CS
// shows RPL 0 when the guest kernel was interrupted, so that it can tell itself from user
// space; RFLAGS.IF shows whether events were unmasked.
#pragma once

#include <arch/frame.hpp>

#include "types.hpp"

class Vcpu;

namespace pv {

// x86 exception vectors used by the PV code.
namespace vector {
constexpr uint8_t DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, UD = 6, NM = 7, GP = 13, PF = 14;
}

// Whether the exception's entry in the guest's trap table exists. If not, the caller crashes
// the domain (no handler for the exception).
bool queue_exception(Vcpu& v, uint8_t vector, bool has_error_code, uint32_t error_code);
// The callback of a CALLBACKTYPE_* for the next return to the guest.
bool queue_callback(Vcpu& v, unsigned type);
// A vCPU's saved segment selectors (ds, es, fs, gs) could not all be loaded when it was put
// back on a CPU: its failsafe callback gets them. False if it has none.
bool queue_failsafe(Vcpu& v, const uint16_t (&selectors)[4]);
// Builds the pending bounce frame on the guest's kernel stack and points regs at the
// handler. False (after crashing the domain) when the guest's stack is unusable.
bool deliver_bounce(Vcpu& v, arch::ExceptionFrame& regs);

// SYSCALL from guest user mode: bounced to the kernel's syscall callback (or #UD without one).
void bounce_user_syscall(Vcpu& v, arch::ExceptionFrame& regs, bool compat);

// SYSENTER from the guest: bounced to its sysenter callback (events masked as registered), or
// a #GP(0) when it has none.
void bounce_sysenter(Vcpu& v, arch::ExceptionFrame& regs);

// RFLAGS bits the PV code sets, clears or reads.
constexpr uint64_t RFLAGS_FIXED = 1u << 1, RFLAGS_TF = 1u << 8, RFLAGS_IF = 1u << 9, RFLAGS_DF = 1u << 10,
                   RFLAGS_IOPL = 3u << 12, RFLAGS_NT = 1u << 14, RFLAGS_RF = 1u << 16, RFLAGS_VM = 1u << 17,
                   RFLAGS_AC = 1u << 18;

// Selectors a guest names get guest privilege (RPL 3): the guest never runs in ring 0.
inline uint16_t guest_selector(uint16_t sel) { return sel | 3; }

// Sanitizes the frame a guest is resumed with: guest privilege, IF on, IOPL clear. Inline:
// every return to a guest passes here.
inline void sanitize_return_frame(arch::ExceptionFrame& regs) {
    regs.cs = (regs.cs & 0xffff) | 3;  // guest_selector, without narrowing and widening again
    regs.ss = (regs.ss & 0xffff) | 3;
    regs.rflags = (regs.rflags & ~(RFLAGS_IOPL | RFLAGS_VM)) | RFLAGS_IF | RFLAGS_FIXED;
}

}  // namespace pv
