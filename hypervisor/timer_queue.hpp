// A CPU's pending timers, ordered by deadline (system time in ns). The list is sorted on
// insertion, so the next deadline is the head and expiry pops from the front; equal deadlines
// keep their insertion order. One lock guards the list so other CPUs may add or remove; it is
// never held while a callback runs, so callbacks may re-arm their own timer or touch others.
#pragma once

#include "kstd/list.hpp"
#include "spinlock.hpp"

struct Timer {
    using Callback = void (*)(Timer& t, void* data);

    Callback callback = nullptr;
    void* data = nullptr;
    uint64_t deadline = 0;
    kstd::ListNode node;

    bool pending() const { return node.linked(); }
};

class TimerQueue final {
public:
    constexpr TimerQueue() = default;
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // Inserts t at deadline, first removing it if pending. Returns true if t is now the head.
    bool add(Timer& t, uint64_t deadline);
    // Returns whether t was pending.
    bool remove(Timer& t);
    // Earliest pending deadline, UINT64_MAX when empty.
    uint64_t next_deadline() const;
    // Runs, in order, every timer whose deadline is at or before now; returns how many ran.
    size_t run_expired(uint64_t now);
    size_t size() const;

private:
    mutable Spinlock lock_;
    kstd::List<Timer, &Timer::node> timers_;
    size_t count_ = 0;
};
