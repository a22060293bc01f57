// Boot self-tests, run when the command line says `selftest`: they exercise what only real
// (or emulated) hardware can show — every CPU answering a cross-CPU call, every CPU's timer
// firing, the frame allocator on the real memory map — print "N passed, N failed", and end
// the machine (ACPI poweroff on success; a QEMU debug-exit failure code otherwise).
#pragma once

struct Options;

namespace selftest {

[[noreturn]] void run_and_power_off(const Options& o);

}  // namespace selftest
