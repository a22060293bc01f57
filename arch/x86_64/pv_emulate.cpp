#include "pv_emulate.hpp"

#include <arch/cpu.hpp>

#include "cpuid_policy.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "interrupts.hpp"
#include "kstd/string.hpp"
#include "pv_priv_op.hpp"
#include "pv_mm.hpp"
#include "pv_ptwr.hpp"
#include "pv_traps.hpp"
#include "tsc.hpp"
#include "vcpu.hpp"
#include "xstate.hpp"

#include <xen/xen.h>

namespace pv_emulate {

namespace {

// ud2; .ascii "xen"; cpuid — the guest's way of asking for the hypervisor's CPUID view.
constexpr uint8_t FORCED_CPUID[] = {0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2};

bool has_error_code(uint64_t vector) {
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 ||
           vector == 30;
}

void emulate_cpuid(Vcpu& v, arch::ExceptionFrame& f) {
    uint32_t leaf = uint32_t(f.rax), subleaf = uint32_t(f.rcx);
    CpuidRegs r;
    if (cpuid_policy::is_hypervisor_leaf(leaf)) {
        CpuidContext c{uint32_t(tsc::frequency_hz() / 1000), ((arch::cpuid(0x80000001).edx >> 27) & 1) != 0, v.domain().privileged()};
        r = cpuid_policy::hypervisor_leaf(leaf, subleaf, c);
    } else {
        auto h = arch::cpuid(leaf, subleaf);
        r = cpuid_policy::filter_host_leaf(leaf, subleaf, CpuidRegs{h.eax, h.ebx, h.ecx, h.edx}, xstate::guest_mask());
    }
    f.rax = r.eax;
    f.rbx = r.ebx;
    f.rcx = r.ecx;
    f.rdx = r.edx;
    f.rip += sizeof FORCED_CPUID;
}

bool is_forced_cpuid(const arch::ExceptionFrame& f) {
    uint8_t code[sizeof FORCED_CPUID];
    return guest::copy_from(code, Gva(f.rip), sizeof code) && memcmp(code, FORCED_CPUID, sizeof code) == 0;
}

// #GP with the IDT flag: INT n through a gate the hardware IDT keeps at DPL 0. The guest's
// trap table decides: its entry's DPL must admit the guest's mode (kernel: 1, user: 3).
bool soft_interrupt(Vcpu& v, arch::ExceptionFrame& f) {
    constexpr uint64_t ERROR_IDT = 2;
    if (!(f.error_code & ERROR_IDT)) return false;
    uint8_t vec = uint8_t(f.error_code >> 3);
    const GuestTrap& t = v.traps[vec];
    unsigned needed = v.kernel_mode ? 1 : 3;
    if (!t.address || (t.flags & 3) < needed) return false;
    f.rip += 2;  // the INT n instruction completes
    return pv::queue_exception(v, vec, false, 0);
}

[[gnu::noinline, gnu::cold]] void crash_unhandled(Vcpu& v, const arch::ExceptionFrame& f) {
    if (f.vector == pv::vector::PF)
        domain_control::crash(v, "#PF at rip {:#x} for address {:#x} (error {:#x}) with no handler in the guest's trap table",
                              f.rip, v.info()->arch.cr2, f.error_code);
    else
        domain_control::crash(v, "{} at rip {:#x} (error {:#x}) with no handler in the guest's trap table",
                              arch::exception_name(f.vector), f.rip, f.error_code);
}

void bounce_or_crash(Vcpu& v, arch::ExceptionFrame& f) {
    bool ec = has_error_code(f.vector);
    if (!pv::queue_exception(v, uint8_t(f.vector), ec, uint32_t(f.error_code))) crash_unhandled(v, f);
}

}  // namespace

namespace {

// The exceptions Kestrel looks at before the guest sees them: the rest go straight to the
// guest's handler.
constexpr uint32_t EXAMINED = (1u << pv::vector::DB) | (1u << pv::vector::PF) | (1u << pv::vector::UD) |
                              (1u << pv::vector::NM) | (1u << pv::vector::GP);

// Whether Kestrel handled an examined exception itself, so that the guest sees nothing of it.
// Out of line, so that the other exceptions' path needs none of its stack.
[[gnu::noinline]] bool handled_here(Vcpu& v, arch::ExceptionFrame& f) {
    switch (f.vector) {
    case pv::vector::DB: {
        // The guest reads why with get_debugreg(6); the hardware's DR6 is reset for the next one.
        uint64_t dr6;
        asm volatile("mov %%db6, %0" : "=r"(dr6));
        v.debugreg[6] |= dr6;
        asm volatile("mov %0, %%db6" ::"r"(uint64_t{0xffff0ff0}));
        break;
    }
    case pv::vector::PF: {
        // The guest's handler reads the faulting address here, not from CR2.
        v.info()->arch.cr2 = arch::read_cr2();
        // The hardware saw ring 3 either way; the guest is told whether its kernel or its
        // user space faulted, as Xen does.
        constexpr uint64_t PFEC_USER = 4;
        f.error_code = v.kernel_mode ? (f.error_code & ~PFEC_USER) : (f.error_code | PFEC_USER);
        // A write to one of the guest's own page-table entries (writable page tables).
        constexpr uint64_t PFEC_PRESENT_WRITE = 3;
        if ((f.error_code & PFEC_PRESENT_WRITE) == PFEC_PRESENT_WRITE) {
            pv_mm::MmGuard g;
            if (pv_ptwr::emulate(v, f, v.info()->arch.cr2)) return true;
        }
        break;
    }
    case pv::vector::UD:
        if (is_forced_cpuid(f)) {
            emulate_cpuid(v, f);
            return true;
        }
        break;
    case pv::vector::NM:
        // Lazy FPU switch: the guest set TS with fpu_taskswitch; its first FPU use after that
        // clears TS and tells the guest, as a real CPU's #NM would.
        if (v.virtual_ts) {
            v.virtual_ts = false;
            asm volatile("clts" ::: "memory");
            break;
        }
        asm volatile("clts" ::: "memory");
        return true;
    case pv::vector::GP:
        if (soft_interrupt(v, f)) return true;
        if (f.error_code == 0 && pv_priv_op::emulate(v, f)) return true;
        break;
    default: break;
    }
    return false;
}

}  // namespace

void guest_exception(Vcpu& v, arch::ExceptionFrame& f) {
    if (f.vector < 32 && ((EXAMINED >> f.vector) & 1) && handled_here(v, f)) return;
    bounce_or_crash(v, f);
}

void int80(Vcpu& v, arch::ExceptionFrame& f) {
    if (pv::queue_exception(v, 0x80, false, 0)) return;
    constexpr uint64_t ERROR_IDT = 2;
    f.vector = pv::vector::GP;
    f.error_code = (uint64_t{0x80} << 3) | ERROR_IDT;
    f.rip -= 2;
    guest_exception(v, f);
}

}  // namespace pv_emulate
