// vcpu_op: per-vCPU operations. Bringing secondary vCPUs up (initialise with a full context,
// then up) and down, their runstate, moving a vcpu_info out of shared_info, and the timers
// (periodic and single-shot, both raising VIRQ_TIMER). Xen 4.17's rules and error numbers.
#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "event_channel.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "kstd/string.hpp"
#include "pv_debugreg.hpp"
#include "pv_descriptors.hpp"
#include "pv_mm.hpp"
#include "pv_traps.hpp"
#include "runstate.hpp"
#include "scheduler.hpp"
#include "pv_time.hpp"
#include "vcpu.hpp"
#include "vcpu_context.hpp"

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

// --- VCPUOP_initialise ---------------------------------------------------------------------

long initialise(Vcpu& target, Gva arg) {
    // One context at a time: the MMU lock (taken for vcpu_op) guards this buffer, too large
    // for a hypervisor stack.
    static vcpu_guest_context context;
    if (!guest::read(arg, context)) return -XEN_EFAULT;
    if (target.initialised) return -XEN_EEXIST;
    long rc = vcpu_context::set(target, context);
    if (rc) return rc;
    if (context.flags & VGCF_online) sched::bring_up(target);
    return 0;
}

// --- up, down ---------------------------------------------------------------------------

long up(Vcpu& target) {
    if (!target.initialised) return -XEN_EINVAL;
    if (target.state == VcpuState::down) sched::bring_up(target);
    return 0;
}

// The last vCPU going down powers the domain off, as on Xen.
long down(Vcpu& target) {
    Domain& d = target.domain();
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu* other = d.vcpu(VcpuId(i));
        if (other != &target && other->state != VcpuState::down) {
            sched::take_down(target);
            return 0;
        }
    }
    domain_control::shutdown(d, shutdown::poweroff);
    return 0;
}

// --- runstate and vcpu_info -------------------------------------------------------------

long register_runstate_area(Vcpu& v, Vcpu& target, Gva arg) {
    vcpu_register_runstate_memory_area area;
    if (!guest::read(arg, area)) return -XEN_EFAULT;
    if (!guest::range_ok(Gva(area.addr.p), sizeof(vcpu_runstate_info))) return -XEN_EFAULT;
    target.runstate_area = area.addr.p;
    // The first copy at once, through the caller's page tables (Xen's copy too).
    vcpu_runstate_info info = runstate::snapshot(target, &target == &v ? target.runstate_entry : sched::system_time());
    if (area.addr.p) guest::write(Gva(area.addr.p), info);
    return 0;
}

// Xen checks only that the address may be a guest's; the first copy is written when the time
// is next published for the vCPU (at once for the caller itself).
long register_time_area(Vcpu& v, Vcpu& target, Gva arg) {
    vcpu_register_time_memory_area area;
    if (!guest::read(arg, area)) return -XEN_EFAULT;
    if (!guest::range_ok(Gva(area.addr.p), sizeof(vcpu_time_info))) return -XEN_EFAULT;
    target.time_area = area.addr.p;
    target.pending_time.version = 0;
    if (&target == &v && area.addr.p) {
        vcpu_time_info t = v.info()->time;
        t.version |= 1;  // written as an update in progress, then completed
        pv_time::write_secondary(v, t);
    }
    return 0;
}

long register_vcpu_info(Vcpu& v, Vcpu& target, Gva arg) {
    vcpu_register_vcpu_info reg;
    if (!guest::read(arg, reg)) return -XEN_EFAULT;
    if (reg.offset > PAGE_SIZE - sizeof(vcpu_info) || (reg.offset & (alignof(vcpu_info) - 1))) return -XEN_ENXIO;
    if (target.vcpu_info_frame != Mfn(0)) return -XEN_EINVAL;  // once only
    if (&target != &v && target.state != VcpuState::down) return -XEN_EINVAL;
    Domain& d = v.domain();
    Mfn frame(reg.mfn);
    FrameTable* ft = d.machine().table();
    if (!ft || !ft->owned_by(frame, d.id())) return -XEN_EINVAL;
    if (pv_mm::get_page_and_type(d, frame, PageType::writable)) return -XEN_EINVAL;
    auto* info = reinterpret_cast<vcpu_info*>(static_cast<uint8_t*>(d.machine().map(frame)) + reg.offset);
    memcpy(info, target.info(), sizeof *info);
    target.set_info(info);
    target.vcpu_info_frame = frame;
    // Everything pending, so that no event is lost in the move: a spurious upcall at worst.
    __atomic_store_n(&info->evtchn_pending_sel, ~xen_ulong_t{0}, __ATOMIC_SEQ_CST);
    __atomic_store_n(&info->evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
    sched::wake(target);
    return 0;
}

}  // namespace

long do_vcpu_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Vcpu* target = v.domain().vcpu(VcpuId(uint32_t(args.a1)));
    if (!target) return -XEN_ENOENT;
    Gva arg(args.a2);
    switch (int(args.a0)) {
    case VCPUOP_initialise: return initialise(*target, arg);
    case VCPUOP_up: return up(*target);
    case VCPUOP_down: return down(*target);
    case VCPUOP_is_up: return target->state != VcpuState::down ? 1 : 0;
    case VCPUOP_get_runstate_info: {
        vcpu_runstate_info info = runstate::snapshot(*target, sched::system_time());
        return guest::write(arg, info) ? 0 : -XEN_EFAULT;
    }
    case VCPUOP_register_runstate_memory_area: return register_runstate_area(v, *target, arg);
    case VCPUOP_set_periodic_timer: return set_periodic(*target, arg);
    case VCPUOP_stop_periodic_timer:
        sched::set_periodic_timer(*target, 0);
        return 0;
    case VCPUOP_set_singleshot_timer: return set_singleshot(v, *target, arg);
    case VCPUOP_stop_singleshot_timer:
        if (target != &v) return -XEN_EINVAL;
        sched::cancel_vcpu_timer(v);
        return 0;
    case VCPUOP_register_vcpu_info: return register_vcpu_info(v, *target, arg);
    // Xen answers only for vCPUs pinned to their physical CPU (dom0_vcpus_pin), which
    // Kestrel does not offer: -EINVAL, as Xen without that option.
    case VCPUOP_get_physid: return -XEN_EINVAL;
    case VCPUOP_register_vcpu_time_memory_area: return register_time_area(v, *target, arg);
    default: return -XEN_ENOSYS;
    }
}
