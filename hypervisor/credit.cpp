// Credit scheduling policy: membership, credit accounting, the choice of the next vCPU and of
// the CPU to poke (see credit.hpp). Caps: credit_budget.cpp; balancing: credit_balance.cpp.
#include "credit.hpp"

namespace credit {

namespace {

// A delta of time large enough for any real run, small enough that multiplying it by a weight
// cannot overflow (2^40 ns is about 18 minutes).
constexpr uint64_t MAX_BURN_DELTA = uint64_t{1} << 40;

int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

}  // namespace

void Scheduler::add_cpu(CpuId c) {
    unsigned index = arrangement_ == Arrangement::per_cpu ? c.raw() : c.raw() / MAX_CPUS_PER_RUNQUEUE;
    RunQueue& rq = runqueues_[index];
    rq.id = index;
    rq.cpus.set(c);
    rq.idle.set(c);
    rq.nr_cpus.fetch_add(1);
    cpus_[c.raw()] = CpuSlot{&rq, nullptr};
    if (index + 1 > nr_runqueues_.load()) nr_runqueues_.store(index + 1);
}

// --- Membership -----------------------------------------------------------------------------

void Scheduler::attach(Entity& e, Account& a, Vcpu* owner, CpuId c) {
    RunQueue& rq = runqueue_of(c);
    e.vcpu = owner;
    e.account = &a;
    e.weight = a.weight;
    e.cpu = c;
    e.credit = CREDIT_INIT;
    e.budget = UNCAPPED;
    rq.members.push_back(&e);
    if (e.weight > rq.max_weight) rq.max_weight = e.weight;
    // Ordering: release pairs with the acquire load of whoever looks for e's lock.
    __atomic_store_n(&e.rq, &rq, __ATOMIC_RELEASE);
}

void Scheduler::detach(Entity& e) {
    if (!e.rq) return;
    RunQueue& rq = *e.rq;
    dequeue(e);
    deactivate(e);
    rq.members.remove(&e);
    update_max_weight(rq);
    __atomic_store_n(&e.rq, nullptr, __ATOMIC_RELEASE);  // Ordering: as in attach
}

void Scheduler::set_weight(Entity& e, uint16_t w) {
    e.weight = w;
    update_max_weight(*e.rq);
}

void Scheduler::update_max_weight(RunQueue& rq) {
    uint16_t top = 0;
    for (Entity* e = rq.members.front(); e; e = rq.members.next(e))
        if (e->weight > top) top = e->weight;
    rq.max_weight = top;
}

void Scheduler::activate(Entity& e) {
    if (e.active) return;
    e.active = true;
    e.rq->load.fetch_add(1);
}

void Scheduler::deactivate(Entity& e) {
    if (!e.active) return;
    e.active = false;
    e.rq->load.fetch_sub(1);
}

// Most credit first; among equals, first come first served.
void Scheduler::enqueue(Entity& e) {
    RunQueue& rq = *e.rq;
    Entity* pos = rq.waiting.front();
    while (pos && pos->credit >= e.credit) pos = rq.waiting.next(pos);
    rq.waiting.insert_before(pos, &e);
    rq.nr_waiting.fetch_add(1);
}

void Scheduler::dequeue(Entity& e) {
    if (!e.waiting()) return;
    e.rq->waiting.remove(&e);
    e.rq->nr_waiting.fetch_sub(1);
}

// --- Changes of state -----------------------------------------------------------------------

Tickle Scheduler::wake(Entity& e, uint64_t now) {
    if (e.parked) return {};
    activate(e);
    if (e.scheduled || e.waiting()) return {};
    enqueue(e);
    return tickle(e, now);
}

void Scheduler::sleep(Entity& e) {
    dequeue(e);
    deactivate(e);
}

Decision Scheduler::schedule(CpuId cpu, bool prev_wants, uint64_t now) {
    CpuSlot& slot = cpus_[cpu.raw()];
    RunQueue& rq = *slot.rq;
    Entity* prev = slot.current;
    rq.tickled.clear(cpu);
    bool yield = false;
    if (prev) {
        burn(*prev, now);
        yield = prev->yielding;
        prev->yielding = false;
        // Out of budget and none to take: parked (grab_budget did it), so it cannot go on.
        if (prev_wants && !grab_budget(*prev)) prev_wants = false;
        if (!prev_wants) deactivate(*prev);
    }
    Entity* next = candidate(rq, prev, prev_wants, yield, cpu, now);
    Decision d;
    if (next) {
        if (next != prev) {
            dequeue(*next);
            next->scheduled = true;
            next->run_start = now;
        }
        rq.idle.clear(cpu);
        int64_t top = next->credit;
        if (!rq.waiting.empty()) top = max64(top, rq.waiting.front()->credit);
        if (top <= 0) {
            reset_credit(rq, *next, now);
            d.reset = true;
        }
        next->start_time = now;
        next->tickled_cpu = NO_CPU;
        if (next->cpu != cpu) {
            next->credit += MIGRATE_COMPENSATION;
            next->cpu = cpu;
        }
    } else {
        rq.idle.set(cpu);
    }
    if (prev && prev != next) d.unpark = return_budget(*prev);
    slot.current = next;
    d.next = next;
    d.slice_ns = next ? slice_for(rq, *next, next == prev, now) : 0;
    return d;
}

// The waiting vCPU to run instead of prev (or of idling), as credit2's runq_candidate: the one
// with the most credit, unless prev is within its rate limit, the vCPU is about to be taken
// by another CPU that was asked to, it last ran on another CPU and does not lead by
// MIGRATE_RESIST, or it is capped and no budget is left (it is parked then). A yielding prev
// gives way to any waiting vCPU.
Entity* Scheduler::candidate(RunQueue& rq, Entity* prev, bool prev_wants, bool yield, CpuId cpu, uint64_t now) {
    Entity* best = prev && prev_wants && prev->allowed(cpu) ? prev : nullptr;
    int64_t best_credit = best ? best->credit : IDLE_CREDIT;
    if (best && !yield && now - best->run_start < uint64_t(RATELIMIT)) return best;
    for (Entity* e = rq.waiting.front(); e;) {
        Entity* following = rq.waiting.next(e);
        if (!yield && e->credit <= best_credit) break;
        if (!e->allowed(cpu)) {
            e = following;
            continue;
        }
        bool for_another = e->tickled_cpu != NO_CPU && e->tickled_cpu != int32_t(cpu.raw()) &&
                           rq.tickled.test(CpuId(uint32_t(e->tickled_cpu)));
        bool resisted = e->cpu != cpu && best_credit + MIGRATE_RESIST > e->credit;
        if (!for_another && !resisted && grab_budget(*e)) return e;
        e = following;
    }
    return best;
}

// Every member gets CREDIT_INIT more (as many times CREDIT_INIT as it takes to bring the chosen
// one back above zero, if it is that far below), up to CREDIT_INIT + CARRYOVER_MAX. Running
// members are charged first. The order of the queue is kept: all gain the same, and the clip
// keeps ties ties.
void Scheduler::reset_credit(RunQueue& rq, const Entity& chosen, uint64_t now) {
    int64_t add = CREDIT_INIT;
    while (chosen.credit + add <= 0) add += CREDIT_INIT;
    for (Entity* e = rq.members.front(); e; e = rq.members.next(e)) {
        if (e->scheduled && cpus_[e->cpu.raw()].current == e) burn(*e, now);
        e->credit = min64(e->credit + add, CREDIT_INIT + CARRYOVER_MAX);
        e->start_time = now;
    }
}

// How long e may run before the CPU decides again: until its credit falls to that of the best
// waiting vCPU (or to zero), never past its budget, within [MIN_SLICE, MAX_SLICE], and not
// before its rate limit ends.
uint64_t Scheduler::slice_for(RunQueue& rq, const Entity& e, bool continuing, uint64_t now) {
    int64_t min_time = MIN_SLICE;
    int64_t limit_left = continuing ? int64_t(e.run_start) + RATELIMIT - int64_t(now) : RATELIMIT;
    if (limit_left > min_time) min_time = limit_left;
    int64_t credit = e.credit;
    Entity* head = rq.waiting.front();
    if (head && head->credit > 0) credit = e.credit - head->credit;
    int64_t time = credit > 0 && rq.max_weight ? credit * e.weight / rq.max_weight : 0;
    if (e.capped() && e.budget < time) time = e.budget;
    if (time < min_time) time = min_time;
    if (time > MAX_SLICE) time = MAX_SLICE;
    return uint64_t(time);
}

void Scheduler::burn(Entity& e, uint64_t now) {
    if (now <= e.start_time || !e.rq) return;
    uint64_t delta = now - e.start_time;
    if (delta > MAX_BURN_DELTA) delta = MAX_BURN_DELTA;
    uint64_t scaled = delta * e.rq->max_weight + e.residual;
    e.residual = scaled % e.weight;
    uint64_t spent = scaled / e.weight;
    uint64_t room = uint64_t(e.credit - CREDIT_MIN);
    e.credit = spent >= room ? CREDIT_MIN : e.credit - int64_t(spent);
    if (e.capped()) e.budget -= int64_t(delta);
    e.start_time = now;
}

// --- Which CPU to poke ------------------------------------------------------------------------

// For a vCPU that just started waiting, as credit2's runq_tickle: an idle CPU nobody has asked
// yet (its own CPU first, then the next ones round), else the busy CPU whose vCPU it beats by
// the most credit (past its rate limit), else an idle CPU of another run queue to pull it.
Tickle Scheduler::tickle(Entity& e, uint64_t now) {
    RunQueue& rq = *e.rq;
    auto free_idle = [&](CpuId c) { return e.allowed(c) && rq.idle.test(c) && !rq.tickled.test(c); };
    int32_t chosen = NO_CPU;
    if (rq.cpus.test(e.cpu) && free_idle(e.cpu)) chosen = int32_t(e.cpu.raw());
    int32_t after = NO_CPU, before = NO_CPU;
    if (chosen == NO_CPU)
        rq.cpus.for_each([&](CpuId c) {
            if (!free_idle(c)) return;
            if (c > e.cpu && after == NO_CPU) after = int32_t(c.raw());
            if (c < e.cpu && before == NO_CPU) before = int32_t(c.raw());
        });
    if (chosen == NO_CPU) chosen = after != NO_CPU ? after : before;
    if (chosen == NO_CPU) {
        int64_t best = 0;
        rq.cpus.for_each([&](CpuId c) {
            if (!e.allowed(c) || rq.idle.test(c) || rq.tickled.test(c)) return;
            int64_t score = preempt_score(e, c, now);
            if (score > best) {
                best = score;
                chosen = int32_t(c.raw());
            }
        });
    }
    if (chosen == NO_CPU) return idle_elsewhere(rq, e);
    CpuId c{uint32_t(chosen)};
    rq.tickled.set(c);
    e.tickled_cpu = chosen;
    return Tickle{true, c};
}

// How much e beats the vCPU running on cpu (0 or less: not at all, or it may not be preempted
// yet). Its current vCPU is charged first, so that the comparison is up to date.
int64_t Scheduler::preempt_score(const Entity& e, CpuId cpu, uint64_t now) {
    Entity* cur = cpus_[cpu.raw()].current;
    if (!cur || now - cur->run_start < uint64_t(RATELIMIT)) return 0;
    burn(*cur, now);
    int64_t score = e.credit - cur->credit;
    if (e.cpu != cpu) score -= MIGRATE_RESIST;
    return score;
}

Tickle Scheduler::descheduled(Entity& prev, bool wants, uint64_t now) {
    prev.scheduled = false;
    if (!wants || prev.parked) {
        deactivate(prev);
        return {};
    }
    activate(prev);
    enqueue(prev);
    return tickle(prev, now);
}

Tickle Scheduler::reconsider(Entity& e) {
    if (!e.scheduled || cpus_[e.cpu.raw()].current != &e) return {};
    e.rq->tickled.set(e.cpu);
    return Tickle{true, e.cpu};
}

}  // namespace credit

