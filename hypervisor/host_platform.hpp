// What platform_op reports of the machine: its physical CPUs (by the hypervisor's CPU index),
// their CPUID identity, what the boot firmware left behind. Implemented by
// arch/x86_64/platform.cpp in the image and by a fake in host tests.
#pragma once

#include <stdint.h>

namespace host_platform {

struct Cpu {
    bool present;  // false past the last CPU
    bool online;
    uint32_t apic_id;
    uint32_t acpi_id;  // the processor's ACPI UID (the MADT entry's)
};
Cpu cpu(uint32_t index);
uint32_t max_present();

struct CpuVersion {
    char vendor[12];  // CPUID leaf 0's string, not NUL-terminated
    uint32_t family, model, stepping;  // leaf 1's, extended family and model folded in
};
// Kestrel runs on CPUs alike: the boot CPU's identity stands for every one.
CpuVersion cpu_version();

// Whether the FADT gives a PM1a control block (legacy ACPI sleep).
bool acpi_pm1a_present();
// The keyboard shift flags a BIOS keeps at 0x417: false when booted without one (UEFI).
bool kbd_shift_flags(uint8_t& flags);

}  // namespace host_platform
