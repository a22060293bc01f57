#include "pv_traps.hpp"

#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "kstd/string.hpp"
#include "pv_arch.hpp"
#include "vcpu.hpp"

namespace pv {

namespace {

uint8_t& upcall_mask(Vcpu& v) { return v.info()->evtchn_upcall_mask; }

// Out of line, so that the bounce's path needs no stack for formatting a message.
[[gnu::noinline, gnu::cold]] bool crash_bounce(Vcpu& v, const char* why, uint64_t value) {
    domain_control::crash(v, "{} {:#x}", why, value);
    return false;
}

// The bounce for the next return to the guest, field by field (the failsafe selectors are
// only read when failsafe is set).
void set_bounce(Vcpu& v, uint8_t vec, bool has_error_code, uint32_t error_code, uint64_t address, bool mask) {
    PendingBounce& b = v.bounce;
    b.pending = true;
    b.vector = vec;
    b.has_error_code = has_error_code;
    b.error_code = error_code;
    b.address = address;
    b.mask_events = mask;
    b.failsafe = false;
}

}  // namespace

bool queue_exception(Vcpu& v, uint8_t vec, bool has_error_code, uint32_t error_code) {
    const GuestTrap& t = v.traps[vec];
    if (!t.address) return false;
    set_bounce(v, vec, has_error_code, error_code, t.address, (t.flags & 4) != 0);
    return true;
}

bool queue_callback(Vcpu& v, unsigned type) {
    const GuestCallback& c = v.callbacks[type];
    if (!c.address) return false;
    // The event upcall always masks events (Xen's TBF_INTERRUPT); the failsafe callback masks
    // them when registered with CALLBACKF_mask_events.
    bool mask = type == CALLBACKTYPE_event || (c.flags & CALLBACKF_mask_events) != 0;
    set_bounce(v, 0, false, 0, c.address, mask);
    return true;
}

bool queue_failsafe(Vcpu& v, const uint16_t (&selectors)[4]) {
    if (!queue_callback(v, CALLBACKTYPE_failsafe)) return false;
    v.bounce.failsafe = true;
    for (unsigned i = 0; i < 4; ++i) v.bounce.selectors[i] = selectors[i];
    return true;
}

bool deliver_bounce(Vcpu& v, arch::ExceptionFrame& regs) {
    const PendingBounce& b = v.bounce;
    v.bounce.pending = false;
    uint64_t interrupted_cs = regs.cs;
    uint64_t sp;
    if (v.kernel_mode) {
        sp = regs.rsp;
        interrupted_cs &= ~uint64_t{3};  // tells the guest kernel it interrupted itself
    } else {
        pv_arch::toggle_guest_mode(v);
        sp = v.kernel_sp;
    }
    sp &= ~uint64_t{15};
    unsigned words = b.failsafe ? 11 : b.has_error_code ? 8 : 7;
    sp -= words * 8;
    if (!guest::range_ok(Gva(sp), words * 8))
        return crash_bounce(v, "exception frame would overlap the hypervisor area at", sp);

    uint8_t saved_mask = upcall_mask(v);
    if (b.mask_events) upcall_mask(v) = 1;
    uint64_t rflags = (regs.rflags & ~(RFLAGS_IF | RFLAGS_IOPL)) | (saved_mask ? 0 : RFLAGS_IF);
    if (v.domain().vm_assist & (1u << VMASST_TYPE_architectural_iopl)) rflags |= uint64_t(v.iopl) << 12;

    // Filled from its top, where the five words every frame ends with have fixed places; the
    // frame is the last `words` of it.
    constexpr unsigned MAX_WORDS = 11;
    uint64_t frame[MAX_WORDS];
    frame[MAX_WORDS - 1] = regs.ss;
    frame[MAX_WORDS - 2] = regs.rsp;
    frame[MAX_WORDS - 3] = rflags;
    frame[MAX_WORDS - 4] = (interrupted_cs & 0xffff) | (uint64_t(saved_mask) << 32);
    frame[MAX_WORDS - 5] = regs.rip;
    if (b.failsafe)
        for (unsigned i = 0; i < 4; ++i) frame[MAX_WORDS - 9 + i] = b.selectors[i];
    else if (b.has_error_code)
        frame[MAX_WORDS - 6] = b.error_code;
    uint64_t* bottom = frame + (MAX_WORDS - words);
    bottom[0] = regs.rcx;
    bottom[1] = regs.r11;
    if (guest::raw_copy_to(sp, bottom, words * 8) != 0)
        return crash_bounce(v, "fault writing an exception frame to the guest stack at", sp);
    if (!b.address) return crash_bounce(v, "no handler to bounce to: vector", b.vector);
    regs.rflags &= ~(RFLAGS_AC | RFLAGS_VM | RFLAGS_RF | RFLAGS_NT | RFLAGS_TF);
    regs.ss = FLAT_KERNEL_SS;
    regs.rsp = sp;
    regs.cs = FLAT_KERNEL_CS;
    regs.rip = b.address;
    return true;
}

void bounce_user_syscall(Vcpu& v, arch::ExceptionFrame& regs, bool compat) {
    const GuestCallback& cb = v.callbacks[compat ? CALLBACKTYPE_syscall32 : CALLBACKTYPE_syscall];
    if (cb.address) {
        // Both SYSCALL flavours mask events as VGCF_syscall_disables_events says, as on Xen.
        v.bounce = PendingBounce{true, 0, false, 0, cb.address, v.syscall_disables_events};
        if (deliver_bounce(v, regs)) regs.rflags &= ~RFLAGS_DF;  // the PV ABI's fixed SYSCALL mask
        return;
    }
    // No callback: the SYSCALL instruction raises #UD, as the hardware would with it disabled.
    regs.rip -= 2;
    if (!queue_exception(v, vector::UD, false, 0)) {
        domain_control::crash(v, "SYSCALL from user mode with no syscall callback and no #UD handler");
        return;
    }
    deliver_bounce(v, regs);
}

void bounce_sysenter(Vcpu& v, arch::ExceptionFrame& regs) {
    const GuestCallback& cb = v.callbacks[CALLBACKTYPE_sysenter];
    if (cb.address)
        v.bounce = PendingBounce{true, 0, false, 0, cb.address, (cb.flags & CALLBACKF_mask_events) != 0};
    else if (!queue_exception(v, vector::GP, true, 0)) {
        domain_control::crash(v, "SYSENTER with no sysenter callback and no #GP handler");
        return;
    }
    deliver_bounce(v, regs);
}

}  // namespace pv

