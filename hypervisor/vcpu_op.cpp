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

namespace {

constexpr uint64_t MIN_PERIOD_NS = 1'000'000;
constexpr uint64_t MAX_DELTA_NS = ~uint64_t{0} >> 2;  // Xen's STIME_DELTA_MAX
constexpr uint64_t MAX_LDT_ENTRIES = 8192;
constexpr uint64_t RFLAGS_IOPL = 3u << 12;
constexpr uint64_t CR0_TS = 1u << 3;

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

// --- VCPUOP_initialise --------------------------------------------------------------------

// The addresses Xen requires to be canonical, and the LDT's placement.
bool context_addresses_ok(const vcpu_guest_context& c) {
    const uint64_t addrs[] = {c.user_regs.rip, c.user_regs.rsp, c.kernel_sp, c.fs_base, c.gs_base_kernel,
                              c.gs_base_user, c.event_callback_eip, c.syscall_callback_eip,
                              c.failsafe_callback_eip};
    for (uint64_t a : addrs)
        if (!guest::canonical(a)) return false;
    if (c.ldt_ents && !guest::canonical(c.ldt_base)) return false;
    for (const trap_info& t : c.trap_ctxt)
        if (!guest::canonical(t.address)) return false;
    if (c.ldt_ents && !guest::range_ok(Gva(c.ldt_base), 1)) return false;  // not in the hypervisor's area
    return (c.ldt_base & (PAGE_SIZE - 1)) == 0 && c.ldt_ents <= MAX_LDT_ENTRIES;
}

// Takes the page-table roots the context names (kernel, and user if any) as L4 tables of v's
// domain. On failure nothing is held.
long take_roots(Vcpu& v, const vcpu_guest_context& c, Mfn& kernel, Mfn& user) {
    Domain& d = v.domain();
    kernel = Mfn(c.ctrlreg[3] >> PAGE_SHIFT);  // xen_cr3_to_pfn for 64-bit guests
    user = Mfn(c.ctrlreg[1] >> PAGE_SHIFT);
    FrameTable* ft = d.machine().table();
    if (!ft || !ft->owned_by(kernel, d.id())) return -XEN_EINVAL;
    long rc = pv_mm::get_page_and_type(d, kernel, PageType::l4);
    if (rc) return rc;
    if (!c.ctrlreg[1]) {
        user = Mfn(0);
        return 0;
    }
    rc = ft->owned_by(user, d.id()) ? pv_mm::get_page_and_type(d, user, PageType::l4) : -XEN_EINVAL;
    if (rc) pv_mm::put_page_and_type(d, kernel);
    return rc;
}

// The FXSAVE image of the context as the vCPU's FPU state; the XSAVE header after it says
// x87 and SSE state are present (what FXSAVE covers).
void load_fpu_image(Vcpu& v, const vcpu_guest_context& c) {
    memset(v.fpu_state, 0, sizeof v.fpu_state);
    memcpy(v.fpu_state, c.fpu_ctxt.x, sizeof c.fpu_ctxt.x);
    uint64_t present = 3;  // XSTATE_BV: x87 | SSE
    memcpy(v.fpu_state + 512, &present, sizeof present);
    v.fpu_initialised = true;
}

void load_registers(Vcpu& v, const cpu_user_regs& r) {
    arch::ExceptionFrame& f = v.regs;
    f = arch::ExceptionFrame{};
    f.r15 = r.r15, f.r14 = r.r14, f.r13 = r.r13, f.r12 = r.r12, f.rbp = r.rbp, f.rbx = r.rbx;
    f.r11 = r.r11, f.r10 = r.r10, f.r9 = r.r9, f.r8 = r.r8, f.rax = r.rax, f.rcx = r.rcx;
    f.rdx = r.rdx, f.rsi = r.rsi, f.rdi = r.rdi, f.rip = r.rip, f.rsp = r.rsp;
    f.cs = r.cs;
    f.ss = r.ss;
    // The IOPL is virtual (Xen keeps it aside), and real interrupts stay enabled.
    v.iopl = uint32_t((r.rflags & RFLAGS_IOPL) >> 12);
    f.rflags = r.rflags;
    pv::sanitize_return_frame(f);
    v.ds = r.ds, v.es = r.es, v.fs = r.fs, v.gs = r.gs;
}

void load_callbacks(Vcpu& v, const vcpu_guest_context& c) {
    uint16_t failsafe_flags = (c.flags & VGCF_failsafe_disables_events) ? CALLBACKF_mask_events : 0;
    uint16_t syscall_flags = (c.flags & VGCF_syscall_disables_events) ? CALLBACKF_mask_events : 0;
    v.callbacks[CALLBACKTYPE_event] = GuestCallback{c.event_callback_eip, 0};
    v.callbacks[CALLBACKTYPE_failsafe] = GuestCallback{c.failsafe_callback_eip, failsafe_flags};
    v.callbacks[CALLBACKTYPE_syscall] = GuestCallback{c.syscall_callback_eip, syscall_flags};
    v.syscall_disables_events = syscall_flags != 0;
}

// Everything is checked and every reference taken before the vCPU changes, so that a refused
// context leaves it as it was.
long set_context(Vcpu& v, const vcpu_guest_context& c) {
    if (!context_addresses_ok(c)) return -XEN_EINVAL;
    if ((c.gdt_ents + 511) / 512 > Vcpu::GDT_FRAMES) return -XEN_EINVAL;
    if (!(c.flags & VGCF_in_kernel) && !c.ctrlreg[1]) return -XEN_EINVAL;  // user mode needs user tables
    long rc = pv_descriptors::set_gdt(v, c.gdt_frames, uint32_t(c.gdt_ents));
    if (rc) return rc;
    Mfn kernel, user;
    rc = take_roots(v, c, kernel, user);
    if (rc) {
        pv_descriptors::set_gdt(v, nullptr, 0);
        return rc;
    }
    v.cr3_kernel = kernel;
    v.cr3_user = user;
    v.kernel_mode = (c.flags & VGCF_in_kernel) != 0;
    load_registers(v, c.user_regs);
    for (unsigned i = 0; i < 256; ++i) {
        const trap_info& t = c.trap_ctxt[i];
        v.traps[i] = GuestTrap{t.address, pv::guest_selector(t.cs), t.flags};
    }
    v.ldt_base = c.ldt_ents ? c.ldt_base : 0;
    v.ldt_ents = unsigned(c.ldt_ents);
    v.ldt_frames_held = 0;
    v.kernel_ss = pv::guest_selector(uint16_t(c.kernel_ss));
    v.kernel_sp = c.kernel_sp;
    load_callbacks(v, c);
    v.fs_base = c.fs_base;
    v.gs_base_kernel = c.gs_base_kernel;
    v.gs_base_user = c.gs_base_user;
    v.virtual_ts = (c.ctrlreg[0] & CR0_TS) != 0;
    if (c.flags & VGCF_I387_VALID) load_fpu_image(v, c);
    // As on Xen, a debug register the guest could not set is left at its default.
    for (int r = 0; r < 8; ++r)
        if (r != 4 && r != 5) pv_debugreg::set(v, r, c.debugreg[r], false);
    v.initialised = true;
    return 0;
}

long initialise(Vcpu& target, Gva arg) {
    // One context at a time: the MMU lock (taken for vcpu_op) guards this buffer, too large
    // for a hypervisor stack.
    static vcpu_guest_context context;
    if (!guest::read(arg, context)) return -XEN_EFAULT;
    if (target.initialised) return -XEN_EEXIST;
    long rc = set_context(target, context);
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
