// A vCPU's context as vcpu_guest_context (see vcpu_context.hpp). Xen 4.17's rules, as
// arch_set_info_guest applies them to a 64-bit PV vCPU.
#include "vcpu_context.hpp"

#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "kstd/string.hpp"
#include "pv_arch.hpp"
#include "pv_debugreg.hpp"
#include "pv_descriptors.hpp"
#include "pv_mm.hpp"
#include "pv_traps.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace vcpu_context {

namespace {

constexpr uint64_t MAX_LDT_ENTRIES = 8192;
constexpr uint64_t CR0_TS = 1u << 3;
// What vm_assist may hold for a 64-bit PV guest (Xen's PV64_VM_ASSIST_MASK).
constexpr uint64_t VM_ASSIST_VALID = (1ull << VMASST_TYPE_4gb_segments) | (1ull << VMASST_TYPE_4gb_segments_notify) |
                                     (1ull << VMASST_TYPE_writable_pagetables) |
                                     (1ull << VMASST_TYPE_pae_extended_cr3) |
                                     (1ull << VMASST_TYPE_architectural_iopl) |
                                     (1ull << VMASST_TYPE_runstate_update_flag) | (1ull << VMASST_TYPE_m2p_strict);

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
    v.iopl = uint32_t((r.rflags & pv::RFLAGS_IOPL) >> 12);
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

// What any context sets, first or not: mode, registers, trap table, kernel stack, callbacks,
// segment bases, CR0.TS, FPU and debug registers.
void load_state(Vcpu& v, const vcpu_guest_context& c) {
    v.kernel_mode = (c.flags & VGCF_in_kernel) != 0;
    load_registers(v, c.user_regs);
    for (unsigned i = 0; i < 256; ++i) {
        const trap_info& t = c.trap_ctxt[i];
        v.traps[i] = GuestTrap{t.address, pv::guest_selector(t.cs), t.flags};
    }
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
}

// Everything is checked and every reference taken before the vCPU changes, so that a refused
// context leaves it as it was.
long first_context(Vcpu& v, const vcpu_guest_context& c) {
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
    v.ldt_base = c.ldt_ents ? c.ldt_base : 0;
    v.ldt_ents = unsigned(c.ldt_ents);
    v.ldt_frames_held = 0;
    if (v.id() == VcpuId(0)) v.domain().vm_assist = c.vm_assist;
    load_state(v, c);
    v.initialised = true;
    return 0;
}

// An initialised vCPU keeps its roots, GDT and LDT (Xen refuses to change them this way).
bool same_tables(const Vcpu& v, const vcpu_guest_context& c) {
    bool same = c.ctrlreg[3] == v.cr3_kernel.raw() << PAGE_SHIFT;
    if (v.cr3_user == Mfn(0)) same &= !c.ctrlreg[1] && (c.flags & VGCF_in_kernel);
    else same &= c.ctrlreg[1] == v.cr3_user.raw() << PAGE_SHIFT;
    same &= v.gdt_ents == c.gdt_ents;
    for (unsigned i = 0; same && i < v.gdt_pages(); ++i) same = v.gdt_frames[i] == c.gdt_frames[i];
    same &= v.ldt_ents == c.ldt_ents;
    if (v.ldt_ents) same &= v.ldt_base == c.ldt_base;
    return same;
}

}  // namespace

long set(Vcpu& v, const vcpu_guest_context& c) {
    if (!context_addresses_ok(c)) return -XEN_EINVAL;
    if (v.id() == VcpuId(0) && (c.vm_assist & ~VM_ASSIST_VALID)) return -XEN_EINVAL;
    if ((c.gdt_ents + 511) / 512 > Vcpu::GDT_FRAMES) return -XEN_EINVAL;
    if (!v.initialised) return first_context(v, c);
    if (!same_tables(v, c)) return -XEN_EOPNOTSUPP;
    load_state(v, c);
    return 0;
}


