// Ticket spinlock: mutual exclusion under contention, try_lock semantics, FIFO hand-over.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "spinlock.hpp"

namespace {

TEST(Spinlock, TryLockFailsWhileHeldAndSucceedsAfter) {
    Spinlock l;
    EXPECT_FALSE(l.is_locked());
    EXPECT_TRUE(l.try_lock());
    EXPECT_TRUE(l.is_locked());
    EXPECT_FALSE(l.try_lock());
    l.unlock();
    EXPECT_FALSE(l.is_locked());
    EXPECT_TRUE(l.try_lock());
    l.unlock();
}

TEST(Spinlock, GuardReleasesAtScopeEnd) {
    Spinlock l;
    {
        LockGuard g(l);
        EXPECT_TRUE(l.is_locked());
    }
    EXPECT_FALSE(l.is_locked());
}

// Two threads (the machine has two CPUs; more would just spin) increment a plain counter
// under the lock; any lost update means the lock let both in.
TEST(Spinlock, MutualExclusionUnderContention) {
    Spinlock l;
    uint64_t counter = 0;
    constexpr int ROUNDS = 200000;
    auto work = [&] {
        for (int i = 0; i < ROUNDS; ++i) {
            LockGuard g(l);
            uint64_t v = counter;
            asm volatile("" ::: "memory");
            counter = v + 1;
        }
    };
    std::thread a(work), b(work);
    a.join();
    b.join();
    EXPECT_EQ(counter, 2u * ROUNDS);
    EXPECT_FALSE(l.is_locked());
}

// Tickets are served in order: a waiter queued first gets the lock first.
TEST(Spinlock, WaitersAreServedInTicketOrder) {
    Spinlock l;
    l.lock();
    std::vector<int> order;
    std::thread first([&] {
        LockGuard g(l);
        order.push_back(1);
    });
    // Give the first thread time to take its ticket before the second one takes a later one.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::thread second([&] {
        LockGuard g(l);
        order.push_back(2);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    l.unlock();
    first.join();
    second.join();
    ASSERT_EQ(order.size(), 2u);
    EXPECT_EQ(order[0], 1);
    EXPECT_EQ(order[1], 2);
}

}  // namespace
