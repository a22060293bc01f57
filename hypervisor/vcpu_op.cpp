// vcpu_op: per-vCPU operations. So far the timers (periodic and single-shot, both raising
// VIRQ_TIMER) and is_up; bringing vCPUs up and down, runstate areas and vcpu_info placement
// come with SMP guests.
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "event_channel.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace {

constexpr uint64_t MIN_PERIOD_NS = 1'000'000;
constexpr uint64_t MAX_DELTA_NS = ~uint64_t{0} >> 2;  // Xen's STIME_DELTA_MAX

long set_periodic(Vcpu& target, Gva arg) {
    vcpu_set_periodic_timer set;
    if (!guest::read(arg, set)) return -XEN_EFAULT;
    if (set.period_ns < MIN_PERIOD_NS || set.period_ns > MAX_DELTA_NS) return -XEN_EINVAL;
    sched::set_periodic_timer(target, set.period_ns);
    return 0;
}

long set_singleshot(Vcpu& v, Vcpu& target, Gva arg) {
    if (&target != &v) return -XEN_EINVAL;  // only a vCPU's own single-shot timer
    vcpu_set_singleshot_timer set;
    if (!guest::read(arg, set)) return -XEN_EFAULT;
    if (set.timeout_abs_ns < sched::system_time()) {
        // Already due: the event now (Xen ignores VCPU_SSHOTTMR_future likewise).
        sched::cancel_vcpu_timer(v);
        events::send_virq(v.domain(), VIRQ_TIMER, v.id().raw());
        return 0;
    }
    sched::set_vcpu_timer(v, set.timeout_abs_ns);
    return 0;
}

}  // namespace

long do_vcpu_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Vcpu* target = v.domain().vcpu(VcpuId(uint32_t(args.a1)));
    if (!target) return -XEN_ENOENT;
    Gva arg(args.a2);
    switch (int(args.a0)) {
    case VCPUOP_is_up: return target->state != VcpuState::down ? 1 : 0;
    case VCPUOP_set_periodic_timer: return set_periodic(*target, arg);
    case VCPUOP_stop_periodic_timer:
        sched::set_periodic_timer(*target, 0);
        return 0;
    case VCPUOP_set_singleshot_timer: return set_singleshot(v, *target, arg);
    case VCPUOP_stop_singleshot_timer:
        if (target != &v) return -XEN_EINVAL;
        sched::cancel_vcpu_timer(v);
        return 0;
    default: return -XEN_ENOSYS;
    }
}