void get(const Vcpu& v, vcpu_guest_context& c) {
    memset(&c, 0, sizeof c);
    const arch::ExceptionFrame& f = v.regs;
    cpu_user_regs& r = c.user_regs;
    r.r15 = f.r15, r.r14 = f.r14, r.r13 = f.r13, r.r12 = f.r12, r.rbp = f.rbp, r.rbx = f.rbx;
    r.r11 = f.r11, r.r10 = f.r10, r.r9 = f.r9, r.r8 = f.r8, r.rax = f.rax, r.rcx = f.rcx;
    r.rdx = f.rdx, r.rsi = f.rsi, r.rdi = f.rdi, r.rip = f.rip, r.rsp = f.rsp;
    r.cs = uint16_t(f.cs);
    r.ss = uint16_t(f.ss);
    r.rflags = (f.rflags & ~pv::RFLAGS_IOPL) | uint64_t(v.iopl) << 12;  // the virtual IOPL, as Xen shows it
    r.ds = v.ds, r.es = v.es, r.fs = v.fs, r.gs = v.gs;
    if (v.fpu_initialised) {
        memcpy(c.fpu_ctxt.x, v.fpu_state, sizeof c.fpu_ctxt.x);
        c.flags |= VGCF_I387_VALID;
    }
    if (v.kernel_mode) c.flags |= VGCF_in_kernel;
    if (v.state != VcpuState::down) c.flags |= VGCF_online;
    if (v.callbacks[CALLBACKTYPE_failsafe].flags & CALLBACKF_mask_events) c.flags |= VGCF_failsafe_disables_events;
    if (v.syscall_disables_events) c.flags |= VGCF_syscall_disables_events;
    for (unsigned i = 0; i < 256; ++i)
        c.trap_ctxt[i] = trap_info{uint8_t(i), v.traps[i].flags, v.traps[i].cs, v.traps[i].address};
    c.ldt_base = v.ldt_base;
    c.ldt_ents = v.ldt_ents;
    for (unsigned i = 0; i < Vcpu::GDT_FRAMES; ++i) c.gdt_frames[i] = v.gdt_frames[i];
    c.gdt_ents = v.gdt_ents;
    c.kernel_ss = v.kernel_ss;
    c.kernel_sp = v.kernel_sp;
    c.ctrlreg[0] = (pv_arch::read_cr0() & ~CR0_TS) | (v.virtual_ts ? CR0_TS : 0);
    c.ctrlreg[1] = v.cr3_user.raw() << PAGE_SHIFT;
    c.ctrlreg[3] = v.cr3_kernel.raw() << PAGE_SHIFT;
    c.ctrlreg[4] = pv_arch::guest_cr4() | v.cr4_guest;
    for (unsigned i = 0; i < 8; ++i) c.debugreg[i] = v.debugreg[i];
    c.event_callback_eip = v.callbacks[CALLBACKTYPE_event].address;
    c.failsafe_callback_eip = v.callbacks[CALLBACKTYPE_failsafe].address;
    c.syscall_callback_eip = v.callbacks[CALLBACKTYPE_syscall].address;
    c.vm_assist = v.domain().vm_assist;
    c.fs_base = v.fs_base;
    c.gs_base_kernel = v.gs_base_kernel;
    c.gs_base_user = v.gs_base_user;
}

void reset(Vcpu& v) {
    Domain& d = v.domain();
    sched::take_down(v);
    for (unsigned i = 0; i < v.ldt_frames_held; ++i) pv_mm::put_page_and_type(d, Mfn(v.ldt_frames[i]));
    v.ldt_frames_held = 0;
    v.ldt_base = 0;
    v.ldt_ents = 0;
    pv_descriptors::set_gdt(v, nullptr, 0);
    if (v.cr3_user != Mfn(0)) pv_mm::put_page_and_type(d, v.cr3_user);
    if (v.cr3_kernel != Mfn(0)) pv_mm::put_page_and_type(d, v.cr3_kernel);
    v.cr3_user = v.cr3_kernel = Mfn(0);
    v.regs = arch::ExceptionFrame{};
    v.kernel_mode = true;
    v.kernel_ss = v.kernel_sp = 0;
    v.fs_base = v.gs_base_kernel = v.gs_base_user = 0;
    v.ds = v.es = v.fs = v.gs = 0;
    for (GuestTrap& t : v.traps) t = GuestTrap{};
    for (GuestCallback& cb : v.callbacks) cb = GuestCallback{};
    v.syscall_disables_events = false;
    v.virtual_ts = false;
    v.fpu_initialised = false;
    v.iopl = 0;
    for (int r = 0; r < 8; ++r)
        if (r != 4 && r != 5) pv_debugreg::set(v, r, 0, false);
    v.initialised = false;
}

}  // namespace vcpu_context
