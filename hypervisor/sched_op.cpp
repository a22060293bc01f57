// sched_op: a vCPU's requests to the scheduler and the domain's shutdown.
#include <xen/errno.h>
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
    vcpu_info* info = v.info();
    info->evtchn_upcall_mask = 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!info->evtchn_upcall_pending) sched::block(v);
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
    // poll, watchdog and pin_override come with event channels and the credit scheduler.
    default: return -XEN_ENOSYS;
    }
}
