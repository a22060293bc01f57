// The credit scheduling policy (hypervisor/credit*.cpp) in simulated time. A small simulator
// plays the part of arch/x86_64/scheduler.cpp: CPUs decide when their slice ends or when they
// are poked, a vCPU that leaves a CPU is handed back with descheduled(), idle CPUs pull from
// other run queues, balancing runs every BALANCE_INTERVAL, caps are replenished every period.
// The tests check the shares weights and caps give (Xen's credit2 semantics), that vCPUs which
// block and wake are served promptly, that vCPUs spread over CPUs and run queues, and that no
// vCPU is ever current on two CPUs.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "credit.hpp"

namespace {

using credit::Account;
using credit::Arrangement;
using credit::Entity;
using credit::Scheduler;

constexpr uint64_t MS = 1'000'000;
constexpr uint64_t NEVER = UINT64_MAX;

// A simulated vCPU: busy (always wants a CPU), or running `burst` and then sleeping `pause`.
struct SimVcpu {
    Entity e;
    bool wants = true;
    uint64_t burst = 0;          // 0: busy for ever
    uint64_t pause = 0;
    uint64_t ran = 0;            // ns on a CPU in all
    uint64_t ran_on[8] = {};     // ns on each of the first CPUs
    uint64_t ran_in_burst = 0;
    uint64_t wake_at = NEVER;    // while sleeping
    uint64_t woke = 0;           // when it last woke
    uint64_t worst_latency = 0;  // longest wait from a wake-up to a CPU
    bool waiting_since_wake = false;
};

class Sim {
public:
    Sim(unsigned cpus, Arrangement a = Arrangement::shared) : s(std::make_unique<Scheduler>()), cpus_(cpus) {
        s->set_arrangement(a);
        for (unsigned c = 0; c < cpus; ++c) s->add_cpu(CpuId(c));
    }

    // A new vCPU of `a` placed on CPU `cpu`, runnable now.
    SimVcpu& add(Account& a, unsigned cpu, uint64_t burst = 0, uint64_t pause = 0) {
        vcpus_.push_back(std::make_unique<SimVcpu>());
        SimVcpu& v = *vcpus_.back();
        v.burst = burst;
        v.pause = pause;
        owner_[&v.e] = &v;
        s->attach(v.e, a, nullptr, CpuId(cpu));
        ++a.nr_vcpus;
        poke(s->wake(v.e, now));
        return v;
    }

    // The cap as scheduler_domain.cpp sets it (0: removes it).
    void set_cap(Account& a, uint16_t cap) {
        if (!cap) {
            remove_cap(a);
            return;
        }
        bool was = a.cap != 0;
        a.set_total(cap);
        a.cap = cap;
        if (!was) {
            a.budget = a.total_budget;
            a.next_replenish = now + credit::BUDGET_PERIOD;
            capped_.push_back(&a);
        }
        for (auto& v : vcpus_)
            if (v->e.account == &a) {
                s->enter_cap(v->e, a.quota());
                if (!was) poke(s->reconsider(v->e));
            }
    }

    void remove_cap(Account& a) {
        a.cap = 0;
        std::erase(capped_, &a);
        for (auto& v : vcpus_)
            if (v->e.account == &a) s->leave_cap(v->e);
        credit::ParkedList parked;
        a.take_parked(parked);
        unpark(parked);
    }

    void set_weight(Account& a, uint16_t w) {
        a.weight = w;
        for (auto& v : vcpus_)
            if (v->e.account == &a) s->set_weight(v->e, w);
    }

    void run_for(uint64_t ns) {
        uint64_t end = now + ns;
        while (now < end) {
            uint64_t t = next_event();
            if (t > end) t = end;
            if (t > now) advance(t);
            wake_sleepers();
            replenish();
            block_finished_bursts();
            for (unsigned c = 0; c < cpus_; ++c)
                if (decide_at_[c] <= now) decide(c);
            if (pulls) idle_pull();
        }
        advance(end);
    }

    // XEN_DOMCTL_setvcpuaffinity as scheduler_domain.cpp applies it, with the run-queue move
    // scheduler.cpp's follow_affinity makes when no CPU of v's run queue is allowed.
    void pin(SimVcpu& v, const CpuSet& hard) {
        poke(s->set_affinity(v.e, hard, now));
        CpuId c{0};
        if (v.e.scheduled || s->first_allowed(*v.e.rq, v.e, c)) return;
        for (unsigned o = 0; o < cpus_; ++o)
            if (v.e.allowed(CpuId(o))) {
                poke(s->migrate(v.e, s->runqueue_of(CpuId(o)), now));
                return;
            }
    }

    unsigned cpus() const { return cpus_; }
    uint64_t idle_time() const { return idle_; }

    std::unique_ptr<Scheduler> s;
    uint64_t now = 1'000'000'000;
    bool pulls = true;
    uint64_t lateness = 0;  // slices end up to this much late (a late timer, a stalled CPU)
    bool two_cpus_at_once = false;  // set if a vCPU was ever current on two CPUs

private:
    SimVcpu& of(Entity* e) { return *owner_.at(e); }

