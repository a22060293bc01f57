// The domain list, the boot-time domains built from multiboot2 modules, and what happens when
// a domain shuts down or crashes: a boot-time domain other than the control domain is destroyed
// (every frame returned) once its vCPUs are off every CPU (a toolstack-built one stays, shut
// down, until XEN_DOMCTL_destroydomain); the control domain's end ends the machine
// (poweroff or reboot as it asked; with `noreboot`, a crash halts instead of rebooting).
#pragma once

#include "cmdline.hpp"
#include "machine_memory.hpp"
#include "multiboot2.hpp"

class Vcpu;

namespace domains {

void init(MachineMemory& mm, const Options& o);
// Builds and starts the domains the modules describe; returns how many started.
unsigned start_boot_domains(const mb2::Module* modules, size_t count);
// A dead vCPU has left its CPU: its domain is destroyed when none of its vCPUs is on a CPU.
void vcpu_left_cpu(Vcpu& v);
unsigned count();

}  // namespace domains
