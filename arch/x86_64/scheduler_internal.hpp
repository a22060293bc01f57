// What scheduler.cpp (switching, waking, balancing) and scheduler_domain.cpp (domains, pauses,
// weights and caps) share: the policy instance, the lock guards and the CPU poke.
//
// Locking. Each run queue's lock (credit::RunQueue::lock) is taken with interrupts off, since
// timer and device interrupts wake vCPUs. A vCPU's state, runstate and scheduler entity change
// under the lock of its run queue; a vCPU can move to another run queue while its lock is not
// held, so VcpuGuard looks its run queue up again once it holds the lock. Two run queues are
// locked together only in id order (PairGuard). A domain's budget lock nests inside run queue
// locks and is also taken with interrupts off (the replenishment timer takes it).
//
// A vCPU is `scheduled` from the moment a CPU picks it until that CPU has saved its state and
// dropped it; only then can it wait in a run queue again, so no other CPU can load it while its
// registers are still on the CPU it is leaving. A vCPU woken while still scheduled is just
// marked running again: its CPU keeps it, or requeues it once it is saved.
#pragma once

#include <arch/cpu.hpp>

#include "credit.hpp"
#include "panic.hpp"
#include "vcpu.hpp"

namespace sched::detail {

extern constinit credit::Scheduler policy;

class RunQueueGuard {
public:
    explicit RunQueueGuard(credit::RunQueue& rq) : guard_(rq.lock) {}

private:
    IrqLockGuard guard_;
};

// The lock of v's run queue, whichever that is by the time it is held. A vCPU whose domain is
// being destroyed has left its run queue: then nothing is locked and the guard is false.
class VcpuGuard {
public:
    explicit VcpuGuard(Vcpu& v) {
        for (;;) {
            // Ordering: acquire pairs with the release store of the policy that moved v.
            credit::RunQueue* rq = __atomic_load_n(&v.sched.rq, __ATOMIC_ACQUIRE);
            if (!rq) return;
            rq->lock.lock();
            if (__atomic_load_n(&v.sched.rq, __ATOMIC_RELAXED) == rq) {
                rq_ = rq;
                return;
            }
            rq->lock.unlock();
        }
    }
    ~VcpuGuard() {
        if (rq_) rq_->lock.unlock();
    }
    explicit operator bool() const { return rq_ != nullptr; }
    VcpuGuard(const VcpuGuard&) = delete;
    VcpuGuard& operator=(const VcpuGuard&) = delete;

private:
    arch::InterruptGuard irq_;
    credit::RunQueue* rq_ = nullptr;
};

// Two run queues, locked lowest id first.
class PairGuard {
public:
    PairGuard(credit::RunQueue& a, credit::RunQueue& b) : first_(a.id < b.id ? a : b), second_(a.id < b.id ? b : a) {
        first_.lock.lock();
        if (&second_ != &first_) second_.lock.lock();
    }
    ~PairGuard() {
        if (&second_ != &first_) second_.lock.unlock();
        first_.lock.unlock();
    }
    PairGuard(const PairGuard&) = delete;
    PairGuard& operator=(const PairGuard&) = delete;

private:
    arch::InterruptGuard irq_;
    credit::RunQueue& first_;
    credit::RunQueue& second_;
};

// A domain's budget lock.
class BudgetGuard {
public:
    explicit BudgetGuard(credit::Account& a) : guard_(a.budget_lock) {}

private:
    IrqLockGuard guard_;
};

// Makes the CPU the policy named pick again: its flag, and an interrupt if it is another CPU.
void poke(credit::Tickle t);
// Whether v wants a CPU and may have one (its domain not paused). Under v's run queue lock.
bool wants_cpu(const Vcpu& v);
// v (under its run queue lock, wanting a CPU) waits for one, or stays on the CPU it is still
// on; its runstate follows. The CPU to poke.
credit::Tickle requeue(Vcpu& v, uint64_t now);
// v's run queue has no CPU of its hard affinity: it moves to the run queue of one that has
// (unless it is on a CPU: then this is called again once it has left).
void follow_affinity(Vcpu& v);
// Unparks the vCPUs on `parked`, each under its run queue lock.
void unpark_all(credit::ParkedList& parked, uint64_t now);

}  // namespace sched::detail
