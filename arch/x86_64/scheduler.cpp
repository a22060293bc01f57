// The credit scheduler on x86_64 (see scheduler.hpp, and scheduler_internal.hpp for the
// locking): waking and blocking vCPUs, the switch from one vCPU to the next, the slice timer,
// idle CPUs pulling work and periodic balancing. The decisions are credit::Scheduler's.
#include "scheduler.hpp"

#include <arch/cpu.hpp>
#include <arch/vectors.hpp>
#include <xen/xen.h>

#include "context.hpp"
#include "debug_keys.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "domains.hpp"
#include "event_channel.hpp"
#include "guest_entry.hpp"
#include "interrupts.hpp"
#include "lapic.hpp"
#include "log.hpp"
#include "percpu.hpp"
#include "runstate.hpp"
#include "scheduler_internal.hpp"
#include "timer.hpp"
#include "tsc.hpp"
#include "vcpu.hpp"

extern "C" [[noreturn]] void run_on_stack(uint64_t top, void (*fn)());

namespace sched {

namespace detail {

constinit credit::Scheduler policy;

void poke(credit::Tickle t) {
    if (!t.valid) return;
    arch::PerCpu* target = arch::percpu_of(t.cpu);
    if (!target) return;
    target->need_resched.store(true);
    if (target != &arch::this_cpu()) lapic::send_ipi(target->apic_id, vectors::RESCHEDULE);
}

bool wants_cpu(const Vcpu& v) {
    return (v.state == VcpuState::runnable || v.state == VcpuState::running) && !v.domain().paused();
}

credit::Tickle requeue(Vcpu& v, uint64_t now) {
    if (!wants_cpu(v)) {
        // Kept off by a pause: offline until the unpause, as Xen counts a paused vCPU.
        if (!v.sched.scheduled) runstate::change(v, RUNSTATE_offline, now);
        return {};
    }
    credit::Tickle t = policy.wake(v.sched, now);
    if (!v.sched.scheduled) runstate::change(v, v.sched.parked ? RUNSTATE_offline : RUNSTATE_runnable, now);
    return t;
}

void unpark_all(credit::ParkedList& parked, uint64_t now) {
    while (credit::Entity* e = parked.pop_front()) {
        Vcpu& v = *e->vcpu;
        credit::Tickle t;
        {
            VcpuGuard g(v);
            if (!g) continue;  // its domain is being destroyed
            bool wants = wants_cpu(v);
            t = policy.unpark(*e, wants, now);
            if (wants && !e->scheduled) runstate::change(v, RUNSTATE_runnable, now);
        }
        poke(t);
    }
}

void follow_affinity(Vcpu& v) {
    credit::Entity& e = v.sched;
    for (;;) {
        credit::RunQueue* rq;
        CpuId target{0};
        {
            VcpuGuard g(v);
            if (!g || e.scheduled || policy.first_allowed(*e.rq, e, target)) return;
            bool found = false;
            for (unsigned c = 0; c < credit::MAX_CPUS && !found; ++c)
                if (policy.has_cpu(CpuId(c)) && e.allowed(CpuId(c))) {
                    target = CpuId(c);
                    found = true;
                }
            if (!found) return;  // no online CPU allowed: domctl refuses such a mask
            rq = e.rq;
        }
        credit::Tickle t;
        {
            PairGuard g(*rq, policy.runqueue_of(target));
            // Ordering: relaxed; the pair's locks order it with whoever moved v.
            if (__atomic_load_n(&e.rq, __ATOMIC_RELAXED) != rq) continue;  // moved meanwhile: again
            t = policy.migrate(e, policy.runqueue_of(target), tsc::now_ns());
        }
        poke(t);
        return;
    }
}

}  // namespace detail

using namespace detail;

namespace {

// v (under its run queue lock) wants a CPU again: running if it never left the CPU it is on.
credit::Tickle make_runnable(Vcpu& v, uint64_t now) {
    v.state = v.sched.scheduled ? VcpuState::running : VcpuState::runnable;
    return requeue(v, now);
}

void event_check_ipi(arch::ExceptionFrame&) {}
void reschedule_ipi(arch::ExceptionFrame&) { arch::this_cpu().need_resched.store(true); }
// The running vCPU's time is up: the policy decides whether it goes on.
void slice_expired(Timer&, void*) { arch::this_cpu().need_resched.store(true); }

// Whether v is the running vCPU of another CPU now: an interrupt there makes it see new events.
void interrupt_if_elsewhere(const Vcpu& v) {
    if (!__atomic_load_n(&v.on_cpu, __ATOMIC_ACQUIRE)) return;
    arch::PerCpu* cpu = arch::percpu_of(v.sched.cpu);
    if (cpu && cpu != &arch::this_cpu()) lapic::send_ipi(cpu->apic_id, vectors::EVENT_CHECK);
}

[[noreturn]] void idle_loop();

// Stack for the idle loop: just below the guest frame area, so that entering it again and
// again never grows the stack.
uint64_t idle_stack_top() { return arch::this_cpu().guest_frame_top - sizeof(arch::ExceptionFrame) - 16; }

}  // namespace

void init(credit::Arrangement a) { policy.set_arrangement(a); }

void start(Vcpu& v) {
    set_periodic_timer(v, DEFAULT_PERIOD_NS);
    credit::Tickle t;
    {
        VcpuGuard g(v);
        if (!g || v.state != VcpuState::down) return;
        t = make_runnable(v, tsc::now_ns());
    }
    poke(t);
}

void wake(Vcpu& v) {
    // The vCPU this CPU runs (an event it sent itself, a timer of its own): it finds the event
    // on its way back to the guest, with nothing to take or poke. Only this CPU blocks it.
    if (&v == arch::this_cpu().current && __atomic_load_n(&v.state, __ATOMIC_RELAXED) == VcpuState::running) return;
    credit::Tickle t;
    bool was_blocked = false, running = false;
    {
        VcpuGuard g(v);
        if (!g) return;
        if (v.state == VcpuState::blocked) {
            was_blocked = true;
            t = make_runnable(v, tsc::now_ns());
        }
        running = v.state == VcpuState::running;
    }
    if (was_blocked) TimerQueue::disarm(v.wakeup);
    poke(t);
    if (running) interrupt_if_elsewhere(v);
}

void bring_up(Vcpu& v) {
    credit::Tickle t;
    {
        VcpuGuard g(v);
        if (!g || v.state != VcpuState::down) return;
        t = make_runnable(v, tsc::now_ns());
    }
    if (!v.periodic_ns) set_periodic_timer(v, DEFAULT_PERIOD_NS);
    poke(t);
}

void take_down(Vcpu& v) {
    credit::Tickle t;
    {
        VcpuGuard g(v);
        if (!g || v.state == VcpuState::down || v.state == VcpuState::dead) return;
        policy.sleep(v.sched);
        v.state = VcpuState::down;
        // Still on a CPU: that CPU picks again and leaves it off (its runstate changes there).
        if (v.sched.scheduled) t = credit::Tickle{true, v.sched.cpu};
        else runstate::change(v, RUNSTATE_offline, tsc::now_ns());
    }
    poke(t);
}

void yield(Vcpu& v) {
    {
        VcpuGuard g(v);
        if (g) v.sched.yielding = true;  // for this CPU's next decision only
    }
    arch::this_cpu().need_resched.store(true);
}

void block(Vcpu& v) {
    {
        VcpuGuard g(v);
        if (!g) return;  // dying: it is not coming back anyway
        v.state = VcpuState::blocked;
    }
    arch::this_cpu().need_resched.store(true);
}

void block_until(Vcpu& v, uint64_t deadline_ns) {
    block(v);
    v.wakeup.callback = [](Timer&, void* data) { wake(*static_cast<Vcpu*>(data)); };
    v.wakeup.data = &v;
    timer::arm(v.wakeup, deadline_ns);
}

bool resched_pending() { return arch::this_cpu().need_resched.load(); }

uint64_t system_time() { return tsc::now_ns(); }

void set_vcpu_timer(Vcpu& v, uint64_t deadline_ns) {
    v.singleshot.callback = [](Timer&, void* data) {
        Vcpu& target = *static_cast<Vcpu*>(data);
        events::send_virq(target.domain(), VIRQ_TIMER, target.id().raw());
    };
    v.singleshot.data = &v;
    timer::arm(v.singleshot, deadline_ns);
}

void cancel_vcpu_timer(Vcpu& v) { TimerQueue::disarm(v.singleshot); }

void set_periodic_timer(Vcpu& v, uint64_t period_ns) {
    TimerQueue::disarm(v.periodic);
    v.periodic_ns = period_ns;
    if (!period_ns) return;
    v.periodic.callback = [](Timer& t, void* data) {
        Vcpu& target = *static_cast<Vcpu*>(data);
        events::send_virq(target.domain(), VIRQ_TIMER, target.id().raw());
        if (target.periodic_ns) timer::arm(t, t.deadline + target.periodic_ns);
    };
    v.periodic.data = &v;
    timer::arm(v.periodic, tsc::now_ns() + period_ns);
}

void init_cpu() {
    arch::PerCpu& cpu = arch::this_cpu();
    cpu.slice_timer.callback = slice_expired;
    policy.add_cpu(cpu.id);  // CPUs come up one at a time
    if (cpu.id == CpuId(0)) {
        arch::set_interrupt_handler(vectors::RESCHEDULE, reschedule_ipi);
        arch::set_interrupt_handler(vectors::EVENT_CHECK, event_check_ipi);
    }
}

namespace {

// The runstate of a vCPU that is leaving its CPU.
int32_t leaving_runstate(const Vcpu& v) {
    switch (v.state) {
    case VcpuState::runnable:
        return v.domain().paused() || v.sched.parked ? RUNSTATE_offline : RUNSTATE_runnable;
    case VcpuState::blocked: return RUNSTATE_blocked;
    default: return RUNSTATE_offline;
    }
}

// The policy's decision for this CPU, and the states that follow from it (under the run queue
// lock): prev, if it goes, stops running; next starts.
credit::Decision decide(arch::PerCpu& cpu, Vcpu* prev, uint64_t now) {
    RunQueueGuard g(policy.runqueue_of(cpu.id));
    bool prev_wants = prev && prev->state == VcpuState::running && !prev->domain().paused();
    credit::Decision d = policy.schedule(cpu.id, prev_wants, now);
    Vcpu* next = d.next ? d.next->vcpu : nullptr;
    if (prev && prev != next) {
        if (prev->state == VcpuState::running) prev->state = VcpuState::runnable;
        runstate::change(*prev, leaving_runstate(*prev), now);
    }
    if (next && next != prev) {
        next->state = VcpuState::running;
        runstate::change(*next, RUNSTATE_running, now);
        // On this CPU from now on, though loaded only once prev is saved: a domain whose last
        // vCPU leaves meanwhile must not be destroyed under it. Ordering: release pairs with
        // the acquire loads of pause(), domain teardown and event senders.
        __atomic_store_n(&next->on_cpu, true, __ATOMIC_RELEASE);
    }
    return d;
}

// prev leaves this CPU: its state is saved, then (under its run queue lock, so that a domain
// being destroyed waits for it) it is no longer on the CPU and waits again if it still wants
// one, possibly for another CPU.
void leave(arch::PerCpu& cpu, Vcpu& prev, arch::ExceptionFrame& frame, uint64_t now) {
    context::save(prev, frame);
    bool dead = prev.state == VcpuState::dead;
    if (!dead) runstate::publish_or_defer(prev);  // its tables are still loaded
    cpu.current = nullptr;
    credit::Tickle t;
    {
        VcpuGuard g(prev);
        KASSERT(g);  // it is still on this CPU, so its domain cannot be destroyed yet
        // Ordering: release pairs with the acquire loads of pause() and of event senders.
        __atomic_store_n(&prev.on_cpu, false, __ATOMIC_RELEASE);
        bool wants = wants_cpu(prev);
        if (prev.state == VcpuState::running) prev.state = VcpuState::runnable;  // woken while leaving
        t = policy.descheduled(prev.sched, wants, now);
        // Woken while leaving, it was blocked until just now, not until the decision: stamped
        // with the decision's time, a vCPU woken in that window would show no blocked time.
        if (wants && !prev.sched.parked) runstate::change(prev, RUNSTATE_runnable, tsc::now_ns());
    }
    poke(t);
    // Pinned elsewhere while it ran: it waits in a run queue it may run from. Ordering:
    // relaxed, a hint; set_affinity moves it itself if it had already left.
    if (!dead && __atomic_load_n(&prev.affinity_moved, __ATOMIC_RELAXED)) follow_affinity(prev);
    if (dead) {
        // Its domain may now be destroyed and its page tables freed: stop using them first.
        context::load_idle_page_tables();
        domains::vcpu_left_cpu(prev);
    }
}

// The budget prev gave back can run parked vCPUs of its domain.
void unpark_domain(Domain& d, uint64_t now) {
    credit::ParkedList parked;
    {
        BudgetGuard g(d.sched());
        if (d.sched().budget > 0) d.sched().take_parked(parked);
    }
    unpark_all(parked, now);
}

// Every BALANCE_INTERVAL, and after a credit reset, this CPU's run queue evens out with the one
// whose load differs most.
void maybe_balance(credit::RunQueue& mine, bool reset, uint64_t now) {
    if (policy.nr_runqueues() < 2) return;
    if (!reset && now - mine.last_balance.load() < credit::BALANCE_INTERVAL) return;
    credit::RunQueue* other = policy.balance_partner(mine);
    if (!other) return;
    credit::Tickle t;
    {
        PairGuard g(mine, *other);
        t = policy.balance(mine, *other, now);
    }
    poke(t);
}

// An idle CPU takes a waiting vCPU from the run queue with the most waiting. Whether it got one.
bool pull_work(arch::PerCpu& cpu) {
    if (policy.nr_runqueues() < 2) return false;
    credit::RunQueue& mine = policy.runqueue_of(cpu.id);
    credit::RunQueue* from = policy.busiest_other(mine);
    if (!from) return false;
    bool moved;
    {
        PairGuard g(mine, *from);
        moved = policy.pull(mine, *from, cpu.id, tsc::now_ns());
    }
    if (moved) cpu.need_resched.store(true);
    return moved;
}

}  // namespace

// With interrupts off, on the way back to a guest or in the idle loop: picks the next vCPU
// and switches to it, or idles. Returns only with a vCPU current and running.
void reschedule() {
    arch::PerCpu& cpu = arch::this_cpu();
    cpu.need_resched.store(false);
    Vcpu* prev = cpu.current;
    uint64_t now = tsc::now_ns();
    credit::Decision d = decide(cpu, prev, now);
    Vcpu* next = d.next ? d.next->vcpu : nullptr;
    if (d.unpark) unpark_domain(prev->domain(), now);
    if (next) timer::arm(cpu.slice_timer, now + d.slice_ns);
    else timer::cancel(cpu.slice_timer);
    if (next == prev && next) return;
    arch::ExceptionFrame& frame = context::guest_frame();
    if (prev) leave(cpu, *prev, frame, now);
    maybe_balance(policy.runqueue_of(cpu.id), d.reset, now);
    if (!next) {
        context::load_idle_page_tables();
        run_on_stack(idle_stack_top(), idle_loop);
    }
    ++cpu.context_switches;
    cpu.current = next;
    context::load(*next, frame);
    runstate::publish_or_defer(*next);
}

namespace {

void idle_loop() {
    arch::PerCpu& cpu = arch::this_cpu();
    for (;;) {
        arch::interrupts_off();
        if (cpu.need_resched.load()) {
            reschedule();  // returns only with a vCPU to run
            guest_entry::return_to_guest();
        }
        if (pull_work(cpu)) continue;
        arch::safe_halt();
    }
}

}  // namespace

namespace {

const char* state_name(VcpuState s) {
    switch (s) {
    case VcpuState::down: return "down";
    case VcpuState::runnable: return "runnable";
    case VcpuState::running: return "running";
    case VcpuState::blocked: return "blocked";
    default: return "dead";
    }
}

void dump_vcpus(Domain& d) {
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu& v = *d.vcpu(VcpuId(i));
        const credit::Entity& e = v.sched;
        log::info("  d{}v{}: {}{}, cpu {}, credit {}, weight {}{}{}{}{}{}{}, tickled cpu {}, upcall {} mask {}", d.id(), i,
                  state_name(v.state), d.paused() ? " (paused)" : "", e.cpu, e.credit, e.weight,
                  __atomic_load_n(&v.on_cpu, __ATOMIC_ACQUIRE) ? ", on cpu" : "", e.scheduled ? ", scheduled" : "",
                  e.active ? ", active" : "", e.waiting() ? ", waiting" : "", e.parked ? ", parked" : "",
                  e.yielding ? ", yielding" : "", e.tickled_cpu, v.info()->evtchn_upcall_pending,
                  v.info()->evtchn_upcall_mask);
    }
}

// Debug key 'r': every CPU's state and run queue, then every vCPU as the scheduler sees it.
// Read without the locks (a report of a possibly stuck system must not wait for them).
void dump() {
    for (unsigned i = 0; i < credit::MAX_CPUS; ++i) {
        arch::PerCpu* cpu = arch::percpu_of(CpuId(i));
        if (!cpu || !cpu->online.load() || !policy.has_cpu(CpuId(i))) continue;
        const credit::RunQueue& rq = policy.runqueue_of(CpuId(i));
        Vcpu* cur = cpu->current;
        log::info("cpu {}: {}{}{}, run queue {}{}{}, {} switches, {} timer interrupts", i,
                  cur ? "running a vCPU" : "idle", cur ? "" : "", cpu->need_resched.load() ? ", resched due" : "",
                  rq.id, rq.idle.test(CpuId(i)) ? " (marked idle)" : "", rq.tickled.test(CpuId(i)) ? " (tickled)" : "",
                  cpu->context_switches, cpu->timer_interrupts);
        if (cur) log::info("  current d{}v{}", cur->domain().id(), cur->id());
    }
    for (unsigned r = 0; r < policy.nr_runqueues(); ++r) {
        credit::RunQueue& rq = policy.runqueue(r);
        log::info("run queue {}: load {}, {} waiting", r, rq.load.load(), rq.nr_waiting.load());
    }
    domain_control::for_each(dump_vcpus);
}

}  // namespace

void add_debug_keys() { debug_keys::add('r', "the scheduler: CPUs, run queues, vCPUs", dump); }

void run() {
    arch::interrupts_off();
    arch::this_cpu().need_resched.store(true);
    run_on_stack(idle_stack_top(), idle_loop);
}

}  // namespace sched
