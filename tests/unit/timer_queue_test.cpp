// TimerQueue: deadline order, FIFO among equals, removal, re-arming from callbacks, and a
// second CPU adding and removing while the owner runs expired timers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "timer_queue.hpp"

namespace {

// Timers that record, in a shared log, the order in which they ran.
struct Log {
    std::vector<int> ran;
};

struct Tagged {
    Timer timer;
    int tag = 0;
    Log* log = nullptr;
};

void record(Timer&, void* data) {
    auto* t = static_cast<Tagged*>(data);
    t->log->ran.push_back(t->tag);
}

void setup(Tagged& t, int tag, Log& log, Timer::Callback cb = record) {
    t.tag = tag;
    t.log = &log;
    t.timer.callback = cb;
    t.timer.data = &t;
}

TEST(TimerQueue, EmptyQueue) {
    TimerQueue q;
    EXPECT_EQ(q.next_deadline(), UINT64_MAX);
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(q.run_expired(UINT64_MAX), 0u);
    Timer t;
    EXPECT_FALSE(t.pending());
    EXPECT_FALSE(q.remove(t));
}

TEST(TimerQueue, RunsInDeadlineOrder) {
    TimerQueue q;
    Log log;
    Tagged t[5];
    const uint64_t deadlines[] = {50, 10, 30, 20, 40};
    for (int i = 0; i < 5; ++i) {
        setup(t[i], int(deadlines[i]), log);
        q.add(t[i].timer, deadlines[i]);
        EXPECT_TRUE(t[i].timer.pending());
        EXPECT_EQ(t[i].timer.deadline, deadlines[i]);
    }
    EXPECT_EQ(q.size(), 5u);
    EXPECT_EQ(q.next_deadline(), 10u);
    EXPECT_EQ(q.run_expired(100), 5u);
    EXPECT_EQ(log.ran, (std::vector<int>{10, 20, 30, 40, 50}));
    EXPECT_EQ(q.size(), 0u);
    for (auto& x : t) EXPECT_FALSE(x.timer.pending());
}

TEST(TimerQueue, RunsOnlyWhatIsDue) {
    TimerQueue q;
    Log log;
    Tagged t[4];
    for (int i = 0; i < 4; ++i) {
        setup(t[i], i, log);
        q.add(t[i].timer, 10 * (i + 1));
    }
    EXPECT_EQ(q.run_expired(5), 0u);
    EXPECT_EQ(q.run_expired(20), 2u);  // a deadline equal to now is due
    EXPECT_EQ(log.ran, (std::vector<int>{0, 1}));
    EXPECT_EQ(q.next_deadline(), 30u);
    EXPECT_EQ(q.size(), 2u);
    EXPECT_EQ(q.run_expired(29), 0u);
    EXPECT_EQ(q.run_expired(1000), 2u);
    EXPECT_EQ(q.next_deadline(), UINT64_MAX);
}

TEST(TimerQueue, EqualDeadlinesRunFirstArmedFirst) {
    TimerQueue q;
    Log log;
    Tagged t[5];
    for (int i = 0; i < 5; ++i) setup(t[i], i, log);
    q.add(t[0].timer, 10);
    q.add(t[1].timer, 10);
    q.add(t[2].timer, 5);
    q.add(t[3].timer, 10);
    q.add(t[4].timer, 7);
    q.add(t[1].timer, 10);  // re-armed: now behind 3
    EXPECT_EQ(q.size(), 5u);
    q.run_expired(10);
    EXPECT_EQ(log.ran, (std::vector<int>{2, 4, 0, 3, 1}));
}

TEST(TimerQueue, AddSaysWhenTheHeadChanges) {
    TimerQueue q;
    Timer a, b, c;
    EXPECT_TRUE(q.add(a, 100));
    EXPECT_FALSE(q.add(b, 200));
    EXPECT_FALSE(q.add(c, 100));  // equal: behind a
    EXPECT_TRUE(q.add(b, 50));
    EXPECT_EQ(q.next_deadline(), 50u);
    EXPECT_FALSE(q.add(b, 300));  // re-armed later: a leads again
    EXPECT_EQ(q.next_deadline(), 100u);
    EXPECT_EQ(q.size(), 3u);
}

TEST(TimerQueue, RemovePendingAndNotPending) {
    TimerQueue q;
    Log log;
    Tagged t[3];
    for (int i = 0; i < 3; ++i) {
        setup(t[i], i, log);
        q.add(t[i].timer, 10 + i);
    }
    EXPECT_TRUE(q.remove(t[0].timer));
    EXPECT_FALSE(t[0].timer.pending());
    EXPECT_FALSE(q.remove(t[0].timer));
    EXPECT_EQ(q.next_deadline(), 11u);
    EXPECT_TRUE(q.remove(t[2].timer));
    EXPECT_EQ(q.size(), 1u);
    EXPECT_EQ(q.run_expired(100), 1u);
    EXPECT_EQ(log.ran, (std::vector<int>{1}));
    EXPECT_FALSE(q.remove(t[1].timer));  // already ran
}

// A periodic timer re-arms itself from its callback.
struct Periodic {
    Timer timer;
    TimerQueue* q;
    uint64_t period;
    int runs = 0;
    bool pending_in_callback = true;
};

void tick(Timer& t, void* data) {
    auto* p = static_cast<Periodic*>(data);
    ++p->runs;
    p->pending_in_callback = t.pending();
    p->q->add(t, t.deadline + p->period);
}

TEST(TimerQueue, PeriodicTimerReArmsItself) {
    TimerQueue q;
    Periodic p{{}, &q, 10};
    p.timer.callback = tick;
    p.timer.data = &p;
    q.add(p.timer, 10);
    for (uint64_t now = 0; now <= 100; now += 5) q.run_expired(now);
    EXPECT_EQ(p.runs, 10);
    EXPECT_FALSE(p.pending_in_callback);
    EXPECT_TRUE(p.timer.pending());
    EXPECT_EQ(q.next_deadline(), 110u);
    EXPECT_EQ(q.size(), 1u);
}

TEST(TimerQueue, TimerFallenBehindRunsOncePerCall) {
    // Re-armed to a deadline that is already due: it waits for the next call instead of
    // running in a loop inside this one.
    TimerQueue q;
    Periodic p{{}, &q, 1};
    p.timer.callback = tick;
    p.timer.data = &p;
    q.add(p.timer, 1);
    EXPECT_EQ(q.run_expired(1000), 1u);
    EXPECT_EQ(p.runs, 1);
    EXPECT_EQ(q.next_deadline(), 2u);
    EXPECT_EQ(q.run_expired(1000), 1u);
    EXPECT_EQ(p.runs, 2);
}

// A callback that removes, re-arms or adds other timers.
struct Meddler {
    Tagged self;
    TimerQueue* q;
    Timer* victim = nullptr;
    bool removed = false;
    Timer* newcomer = nullptr;
    uint64_t newcomer_deadline = 0;
    uint64_t next_seen = 0;
};

void meddle(Timer& t, void* data) {
    auto* m = static_cast<Meddler*>(data);
    m->self.log->ran.push_back(m->self.tag);
    if (m->victim) m->removed = m->q->remove(*m->victim);
    if (m->newcomer) m->q->add(*m->newcomer, m->newcomer_deadline);
    m->next_seen = m->q->next_deadline();
    (void)t;
}

TEST(TimerQueue, CallbackRemovesAnotherDueTimer) {
    TimerQueue q;
    Log log;
    Meddler m;
    setup(m.self, 0, log, meddle);
    m.self.timer.data = &m;
    m.q = &q;
    Tagged later, other;
    setup(later, 1, log);
    setup(other, 2, log);
    m.victim = &later.timer;
    q.add(m.self.timer, 10);
    q.add(later.timer, 20);
    q.add(other.timer, 30);
    EXPECT_EQ(q.run_expired(100), 2u);  // `later` was due, but removed before its turn
    EXPECT_TRUE(m.removed);
    EXPECT_EQ(m.next_seen, 30u);         // what is still due counts as pending
    EXPECT_EQ(log.ran, (std::vector<int>{0, 2}));
    EXPECT_EQ(q.size(), 0u);
}

TEST(TimerQueue, CallbackRemovesATimerNotYetDue) {
    TimerQueue q;
    Log log;
    Meddler m;
    setup(m.self, 0, log, meddle);
    m.self.timer.data = &m;
    m.q = &q;
    Tagged later;
    setup(later, 1, log);
    m.victim = &later.timer;
    q.add(m.self.timer, 10);
    q.add(later.timer, 500);
    EXPECT_EQ(q.run_expired(100), 1u);
    EXPECT_TRUE(m.removed);
    EXPECT_EQ(q.run_expired(1000), 0u);
    EXPECT_EQ(q.next_deadline(), UINT64_MAX);
}

TEST(TimerQueue, TimerAddedByACallbackRunsOnTheNextCall) {
    TimerQueue q;
    Log log;
    Meddler m;
    setup(m.self, 0, log, meddle);
    m.self.timer.data = &m;
    m.q = &q;
    Tagged fresh;
    setup(fresh, 1, log);
    m.newcomer = &fresh.timer;
    m.newcomer_deadline = 5;  // already due
    q.add(m.self.timer, 10);
    EXPECT_EQ(q.run_expired(10), 1u);
    EXPECT_EQ(m.next_seen, 5u);
    EXPECT_EQ(q.run_expired(10), 1u);
    EXPECT_EQ(log.ran, (std::vector<int>{0, 1}));
}

TEST(TimerQueue, TimerWithoutCallbackStillExpires) {
    TimerQueue q;
    Timer t;
    q.add(t, 3);
    EXPECT_EQ(q.run_expired(3), 1u);
    EXPECT_FALSE(t.pending());
}

TEST(TimerQueue, ArmingOnAnotherQueueMovesTheTimer) {
    TimerQueue q1, q2;
    Timer t;
    q1.add(t, 10);
    EXPECT_TRUE(q2.add(t, 20));
    EXPECT_EQ(q1.size(), 0u);
    EXPECT_EQ(q2.size(), 1u);
    EXPECT_FALSE(q1.remove(t));
    EXPECT_EQ(q1.run_expired(100), 0u);
    EXPECT_EQ(q2.run_expired(100), 1u);
}

struct Ordered {
    Timer timer;
    uint64_t seq = 0;
    std::vector<const Ordered*>* out = nullptr;
};

void note(Timer&, void* data) {
    auto* o = static_cast<Ordered*>(data);
    o->out->push_back(o);
}

TEST(TimerQueue, ManyTimersInRandomOrder) {
    constexpr size_t N = 3000;
    TimerQueue q;
    std::vector<Ordered> timers(N);
    std::vector<const Ordered*> ran;
    std::mt19937_64 rng(5);
    uint64_t seq = 0;
    for (Ordered& o : timers) {
        o.timer.callback = note;
        o.timer.data = &o;
        o.out = &ran;
    }
    // Arm, and re-arm some, with many equal deadlines.
    for (int round = 0; round < 2; ++round)
        for (Ordered& o : timers)
            if (round == 0 || rng() % 3 == 0) {
                o.seq = seq++;
                q.add(o.timer, rng() % 500);
            }
    EXPECT_EQ(q.size(), N);
    size_t total = 0;
    for (uint64_t now = 0; now < 520; now += 20) {
        size_t n = q.run_expired(now);
        total += n;
        EXPECT_TRUE(q.next_deadline() > now);
    }
    EXPECT_EQ(total, N);
    ASSERT_EQ(ran.size(), N);
    for (size_t i = 1; i < N; ++i) {
        const Ordered* a = ran[i - 1];
        const Ordered* b = ran[i];
        ASSERT_LE(a->timer.deadline, b->timer.deadline) << i;
        if (a->timer.deadline == b->timer.deadline) {
            ASSERT_LT(a->seq, b->seq) << i;
        }
    }
}

// The owner CPU runs its queue while another CPU arms and cancels timers on it. Every arming
// ends in exactly one of: the callback ran, remove() succeeded, still pending at the end.
struct Counted {
    Timer timer;
    std::atomic<int>* runs;
};

void count_run(Timer&, void* data) { static_cast<Counted*>(data)->runs->fetch_add(1); }

TEST(TimerQueue, AnotherCpuAddsAndRemovesWhileTheOwnerRuns) {
    TimerQueue q;
    std::atomic<int> runs{0};
    std::atomic<bool> done{false};
    std::atomic<uint64_t> clock{0};
    std::vector<Counted> timers(64);
    for (Counted& c : timers) {
        c.timer.callback = count_run;
        c.timer.data = &c;
        c.runs = &runs;
    }
    std::thread owner([&] {
        while (!done.load()) {
            q.run_expired(clock.fetch_add(1));
            std::this_thread::yield();
        }
    });
    while (clock.load() == 0) std::this_thread::yield();  // the owner is running
    int armed = 0, removed = 0;
    uint64_t latest = 0;
    std::mt19937_64 rng(11);
    for (int i = 0; i < 10000; ++i) {
        Counted& c = timers[rng() % timers.size()];
        if (rng() % 4 == 0) {
            removed += q.remove(c.timer);
        } else if (!c.timer.pending()) {
            uint64_t deadline = clock.load() + rng() % 50;
            q.add(c.timer, deadline);
            latest = std::max(latest, deadline);
            ++armed;
        }
    }
    while (clock.load() <= latest + 1) std::this_thread::yield();  // the owner caught up
    done.store(true);
    owner.join();
    int still = 0;
    for (Counted& c : timers) still += q.remove(c.timer);
    EXPECT_EQ(q.size(), 0u);
    EXPECT_EQ(armed, runs.load() + removed + still);
    EXPECT_GT(runs.load(), 0);
    EXPECT_GT(removed, 0);
}

}  // namespace