long do_set_trap_table(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    if (args.a0 == 0) {
        for (auto& t : v.traps) t = GuestTrap{};
        return 0;
    }
    // Entries are taken one at a time until one with address 0, as Xen does: a fault part way
    // through leaves the entries before it installed.
    for (uint64_t ptr = args.a0;; ptr += sizeof(trap_info)) {
        trap_info ti;
        if (!guest::read(Gva(ptr), ti)) return -XEN_EFAULT;
        if (ti.address == 0) return 0;
        if (!guest::canonical(ti.address)) return -XEN_EINVAL;
        v.traps[ti.vector] = GuestTrap{ti.address, pv::guest_selector(ti.cs), ti.flags};
    }
}

long do_stack_switch(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    v.kernel_ss = pv::guest_selector(uint16_t(args.a0));
    v.kernel_sp = args.a1;
    return 0;
}

long do_fpu_taskswitch(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    v.virtual_ts = int(args.a0) != 0;
    pv_arch::set_fpu_trap(v.virtual_ts);
    return 0;
}

namespace {

long register_callback(Vcpu& v, const callback_register& reg) {
    if (!guest::canonical(reg.address)) return -XEN_EINVAL;
    switch (reg.type) {
    case CALLBACKTYPE_event:
        v.callbacks[reg.type] = GuestCallback{reg.address, 0};
        return 0;
    case CALLBACKTYPE_failsafe:
    case CALLBACKTYPE_syscall32:
    case CALLBACKTYPE_sysenter:
        v.callbacks[reg.type] = GuestCallback{reg.address, reg.flags};
        return 0;
    case CALLBACKTYPE_syscall:
        v.callbacks[reg.type] = GuestCallback{reg.address, reg.flags};
        v.syscall_disables_events = (reg.flags & CALLBACKF_mask_events) != 0;
        return 0;
    case CALLBACKTYPE_nmi:
        // As on Xen, the NMI callback is the trap-table entry of vector 2, entered with
        // events masked. (Only the hardware domain's vCPU 0 ever receives an NMI.)
        v.traps[pv::vector::NMI] = GuestTrap{reg.address, FLAT_KERNEL_CS, 4};
        return 0;
    default:
        return -XEN_ENOSYS;
    }
}

}  // namespace

long do_set_callbacks(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    // Each part is applied on its own; a non-canonical address leaves that callback unchanged.
    register_callback(v, callback_register{CALLBACKTYPE_event, 0, args.a0});
    register_callback(v, callback_register{CALLBACKTYPE_failsafe, 0, args.a1});
    register_callback(v, callback_register{CALLBACKTYPE_syscall, 0, args.a2});
    return 0;
}

