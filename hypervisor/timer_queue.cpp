#include "timer_queue.hpp"

// Sorted insertion behind every timer due no later, so equal deadlines stay first in, first
// out. Deadlines are usually armed in increasing order: try the tail first.
void TimerQueue::insert_sorted(Timer& t) {
    Timer* last = pending_.back();
    if (!last || last->deadline <= t.deadline) {
        pending_.push_back(&t);
    } else {
        Timer* pos = pending_.front();
        while (pos->deadline <= t.deadline) pos = pending_.next(pos);
        pending_.insert_before(pos, &t);
    }
    t.queue_.store(this, kstd::MemoryOrder::relaxed);
    ++count_;
}

// Takes t off whichever of this queue's lists it is on.
void TimerQueue::unlink(Timer& t) {
    pending_.remove(&t);  // a node knows its neighbours: valid for expiring_ too
    t.queue_.store(nullptr, kstd::MemoryOrder::relaxed);
    --count_;
}

bool TimerQueue::add(Timer& t, uint64_t deadline) {
    TimerQueue* other = t.queue_.load(kstd::MemoryOrder::relaxed);
    if (other && other != this) other->remove(t);
    LockGuard g(lock_);
    if (t.queue_.load(kstd::MemoryOrder::relaxed) == this) unlink(t);
    t.deadline = deadline;
    insert_sorted(t);
    Timer* due = expiring_.front();
    return pending_.front() == &t && (!due || due->deadline > deadline);
}

bool TimerQueue::disarm(Timer& t) {
    TimerQueue* q = t.queue_.load();
    return q && q->remove(t);
}

bool TimerQueue::remove(Timer& t) {
    LockGuard g(lock_);
    if (t.queue_.load(kstd::MemoryOrder::relaxed) != this) return false;
    unlink(t);
    return true;
}

uint64_t TimerQueue::next_deadline() const {
    LockGuard g(lock_);
    Timer* a = pending_.front();
    Timer* b = expiring_.front();
    uint64_t next = a ? a->deadline : UINT64_MAX;
    return b && b->deadline < next ? b->deadline : next;
}

size_t TimerQueue::size() const {
    LockGuard g(lock_);
    return count_;
}

// The next due timer, no longer pending, with the callback and data it was armed with.
Timer* TimerQueue::pop_expiring(Timer::Callback& cb, void*& data) {
    LockGuard g(lock_);
    Timer* t = expiring_.front();
    if (!t) return nullptr;
    unlink(*t);
    cb = t->callback;
    data = t->data;
    return t;
}

size_t TimerQueue::run_expired(uint64_t now) {
    {
        LockGuard g(lock_);
        for (Timer* t = pending_.front(); t && t->deadline <= now; t = pending_.front()) {
            pending_.remove(t);
            expiring_.push_back(t);
        }
    }
    size_t ran = 0;
    Timer::Callback cb;
    void* data;
    while (Timer* t = pop_expiring(cb, data)) {
        if (cb) cb(*t, data);
        ++ran;
    }
    return ran;
}
