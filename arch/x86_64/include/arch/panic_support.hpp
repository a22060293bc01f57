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

}  // namespace arch
