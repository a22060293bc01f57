// Per-CPU timers: each CPU's TimerQueue drives its local APIC timer, which is always armed
// for the queue's earliest deadline (or stopped when the queue is empty).
#pragma once

#include "timer_queue.hpp"
#include "types.hpp"

namespace timer {

// Boot CPU, once: registers the timer interrupt handler.
void init();
// Every CPU: starts with an empty queue and a stopped timer.
void init_cpu();

// Arms t on the calling CPU for system time deadline_ns (re-arms if pending).
void arm(Timer& t, uint64_t deadline_ns);
bool cancel(Timer& t);
// Timer interrupts handled on this CPU so far.
uint64_t interrupts_handled();

}  // namespace timer