    // A pseudo-random delay below `lateness`, the same in every run.
    uint64_t late() {
        if (!lateness) return 0;
        seed_ = seed_ * 6364136223846793005ull + 1442695040888963407ull;
        return (seed_ >> 33) % lateness;
    }

    void poke(credit::Tickle t) {
        if (t.valid) decide_at_[t.cpu.raw()] = now;
    }

    uint64_t next_event() const {
        uint64_t t = NEVER;
        for (unsigned c = 0; c < cpus_; ++c) t = std::min(t, decide_at_[c]);
        for (auto& v : vcpus_) {
            t = std::min(t, v->wake_at);
            if (v->burst && v->wants && running_on(&v->e) >= 0)
                t = std::min(t, now + (v->burst - v->ran_in_burst));
        }
        for (Account* a : capped_) t = std::min(t, a->next_replenish);
        return t;
    }

    int running_on(const Entity* e) const {
        for (unsigned c = 0; c < cpus_; ++c)
            if (s->current(CpuId(c)) == e) return int(c);
        return -1;
    }

    // Time passes: current vCPUs run, idle CPUs idle.
    void advance(uint64_t t) {
        uint64_t delta = t - now;
        for (unsigned c = 0; c < cpus_; ++c) {
            Entity* e = s->current(CpuId(c));
            if (!e) {
                idle_ += delta;
                continue;
            }
            of(e).ran += delta;
            if (c < 8) of(e).ran_on[c] += delta;
            of(e).ran_in_burst += delta;
        }
        now = t;
    }

    void wake_sleepers() {
        for (auto& v : vcpus_)
            if (v->wake_at <= now) {
                v->wake_at = NEVER;
                v->wants = true;
                v->ran_in_burst = 0;
                v->woke = now;
                v->waiting_since_wake = true;
                poke(s->wake(v->e, now));
            }
    }

    void block_finished_bursts() {
        for (auto& v : vcpus_) {
            int c = running_on(&v->e);
            if (!v->burst || !v->wants || c < 0 || v->ran_in_burst < v->burst) continue;
            v->wants = false;  // blocks: its CPU decides again now
            v->wake_at = now + v->pause;
            decide_at_[c] = now;
        }
    }

    void replenish() {
        for (Account* a : capped_) {
            if (a->next_replenish > now) continue;
            credit::ParkedList parked;
            if (a->replenish(now)) a->take_parked(parked);
            unpark(parked);
        }
    }

    void unpark(credit::ParkedList& parked) {
        while (Entity* e = parked.pop_front()) poke(s->unpark(*e, of(e).wants, now));
    }

    void decide(unsigned c) {
        CpuId cpu(c);
        Entity* prev = s->current(cpu);
        bool prev_wants = prev && of(prev).wants;
        credit::Decision d = s->schedule(cpu, prev_wants, now);
        for (unsigned o = 0; o < cpus_; ++o)
            if (o != c && d.next && s->current(CpuId(o)) == d.next) two_cpus_at_once = true;
        if (d.next && of(d.next).waiting_since_wake) {
            SimVcpu& n = of(d.next);
            n.worst_latency = std::max(n.worst_latency, now - n.woke);
            n.waiting_since_wake = false;
        }
        if (d.unpark) {
            credit::ParkedList parked;
            if (prev->account->budget > 0) prev->account->take_parked(parked);
            unpark(parked);
        }
        if (prev && prev != d.next) poke(s->descheduled(*prev, of(prev).wants, now));
        decide_at_[c] = d.next ? now + d.slice_ns + late() : NEVER;
        credit::RunQueue& rq = s->runqueue_of(cpu);
        if (s->nr_runqueues() > 1 && (d.reset || now - rq.last_balance.load() >= credit::BALANCE_INTERVAL))
            if (credit::RunQueue* other = s->balance_partner(rq)) poke(s->balance(rq, *other, now));
    }

    void idle_pull() {
        if (s->nr_runqueues() < 2) return;
        for (unsigned c = 0; c < cpus_; ++c) {
            if (s->current(CpuId(c)) || decide_at_[c] <= now) continue;
            credit::RunQueue& mine = s->runqueue_of(CpuId(c));
            credit::RunQueue* from = s->busiest_other(mine);
            if (from && s->pull(mine, *from, CpuId(c), now)) decide_at_[c] = now;
        }
    }

