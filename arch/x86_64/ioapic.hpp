// I/O APICs found in the MADT: mapped, every redirection entry masked, and the legacy 8259
// PICs masked too, so that no device interrupt arrives before a driver (or dom0) owns it.
#pragma once

#include <stdint.h>

namespace acpi {
struct Platform;
}

namespace ioapic {

// Masks the 8259 pair; safe on machines without one.
void mask_legacy_pic();
// Maps each I/O APIC and masks all its inputs; returns the number of inputs found.
unsigned init(const acpi::Platform& p);

}  // namespace ioapic
