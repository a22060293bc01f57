// Credit scheduling policy, modelled on Xen 4.17's default scheduler (credit2): the decisions
// only, with no locks, CPUs or interrupts, so that the host tests drive it through simulated
// time. arch/x86_64/scheduler.cpp holds the locks, switches contexts and pokes CPUs.
//
// Design note. Credit and time are both nanoseconds. Every vCPU (an Entity) belongs to one run
// queue, which serves a set of CPUs (all of them in groups of up to 16 by default, or one per
// CPU); a CPU runs the waiting vCPU of its run queue with the most credit. A running vCPU burns
// credit at max_weight / weight times real time, max_weight being the largest weight among
// the run queue's vCPUs, so between two resets a vCPU of weight w runs w / max_weight of the
// time the heaviest one does. When the vCPU chosen to run (or the best waiting one) has no
// credit left, every vCPU of the run queue gets CREDIT_INIT more (the reset event; a multiple
// of it if the chosen one is further below zero), at most CREDIT_INIT + CARRYOVER_MAX in all. A domain's cap is a budget of cap% of BUDGET_PERIOD per
// period, shared by its vCPUs, which take it in quotas; one that finds none is parked until
// the next replenishment. Balancing moves waiting vCPUs between run queues: a CPU with
// nothing to run pulls one, and run queues whose loads (vCPUs wanting a CPU, per CPU) differ
// by more than one vCPU even out.
//
// Hard affinity. A vCPU runs only on CPUs of its hard affinity: a CPU passes over the waiting
// vCPUs it may not run and stops running one whose affinity no longer has it, pokes go only to
// allowed CPUs, and pulls and balancing move a vCPU only to a run queue with an allowed CPU (one
// whose run queue has none is moved by the caller, migrate()).
//
// Who writes what. An Entity's fields, and a RunQueue's, change only under that run queue's
// lock (RunQueue::lock); moving an Entity to another run queue takes both locks (in id order),
// and a running (scheduled) Entity never moves. An Account's budget, cap and parked list change
// under its budget_lock, which nests inside run queue locks. The masks and the waiting count
// of a run queue are atomics, read without its lock as hints by other CPUs.
#pragma once

#include "cpu_mask.hpp"
#include "kstd/atomic.hpp"
#include "kstd/list.hpp"
#include "spinlock.hpp"
#include "timer_queue.hpp"
#include "types.hpp"

class Vcpu;

