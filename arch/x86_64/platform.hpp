// Ending a run: ACPI poweroff and reset, the keyboard-controller and triple-fault fallbacks,
// and QEMU's isa-debug-exit device for tests.
#pragma once

#include <stdint.h>

namespace acpi {
struct Platform;
}

namespace platform {

// Remembers the ACPI facts needed to power off and reset (copied; the tables may go away).
void set_acpi(const acpi::Platform& p);
// Whether a BIOS (rather than UEFI) booted the machine; reads what the BIOS left for dom0.
void set_firmware(bool bios);
void set_debug_exit_port(uint16_t port);
void set_noreboot(bool on);
bool noreboot();

// With a debug-exit port configured: QEMU ends with status (code << 1) | 1. Returns if no
// port is configured or the write had no effect.
void debug_exit(uint8_t code);
[[noreturn]] void poweroff();
[[noreturn]] void reboot();

}  // namespace platform
