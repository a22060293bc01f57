// Vector dispatch: CPU exceptions in the hypervisor end in a panic report; other vectors go
// to the handler registered for them and are acknowledged at the local APIC.
#pragma once

#include <arch/frame.hpp>

namespace arch {

using InterruptHandler = void (*)(ExceptionFrame& frame);

// Registers the handler of a device or IPI vector (32..255); boot CPU, before interrupts.
void set_interrupt_handler(uint8_t vector, InterruptHandler h);
const char* exception_name(uint64_t vector);
// Runs the handler of a device or IPI vector and acknowledges it.
void dispatch_interrupt(ExceptionFrame& f);

}  // namespace arch