namespace credit {

constexpr uint16_t DEFAULT_WEIGHT = 256;
constexpr int64_t CREDIT_INIT = 10'000'000;       // credit a reset gives (10 ms at the top weight)
// Credit never falls below this. Xen 4.17's floor is -CREDIT_INIT; Kestrel's is deeper, so
// that a vCPU whose run overshot its slice by a few milliseconds (a late timer, or a host
// that stopped an emulated CPU for a while) still pays for all of it: with the shallow floor a
// light vCPU, which burns credit fastest, would have part of every overshoot forgiven and run
// more than its weight gives it.
constexpr int64_t CREDIT_MIN = -5 * CREDIT_INIT;
constexpr int64_t IDLE_CREDIT = CREDIT_MIN - 1;   // the idle choice: below every vCPU
constexpr int64_t CARRYOVER_MAX = 500'000;        // credit kept over a reset beyond CREDIT_INIT
constexpr int64_t MIN_SLICE = 500'000;            // shortest time between two decisions
constexpr int64_t MAX_SLICE = CREDIT_INIT;        // longest
constexpr int64_t RATELIMIT = 1'000'000;          // a vCPU put on a CPU keeps it this long (unless it yields)
constexpr int64_t MIGRATE_RESIST = 500'000;       // credit a vCPU last run elsewhere must lead by
constexpr int64_t MIGRATE_COMPENSATION = 50'000;  // credit given to a vCPU for changing CPU
constexpr int64_t BUDGET_PERIOD = 10'000'000;     // a capped domain's budget comes back this often
constexpr int64_t UNCAPPED = INT64_MAX;           // the budget of a vCPU of a domain without cap
constexpr uint64_t BALANCE_INTERVAL = 10'000'000; // run queues compare loads at least this often
constexpr unsigned MAX_CPUS = CpuMask::MAX_CPUS;
constexpr unsigned MAX_CPUS_PER_RUNQUEUE = 16;    // Xen's sched_credit2_max_cpus_runqueue
constexpr int32_t NO_CPU = -1;

class RunQueue;
class Account;

// A vCPU as the scheduler sees it.
struct Entity {
    Vcpu* vcpu = nullptr;          // its owner (never dereferenced here)
    Account* account = nullptr;    // its domain's
    RunQueue* rq = nullptr;        // read with an acquire load to find the lock to take
    CpuId cpu{0};                  // the CPU it runs on, last ran on, or was placed on
    int64_t credit = CREDIT_INIT;
    uint64_t residual = 0;         // remainder of the last credit division, so none is lost
    uint16_t weight = DEFAULT_WEIGHT;
    uint64_t start_time = 0;       // credit burnt up to this time (while it runs)
    uint64_t run_start = 0;        // when it was last put on a CPU (the rate limit)
    int64_t budget = UNCAPPED;     // capped: what it may still run of its domain's budget
    int64_t budget_quota = 0;      // capped: how much it takes from the domain at a time
    bool scheduled = false;        // current on a CPU, or being switched away from it
    bool active = false;           // wants a CPU and may have one (counted in the run queue's load)
    bool parked = false;           // capped and out of budget until a replenishment
    bool yielding = false;         // asked to let others run at its next decision
    int32_t tickled_cpu = NO_CPU;  // the CPU asked to pick it up, if any
    kstd::ListNode queue_link;     // on rq->waiting while it waits for a CPU
    kstd::ListNode member_link;    // on rq->members while it belongs to rq
    kstd::ListNode park_link;      // on account->parked while parked
    // Hard affinity (XEN_DOMCTL_setvcpuaffinity): the CPUs it may run on. Unrestricted: any.
    CpuSet hard = CpuSet::all();

    bool capped() const { return budget != UNCAPPED; }
    bool allowed(CpuId c) const { return hard.test(c); }
    bool waiting() const { return queue_link.linked(); }
};

using EntityQueue = kstd::List<Entity, &Entity::queue_link>;
using EntityMembers = kstd::List<Entity, &Entity::member_link>;
using ParkedList = kstd::List<Entity, &Entity::park_link>;

// A domain as the scheduler sees it: its weight and cap (Xen's XEN_DOMCTL_SCHEDOP_putinfo) and
// the budget pool that enforces the cap.
class Account {
public:
    uint16_t weight = DEFAULT_WEIGHT;
    uint16_t cap = 0;          // percent of one CPU; 0: none
    unsigned nr_vcpus = 0;     // the limit on cap is 100 per vCPU; quotas split the budget this many ways

    Spinlock budget_lock;      // taken with interrupts off, inside run queue locks
    int64_t budget = 0;        // left in this period (negative: overrun to be paid back)
    int64_t total_budget = 0;  // cap% of BUDGET_PERIOD
    uint64_t next_replenish = 0;
    ParkedList parked;
    Timer replenish_timer;     // armed by the scheduler while the cap is on