long do_callback_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    switch (args.a0) {
    case CALLBACKOP_register: {
        callback_register reg;
        if (!guest::read(Gva(args.a1), reg)) return -XEN_EFAULT;
        return register_callback(v, reg);
    }
    case CALLBACKOP_unregister: {
        callback_unregister unreg;
        if (!guest::read(Gva(args.a1), unreg)) return -XEN_EFAULT;
        switch (unreg.type) {
        case CALLBACKTYPE_event:
        case CALLBACKTYPE_failsafe:
        case CALLBACKTYPE_syscall:
        case CALLBACKTYPE_syscall32:
        case CALLBACKTYPE_sysenter:
            return -XEN_EINVAL;  // these stay registered for the guest's lifetime
        case CALLBACKTYPE_nmi:
            v.traps[pv::vector::NMI] = GuestTrap{};
            return 0;
        default:
            return -XEN_ENOSYS;
        }
    }
    default:
        return -XEN_ENOSYS;
    }
}

long do_iret(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs&) {
    iret_context ctx;
    if (!guest::read(Gva(regs.rsp), ctx)) {
        domain_control::crash(v, "fault reading the iret context at {:#x}", regs.rsp);
        return 0;
    }
    if ((ctx.cs & 3) == 3) {
        // Back to guest user space: its page tables must exist.
        if (v.cr3_user == Mfn(0)) {
            domain_control::crash(v, "iret to user mode with no user page tables");
            return 0;
        }
        pv_arch::toggle_guest_mode(v);
    }
    if (v.domain().vm_assist & (1u << VMASST_TYPE_architectural_iopl)) v.iopl = uint32_t((ctx.rflags >> 12) & 3);
    regs.rip = ctx.rip;
    regs.cs = ctx.cs | 3;
    regs.rflags = (ctx.rflags & ~(pv::RFLAGS_IOPL | pv::RFLAGS_VM)) | pv::RFLAGS_IF;
    regs.rsp = ctx.rsp;
    regs.ss = ctx.ss | 3;
    if (!(ctx.flags & VGCF_in_syscall)) {
        regs.r11 = ctx.r11;
        regs.rcx = ctx.rcx;
    }
    // The iret's IF is the guest's virtual interrupt flag: events masked unless it is set.
    v.info()->evtchn_upcall_mask = (ctx.rflags & pv::RFLAGS_IF) ? 0 : 1;
    return long(ctx.rax);
}

long do_set_segment_base(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint64_t base = args.a1;
    switch (uint32_t(args.a0)) {
    case SEGBASE_FS:
        if (!guest::canonical(base)) return -XEN_EINVAL;
        pv_arch::write_fs_base(v, base);
        return 0;
    case SEGBASE_GS_USER:
        if (!guest::canonical(base)) return -XEN_EINVAL;
        v.gs_base_user = base;
        return 0;
    case SEGBASE_GS_KERNEL:
        if (!guest::canonical(base)) return -XEN_EINVAL;
        pv_arch::write_gs_base_kernel(v, base);
        return 0;
    case SEGBASE_GS_USER_SEL:
        pv_arch::load_user_gs_selector(v, uint16_t(base));
        return 0;
    default:
        return -XEN_EINVAL;
    }
}

long do_vm_assist(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    // The assists a 64-bit PV guest may toggle (Xen accepts the 32-bit ones too, harmlessly).
    constexpr uint64_t VALID = (1ull << VMASST_TYPE_4gb_segments) | (1ull << VMASST_TYPE_4gb_segments_notify) |
                               (1ull << VMASST_TYPE_writable_pagetables) | (1ull << VMASST_TYPE_pae_extended_cr3) |
                               (1ull << VMASST_TYPE_architectural_iopl) | (1ull << VMASST_TYPE_runstate_update_flag) |
                               (1ull << VMASST_TYPE_m2p_strict);
    uint32_t cmd = uint32_t(args.a0), type = uint32_t(args.a1);
    if (type >= 64 || !(VALID & (1ull << type))) return -XEN_EINVAL;
    Domain& d = v.domain();
    switch (cmd) {
    case VMASST_CMD_enable: d.vm_assist |= 1ull << type; return 0;
    case VMASST_CMD_disable: d.vm_assist &= ~(1ull << type); return 0;
    default: return -XEN_ENOSYS;
    }
}
