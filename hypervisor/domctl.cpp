// domctl: domain control for the toolstack, as Xen 4.17's do_domctl checks it: the argument is
// read (-EFAULT), the interface version must be 4.17's (-EACCES), the target domain must exist
// (-ESRCH; a few commands name none, or the I/O domain), and only the control domain may go
// further (-EPERM). XEN_DOMCTL_scheduler_op reads and sets a domain's credit2 weight and cap
// (Xen's sched_adjust and csched2_dom_cntl); every other command is -ENOSYS until the
// toolstack needs it. The whole argument is written back after a scheduler_op, as Xen does,
// whatever its result.
#include <xen/domctl.h>
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace {

// The command's target: a domain (found, or -ESRCH), or none for the commands that need none
// (creating one, asking for the first domain at or above an id, and DOMID_IO or DOMID_INVALID
// where Xen allows them).
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
    if (!target && op.cmd != XEN_DOMCTL_getdomaininfo) return -XEN_ESRCH;
    return 0;
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

long scheduler_op(Domain& d, xen_domctl_scheduler_op& op) {
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

}  // namespace

long do_domctl(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Gva arg(args.a0);
    xen_domctl op;
    if (!guest::read(arg, op)) return -XEN_EFAULT;
    if (op.interface_version != XEN_DOMCTL_INTERFACE_VERSION) return -XEN_EACCES;
    Domain* target = nullptr;
    if (long rc = find_target(op, target)) return rc;
    if (!v.domain().privileged()) return -XEN_EPERM;
    if (op.cmd != XEN_DOMCTL_scheduler_op) return -XEN_ENOSYS;
    long rc = scheduler_op(*target, op.u.scheduler_op);
    if (!guest::write(arg, op)) rc = -XEN_EFAULT;
    return rc;
}