    // What each vCPU takes from the pool at a time: an equal share, at least MIN_SLICE.
    int64_t quota() const;
    // Sets the cap's budget (under budget_lock): cap% of BUDGET_PERIOD.
    void set_total(uint16_t cap_percent);
    // The periodic replenishment (under budget_lock): adds one period's budget for each period
    // that has begun by now (never above one period's worth) and moves next_replenish on.
    // Whether the parked vCPUs can now be given budget.
    bool replenish(uint64_t now);
    // Moves every parked vCPU to `out` (under budget_lock), for the caller to unpark one by one
    // under their run queue locks.
    void take_parked(ParkedList& out);
};

// A run queue: the vCPUs that belong to it, the ones waiting for one of its CPUs (most credit
// first) and its CPUs' states.
class RunQueue {
public:
    Spinlock lock;                // taken with interrupts off
    unsigned id = 0;
    CpuMask cpus;                 // the CPUs it serves
    CpuMask idle;                 // of those, the ones with nothing to run
    CpuMask tickled;              // of those, the ones asked to pick again and that have not yet
    kstd::Atomic<unsigned> nr_cpus{0};
    kstd::Atomic<unsigned> load{0};        // active members
    kstd::Atomic<unsigned> nr_waiting{0};  // entries of `waiting`
    uint16_t max_weight = 1;
    kstd::Atomic<uint64_t> last_balance{0};  // read without the lock to decide whether to balance
    EntityQueue waiting;
    EntityMembers members;

    RunQueue() = default;
    RunQueue(const RunQueue&) = delete;
    RunQueue& operator=(const RunQueue&) = delete;
};

// Which CPU to make pick again (set its need-to-reschedule flag, and interrupt it if it is not
// the caller's), if any.
struct Tickle {
    bool valid = false;
    CpuId cpu{0};
};

// What a CPU runs next: `next` (null: idle) for at most slice_ns (0: until poked).
struct Decision {
    Entity* next = nullptr;
    uint64_t slice_ns = 0;
    bool reset = false;   // the run queue's credits were reset: a moment to balance loads
    bool unpark = false;  // the previous vCPU gave budget back to a domain with parked vCPUs
};

enum class Arrangement : uint8_t {
    shared,   // groups of up to MAX_CPUS_PER_RUNQUEUE consecutive CPUs share a run queue
    per_cpu,  // one run queue per CPU
};

// The whole policy: run queues, and each CPU's run queue and current vCPU.
class Scheduler {
public:
    Scheduler() = default;
    Scheduler(const Scheduler&) = delete;
    Scheduler& operator=(const Scheduler&) = delete;

    void set_arrangement(Arrangement a) { arrangement_ = a; }
    Arrangement arrangement() const { return arrangement_; }
    // A CPU comes online and joins its run queue (callers serialize CPU bring-up).
    void add_cpu(CpuId c);
    bool has_cpu(CpuId c) const { return c.raw() < MAX_CPUS && cpus_[c.raw()].rq != nullptr; }
    RunQueue& runqueue_of(CpuId c) const { return *cpus_[c.raw()].rq; }
    unsigned nr_runqueues() const { return nr_runqueues_.load(); }
    RunQueue& runqueue(unsigned i) { return runqueues_[i]; }
    // The vCPU current on CPU c (null: idle), as the last decision there made it.
    Entity* current(CpuId c) const { return cpus_[c.raw()].current; }

    // --- Membership (the run queue's lock held) ---
    // e (of a vCPU of `a`'s domain) joins the run queue of CPU c, placed on c.
    void attach(Entity& e, Account& a, Vcpu* owner, CpuId c);
    // e leaves its run queue for good (its vCPU is being destroyed; never scheduled now).
    void detach(Entity& e);
    // A new weight for e (its domain's changed).
    void set_weight(Entity& e, uint16_t w);

