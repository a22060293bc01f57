// The image's side of irq_lines.hpp: the I/O APIC inputs lent to domains, each with its own
// interrupt vector. init() records how the firmware says each line is wired (ISA lines edge
// triggered and active high unless the MADT overrides them; the others level triggered and
// active low, as PCI lines are) and installs the vectors' handler.
#pragma once

namespace acpi {
struct Platform;
}

namespace gsi_lines {

void init(const acpi::Platform& p);
// Keeps the line of ISA interrupt `irq` (through the MADT's overrides) for Kestrel itself, as
// Xen keeps its serial console's: domains cannot set it up (-EEXIST) or bind it (-EBUSY).
void reserve_isa(unsigned irq, const char* what);

}  // namespace gsi_lines
