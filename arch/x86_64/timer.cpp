#include "timer.hpp"

#include <arch/cpu.hpp>
#include <arch/vectors.hpp>

#include "interrupts.hpp"
#include "lapic.hpp"
#include "percpu.hpp"
#include "tsc.hpp"

namespace timer {

namespace {

void program(TimerQueue& q) {
    uint64_t next = q.next_deadline();
    if (next == UINT64_MAX) lapic::stop_timer();
    else lapic::arm_timer(tsc::deadline_for(next));
}

void timer_interrupt(arch::ExceptionFrame&) {
    arch::PerCpu& cpu = arch::this_cpu();
    ++cpu.timer_interrupts;
    cpu.timers.run_expired(tsc::now_ns());
    program(cpu.timers);
}

}  // namespace

void init() { arch::set_interrupt_handler(vectors::TIMER, timer_interrupt); }

void init_cpu() { lapic::stop_timer(); }

void arm(Timer& t, uint64_t deadline_ns) {
    arch::InterruptGuard irq;
    TimerQueue& q = arch::this_cpu().timers;
    q.add(t, deadline_ns);
    program(q);
}

bool cancel(Timer& t) {
    arch::InterruptGuard irq;
    TimerQueue& q = arch::this_cpu().timers;
    bool was = q.remove(t);
    program(q);
    return was;
}

uint64_t interrupts_handled() { return arch::this_cpu().timer_interrupts; }

}  // namespace timer
