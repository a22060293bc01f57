// Hypercall dispatch: the number in the guest's rax selects a handler, which gets the vCPU,
// its saved registers and the five argument registers of the x86_64 PV convention (rdi,
// rsi, rdx, r10, r8). The handler's result goes back in rax. An unknown number returns
// -ENOSYS, as Xen's does, and is logged once per number.
#pragma once

#include <arch/frame.hpp>

#include "types.hpp"

class Vcpu;

// may_alias: dispatch hands a handler the argument registers where they lie in the saved
// frame (ExceptionFrame begins with rdi, rsi, rdx, r10, r8), rather than a copy of them.
struct [[gnu::may_alias]] HypercallArgs {
    uint64_t a0, a1, a2, a3, a4;
};

using HypercallHandler = long (*)(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);

namespace hypercall {

constexpr unsigned TABLE_SIZE = 64;

// Runs the hypercall in regs for v and returns its result, for the guest's rax.
long call(Vcpu& v, arch::ExceptionFrame& regs);
// Runs the hypercall in regs for v and stores the result in regs.rax.
inline void dispatch(Vcpu& v, arch::ExceptionFrame& regs) { regs.rax = uint64_t(call(v, regs)); }
// The handler for a number, or null.
HypercallHandler handler(unsigned nr);
// An op of a multiplexed hypercall (its first argument) that Kestrel does not offer: -ENOSYS,
// as Xen answers for an op it lacks, and a warning the first time each op is asked for.
long unsupported_op(Vcpu& v, unsigned nr, uint64_t op);

}  // namespace hypercall

// Handlers, one per hypercall family, named after Xen's (do_<hypercall>).
long do_set_trap_table(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_stack_switch(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_set_callbacks(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_fpu_taskswitch(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_xen_version(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_console_io(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_vm_assist(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_iret(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_set_segment_base(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_set_timer_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_vcpu_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_sched_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_callback_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_set_gdt(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_update_descriptor(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_physdev_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_event_channel_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_mmu_update(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_mmuext_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_update_va_mapping(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_update_va_mapping_otherdomain(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_set_debugreg(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_get_debugreg(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_memory_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_grant_table_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_multicall(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_xenpmu_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_domctl(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
long do_platform_op(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args);
