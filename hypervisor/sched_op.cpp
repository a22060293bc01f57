// sched_op: a vCPU's requests to the scheduler and the domain's shutdown.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace {

long block(Vcpu& v) {
    // Blocking re-enables event delivery first; an event already pending ends the block at once.
    // Blocked first and the flag checked after (as poll does): an event marked pending on
    // another CPU between a check and the block would find v not yet blocked, wake nothing,
    // and leave v asleep with an upcall due (seen as a Linux dom0 hanging at boot).
    vcpu_info* info = v.info();
    info->evtchn_upcall_mask = 0;
    events::poll_end(v);  // a poll that ended by its timeout: its ports no longer wake us
    sched::block(v);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&info->evtchn_upcall_pending, __ATOMIC_SEQ_CST)) sched::wake(v);
    return 0;
}

// 1 if the port is pending, 0 if not, or -EINVAL for a port the domain does not have (like a
// new Xen domain, the first bucket of 64 ports; more once bound).
constexpr evtchn_port_t PORTS_PER_BUCKET = 64;
long port_poll(const Domain& d, evtchn_port_t port) {
    const Channel* c = d.channel(port);
    if (!c || (port >= PORTS_PER_BUCKET && c->state == ChannelState::free)) return -XEN_EINVAL;
    return events::is_pending(d, port) ? 1 : 0;
}

// Waits until one of the ports is pending, an event is due, or the timeout (absolute system
// time, 0 for none), as Xen's poll does; argument errors in Xen's order.
long poll(Vcpu& v, Gva arg) {
    sched_poll p;
    if (!guest::read(arg, p)) return -XEN_EFAULT;
    if (p.nr_ports > 128) return -XEN_EINVAL;
    uint64_t list = reinterpret_cast<uint64_t>(p.ports.p);
    if (!guest::range_ok(Gva(list), size_t(p.nr_ports) * sizeof(evtchn_port_t))) return -XEN_EFAULT;
    // Blocked first and the ports checked after, so that an event sent from another CPU in
    // between wakes us instead of being missed (Xen's order).
    events::poll_start(v);
    if (p.timeout) sched::block_until(v, p.timeout);
    else sched::block(v);
    long rc = 0;
    bool ready = v.info()->evtchn_upcall_pending && !v.info()->evtchn_upcall_mask;
    evtchn_port_t port = 0;
    for (uint32_t i = 0; !ready && i < p.nr_ports; ++i) {
        if (!guest::read(Gva(list + i * sizeof port), port)) {
            rc = -XEN_EFAULT;
            break;
        }
        rc = port_poll(v.domain(), port);
        if (rc) {
            ready = rc > 0;
            rc = rc > 0 ? 0 : rc;
            break;
        }
    }
    if (ready || rc) {
        events::poll_end(v);
        sched::wake(v);  // no wait after all
        return rc;
    }
    if (p.nr_ports == 1) __atomic_store_n(&v.poll_port, port, __ATOMIC_SEQ_CST);
    return 0;
}

long remote_shutdown(Vcpu& v, Gva arg) {
    sched_remote_shutdown rs;
    if (!guest::read(arg, rs)) return -XEN_EFAULT;
    Domain* target = domain_control::lookup(DomId(rs.domain_id));
    if (!target) return -XEN_ESRCH;
    if (!v.domain().privileged()) return -XEN_EPERM;
    domain_control::shutdown(*target, ShutdownReason(rs.reason));
    return 0;
}

}  // namespace

long do_sched_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Gva arg(args.a1);
    switch (int(args.a0)) {
    case SCHEDOP_yield:
        sched::yield(v);
        return 0;
    case SCHEDOP_block: return block(v);
    case SCHEDOP_shutdown: {
        sched_shutdown s;
        if (!guest::read(arg, s)) return -XEN_EFAULT;
        domain_control::shutdown(v.domain(), ShutdownReason(s.reason));
        return 0;
    }
    case SCHEDOP_shutdown_code: {
        sched_shutdown s;
        if (!guest::read(arg, s)) return -XEN_EFAULT;
        v.domain().set_shutdown_code(ShutdownReason(s.reason));
        return 0;
    }
    case SCHEDOP_remote_shutdown: return remote_shutdown(v, arg);
    case SCHEDOP_poll: return poll(v, arg);
    // watchdog and pin_override come with the credit scheduler.
    default: return -XEN_ENOSYS;
    }
}

// set_timer_op: v's single-shot timer at an absolute system time (0 stops it). As on Xen, a
// deadline that wrapped negative or lies more than 2^50 ns (about 13 days) ahead, which
// older Linux kernels set when they have no timer at all, becomes 100 ms from now.
long do_set_timer_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    int64_t timeout = int64_t(args.a0);
    if (timeout == 0) {
        sched::cancel_vcpu_timer(v);
        return 0;
    }
    int64_t offset = timeout - int64_t(sched::system_time());
    if (timeout < 0 || (offset > 0 && (uint64_t(offset) >> 50) != 0))
        sched::set_vcpu_timer(v, sched::system_time() + 100'000'000);
    else
        sched::set_vcpu_timer(v, uint64_t(timeout));
    return 0;
}
