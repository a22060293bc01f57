// Host stand-in for <arch/cpu.hpp>: tests run in user mode, where interrupts cannot be turned
// off, and no interrupt handler of the core runs; the guard only keeps the core's code shape.
#pragma once

namespace arch {

class InterruptGuard final {
public:
    InterruptGuard() = default;
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;
};

}  // namespace arch
