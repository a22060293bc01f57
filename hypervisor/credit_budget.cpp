// Caps (see credit.hpp), as credit2 enforces them: a capped domain has a pool of cap% of
// BUDGET_PERIOD each period. A vCPU about to run takes a quota from the pool (an equal share of
// it, at least MIN_SLICE) and runs no longer than what it holds; what it overran is taken from
// the pool at its next attempt, and what it did not use goes back when it stops. A vCPU that
// finds the pool empty is parked: off the queue, not counted, on the domain's parked list,
// until a replenishment (or the end of the cap) gives the pool budget again.
#include "credit.hpp"

namespace credit {

int64_t Account::quota() const {
    int64_t share = nr_vcpus ? total_budget / int64_t(nr_vcpus) : total_budget;
    return share > MIN_SLICE ? share : MIN_SLICE;
}

void Account::set_total(uint16_t cap_percent) { total_budget = BUDGET_PERIOD * int64_t(cap_percent) / 100; }

bool Account::replenish(uint64_t now) {
    // A late timer adds a period's budget for every period begun since, as Xen does; what
    // is left is never more than one period's worth.
    do {
        next_replenish += BUDGET_PERIOD;
        budget += total_budget;
    } while (next_replenish <= now);
    if (budget <= 0) return false;  // the overrun is not paid back yet
    if (budget > total_budget) budget = total_budget;
    return true;
}

void Account::take_parked(ParkedList& out) {
    while (Entity* e = parked.pop_front()) out.push_back(e);
}

bool Scheduler::grab_budget(Entity& e) {
    if (!e.capped() || e.budget > 0) return true;
    Account& a = *e.account;
    LockGuard g(a.budget_lock);
    a.budget += e.budget;  // e.budget <= 0: what it overran
    if (a.budget > 0) {
        int64_t take = a.budget < e.budget_quota ? a.budget : e.budget_quota;
        e.budget = take;
        a.budget -= take;
        return true;
    }
    e.budget = 0;
    park(e);
    return false;
}

bool Scheduler::return_budget(Entity& e) {
    if (!e.capped()) return false;
    Account& a = *e.account;
    LockGuard g(a.budget_lock);
    a.budget += e.budget;
    e.budget = 0;
    return a.budget > 0 && !a.parked.empty();
}

// Under the account's budget lock.
void Scheduler::park(Entity& e) {
    e.parked = true;
    dequeue(e);
    deactivate(e);
    e.account->parked.push_back(&e);
}

Tickle Scheduler::unpark(Entity& e, bool wants, uint64_t now) {
    e.parked = false;
    return wants ? wake(e, now) : Tickle{};
}

void Scheduler::enter_cap(Entity& e, int64_t quota) {
    e.budget_quota = quota;
    // A newly capped vCPU takes its first quota at its next decision.
    if (!e.capped()) e.budget = 0;
}

void Scheduler::leave_cap(Entity& e) {
    e.budget = UNCAPPED;
    e.budget_quota = 0;
}

}  // namespace credit
