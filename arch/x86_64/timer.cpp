#include "timer.hpp"

#include <arch/cpu.hpp>
#include <arch/vectors.hpp>

#include "interrupts.hpp"
#include "lapic.hpp"
#include "percpu.hpp"
#include "tsc.hpp"

namespace timer {

namespace {

// Touches the LAPIC only when the earliest deadline changed: most arms and cancels (a guest
// re-setting its singleshot timer, a slice timer behind an earlier one) leave it as it is.
void program(arch::PerCpu& cpu) {
    uint64_t next = cpu.timers.next_deadline();
    if (next == cpu.timer_programmed_ns) return;
    cpu.timer_programmed_ns = next;
    if (next == UINT64_MAX) lapic::stop_timer();
    else lapic::arm_timer(tsc::deadline_for(next));
}

void timer_interrupt(arch::ExceptionFrame&) {
    arch::PerCpu& cpu = arch::this_cpu();
    ++cpu.timer_interrupts;
    cpu.timer_programmed_ns = UINT64_MAX;  // a one-shot timer that fired is stopped
    cpu.timers.run_expired(tsc::now_ns());
    program(cpu);
}

}  // namespace

void init() { arch::set_interrupt_handler(vectors::TIMER, timer_interrupt); }

void init_cpu() {
    lapic::stop_timer();
    arch::this_cpu().timer_programmed_ns = UINT64_MAX;
}

void arm(Timer& t, uint64_t deadline_ns) {
    arch::InterruptGuard irq;
    arch::PerCpu& cpu = arch::this_cpu();
    cpu.timers.add(t, deadline_ns);
    program(cpu);
}

bool cancel(Timer& t) {
    arch::InterruptGuard irq;
    arch::PerCpu& cpu = arch::this_cpu();
    bool was = cpu.timers.remove(t);
    program(cpu);
    return was;
}

uint64_t interrupts_handled() { return arch::this_cpu().timer_interrupts; }

}  // namespace timer
