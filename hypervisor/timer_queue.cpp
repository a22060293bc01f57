#include "timer_queue.hpp"

bool TimerQueue::add(Timer& t, uint64_t deadline) {
    LockGuard g(lock_);
    if (t.pending()) {
        timers_.remove(&t);
        --count_;
    }
    t.deadline = deadline;
    Timer* pos = timers_.front();
    while (pos && pos->deadline <= deadline) pos = timers_.next(pos);
    timers_.insert_before(pos, &t);
    ++count_;
    return timers_.front() == &t;
}

bool TimerQueue::remove(Timer& t) {
    LockGuard g(lock_);
    if (!t.pending()) return false;
    timers_.remove(&t);
    --count_;
    return true;
}

uint64_t TimerQueue::next_deadline() const {
    LockGuard g(lock_);
    Timer* t = timers_.front();
    return t ? t->deadline : UINT64_MAX;
}

size_t TimerQueue::run_expired(uint64_t now) {
    size_t ran = 0;
    for (;;) {
        Timer* t;
        {
            LockGuard g(lock_);
            t = timers_.front();
            if (!t || t->deadline > now) return ran;
            timers_.remove(t);
            --count_;
        }
        if (t->callback) t->callback(*t, t->data);
        ++ran;
    }
}

size_t TimerQueue::size() const {
    LockGuard g(lock_);
    return count_;
}