    unsigned cpus_;
    uint64_t decide_at_[credit::MAX_CPUS] = {};
    uint64_t idle_ = 0;
    std::vector<std::unique_ptr<SimVcpu>> vcpus_;
    std::map<Entity*, SimVcpu*> owner_;
    std::vector<Account*> capped_;
    uint64_t seed_ = 1;
};

// |got / want - 1| <= tolerance
void expect_share(double got, double want, double tolerance, const char* what) {
    EXPECT_NEAR(got / want, 1.0, tolerance) << what << ": got " << got << ", want " << want;
}

// --- Weights ---------------------------------------------------------------------------------

TEST(CreditWeights, SharesFollowWeightsOnOneCpu) {
    Sim sim(1);
    Account a, b, c;
    a.weight = 256, b.weight = 512, c.weight = 768;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 0);
    SimVcpu& vc = sim.add(c, 0);
    sim.run_for(10'000 * MS);
    double total = double(va.ran + vb.ran + vc.ran);
    expect_share(va.ran / total, 1.0 / 6, 0.10, "weight 256");
    expect_share(vb.ran / total, 2.0 / 6, 0.10, "weight 512");
    expect_share(vc.ran / total, 3.0 / 6, 0.10, "weight 768");
    EXPECT_EQ(sim.idle_time(), 0u);
    EXPECT_FALSE(sim.two_cpus_at_once);
}

TEST(CreditWeights, SharesFollowWeightsOnTwoCpusOfOneRunQueue) {
    // Three busy vCPUs on two CPUs: 768 takes a whole CPU, 512 and 256 split the other 2:1,
    // i.e. 3:2:1 of the two CPUs' time, as their weights.
    Sim sim(2);
    Account a, b, c;
    a.weight = 256, b.weight = 512, c.weight = 768;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 1);
    SimVcpu& vc = sim.add(c, 0);
    sim.run_for(10'000 * MS);
    double total = double(va.ran + vb.ran + vc.ran);
    EXPECT_EQ(sim.idle_time(), 0u);
    expect_share(va.ran / total, 1.0 / 6, 0.10, "weight 256");
    expect_share(vb.ran / total, 2.0 / 6, 0.10, "weight 512");
    expect_share(vc.ran / total, 3.0 / 6, 0.10, "weight 768");
    EXPECT_FALSE(sim.two_cpus_at_once);
}

TEST(CreditWeights, LateSlicesDoNotSkewShares) {
    // Six busy vCPUs on two CPUs whose slices end up to 10 ms late: a light vCPU burns its
    // credit three times as fast as the heaviest, so an overshoot takes it far below zero; it
    // pays all of it back (the floor is deep enough), and the shares still follow the weights.
    Sim sim(2);
    sim.lateness = 10 * MS;
    Account a, b, c;
    a.weight = 256, b.weight = 512, c.weight = 768;
    std::vector<SimVcpu*> v;
    for (Account* d : {&a, &b, &c})
        for (unsigned cpu = 0; cpu < 2; ++cpu) v.push_back(&sim.add(*d, cpu));
    sim.run_for(10'000 * MS);
    double total = 0;
    for (SimVcpu* x : v) total += double(x->ran);
    expect_share(double(v[0]->ran + v[1]->ran) / total, 1.0 / 6, 0.05, "weight 256");
    expect_share(double(v[2]->ran + v[3]->ran) / total, 2.0 / 6, 0.05, "weight 512");
    expect_share(double(v[4]->ran + v[5]->ran) / total, 3.0 / 6, 0.05, "weight 768");
}

TEST(CreditWeights, ExtremeWeightsStillLetTheLightOneRun) {
    // Weight 65535 against 1: the heavy vCPU gets nearly everything, yet the light one is never
    // starved (each reset gives it credit again; a decision lasts at least the rate limit).
    Sim sim(1);
    Account heavy, light;
    heavy.weight = 65535;
    light.weight = 1;
    SimVcpu& h = sim.add(heavy, 0);
    SimVcpu& l = sim.add(light, 0);
    sim.run_for(2'000 * MS);
    double total = double(h.ran + l.ran);
    EXPECT_GT(h.ran / total, 0.90);
    EXPECT_GT(l.ran, 10 * MS);
    EXPECT_LT(l.ran / total, 0.10);
}

TEST(CreditWeights, EqualWeightsShareEvenlyWithMoreVcpusThanCpus) {
    Sim sim(2);
    Account d;
    std::vector<SimVcpu*> v;
    for (unsigned i = 0; i < 8; ++i) v.push_back(&sim.add(d, i % 2));
    sim.run_for(4'000 * MS);
    for (SimVcpu* x : v) expect_share(double(x->ran), 4'000.0 * MS * 2 / 8, 0.10, "one of 8 on 2 CPUs");
    EXPECT_EQ(sim.idle_time(), 0u);
    EXPECT_FALSE(sim.two_cpus_at_once);
}

TEST(CreditWeights, ANewWeightTakesEffect) {
    Sim sim(1);
    Account a, b;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 0);
    sim.run_for(1'000 * MS);
    expect_share(double(va.ran), double(vb.ran), 0.10, "equal weights");
    uint64_t a0 = va.ran, b0 = vb.ran;
    sim.set_weight(b, 1024);
    sim.run_for(5'000 * MS);
    expect_share(double(vb.ran - b0) / double(va.ran - a0), 4.0, 0.10, "1024 against 256");
}

// --- Blocking and waking ---------------------------------------------------------------------

TEST(CreditWake, AVcpuThatBlocksAndWakesIsServedPromptly) {
    // An interactive vCPU (1 ms of work every 10 ms) beside a busy one on one CPU: it gets all
    // it asks for, and is on the CPU soon after each wake-up.
    Sim sim(1);
    Account a, b;
    SimVcpu& busy = sim.add(a, 0);
    SimVcpu& io = sim.add(b, 0, 1 * MS, 9 * MS);
    sim.run_for(2'000 * MS);
    expect_share(double(io.ran), 200.0 * MS, 0.10, "1 ms in each 10 ms");
    EXPECT_LE(io.worst_latency, uint64_t(credit::RATELIMIT) + credit::MIN_SLICE);
    EXPECT_GT(busy.ran, 1'700 * MS);
}

TEST(CreditWake, AWokenVcpuGoesToAnIdleCpu) {
    Sim sim(2);
    Account a, b;
    SimVcpu& busy = sim.add(a, 0);
    sim.run_for(5 * MS);
    ASSERT_EQ(sim.s->current(CpuId(0)), &busy.e);
    // A vCPU placed on the busy CPU 0 wakes: CPU 1, idle, is the one asked to take it.
    SimVcpu& other = sim.add(b, 0, 2 * MS, 3 * MS);
    sim.run_for(1 * MS);
    EXPECT_EQ(sim.s->current(CpuId(1)), &other.e);
    EXPECT_EQ(other.e.cpu, CpuId(1)) << "it moved";
    EXPECT_EQ(sim.s->current(CpuId(0)), &busy.e) << "the busy one was not preempted";
}

TEST(CreditWake, SleepTakesAWaitingVcpuOffTheQueue) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity run, wait;
    s.attach(run, a, nullptr, CpuId(0));
    s.attach(wait, a, nullptr, CpuId(0));
    s.wake(run, 0);
    ASSERT_EQ(s.schedule(CpuId(0), false, 0).next, &run);
    s.wake(wait, 0);
    EXPECT_TRUE(wait.waiting());
    EXPECT_EQ(s.runqueue_of(CpuId(0)).load.load(), 2u);
    s.sleep(wait);
    EXPECT_FALSE(wait.waiting());
    EXPECT_EQ(s.runqueue_of(CpuId(0)).load.load(), 1u);
    EXPECT_EQ(s.runqueue_of(CpuId(0)).nr_waiting.load(), 0u);
}

TEST(CreditWake, AScheduledVcpuWokenIsNotQueuedTwice) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity e;
    s.attach(e, a, nullptr, CpuId(0));
    s.wake(e, 0);
    ASSERT_EQ(s.schedule(CpuId(0), false, 0).next, &e);
    // It blocks; before its CPU has switched it out, it is woken again.
    credit::Decision d = s.schedule(CpuId(0), false, 5 * MS);
    EXPECT_EQ(d.next, nullptr);
    EXPECT_TRUE(e.scheduled);
    EXPECT_FALSE(s.wake(e, 5 * MS).valid);
    EXPECT_FALSE(e.waiting()) << "its CPU still holds it";
    credit::Tickle t = s.descheduled(e, true, 5 * MS);
    EXPECT_TRUE(e.waiting()) << "saved: it waits again";
    EXPECT_TRUE(t.valid);
    EXPECT_EQ(t.cpu, CpuId(0));
}

// --- Credit accounting -----------------------------------------------------------------------

TEST(CreditAccounting, BurnScalesWithTheHeaviestWeight) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account light, heavy;
    light.weight = 256;
    heavy.weight = 512;
    Entity l, h;
    s.attach(l, light, nullptr, CpuId(0));
    s.attach(h, heavy, nullptr, CpuId(0));
    l.start_time = 0;
    h.start_time = 0;
    s.burn(l, 1 * MS);
    s.burn(h, 1 * MS);
    EXPECT_EQ(l.credit, credit::CREDIT_INIT - int64_t(2 * MS));
    EXPECT_EQ(h.credit, credit::CREDIT_INIT - int64_t(1 * MS));
}

TEST(CreditAccounting, BurnStopsAtTheFloorAndKeepsRemainders) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a, b;
    a.weight = 3;
    b.weight = 7;
    Entity e, f;
    s.attach(e, a, nullptr, CpuId(0));
    s.attach(f, b, nullptr, CpuId(0));
    e.start_time = 0;
    for (uint64_t t = 1; t <= 3; ++t) s.burn(e, t);  // 7/3 ns of credit per ns: 2, 2, 3
    EXPECT_EQ(e.credit, credit::CREDIT_INIT - 7);
    s.burn(e, 1'000 * MS);
    EXPECT_EQ(e.credit, credit::CREDIT_MIN);
}

TEST(CreditAccounting, ResetHappensWhenTheBestHasNoCreditLeft) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity x, y;
    s.attach(x, a, nullptr, CpuId(0));
    s.attach(y, a, nullptr, CpuId(0));
    s.wake(x, 0);
    s.wake(y, 0);
    credit::Decision d = s.schedule(CpuId(0), false, 0);
    EXPECT_FALSE(d.reset);
    y.credit = -3 * int64_t(MS);  // y spent its credit earlier
    // x runs 10 ms: both at or below zero now, the next decision resets.
    d = s.schedule(CpuId(0), true, 10 * MS + 1);
    EXPECT_TRUE(d.reset);
    EXPECT_EQ(y.credit, credit::CREDIT_INIT - int64_t(3 * MS));
    EXPECT_LE(x.credit, credit::CREDIT_INIT);
    EXPECT_GT(x.credit, credit::CREDIT_INIT - int64_t(MS));
}

TEST(CreditAccounting, AResetBringsTheChosenVcpuBackAboveZero) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity deep, deeper;
    s.attach(deep, a, nullptr, CpuId(0));
    s.attach(deeper, a, nullptr, CpuId(0));
    deep.credit = -25 * int64_t(MS);
    deeper.credit = -40 * int64_t(MS);
    s.wake(deep, 0);
    s.wake(deeper, 0);
    credit::Decision d = s.schedule(CpuId(0), false, 0);
    EXPECT_EQ(d.next, &deep);
    EXPECT_TRUE(d.reset);
    EXPECT_EQ(deep.credit, 5 * int64_t(MS)) << "three times CREDIT_INIT";
    EXPECT_EQ(deeper.credit, -10 * int64_t(MS)) << "the same for everyone: its debt stays";
}

TEST(CreditAccounting, CreditCarriedOverAResetIsClipped) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity runner, idle_one;
    s.attach(runner, a, nullptr, CpuId(0));
    s.attach(idle_one, a, nullptr, CpuId(0));  // never wakes: keeps its full credit
    s.wake(runner, 0);
    s.schedule(CpuId(0), false, 0);
    credit::Decision d = s.schedule(CpuId(0), true, 11 * MS);
    EXPECT_TRUE(d.reset);
    EXPECT_EQ(idle_one.credit, credit::CREDIT_INIT + credit::CARRYOVER_MAX);
}

TEST(CreditAccounting, SlicesStayWithinBounds) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity x, y;
    s.attach(x, a, nullptr, CpuId(0));
    s.attach(y, a, nullptr, CpuId(0));
    s.wake(x, 0);
    credit::Decision d = s.schedule(CpuId(0), false, 0);
    EXPECT_EQ(d.slice_ns, uint64_t(credit::MAX_SLICE)) << "alone: its whole credit";
    s.wake(y, 0);
    y.credit = x.credit - 100;  // just behind
    d = s.schedule(CpuId(0), true, 1);
    EXPECT_EQ(d.next, &x) << "within its rate limit";
    EXPECT_GE(d.slice_ns + 1, uint64_t(credit::RATELIMIT)) << "at least until the rate limit ends";
}

TEST(CreditAccounting, AYieldingVcpuGivesWayEvenWithMoreCredit) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    Entity x, y;
    s.attach(x, a, nullptr, CpuId(0));
    s.attach(y, a, nullptr, CpuId(0));
    s.wake(x, 0);
    s.schedule(CpuId(0), false, 0);
    s.wake(y, 0);
    y.credit = 1000;
    x.yielding = true;
    credit::Decision d = s.schedule(CpuId(0), true, 100);
    EXPECT_EQ(d.next, &y);
    EXPECT_FALSE(x.yielding) << "a yield counts for one decision";
    s.descheduled(x, true, 100);
    EXPECT_TRUE(x.waiting());
}

