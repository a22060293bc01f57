// The scheduler's side of a domain's life (see scheduler.hpp): its vCPUs joining and leaving run
// queues, shutdown, pause and unpause, and its weight and cap (XEN_DOMCTL_scheduler_op) with
// the cap's replenishment timer.
#include <arch/cpu.hpp>
#include <xen/vcpu.h>

#include "domain.hpp"
#include "percpu.hpp"
#include "runstate.hpp"
#include "scheduler.hpp"
#include "scheduler_internal.hpp"
#include "smp.hpp"
#include "timer.hpp"
#include "tsc.hpp"
#include "vcpu.hpp"

namespace sched {

using namespace detail;

namespace {

// Domain control is serialized (the MMU lock covers domctl), but this keeps two changes of one
// domain's parameters apart whoever makes them.
Spinlock params_lock;

template <typename F>
void for_each_vcpu(Domain& d, F f) {
    for (unsigned i = 0; i < d.nr_vcpus(); ++i)
        if (Vcpu* v = d.vcpu(VcpuId(i))) f(*v);
}

// The cap's period: the domain's pool gets its budget back and parked vCPUs may run again. Runs
// in the timer interrupt, on the CPU the cap was set on.
void replenish(Timer&, void* data) {
    Domain& d = *static_cast<Domain*>(data);
    credit::Account& a = d.sched();
    uint64_t now = tsc::now_ns();
    credit::ParkedList parked;
    {
        BudgetGuard g(a);
        // Removed meanwhile, or the domain is going: the timer stays off.
        if (a.cap == 0 || d.state() != DomainState::running) return;
        if (a.replenish(now)) a.take_parked(parked);
        timer::arm(a.replenish_timer, a.next_replenish);
    }
    unpark_all(parked, now);
}

// The cap goes on, or changes: the pool first, so that the vCPUs' first quotas come from it.
void enable_cap(Domain& d, uint16_t cap, uint64_t now) {
    credit::Account& a = d.sched();
    bool was_capped;
    {
        BudgetGuard g(a);
        was_capped = a.cap != 0;
        a.set_total(cap);
        a.cap = cap;
        if (!was_capped) {
            a.budget = a.total_budget;
            a.next_replenish = now + credit::BUDGET_PERIOD;
            a.replenish_timer.callback = replenish;
            a.replenish_timer.data = &d;
            timer::arm(a.replenish_timer, a.next_replenish);
        }
    }
    int64_t quota = a.quota();
    for_each_vcpu(d, [&](Vcpu& v) {
        credit::Tickle t;
        {
            VcpuGuard g(v);
            if (!g) return;
            policy.enter_cap(v.sched, quota);
            // A running vCPU takes its first quota (or is parked) now, not at its slice's end.
            if (!was_capped) t = policy.reconsider(v.sched);
        }
        poke(t);
    });
}

// The cap goes: no vCPU counts budget any more, and the parked ones may run.
void disable_cap(Domain& d, uint64_t now) {
    credit::Account& a = d.sched();
    {
        BudgetGuard g(a);
        a.cap = 0;
        TimerQueue::disarm(a.replenish_timer);
    }
    for_each_vcpu(d, [&](Vcpu& v) {
        VcpuGuard g(v);
        if (!g) return;
        policy.leave_cap(v.sched);
    });
    credit::ParkedList parked;
    {
        BudgetGuard g(d.sched());
        a.take_parked(parked);
    }
    unpark_all(parked, now);
}

}  // namespace

void add_domain(Domain& d, CpuId first) {
    unsigned online = smp::online_count();
    for_each_vcpu(d, [&](Vcpu& v) {
        CpuId c((first.raw() + v.id().raw()) % online);
        RunQueueGuard g(policy.runqueue_of(c));
        policy.attach(v.sched, d.sched(), &v, c);
    });
}

void remove_domain(Domain& d) {
    {
        BudgetGuard g(d.sched());
        d.sched().cap = 0;
        TimerQueue::disarm(d.sched().replenish_timer);
    }
    for_each_vcpu(d, [&](Vcpu& v) {
        VcpuGuard g(v);
        if (!g) return;  // never added
        policy.detach(v.sched);
    });
}

void stop_domain(Domain& d) {
    {
        // No more replenishments: the domain is going (replenish() checks its state, should
        // one be under way).
        BudgetGuard g(d.sched());
        TimerQueue::disarm(d.sched().replenish_timer);
    }
    for_each_vcpu(d, [&](Vcpu& v) {
        credit::Tickle t;
        {
            VcpuGuard g(v);
            if (!g) return;
            policy.sleep(v.sched);
            v.state = VcpuState::dead;
            if (v.sched.scheduled) t = credit::Tickle{true, v.sched.cpu};
        }
        poke(t);
    });
}

void pause(Domain& d) {
    d.pause();
    uint64_t now = tsc::now_ns();
    for_each_vcpu(d, [&](Vcpu& v) {
        credit::Tickle t;
        {
            VcpuGuard g(v);
            if (!g) return;
            bool was_waiting = v.sched.waiting();
            policy.sleep(v.sched);
            if (was_waiting) runstate::change(v, RUNSTATE_offline, now);
            if (v.sched.scheduled) t = credit::Tickle{true, v.sched.cpu};
        }
        poke(t);
    });
    for_each_vcpu(d, [](Vcpu& v) {
        while (__atomic_load_n(&v.on_cpu, __ATOMIC_ACQUIRE)) arch::cpu_relax();
    });
}

bool unpause(Domain& d) {
    if (!d.unpause()) return false;
    if (d.paused()) return true;
    uint64_t now = tsc::now_ns();
    for_each_vcpu(d, [&](Vcpu& v) {
        credit::Tickle t;
        {
            VcpuGuard g(v);
            if (!g) return;
            if (wants_cpu(v)) t = requeue(v, now);
        }
        poke(t);
    });
    return true;
}

void set_affinity(Vcpu& v, const CpuSet& hard) {
    credit::Tickle t;
    {
        VcpuGuard g(v);
        if (!g) return;
        t = policy.set_affinity(v.sched, hard, tsc::now_ns());
    }
    __atomic_store_n(&v.affinity_moved, !(hard == CpuSet::all()), __ATOMIC_RELAXED);
    poke(t);
    follow_affinity(v);
}

CpuSet online_cpus() {
    CpuSet s;
    for (unsigned c = 0; c < credit::MAX_CPUS; ++c)
        if (policy.has_cpu(CpuId(c))) s.set(CpuId(c));
    return s;
}

unsigned cpu_ids() {
    unsigned n = 0;
    for (unsigned c = 0; c < credit::MAX_CPUS; ++c)
        if (policy.has_cpu(CpuId(c))) n = c + 1;
    return n;
}

void set_weight(Domain& d, uint16_t weight) {
    LockGuard params(params_lock);
    d.sched().weight = weight;
    for_each_vcpu(d, [&](Vcpu& v) {
        VcpuGuard g(v);
        if (!g) return;
        policy.set_weight(v.sched, weight);
    });
}

void set_cap(Domain& d, uint16_t cap) {
    LockGuard params(params_lock);
    uint64_t now = tsc::now_ns();
    if (cap) enable_cap(d, cap, now);
    else if (d.sched().cap) disable_cap(d, now);
}

}  // namespace sched
