// The hypervisor's side of a PV guest's entries and exits: exceptions and interrupts taken
// while the guest ran, SYSCALL (hypercalls from the guest kernel, system calls from its user
// space), and the single way back to a guest.
#pragma once

namespace guest_entry {

// Each CPU: SYSCALL entry points and the FPU/SSE control bits guests rely on.
void init_cpu();
// Delivers what is pending, reschedules if asked, and resumes the current vCPU.
[[noreturn]] void return_to_guest();

}  // namespace guest_entry