// --- Caps ------------------------------------------------------------------------------------

// A domain of four busy vCPUs on four CPUs with the given cap, beside nothing else: the CPU
// time it gets, as a percentage of one CPU.
double capped_percent(uint16_t cap, unsigned vcpus = 4, unsigned cpus = 4) {
    Sim sim(cpus);
    Account d;
    std::vector<SimVcpu*> v;
    for (unsigned i = 0; i < vcpus; ++i) v.push_back(&sim.add(d, i % cpus));
    if (cap) sim.set_cap(d, cap);
    uint64_t before = 0;
    for (SimVcpu* x : v) before += x->ran;
    sim.run_for(2'000 * MS);
    uint64_t ran = 0;
    for (SimVcpu* x : v) ran += x->ran;
    return 100.0 * double(ran - before) / double(2'000 * MS);
}

TEST(CreditCaps, NoCapLetsFourVcpusUseFourCpus) { expect_share(capped_percent(0), 400, 0.02, "cap 0"); }
TEST(CreditCaps, Cap400IsFourWholeCpus) { expect_share(capped_percent(400), 400, 0.05, "cap 400"); }
TEST(CreditCaps, Cap100IsOneCpuSharedByFour) { expect_share(capped_percent(100), 100, 0.10, "cap 100"); }
TEST(CreditCaps, Cap1IsOnePercent) {
    // Each run lasts at least the rate limit, far more than 1% of a period; the overrun is paid
    // back from later periods, so the average still comes out at about 1%.
    expect_share(capped_percent(1), 1, 0.25, "cap 1");
}
TEST(CreditCaps, Cap25OnOneVcpuBesideABusyOne) {
    Sim sim(1);
    Account capped, other;
    SimVcpu& c = sim.add(capped, 0);
    SimVcpu& o = sim.add(other, 0);
    sim.set_cap(capped, 25);
    sim.run_for(2'000 * MS);
    expect_share(double(c.ran) / double(c.ran + o.ran), 0.25, 0.10, "cap 25 of one CPU");
}

TEST(CreditCaps, RemovingTheCapUnparks) {
    Sim sim(4);
    Account d;
    std::vector<SimVcpu*> v;
    for (unsigned i = 0; i < 4; ++i) v.push_back(&sim.add(d, i));
    sim.set_cap(d, 10);
    sim.run_for(500 * MS);
    ASSERT_FALSE(d.parked.empty()) << "some vCPUs wait for budget";
    sim.set_cap(d, 0);
    EXPECT_TRUE(d.parked.empty());
    uint64_t before = 0;
    for (SimVcpu* x : v) before += x->ran;
    sim.run_for(500 * MS);
    uint64_t after = 0;
    for (SimVcpu* x : v) after += x->ran;
    EXPECT_GT(after - before, 4 * 450 * MS);
}

TEST(CreditCaps, GrabTakesAQuotaAndParksWhenThePoolIsEmpty) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account a;
    a.nr_vcpus = 2;
    Entity x, y;
    s.attach(x, a, nullptr, CpuId(0));
    s.attach(y, a, nullptr, CpuId(0));
    a.set_total(20);  // 2 ms per period, 1 ms quotas
    a.cap = 20;
    a.budget = a.total_budget;
    s.enter_cap(x, a.quota());
    s.enter_cap(y, a.quota());
    EXPECT_EQ(a.quota(), int64_t(1 * MS));
    EXPECT_TRUE(s.grab_budget(x));
    EXPECT_EQ(x.budget, int64_t(1 * MS));
    x.budget = -int64_t(MS) / 2;  // overran by 0.5 ms
    EXPECT_TRUE(s.grab_budget(x));
    EXPECT_EQ(x.budget, int64_t(MS) / 2) << "only what the overrun left";
    EXPECT_FALSE(s.grab_budget(y));
    EXPECT_TRUE(y.parked);
    EXPECT_EQ(a.parked.front(), &y);
    EXPECT_TRUE(s.return_budget(x)) << "its unused half goes back, and y waits for it";
    EXPECT_EQ(x.budget, 0);
    EXPECT_EQ(a.budget, int64_t(MS) / 2);
    EXPECT_TRUE(a.replenish(a.next_replenish + 1));
    EXPECT_EQ(a.budget, a.total_budget);
}

TEST(CreditCaps, ALateReplenishmentAddsMissedPeriodsButNoMoreThanOne) {
    Account a;
    a.set_total(50);
    a.budget = -12 * int64_t(MS);
    a.next_replenish = 100 * MS;
    EXPECT_TRUE(a.replenish(125 * MS));  // periods at 100, 110, 120 ms
    EXPECT_EQ(a.budget, 3 * int64_t(MS));
    EXPECT_EQ(a.next_replenish, 130 * MS);
    a.budget = -20 * int64_t(MS);
    EXPECT_FALSE(a.replenish(130 * MS)) << "still in debt";
    a.budget = 0;
    a.next_replenish = 0;
    EXPECT_TRUE(a.replenish(1'000 * MS));
    EXPECT_EQ(a.budget, a.total_budget);
}

// --- Run queues and balancing ----------------------------------------------------------------

TEST(CreditBalance, SharedRunQueueGroupsUpTo16Cpus) {
    Scheduler s;
    for (unsigned c = 0; c < 20; ++c) s.add_cpu(CpuId(c));
    EXPECT_EQ(s.nr_runqueues(), 2u);
    EXPECT_EQ(&s.runqueue_of(CpuId(0)), &s.runqueue_of(CpuId(15)));
    EXPECT_NE(&s.runqueue_of(CpuId(15)), &s.runqueue_of(CpuId(16)));
    EXPECT_EQ(s.runqueue_of(CpuId(19)).nr_cpus.load(), 4u);
}

TEST(CreditBalance, PerCpuRunQueuesSpreadVcpusPlacedOnOneCpu) {
    // Eight busy vCPUs all placed on CPU 0, one run queue per CPU: idle CPU 1 pulls, balancing
    // evens the queues, both CPUs stay busy and every vCPU gets about its quarter.
    Sim sim(2, Arrangement::per_cpu);
    ASSERT_EQ(sim.s->nr_runqueues(), 2u);
    Account d;
    std::vector<SimVcpu*> v;
    for (unsigned i = 0; i < 8; ++i) v.push_back(&sim.add(d, 0));
    sim.run_for(4'000 * MS);
    EXPECT_EQ(sim.s->runqueue_of(CpuId(0)).members.front() != nullptr, true);
    EXPECT_EQ(sim.s->runqueue_of(CpuId(0)).load.load(), 4u);
    EXPECT_EQ(sim.s->runqueue_of(CpuId(1)).load.load(), 4u);
    EXPECT_LT(sim.idle_time(), 2 * MS);
    for (SimVcpu* x : v) expect_share(double(x->ran), 4'000.0 * MS * 2 / 8, 0.15, "one of 8 on 2 per-CPU queues");
    EXPECT_FALSE(sim.two_cpus_at_once);
}

TEST(CreditBalance, AnIdleCpuPullsTheBestWaitingVcpu) {
    Scheduler s;
    s.set_arrangement(Arrangement::per_cpu);
    s.add_cpu(CpuId(0));
    s.add_cpu(CpuId(1));
    Account a;
    Entity run, low, high;
    for (Entity* e : {&run, &low, &high}) s.attach(*e, a, nullptr, CpuId(0));
    s.wake(run, 0);
    s.schedule(CpuId(0), false, 0);
    low.credit = 1000;
    s.wake(low, 0);
    s.wake(high, 0);
    credit::RunQueue& q0 = s.runqueue_of(CpuId(0));
    credit::RunQueue& q1 = s.runqueue_of(CpuId(1));
    EXPECT_EQ(s.busiest_other(q1), &q0);
    // Nothing was asked of CPU 1: CPU 0 is busy, so the wake-ups pointed at idle CPU 1.
    EXPECT_TRUE(s.pull(q1, q0, CpuId(1), 0));
    EXPECT_EQ(high.rq, &q1);
    EXPECT_EQ(high.cpu, CpuId(1));
    EXPECT_EQ(q1.load.load(), 1u);
    EXPECT_EQ(q0.load.load(), 2u);
    EXPECT_EQ(s.schedule(CpuId(1), false, 0).next, &high);
    EXPECT_FALSE(s.pull(q0, q0, CpuId(0), 0)) << "not from itself";
}

TEST(CreditBalance, RunningVcpusNeverMove) {
    Scheduler s;
    s.set_arrangement(Arrangement::per_cpu);
    s.add_cpu(CpuId(0));
    s.add_cpu(CpuId(1));
    Account a;
    Entity run;
    s.attach(run, a, nullptr, CpuId(0));
    s.wake(run, 0);
    s.schedule(CpuId(0), false, 0);
    EXPECT_FALSE(s.pull(s.runqueue_of(CpuId(1)), s.runqueue_of(CpuId(0)), CpuId(1), 0));
    EXPECT_FALSE(s.balance(s.runqueue_of(CpuId(0)), s.runqueue_of(CpuId(1)), 0).valid);
    EXPECT_EQ(run.rq, &s.runqueue_of(CpuId(0)));
}

TEST(CreditBalance, BalanceMovesOnlyWhenItHelps) {
    Scheduler s;
    s.set_arrangement(Arrangement::per_cpu);
    s.add_cpu(CpuId(0));
    s.add_cpu(CpuId(1));
    Account a;
    Entity e[4];
    for (Entity& x : e) s.attach(x, a, nullptr, CpuId(0));
    for (Entity& x : e) s.wake(x, 0);
    s.schedule(CpuId(0), false, 0);
    credit::RunQueue& q0 = s.runqueue_of(CpuId(0));
    credit::RunQueue& q1 = s.runqueue_of(CpuId(1));
    for (unsigned c : {0u, 1u}) s.runqueue_of(CpuId(c)).tickled.clear(CpuId(c));
    for (Entity& x : e) x.tickled_cpu = credit::NO_CPU;
    EXPECT_EQ(s.balance_partner(q0), &q1);
    // 4 against 0, then 3 against 1: each move helps; 2 against 2 is even.
    EXPECT_TRUE(s.balance(q0, q1, 0).valid);
    EXPECT_EQ(q1.load.load(), 1u);
    q1.tickled.clear(CpuId(1));
    s.balance(q1, q0, 0);
    EXPECT_EQ(q1.load.load(), 2u);
    q1.tickled.clear(CpuId(1));
    EXPECT_FALSE(s.balance(q0, q1, 0).valid);
    EXPECT_EQ(q0.load.load(), 2u);
    EXPECT_EQ(q1.load.load(), 2u);
    // 2 against 1 would only turn around: nothing moves.
    s.sleep(e[3].rq == &q1 ? e[3] : (e[2].rq == &q1 ? e[2] : e[1]));
    EXPECT_FALSE(s.balance(q0, q1, 0).valid);
}

TEST(CreditBalance, AWakeUpWithNoIdleCpuInItsQueuePointsAtAnIdleCpuElsewhere) {
    Scheduler s;
    s.set_arrangement(Arrangement::per_cpu);
    s.add_cpu(CpuId(0));
    s.add_cpu(CpuId(1));
    Account a;
    Entity run, woken;
    s.attach(run, a, nullptr, CpuId(0));
    s.attach(woken, a, nullptr, CpuId(0));
    s.wake(run, 0);
    s.schedule(CpuId(0), false, 0);
    credit::Tickle t = s.wake(woken, 0);
    ASSERT_TRUE(t.valid);
    EXPECT_EQ(t.cpu, CpuId(1)) << "CPU 1 is idle: poked, it will pull";
}

TEST(CreditBalance, DetachLeavesNothingBehind) {
    Scheduler s;
    s.add_cpu(CpuId(0));
    Account light, heavy;
    heavy.weight = 1000;
    Entity l, h;
    s.attach(l, light, nullptr, CpuId(0));
    s.attach(h, heavy, nullptr, CpuId(0));
    s.wake(h, 0);
    EXPECT_EQ(s.runqueue_of(CpuId(0)).max_weight, 1000);
    s.detach(h);
    EXPECT_EQ(h.rq, nullptr);
    EXPECT_EQ(s.runqueue_of(CpuId(0)).max_weight, 256) << "the heaviest left";
    EXPECT_EQ(s.runqueue_of(CpuId(0)).load.load(), 0u);
    EXPECT_EQ(s.runqueue_of(CpuId(0)).nr_waiting.load(), 0u);
    EXPECT_EQ(s.runqueue_of(CpuId(0)).members.front(), &l);
}

}  // namespace

// --- Hard affinity ---------------------------------------------------------------------------

CpuSet only(std::initializer_list<unsigned> cpus) {
    CpuSet s;
    for (unsigned c : cpus) s.set(CpuId(c));
    return s;
}

TEST(CreditAffinity, TwoVcpusPinnedToOneCpuShareItAndLeaveTheOtherIdle) {
    Sim sim(2);
    Account a, b;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 1);
    sim.pin(va, only({0}));
    sim.pin(vb, only({0}));
    sim.run_for(2'000 * MS);
    EXPECT_EQ(va.ran_on[1] + vb.ran_on[1], 0u) << "CPU 1 is never used once pinned";
    expect_share(double(va.ran_on[0]), double(vb.ran_on[0]), 0.10, "equal weights share CPU 0");
    EXPECT_FALSE(sim.two_cpus_at_once);
}

TEST(CreditAffinity, PinnedToDifferentCpusEachKeepsItsOwn) {
    Sim sim(2);
    Account a, b, c;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 0);
    SimVcpu& vc = sim.add(c, 0);
    sim.pin(va, only({1}));
    sim.pin(vb, only({0}));
    sim.run_for(2'000 * MS);
    uint64_t ran_before = va.ran_on[0];
    sim.run_for(2'000 * MS);
    EXPECT_EQ(va.ran_on[0], ran_before) << "va leaves CPU 0 at its next decision and never returns";
    EXPECT_EQ(vb.ran_on[1], 0u);
    EXPECT_GT(va.ran_on[1], 1'500 * MS) << "va runs on CPU 1 (sharing it with vc at most)";
    EXPECT_GT(vc.ran, 0u) << "the unpinned one runs wherever there is room";
}

TEST(CreditAffinity, APinnedVcpuMovesToARunQueueWithItsCpu) {
    Sim sim(4, Arrangement::per_cpu);
    Account a, b;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 0);  // waits behind va on CPU 0's run queue
    sim.run_for(5 * MS);
    sim.pin(vb, only({3}));
    uint64_t elsewhere = vb.ran_on[0] + vb.ran_on[1] + vb.ran_on[2];
    sim.run_for(1'000 * MS);
    EXPECT_EQ(vb.e.rq, &sim.s->runqueue_of(CpuId(3)));
    EXPECT_GT(vb.ran_on[3], 900 * MS);
    EXPECT_LE(vb.ran_on[0] + vb.ran_on[1] + vb.ran_on[2], elsewhere + credit::MAX_SLICE)
        << "at most the rest of a slice where it was";
    EXPECT_GT(va.ran, 900 * MS);
}

TEST(CreditAffinity, PullsAndBalancingRespectAffinity) {
    Sim sim(4, Arrangement::per_cpu);
    Account a;
    std::vector<SimVcpu*> v;
    for (int i = 0; i < 6; ++i) v.push_back(&sim.add(a, 0));
    for (SimVcpu* x : v) sim.pin(*x, only({0, 1}));
    sim.run_for(3'000 * MS);
    for (SimVcpu* x : v) EXPECT_EQ(x->ran_on[2] + x->ran_on[3], 0u);
    uint64_t total = 0;
    for (SimVcpu* x : v) total += x->ran;
    EXPECT_GT(total, 2 * 2'900 * MS) << "both allowed CPUs busy";
    EXPECT_FALSE(sim.two_cpus_at_once);
}

TEST(CreditAffinity, UnpinningLetsItRunAnywhereAgain) {
    Sim sim(2);
    Account a, b;
    SimVcpu& va = sim.add(a, 0);
    SimVcpu& vb = sim.add(b, 0);
    sim.pin(va, only({0}));
    sim.pin(vb, only({0}));
    sim.run_for(100 * MS);
    sim.pin(vb, CpuSet::all());
    sim.run_for(1'000 * MS);
    EXPECT_GT(va.ran_on[0] + vb.ran_on[1], 1'800 * MS) << "each has a CPU of its own again";
}
