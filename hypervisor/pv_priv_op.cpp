#include "pv_priv_op.hpp"

#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "ioport_policy.hpp"
#include "pv_arch.hpp"
#include "pv_msr.hpp"
#include "pv_traps.hpp"
#include "vcpu.hpp"

namespace pv_priv_op {

namespace {

constexpr uint64_t CR0_TS = 1u << 3;
constexpr uint64_t CR4_OSXSAVE = 1u << 18;
constexpr size_t MAX_INSN = 15;

struct Insn {
    uint8_t bytes[MAX_INSN];
    size_t len;     // bytes readable at rip
    size_t pos;     // decode position
    bool opsize16;  // 0x66 prefix
    uint8_t rex;
};

// As many instruction bytes as are readable (the instruction may end before a page boundary
// that the full 15 bytes would cross).
void fetch(Insn& in, uint64_t rip) {
    in.len = 0;
    while (in.len < MAX_INSN && guest::copy_from(&in.bytes[in.len], Gva(rip + in.len), 1)) ++in.len;
}

bool next(Insn& in, uint8_t& b) {
    if (in.pos >= in.len) return false;
    b = in.bytes[in.pos++];
    return true;
}

// Legacy prefixes, then an optional REX; returns the first opcode byte.
bool prefixes(Insn& in, uint8_t& op) {
    for (;;) {
        if (!next(in, op)) return false;
        switch (op) {
        case 0x66: in.opsize16 = true; continue;
        case 0x2e: case 0x36: case 0x3e: case 0x26: case 0x64: case 0x65: continue;  // segments: no effect here
        default: break;
        }
        if ((op & 0xf0) == 0x40) {
            in.rex = op;
            if (!next(in, op)) return false;
        }
        return true;
    }
}

uint64_t& reg(arch::ExceptionFrame& f, unsigned n) {
    switch (n) {
    case 0: return f.rax;
    case 1: return f.rcx;
    case 2: return f.rdx;
    case 3: return f.rbx;
    case 4: return f.rsp;
    case 5: return f.rbp;
    case 6: return f.rsi;
    case 7: return f.rdi;
    case 8: return f.r8;
    case 9: return f.r9;
    case 10: return f.r10;
    case 11: return f.r11;
    case 12: return f.r12;
    case 13: return f.r13;
    case 14: return f.r14;
    default: return f.r15;
    }
}

// The virtual IOPL admits the guest's current mode: its kernel counts as ring 1.
bool iopl_ok(const Vcpu& v) { return v.kernel_mode ? v.iopl >= 1 : v.iopl == 3; }

bool port_io(Vcpu& v, arch::ExceptionFrame& f, Insn& in, uint8_t op) {
    if (!iopl_ok(v)) return false;
    bool is_in = (op & 2) == 0;       // E4/E5/EC/ED read, E6/E7/EE/EF write
    bool imm = (op & 8) == 0;         // E4-E7 take an 8-bit port
    unsigned bytes = (op & 1) ? (in.opsize16 ? 2 : 4) : 1;
    uint16_t port;
    if (imm) {
        uint8_t p;
        if (!next(in, p)) return false;
        port = p;
    } else {
        port = uint16_t(f.rdx);
    }
    bool ok = ioport_policy::allowed(v.domain(), port, bytes);
    if (is_in) {
        uint32_t value = ok ? pv_arch::port_in(port, bytes) : 0xffffffffu;
        if (bytes == 1) f.rax = (f.rax & ~uint64_t{0xff}) | (value & 0xff);
        else if (bytes == 2) f.rax = (f.rax & ~uint64_t{0xffff}) | (value & 0xffff);
        else f.rax = value;  // a 32-bit result zero-extends, as on hardware
    } else if (ok) {
        pv_arch::port_out(port, bytes, uint32_t(f.rax));
    }
    return true;
}

bool read_cr(Vcpu& v, arch::ExceptionFrame& f, Insn& in) {
    if (!v.kernel_mode) return false;
    uint8_t modrm;
    if (!next(in, modrm) || (modrm >> 6) != 3) return false;
    unsigned cr = ((modrm >> 3) & 7) | ((in.rex & 4) ? 8 : 0);
    unsigned rm = (modrm & 7) | ((in.rex & 1) ? 8 : 0);
    uint64_t value;
    switch (cr) {
    case 0: value = (pv_arch::read_cr0() & ~CR0_TS) | (v.virtual_ts ? CR0_TS : 0); break;
    case 2: value = v.info()->arch.cr2; break;
    case 3: value = ((v.kernel_mode ? v.cr3_kernel : v.cr3_user).raw()) << PAGE_SHIFT; break;
    case 4: value = (pv_arch::guest_cr4() & ~CR4_OSXSAVE) | (v.cr4_guest & CR4_OSXSAVE); break;
    default: return false;
    }
    reg(f, rm) = value;
    return true;
}

// mov to a control register: CR0 only to flip TS (fpu_taskswitch), CR4 for the bits a PV
// guest controls (recorded; the hypervisor owns the real register); anything else faults.
bool write_cr(Vcpu& v, arch::ExceptionFrame& f, Insn& in) {
    if (!v.kernel_mode) return false;
    uint8_t modrm;
    if (!next(in, modrm) || (modrm >> 6) != 3) return false;
    unsigned cr = ((modrm >> 3) & 7) | ((in.rex & 4) ? 8 : 0);
    uint64_t value = reg(f, (modrm & 7) | ((in.rex & 1) ? 8 : 0));
    switch (cr) {
    case 0:
        if ((value ^ pv_arch::read_cr0()) & ~CR0_TS) return false;
        v.virtual_ts = (value & CR0_TS) != 0;
        pv_arch::set_fpu_trap(v.virtual_ts);
        return true;
    case 4:
        v.cr4_guest = value & (pv_arch::xstate_mask() ? CR4_OSXSAVE : 0);
        return true;
    default: return false;
    }
}

// xsetbv: XCR0 (the only extended control register) within what the guest may enable. Like
// the hardware with CR4.OSXSAVE clear, a guest that has not set OSXSAVE in its CR4 gets #UD
// (Xen checks the guest's CR4, not the real one); rip stays at the instruction.
enum class Xsetbv { done, fault, undefined };
Xsetbv xsetbv(Vcpu& v, arch::ExceptionFrame& f) {
    if (!v.kernel_mode) return Xsetbv::fault;
    if (!(v.cr4_guest & CR4_OSXSAVE)) return Xsetbv::undefined;
    if (uint32_t(f.rcx) != 0) return Xsetbv::fault;
    return pv_arch::set_xcr0(v, (f.rdx << 32) | uint32_t(f.rax)) ? Xsetbv::done : Xsetbv::fault;
}

// rdmsr/wrmsr: ECX names the MSR, EDX:EAX the value (a read zero-extends both halves).
bool msr_access(Vcpu& v, arch::ExceptionFrame& f, bool write) {
    if (!v.kernel_mode) return false;
    uint32_t msr = uint32_t(f.rcx);
    if (write) return pv_msr::write(v, msr, (f.rdx << 32) | uint32_t(f.rax)) == pv_msr::Outcome::done;
    uint64_t value;
    if (pv_msr::read(v, msr, value) != pv_msr::Outcome::done) return false;
    f.rax = uint32_t(value);
    f.rdx = value >> 32;
    return true;
}

}  // namespace

bool emulate(Vcpu& v, arch::ExceptionFrame& f) {
    Insn in{};
    fetch(in, f.rip);
    uint8_t op;
    if (!prefixes(in, op)) return false;
    bool done = false;
    switch (op) {
    case 0xe4: case 0xe5: case 0xe6: case 0xe7:
    case 0xec: case 0xed: case 0xee: case 0xef:
        done = port_io(v, f, in, op);
        break;
    case 0xfa:  // cli
    case 0xfb:  // sti
        done = iopl_ok(v);
        break;
    case 0x0f: {
        uint8_t op2;
        if (!next(in, op2)) return false;
        if (op2 == 0x06 && v.kernel_mode) {  // clts
            v.virtual_ts = false;
            pv_arch::set_fpu_trap(false);
            done = true;
        } else if (op2 == 0x30 || op2 == 0x32) {  // wrmsr, rdmsr
            done = msr_access(v, f, op2 == 0x30);
        } else if (op2 == 0x20) {
            done = read_cr(v, f, in);
        } else if (op2 == 0x22) {
            done = write_cr(v, f, in);
        } else if (op2 == 0x01) {
            uint8_t op3;
            if (next(in, op3) && op3 == 0xd1) {
                Xsetbv r = xsetbv(v, f);
                if (r == Xsetbv::undefined) return pv::queue_exception(v, pv::vector::UD, false, 0);
                done = r == Xsetbv::done;
            }
        }
        break;
    }
    default: break;
    }
    if (done) f.rip += in.pos;
    return done;
}

}  // namespace pv_priv_op
