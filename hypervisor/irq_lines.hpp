// The machine's interrupt lines (GSIs: the inputs of the I/O APICs) as Kestrel lends them to
// a domain that drives hardware. The domain maps a GSI to one of its pirqs (pirq.hpp) and binds
// an event channel to the pirq; from then on each interrupt of the line is an event on that
// port. Kestrel keeps the I/O APICs: the domain only says how a line is wired (setup) and when
// it has handled an interrupt (eoi). Implemented by arch/x86_64/irq_lines.cpp in the image and
// by a recording fake in host tests.
#pragma once

#include <stdint.h>

class Domain;

namespace irq_lines {

// GSIs the machine has (Xen's nr_irqs_gsi): every I/O APIC input, and at least the 16 ISA
// interrupts.
uint32_t count();

// PHYSDEVOP_setup_gsi: how a line is wired (level or edge triggered, active low or high), as
// the domain read it from ACPI. 0; -EEXIST for a line in use (by a domain or by Kestrel, such
// as its serial console's) or set up before (a PCI routing table names a line once per
// device); -EINVAL for no such line.
long setup(uint32_t gsi, bool level, bool active_low);

// Starts turning the line's interrupts into events on `port` of d (unmasking it): 0, or
// -EBUSY when another domain or Kestrel itself has the line.
long bind(uint32_t gsi, Domain& d, uint32_t port);
// Masks the line again and forgets d's port; an interrupt held for d's EOI is dropped. Once
// it returns no interrupt handler uses d any more.
void unbind(uint32_t gsi, const Domain& d);
// The domain's end of interrupt (PHYSDEVOP_eoi): a level-triggered line, masked when its last
// interrupt arrived so that it does not fire again before the device is serviced, is unmasked.
void eoi(uint32_t gsi, const Domain& d);

// PHYSDEVOP_apic_read: a register of the I/O APIC at physbase. -EINVAL for no such I/O APIC.
long ioapic_read(uint64_t physbase, uint32_t reg, uint32_t& value);

}  // namespace irq_lines
