// The local APIC, in x2APIC mode (MSR access) when the CPU has it, else xAPIC (MMIO).
// Also its timer, in TSC-deadline mode where available, else one-shot.
#pragma once

#include "types.hpp"

namespace lapic {

// Boot CPU: picks the access mode and maps the registers. mmio_base comes from ACPI/the MSR.
void init_global(Paddr mmio_base);
// Every CPU: enable the APIC, mask its local interrupts, set the spurious vector.
void init_cpu();
bool x2apic_mode();
bool tsc_deadline_mode();

uint32_t id();
// This CPU's interrupt state (priorities, highest vectors in service and requested, timer), for
// debug reports.
void log_state();
void eoi();

void send_ipi(uint32_t apic_id, uint8_t vector);
void send_nmi(uint32_t apic_id);
void send_init(uint32_t apic_id);
void send_startup(uint32_t apic_id, Paddr trampoline);

// Measures the timer's frequency against the TSC; boot CPU, after tsc::calibrate().
void calibrate_timer();
// Arms the timer to fire at an absolute TSC value (at once if it has passed).
void arm_timer(uint64_t tsc_deadline);
void stop_timer();

}  // namespace lapic
