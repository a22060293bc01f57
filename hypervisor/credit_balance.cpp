// Balancing between run queues (see credit.hpp). Within a run queue every CPU takes from the same
// queue, so only run queues need evening out: a CPU that has nothing to run pulls a waiting
// vCPU from the run queue with the most waiting, a vCPU that starts waiting where no CPU is
// idle gets an idle CPU of another run queue poked (which then pulls), and every
// BALANCE_INTERVAL (and at each credit reset) a CPU compares its run queue with the one whose
// load per CPU differs most and moves a waiting vCPU across if that helps. Only waiting vCPUs
// move: a running one stays until it has left its CPU, so no vCPU is ever on two CPUs.
#include "credit.hpp"

namespace credit {

namespace {

// Load per CPU in 1/1024ths of a vCPU, for comparing run queues of different sizes.
uint64_t load_per_cpu(const RunQueue& rq) {
    unsigned cpus = rq.nr_cpus.load();
    return cpus ? uint64_t(rq.load.load()) * 1024 / cpus : 0;
}

// A vCPU that a CPU of its run queue was asked to take, and that CPU has not decided yet,
// stays for it.
bool promised(const RunQueue& rq, const Entity& e) {
    return e.tickled_cpu != NO_CPU && rq.tickled.test(CpuId(uint32_t(e.tickled_cpu)));
}

}  // namespace

RunQueue* Scheduler::balance_partner(const RunQueue& mine) const {
    uint64_t my_load = load_per_cpu(mine);
    RunQueue* partner = nullptr;
    uint64_t widest = 0;
    for (unsigned i = 0, n = nr_runqueues(); i < n; ++i) {
        RunQueue& other = const_cast<RunQueue&>(runqueues_[i]);
        if (&other == &mine || other.nr_cpus.load() == 0) continue;
        uint64_t theirs = load_per_cpu(other);
        uint64_t gap = theirs > my_load ? theirs - my_load : my_load - theirs;
        if (gap > widest) {
            widest = gap;
            partner = &other;
        }
    }
    return partner;
}

RunQueue* Scheduler::busiest_other(const RunQueue& mine) const {
    RunQueue* busiest = nullptr;
    unsigned most = 0;
    for (unsigned i = 0, n = nr_runqueues(); i < n; ++i) {
        RunQueue& other = const_cast<RunQueue&>(runqueues_[i]);
        unsigned waiting = other.nr_waiting.load();
        if (&other == &mine || waiting <= most) continue;
        most = waiting;
        busiest = &other;
    }
    return busiest;
}

bool Scheduler::pull(RunQueue& to, RunQueue& from, CpuId cpu, uint64_t) {
    if (&to == &from) return false;
    for (Entity* e = from.waiting.front(); e; e = from.waiting.next(e)) {
        if (promised(from, *e) || !e->allowed(cpu)) continue;
        move(*e, to, cpu);
        return true;
    }
    return false;
}

Tickle Scheduler::balance(RunQueue& a, RunQueue& b, uint64_t now) {
    a.last_balance.store(now);
    b.last_balance.store(now);
    if (&a == &b) return {};
    uint64_t la = a.load.load(), lb = b.load.load();
    uint64_t ca = a.nr_cpus.load(), cb = b.nr_cpus.load();
    if (!ca || !cb || la * cb == lb * ca) return {};
    bool a_busier = la * cb > lb * ca;
    RunQueue& busy = a_busier ? a : b;
    RunQueue& light = a_busier ? b : a;
    uint64_t lbusy = a_busier ? la : lb, llight = a_busier ? lb : la;
    uint64_t cbusy = a_busier ? ca : cb, clight = a_busier ? cb : ca;
    // Only if the busier one stays at least as loaded per CPU: otherwise the move would just
    // turn the imbalance around (and the next balance would move it back).
    if ((lbusy - 1) * clight < (llight + 1) * cbusy) return {};
    // The one with the least credit waits the longest where it is: it goes, to an idle CPU of
    // the lighter run queue if there is one.
    for (Entity* e = busy.waiting.back(); e; e = busy.waiting.prev(e)) {
        CpuId to{0};
        if (promised(busy, *e) || !first_allowed(light, *e, to)) continue;
        move(*e, light, to);
        return tickle(*e, now);
    }
    return {};
}

Tickle Scheduler::idle_elsewhere(const RunQueue& rq, const Entity& e) const {
    for (unsigned i = 0, n = nr_runqueues(); i < n; ++i) {
        const RunQueue& other = runqueues_[i];
        if (&other == &rq || other.nr_cpus.load() == 0) continue;
        Tickle t;
        other.idle.for_each([&](CpuId c) {
            if (!t.valid && e.allowed(c) && !other.tickled.test(c)) t = Tickle{true, c};
        });
        if (t.valid) return t;
    }
    return {};
}

// Both run queues' locks held; e waits or sleeps (it is not scheduled).
void Scheduler::move(Entity& e, RunQueue& to, CpuId cpu) {
    RunQueue& from = *e.rq;
    bool was_waiting = e.waiting();
    bool was_active = e.active;
    dequeue(e);
    deactivate(e);
    from.members.remove(&e);
    update_max_weight(from);
    to.members.push_back(&e);
    if (e.weight > to.max_weight) to.max_weight = e.weight;
    // Ordering: release pairs with the acquire load of whoever looks for e's lock.
    __atomic_store_n(&e.rq, &to, __ATOMIC_RELEASE);
    e.cpu = cpu;
    e.tickled_cpu = NO_CPU;
    if (was_active) activate(e);
    if (was_waiting) enqueue(e);
}

}  // namespace credit