    // --- Changes of state (e's run queue lock held) ---
    // e wants a CPU: a waiting one joins its run queue's queue, and a CPU is picked to run it
    // (an idle one if possible, else one running a vCPU with less credit). A scheduled one is
    // only counted as active again (its CPU keeps or requeues it); a parked one stays parked.
    Tickle wake(Entity& e, uint64_t now);
    // e no longer wants a CPU (blocked, down, paused, dead): off the queue, no longer active.
    void sleep(Entity& e);
    // The decision for CPU `cpu` (its run queue lock held): `prev_wants` says whether its
    // current vCPU (if any) wants to go on running.
    Decision schedule(CpuId cpu, bool prev_wants, uint64_t now);
    // prev, which CPU prev->cpu has switched away from, is saved: it waits again if it still
    // wants a CPU (and is not parked).
    Tickle descheduled(Entity& prev, bool wants, uint64_t now);
    // A CPU should decide again now if its vCPU has run out of budget (cap just set).
    Tickle reconsider(Entity& e);
    // e's hard affinity becomes `hard`. A running e whose CPU is no longer allowed has its CPU
    // decide again (it waits, then runs where it may); a waiting one is offered to an allowed
    // CPU. Whether e's run queue still has an allowed CPU is the caller's: see migrate().
    Tickle set_affinity(Entity& e, const CpuSet& hard, uint64_t now);
    // Whether some CPU of rq is in e's hard affinity, and the first such (an idle one first).
    bool first_allowed(const RunQueue& rq, const Entity& e, CpuId& cpu) const;
    // e (not scheduled) moves to run queue `to`, which has a CPU e may run on (both run queues'
    // locks held); a waiting e is offered to a CPU there.
    Tickle migrate(Entity& e, RunQueue& to, uint64_t now);

    // --- Caps (e's run queue lock held; they take the account's budget_lock) ---
    // e's domain got a cap (quota set, budget to be taken) or lost it.
    void enter_cap(Entity& e, int64_t quota);
    void leave_cap(Entity& e);
    // A replenishment gave e's domain budget (or its cap went): e may run again.
    Tickle unpark(Entity& e, bool wants, uint64_t now);

    // --- Balancing (both run queues' locks held) ---
    // The run queue whose load differs most from mine (a hint read without locks), or null.
    RunQueue* balance_partner(const RunQueue& mine) const;
    // The run queue with the most vCPUs waiting, other than mine (a hint), or null.
    RunQueue* busiest_other(const RunQueue& mine) const;
    // CPU `cpu` of `to` has nothing to run: moves the best waiting vCPU of `from` that no CPU
    // of `from` is about to take, placed on `cpu`. Whether one moved.
    bool pull(RunQueue& to, RunQueue& from, CpuId cpu, uint64_t now);
    // Moves one waiting vCPU from the busier of a and b to the other when that leaves the
    // busier still at least as loaded per CPU. The CPU to poke in the receiving run queue.
    Tickle balance(RunQueue& a, RunQueue& b, uint64_t now);
    // An idle CPU of another run queue than rq's that e may run on, to poke so that it pulls
    // (a hint).
    Tickle idle_elsewhere(const RunQueue& rq, const Entity& e) const;

    // --- Accounting (exposed for the tests) ---
    // Charges e for the time it ran since its start_time.
    void burn(Entity& e, uint64_t now);
    // Whether e may run (capped: it has budget, or takes a quota now; parks it if none is left).
    bool grab_budget(Entity& e);
    // Gives the rest of e's budget back to its domain; whether parked vCPUs could use it.
    bool return_budget(Entity& e);

private:
    struct CpuSlot {
        RunQueue* rq = nullptr;
        Entity* current = nullptr;
    };

    Entity* candidate(RunQueue& rq, Entity* prev, bool prev_wants, bool yield, CpuId cpu, uint64_t now);
    void reset_credit(RunQueue& rq, const Entity& chosen, uint64_t now);
    uint64_t slice_for(RunQueue& rq, const Entity& e, bool continuing, uint64_t now);
    Tickle tickle(Entity& e, uint64_t now);
    int64_t preempt_score(const Entity& e, CpuId cpu, uint64_t now);
    void enqueue(Entity& e);
    void dequeue(Entity& e);
    void activate(Entity& e);
    void deactivate(Entity& e);
    void park(Entity& e);
    void move(Entity& e, RunQueue& to, CpuId cpu);
    static void update_max_weight(RunQueue& rq);

    Arrangement arrangement_ = Arrangement::shared;
    CpuSlot cpus_[MAX_CPUS];
    RunQueue runqueues_[MAX_CPUS];
    kstd::Atomic<unsigned> nr_runqueues_{0};  // read by idle CPUs while later CPUs come up
};

}  // namespace credit
