// What the portable panic() needs from the architecture.
#pragma once

#include <arch/cpu.hpp>

#include "kstd/atomic.hpp"

namespace arch {

struct ExceptionFrame;

// Sends every other online CPU into a halt loop and waits briefly for them.
void stop_other_cpus();
// Index of the calling CPU, safe before per-CPU data is set up (then 0).
unsigned current_cpu_index();
// Prints registers (from the frame, or the caller's own) and a symbolized backtrace.
void dump_state(const ExceptionFrame* frame);
// Ends the panic: QEMU debug exit if configured, else reboot unless noreboot, else halt.
[[noreturn]] void panic_finish();
// Debug key 'd': every CPU prints where it is (registers and, in the hypervisor, a backtrace);
// the others are asked with an NMI, so that a CPU spinning with interrupts off answers too.
void dump_all_cpus();
// In the NMI handler: whether this CPU was asked to print itself (and has now done so).
bool answer_dump_request(const ExceptionFrame& f);

}  // namespace arch