namespace credit {

Tickle Scheduler::set_affinity(Entity& e, const CpuSet& hard, uint64_t now) {
    e.hard = hard;
    if (e.scheduled) return e.allowed(e.cpu) ? Tickle{} : reconsider(e);
    CpuId c{0};
    if (!e.allowed(e.cpu) && first_allowed(*e.rq, e, c)) e.cpu = c;
    if (!e.waiting() || (e.tickled_cpu != NO_CPU && e.allowed(CpuId(uint32_t(e.tickled_cpu))))) return {};
    e.tickled_cpu = NO_CPU;
    return tickle(e, now);
}

bool Scheduler::first_allowed(const RunQueue& rq, const Entity& e, CpuId& cpu) const {
    bool found = false, idle = false;
    rq.cpus.for_each([&](CpuId c) {
        if (!e.allowed(c) || idle) return;
        if (!found || rq.idle.test(c)) cpu = c;
        found = true;
        idle = rq.idle.test(c);
    });
    return found;
}

Tickle Scheduler::migrate(Entity& e, RunQueue& to, uint64_t now) {
    CpuId c{0};
    if (e.scheduled || e.rq == &to || !first_allowed(to, e, c)) return {};
    move(e, to, c);
    return e.waiting() ? tickle(e, now) : Tickle{};
}

}  // namespace credit
