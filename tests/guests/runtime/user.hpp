// Guest user mode for tests of what ring-3 code may and may not do.
//
// A 64-bit PV guest enters user mode with the iret hypercall (a frame whose cs has RPL 3); the
// hypervisor then switches to the user page tables, so a user base pointer must have been set
// with MMUEXT_NEW_USER_BASEPTR. The runtime gives user mode the kernel's own top-level table:
// every guest mapping carries the user bit on a 64-bit PV guest (the hypervisor adds it, since
// the guest kernel runs in ring 3 as well), so user code can run the kernel image's code on a
// user stack of its own. User code comes back with `syscall`, which the hypervisor bounces to
// the callback registered with CALLBACKTYPE_syscall, on the kernel stack set by stack_switch.
#pragma once

#include <cstdint>

#include "traps.hpp"

namespace kt {

struct UserRun {
    int how = caught_none;  // caught_syscall or caught_trap
    std::uint64_t value = 0;  // rax at the `syscall`
    TrapRecord trap;  // when an exception ended the run
    // The frame the syscall callback got: rcx, r11, then rip, cs, rflags, rsp, ss, and where
    // it was (the address of its rcx slot).
    std::uint64_t rcx = 0, r11 = 0, rip = 0, cs = 0, rflags = 0, rsp = 0, ss = 0;
    std::uint64_t frame_address = 0;
    std::uint64_t upcall_mask = 0;  // vcpu_info evtchn_upcall_mask as the syscall callback found it
};

// Sets up user mode (user base pointer, syscall callback, kernel stack) once; false if the
// hypervisor refused any part of it.
bool user_mode_init();
// Runs fn(arg) in guest user mode until it returns (then its result comes back through
// `syscall`) or raises an exception.
// Exceptions and syscalls from user mode land on `kernel_stack_top` (stack_switch), by default
// a stack of the runtime's own.
// events_enabled: run user mode with events unmasked (rflags.IF set in the iret frame).
UserRun run_user(std::uint64_t (*fn)(std::uint64_t), std::uint64_t arg, std::uint64_t kernel_stack_top = 0,
                 bool events_enabled = false);

// The syscall callback entry (for tests that register callbacks themselves).
extern "C" void kt_syscall_entry();

} // namespace kt
