// What domctl.cpp (the dispatcher, scheduler_op) shares with domctl_domain.cpp (creating,
// destroying, pausing and describing domains, their memory limit) and domctl_vcpu.cpp (vCPU
// contexts and affinity, the hypercall page). Each command gets the caller's vCPU, the
// argument as read and its target (held: see domctl.cpp), and says whether the whole argument
// is written back.
#pragma once

#include <xen/domctl.h>

class Domain;
class Vcpu;

namespace domctl {

struct Command {
    Vcpu& caller;
    xen_domctl& op;
    Domain* target;        // null for createdomain
    bool copyback = false;  // write the whole argument back, whatever the result
    bool released = false;  // the command gave up the hold on target (destroydomain)
};

long createdomain(Command& c);
long destroydomain(Command& c);
long pausedomain(Command& c);
long unpausedomain(Command& c);
long max_mem(Command& c);
long max_vcpus(Command& c);
// vCPU `id` of d as the vCPU domctls see it: none before XEN_DOMCTL_max_vcpus made them.
Vcpu* made_vcpu(Domain& d, uint32_t id);
long setvcpucontext(Command& c);
long getvcpucontext(Command& c);
long vcpuaffinity(Command& c);
long hypercall_init(Command& c);
// Outside the domctl lock, as Xen's: the first domain at or above op.domain.
long getdomaininfo(Vcpu& caller, xen_domctl& op, bool& copyback);

}  // namespace domctl
