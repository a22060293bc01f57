// A CPU's pending timers, ordered by deadline (system time in ns).
//
// The pending list is kept sorted on insertion, equal deadlines in the order they were
// armed, so the next deadline is its head. run_expired(now) first moves every timer due by
// `now` to a second list, expiring_, then runs them one by one from there. Timers armed while
// it runs, by callbacks or other CPUs, go to the pending list and wait for the next call even
// if already due: a periodic timer that has fallen behind cannot keep a CPU in its interrupt
// handler for ever.
//
// Who writes what: a Timer's node, queue and deadline change only under the lock of the
// queue it is on (or joins); its callback and data belong to whoever arms it, and may change
// only while it is not pending. A timer is pending from add() until it is removed or its
// callback is about to run. The lock is never held while a callback runs, so callbacks may
// re-arm their own timer or add and remove others. The caller keeps a Timer alive while it is
// pending or its callback runs, and does not arm one Timer from two CPUs at once.
// Counted: size(), timers pending (both lists).
#pragma once

#include "kstd/atomic.hpp"
#include "kstd/list.hpp"
#include "spinlock.hpp"

class TimerQueue;

struct Timer {
    using Callback = void (*)(Timer& t, void* data);

    Callback callback = nullptr;
    void* data = nullptr;
    uint64_t deadline = 0;  // when last armed; set by TimerQueue::add()

    bool pending() const { return queue_.load(kstd::MemoryOrder::relaxed) != nullptr; }

private:
    friend class TimerQueue;
    kstd::ListNode node_;
    kstd::Atomic<TimerQueue*> queue_{nullptr};  // the queue it is pending on
};

class TimerQueue final {
public:
    constexpr TimerQueue() = default;
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    // Arms t for deadline, first disarming it wherever it is pending (here or on another
    // queue). Returns whether t is now this queue's earliest timer, that is, whether the
    // hardware timer needs reprogramming.
    bool add(Timer& t, uint64_t deadline);
    // Disarms t if it is pending on this queue; returns whether it was.
    bool remove(Timer& t);
    // Disarms t wherever it is pending (for an owner about to free it; that queue's hardware
    // timer may still fire once, for nothing).
    static bool disarm(Timer& t);
    // Earliest pending deadline, UINT64_MAX when empty.
    uint64_t next_deadline() const;
    // Runs each timer that was pending with deadline <= now when the call began, in deadline
    // order, first armed first among equals; returns how many ran.
    size_t run_expired(uint64_t now);
    size_t size() const;

private:
    using TimerList = kstd::List<Timer, &Timer::node_>;

    void insert_sorted(Timer& t);
    void unlink(Timer& t);
    Timer* pop_expiring(Timer::Callback& cb, void*& data);

    mutable Spinlock lock_;
    TimerList pending_;
    TimerList expiring_;  // due, taken by run_expired(), not yet run
    size_t count_ = 0;
};
