// domctl: domain control for the toolstack, as Xen 4.17's do_domctl checks it with the dummy
// XSM policy: the argument is read (-EFAULT), the interface version must be 4.17's (-EACCES),
// the target domain must exist (-ESRCH; a few commands name none, or the I/O domain), and
// only the control domain may go further (-EPERM). XEN_DOMCTL_getdomaininfo looks for the
// first domain at or above the id itself (domctl_domain.cpp). The commands a toolstack needs
// to build and run a PV domain are in domctl_domain.cpp and domctl_vcpu.cpp; scheduler_op
// reads and sets a domain's credit2 weight and cap (Xen's sched_adjust and csched2_dom_cntl).
// Any other command is -ENOSYS.
//
// Locking. Commands run one at a time under the domctl lock (Xen's domctl_lock), which is not
// the MMU lock: pausing a domain waits for its vCPUs to leave their CPUs, and one of them may
// be spinning for the MMU lock. Each command takes the MMU lock itself where it changes frames.
// The target is looked up under the MMU lock and then held by a foreign reference
// (Domain::get_foreign_ref), so that a domain dying meanwhile (a boot-time domain shutting
// down) is kept, dying, until the command lets go, then reaped.
#include "domctl.hpp"

#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_mm.hpp"
#include "scheduler.hpp"
#include "spinlock.hpp"
#include "vcpu.hpp"

namespace {

Spinlock domctl_lock;

// The command's target: a domain (found, or -ESRCH), or none for the commands that need none
// (creating one, and DOMID_IO or DOMID_INVALID where Xen allows them).
long find_target(const xen_domctl& op, Domain*& target) {
    target = nullptr;
    switch (op.cmd) {
    case XEN_DOMCTL_createdomain: return 0;
    case XEN_DOMCTL_assign_device:
    case XEN_DOMCTL_deassign_device:
        if (op.domain == DOMID_IO) return 0;  // Xen's dom_io: no domain of Kestrel's
        if (op.domain == DOMID_INVALID) return -XEN_ESRCH;
        [[fallthrough]];
    case XEN_DOMCTL_test_assign_device:
    case XEN_DOMCTL_vm_event_op:
        if (op.domain == DOMID_INVALID) return 0;
        break;
    default: break;
    }
    target = domain_control::lookup(DomId(op.domain));
    return target ? 0 : -XEN_ESRCH;
}

// Lets go of the target: if it died meanwhile and this was the last hold, it is reaped once
// the MMU lock is free.
void release(Domain& d) {
    pv_mm::MmGuard mm;
    if (d.put_foreign_ref() && d.state() == DomainState::dying) pv_mm::reap_later(d.id());
}

// putinfo as credit2's: a weight of 0 keeps the current one; a cap of 0 removes the cap, any
// other must be at most 100 per vCPU. The weight is set before the cap is checked, so a
// refused cap still leaves the new weight in place (Xen's order).
long put_credit2(Domain& d, const xen_domctl_sched_credit2& p) {
    if (p.weight != 0) sched::set_weight(d, p.weight);
    if (p.cap != 0 && p.cap > 100 * d.nr_vcpus()) return -XEN_EINVAL;
    sched::set_cap(d, p.cap);
    return 0;
}

long scheduler_op(domctl::Command& c) {
    xen_domctl_scheduler_op& op = c.op.u.scheduler_op;
    Domain& d = *c.target;
    c.copyback = true;  // whatever the result, as Xen
    if (op.sched_id != XEN_SCHEDULER_CREDIT2) return -XEN_EINVAL;
    switch (op.cmd) {
    case XEN_DOMCTL_SCHEDOP_getinfo:
        op.u.credit2.weight = d.sched().weight;
        op.u.credit2.cap = d.sched().cap;
        return 0;
    case XEN_DOMCTL_SCHEDOP_putinfo: return put_credit2(d, op.u.credit2);
    default: return -XEN_EINVAL;  // per-vCPU parameters are RTDS's only
    }
}

long run(domctl::Command& c) {
    switch (c.op.cmd) {
    case XEN_DOMCTL_createdomain: return domctl::createdomain(c);
    case XEN_DOMCTL_destroydomain: return domctl::destroydomain(c);
    case XEN_DOMCTL_pausedomain: return domctl::pausedomain(c);
    case XEN_DOMCTL_unpausedomain: return domctl::unpausedomain(c);
    case XEN_DOMCTL_max_mem: return domctl::max_mem(c);
    case XEN_DOMCTL_max_vcpus: return domctl::max_vcpus(c);
    case XEN_DOMCTL_setvcpucontext: return domctl::setvcpucontext(c);
    case XEN_DOMCTL_getvcpucontext: return domctl::getvcpucontext(c);
    case XEN_DOMCTL_setvcpuaffinity:
    case XEN_DOMCTL_getvcpuaffinity: return domctl::vcpuaffinity(c);
    case XEN_DOMCTL_hypercall_init: return domctl::hypercall_init(c);
    case XEN_DOMCTL_scheduler_op: return scheduler_op(c);
    default: return -XEN_ENOSYS;
    }
}

}  // namespace

long do_domctl(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Gva arg(args.a0);
    xen_domctl op;
    if (!guest::read(arg, op)) return -XEN_EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION) return -XEN_EACCES;
    long rc;
    bool copyback = false;
    if (op.cmd == XEN_DOMCTL_getdomaininfo) {
        rc = domctl::getdomaininfo(v, op, copyback);
    } else {
        Domain* target = nullptr;
        {
            pv_mm::MmGuard mm;
            if ((rc = find_target(op, target))) return rc;
            if (!v.domain().privileged()) return -XEN_EPERM;
            if (target) target->get_foreign_ref();
        }
        domctl::Command c{v, op, target};
        {
            LockGuard serial(domctl_lock);
            rc = run(c);
        }
        if (target && !c.released) release(*target);
        copyback = c.copyback;
    }
    if (copyback && !guest::write(arg, op)) rc = -XEN_EFAULT;
    return rc;
}
