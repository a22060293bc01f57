// Bringing up the application processors, and running a function on other CPUs (cross-CPU
// calls by IPI).
#pragma once

#include "types.hpp"

namespace acpi {
struct Platform;
}

namespace smp {

// Starts every enabled CPU in the MADT, up to max_cpus in all (0: no limit), one at a time.
// Returns the number of CPUs online, the boot CPU included.
unsigned boot_aps(const acpi::Platform& p, unsigned max_cpus);
unsigned online_count();

using CallFunction = void (*)(void* arg);
// Runs fn(arg) on the target CPU (on the caller itself, directly) and waits for it to finish.
void call_on(CpuId target, CallFunction fn, void* arg);
// Runs fn(arg) on every other online CPU and waits until all have finished.
void call_on_others(CallFunction fn, void* arg);

// The IPI handler side; registered by init().
void init();

}  // namespace smp
