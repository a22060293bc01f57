#include "guest_entry.hpp"

#include <arch/cpu.hpp>
#include <arch/msr.hpp>
#include <arch/vectors.hpp>

#include "context.hpp"
#include "descriptors.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "event_channel.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "interrupts.hpp"
#include "percpu.hpp"
#include "pv_emulate.hpp"
#include "pv_traps.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"
#include "xstate.hpp"

extern "C" void syscall_entry64();
extern "C" void syscall_entry32();
extern "C" void sysenter_entry();
extern "C" [[noreturn]] void guest_restore(arch::ExceptionFrame* frame);

namespace guest_entry {

namespace {

constexpr uint32_t MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083, MSR_SFMASK = 0xc0000084;
constexpr uint32_t MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;
// SYSCALL clears IF (no interrupt before the stack switch), TF, DF, NT and AC.
constexpr uint64_t SYSCALL_MASK = (1u << 8) | (1u << 9) | (1u << 10) | (1u << 14) | (1u << 18);
constexpr uint64_t CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10;

}  // namespace

// The vector entry.S gives frames built by compatibility-mode SYSCALL entry.
constexpr uint64_t VECTOR_SYSCALL32 = 0x101;

void init_cpu() {
    using arch::selector::GUEST_CS32;
    using arch::selector::HYPERVISOR_CS;
    arch::wrmsr(msr::IA32_EFER, arch::rdmsr(msr::IA32_EFER) | msr::EFER_SCE);
    arch::wrmsr(MSR_STAR, (uint64_t(GUEST_CS32) << 48) | (uint64_t(HYPERVISOR_CS) << 32));
    arch::wrmsr(MSR_LSTAR, reinterpret_cast<uint64_t>(syscall_entry64));
    arch::wrmsr(MSR_CSTAR, reinterpret_cast<uint64_t>(syscall_entry32));
    arch::wrmsr(MSR_SFMASK, SYSCALL_MASK);
    // SYSENTER lands on this CPU's guest frame, like an exception from ring 3.
    arch::wrmsr(MSR_SYSENTER_CS, HYPERVISOR_CS);
    arch::wrmsr(MSR_SYSENTER_ESP, arch::this_cpu().guest_frame_top);
    arch::wrmsr(MSR_SYSENTER_EIP, reinterpret_cast<uint64_t>(sysenter_entry));
    arch::write_cr4(arch::read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
    xstate::init_cpu(arch::this_cpu().id == CpuId(0));
}

namespace {

// The IRETQ to a non-canonical rip would fault: the guest kernel gets the #GP(0), as on Xen.
// Out of line: the crash message's formatting would cost every return a larger stack frame.
[[gnu::noinline, gnu::cold]] void refuse_noncanonical_return(Vcpu& v, const arch::ExceptionFrame& f) {
    arch::interrupts_on();
    if (!pv::queue_exception(v, pv::vector::GP, true, 0))
        domain_control::crash(v, "return to non-canonical rip {:#x} with no #GP handler", f.rip);
}

}  // namespace

void return_to_guest() {
    for (;;) {
        arch::interrupts_off();
        arch::PerCpu& cpu = arch::this_cpu();
        Vcpu* v = cpu.current;
        if (!v || v->state != VcpuState::running || cpu.need_resched.load()) [[unlikely]] {
            sched::reschedule();
            continue;
        }
        arch::ExceptionFrame& f = context::guest_frame(cpu);
        // An event upcall due and not masked goes in ahead of the return.
        if (!v->bounce.pending && events::upcall_due(v->info())) events::queue_upcall(*v);
        if (v->bounce.pending) {
            arch::interrupts_on();
            pv::deliver_bounce(*v, f);
            continue;
        }
        pv::sanitize_return_frame(f);
        if (!guest::canonical(f.rip)) [[unlikely]] {
            refuse_noncanonical_return(*v, f);
            continue;
        }
        guest_restore(&f);  // with interrupts off, as it needs them
    }
}

}  // namespace guest_entry

// Exceptions and interrupts that struck while a guest ran (entry.S, after SWAPGS).
extern "C" [[noreturn]] void guest_trap(arch::ExceptionFrame* f) {
    if (f->vector == vectors::GUEST_INT80) {
        arch::interrupts_on();
        pv_emulate::int80(*arch::this_cpu().current, *f);
    } else if (f->vector >= 32) {
        arch::dispatch_interrupt(*f);
    } else {
        arch::interrupts_on();
        pv_emulate::guest_exception(*arch::this_cpu().current, *f);
    }
    guest_entry::return_to_guest();
}

// The IRETQ to a guest faulted (#GP, #NP or #SS on a selector the guest chose): as on Xen,
// the guest kernel gets the fault, its frame describing where it tried to go. The guest's
// saved frame is intact: the fault frame lies below it.
extern "C" [[noreturn]] void guest_iret_fault(arch::ExceptionFrame* fault) {
    arch::interrupts_on();
    Vcpu& v = *arch::this_cpu().current;
    arch::ExceptionFrame& f = context::guest_frame();
    if (!pv::queue_exception(v, uint8_t(fault->vector), true, uint32_t(fault->error_code)))
        domain_control::crash(v, "return to cs {:#x} ss {:#x} faulted ({}) with no handler", f.cs, f.ss,
                              arch::exception_name(fault->vector));
    guest_entry::return_to_guest();
}

// SYSENTER from the guest (entry.S): to its sysenter callback, or #GP(0) without one, as Xen does.
extern "C" [[noreturn]] void guest_sysenter(arch::ExceptionFrame* f) {
    f->rflags |= pv::RFLAGS_IF;
    arch::interrupts_on();
    pv::bounce_sysenter(*arch::this_cpu().current, *f);
    guest_entry::return_to_guest();
}

// SYSCALL from the guest (entry.S): a hypercall from its kernel, a system call from its user space.
extern "C" [[noreturn]] void guest_syscall(arch::ExceptionFrame* f) {
    arch::interrupts_on();
    Vcpu& v = *arch::this_cpu().current;
    if (v.kernel_mode) [[likely]] hypercall::dispatch(v, *f);
    else pv::bounce_user_syscall(v, *f, f->vector == guest_entry::VECTOR_SYSCALL32);
    guest_entry::return_to_guest();
}
