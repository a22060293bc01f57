// I/O APICs found in the MADT: mapped, every redirection entry masked, and the legacy 8259
// PICs masked too, so that no device interrupt arrives before a driver (or dom0) owns it.
// Afterwards inputs are addressed by GSI; callers serialize access (irq_lines.cpp holds its
// lock), since a register is reached through an index/data pair.
#pragma once

#include <stdint.h>

#include "types.hpp"

namespace acpi {
struct Platform;
}

namespace ioapic {

// Masks the 8259 pair; safe on machines without one.
void mask_legacy_pic();
// Maps each I/O APIC and masks all its inputs; returns the number of inputs found.
unsigned init(const acpi::Platform& p);

// One past the highest GSI of any I/O APIC (0 before init).
uint32_t gsi_limit();
// A redirection entry: fixed delivery to one CPU (physical APIC ID).
struct Route {
    uint8_t vector;
    uint8_t dest_apic_id;
    bool level;
    bool active_low;
    bool masked;
};
// False for a GSI no I/O APIC has.
bool set_route(uint32_t gsi, const Route& r);
bool set_masked(uint32_t gsi, bool masked);
// A register of the I/O APIC at `base`; false for no such I/O APIC.
bool read_register(Paddr base, uint32_t reg, uint32_t& value);

}  // namespace ioapic
