#include "pv_ptwr.hpp"

#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

namespace pv_ptwr {

namespace {

constexpr size_t MAX_INSN = 15;
constexpr uint64_t RFLAGS_ZF = 1u << 6;

struct Insn {
    uint8_t b[MAX_INSN];
    size_t len = 0, pos = 0;
    uint8_t rex = 0;
    bool opsize16 = false;
};

bool next(Insn& in, uint8_t& out) {
    if (in.pos >= in.len) return false;
    out = in.b[in.pos++];
    return true;
}

uint64_t& reg(arch::ExceptionFrame& f, unsigned n) {
    uint64_t* regs[16] = {&f.rax, &f.rcx, &f.rdx, &f.rbx, &f.rsp, &f.rbp, &f.rsi, &f.rdi,
                          &f.r8,  &f.r9,  &f.r10, &f.r11, &f.r12, &f.r13, &f.r14, &f.r15};
    return *regs[n & 15];
}

// Skips the memory operand after a ModRM byte (the address itself is known: it is cr2).
bool skip_memory_operand(Insn& in, uint8_t modrm) {
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3) return false;  // a register operand cannot have faulted on the table
    size_t disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
    if (rm == 4) {
        uint8_t sib;
        if (!next(in, sib)) return false;
        if (mod == 0 && (sib & 7) == 5) disp = 4;
    } else if (mod == 0 && rm == 5) {
        disp = 4;  // rip-relative
    }
    in.pos += disp;
    return in.pos <= in.len;
}

// The L1 table and entry that the faulting address lies in, if it is a validated L1 of d
// mapped at cr2 by the vCPU's current tables.
bool locate(Vcpu& v, uint64_t cr2, Mfn& table, unsigned& index) {
    Domain& d = v.domain();
    FrameTable* ft = d.machine().table();
    if (!ft) return false;
    Mfn t = v.kernel_mode ? v.cr3_kernel : v.cr3_user;
    for (unsigned level = 4; level >= 1; --level) {
        if (!ft->owned_by(t, d.id())) return false;
        const PageInfo& pi = ft->info(t);
        if (pi.type != pv_mm::table_type(level) || !pi.type_count) return false;
        uint64_t e = static_cast<const uint64_t*>(d.machine().map(t))[(cr2 >> (12 + 9 * (level - 1))) & 511];
        if (!(e & pv_mm::PTE_P) || (level > 1 && (e & pv_mm::PTE_PS))) return false;
        t = Mfn((e & pv_mm::PTE_ADDR) >> PAGE_SHIFT);
    }
    // t is the frame mapped at cr2: it must itself be one of d's L1 tables.
    if (!ft->owned_by(t, d.id())) return false;
    const PageInfo& target = ft->info(t);
    if (target.type != PageType::l1 || !target.type_count) return false;
    table = t;
    index = unsigned((cr2 & (PAGE_SIZE - 1)) / 8);
    return true;
}

enum class Op { mov, xchg, cmpxchg, and_, or_, xor_, bts, btr, btc };

// The register operand of a ModRM byte; byte registers 4-7 without REX are AH, CH, DH, BH.
uint64_t reg_operand(Insn& in, arch::ExceptionFrame& f, uint8_t modrm, unsigned width, unsigned& index) {
    index = ((modrm >> 3) & 7) | ((in.rex & 4) ? 8 : 0);
    if (width == 1 && !in.rex && index >= 4) return reg(f, index - 4) >> 8;
    return reg(f, index);
}

bool immediate(Insn& in, unsigned bytes, uint64_t& value) {
    if (in.pos + bytes > in.len) return false;
    if (bytes == 1) value = uint64_t(int64_t(int8_t(in.b[in.pos])));
    else {
        int32_t imm;
        __builtin_memcpy(&imm, &in.b[in.pos], 4);
        value = uint64_t(int64_t(imm));
    }
    in.pos += bytes;
    return true;
}

// Group 1 (80/81/83 /n): the logical operations a kernel uses on entries (or, and, xor).
bool group1(unsigned n, Op& op) {
    switch (n) {
    case 1: op = Op::or_; return true;
    case 4: op = Op::and_; return true;
    case 6: op = Op::xor_; return true;
    default: return false;
    }
}

// Two-byte opcodes: cmpxchg, and bts/btr/btc with a register or immediate bit number.
bool decode_0f(Insn& in, arch::ExceptionFrame& f, Op& op, uint64_t& src, unsigned width, unsigned& reg_index) {
    uint8_t b, modrm;
    if (!next(in, b) || !next(in, modrm) || !skip_memory_operand(in, modrm)) return false;
    switch (b) {
    case 0xb1: op = Op::cmpxchg; break;
    case 0xab: op = Op::bts; break;
    case 0xb3: op = Op::btr; break;
    case 0xbb: op = Op::btc; break;
    case 0xba: {
        unsigned n = (modrm >> 3) & 7;
        if (n < 5) return false;  // bt only reads
        op = n == 5 ? Op::bts : n == 6 ? Op::btr : Op::btc;
        return immediate(in, 1, src) && ((src &= 0xff), true);
    }
    default: return false;
    }
    src = reg_operand(in, f, modrm, width, reg_index);
    return true;
}

// Decodes the write; gives the operation, the source value and its width (1, 4 or 8 bytes).
bool decode(Insn& in, arch::ExceptionFrame& f, Op& op, uint64_t& src, unsigned& width, unsigned& reg_index) {
    uint8_t b;
    for (;;) {
        if (!next(in, b)) return false;
        if (b == 0xf0) continue;  // lock: the emulated write is atomic anyway
        if (b == 0x66) {
            in.opsize16 = true;
            continue;
        }
        break;
    }
    if ((b & 0xf0) == 0x40) {
        in.rex = b;
        if (!next(in, b)) return false;
    }
    if (in.opsize16) return false;  // 2-byte writes to page-table entries are not supported
    bool byte_op = b == 0x88 || b == 0xc6 || b == 0x80 || b == 0x08 || b == 0x20 || b == 0x30;
    width = byte_op ? 1 : (in.rex & 8) ? 8 : 4;
    uint8_t modrm;
    switch (b) {
    case 0x88: case 0x89: op = Op::mov; break;     // mov r/m, reg
    case 0x87: op = Op::xchg; break;               // xchg r/m, reg
    case 0x08: case 0x09: op = Op::or_; break;     // or r/m, reg
    case 0x20: case 0x21: op = Op::and_; break;    // and r/m, reg
    case 0x30: case 0x31: op = Op::xor_; break;    // xor r/m, reg
    case 0xc6: case 0xc7:                          // mov r/m, imm (imm32 sign-extended)
        op = Op::mov;
        if (!next(in, modrm) || ((modrm >> 3) & 7) != 0 || !skip_memory_operand(in, modrm)) return false;
        return immediate(in, width == 1 ? 1 : 4, src);
    case 0x80: case 0x81: case 0x83:               // or/and/xor r/m, imm
        if (!next(in, modrm) || !group1((modrm >> 3) & 7, op) || !skip_memory_operand(in, modrm)) return false;
        return immediate(in, b == 0x81 ? 4 : 1, src);
    case 0x0f: return decode_0f(in, f, op, src, width, reg_index);
    default: return false;
    }
    if (!next(in, modrm) || !skip_memory_operand(in, modrm)) return false;
    src = reg_operand(in, f, modrm, width, reg_index);
    return true;
}

uint64_t mask_of(unsigned width) { return width == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * width)) - 1; }

constexpr uint64_t RFLAGS_CF = 1u << 0, RFLAGS_PF = 1u << 2, RFLAGS_SF = 1u << 7, RFLAGS_OF = 1u << 11;

// The flags a logical operation leaves: CF and OF clear, ZF, SF and PF from the result.
void logical_flags(arch::ExceptionFrame& f, uint64_t result, unsigned width) {
    f.rflags &= ~(RFLAGS_CF | RFLAGS_PF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF);
    if (!result) f.rflags |= RFLAGS_ZF;
    if ((result >> (8 * width - 1)) & 1) f.rflags |= RFLAGS_SF;
    if (!(__builtin_popcount(unsigned(result & 0xff)) & 1)) f.rflags |= RFLAGS_PF;
}

// The new value of the operand for a read-modify-write operation; sets the flags it defines.
// False for a bit number outside the operand (which would address another entry).
bool modify(Op op, uint64_t old_part, uint64_t src, unsigned width, arch::ExceptionFrame& f, uint64_t& out) {
    switch (op) {
    case Op::and_: out = old_part & src; break;
    case Op::or_: out = old_part | src; break;
    case Op::xor_: out = old_part ^ src; break;
    case Op::bts: case Op::btr: case Op::btc: {
        if (src >= 8 * width) return false;
        uint64_t m = uint64_t{1} << src;
        f.rflags = (old_part & m) ? (f.rflags | RFLAGS_CF) : (f.rflags & ~RFLAGS_CF);
        out = op == Op::bts ? (old_part | m) : op == Op::btr ? (old_part & ~m) : (old_part ^ m);
        return true;
    }
    default: out = src; return true;
    }
    out &= mask_of(width);
    logical_flags(f, out, width);
    return true;
}

}  // namespace

bool emulate(Vcpu& v, arch::ExceptionFrame& f, uint64_t cr2) {
    Domain& d = v.domain();
    // The assist turns it on; the control domain always has it (Xen tries read-only page
    // emulation for the hardware domain whatever its assists).
    bool enabled = (d.vm_assist & (1u << VMASST_TYPE_writable_pagetables)) || d.privileged();
    if (!enabled || !v.kernel_mode) return false;
    Mfn table;
    unsigned index;
    if (!locate(v, cr2, table, index)) return false;
    Insn in;
    while (in.len < MAX_INSN && guest::copy_from(&in.b[in.len], Gva(f.rip + in.len), 1)) ++in.len;
    Op op;
    uint64_t src;
    unsigned width, reg_index = 0;
    if (!decode(in, f, op, src, width, reg_index)) return false;
    unsigned shift = unsigned(cr2 & 7) * 8;
    if ((cr2 & 7) + width > 8) return false;  // a write across two entries
    uint64_t* entry = &static_cast<uint64_t*>(d.machine().map(table))[index];
    uint64_t old = *entry;
    uint64_t old_part = (old >> shift) & mask_of(width);
    if (op == Op::cmpxchg) {
        uint64_t expected = f.rax & mask_of(width);
        if (old_part != expected) {
            f.rax = old_part;  // a 32-bit cmpxchg zero-extends into rax
            f.rflags &= ~RFLAGS_ZF;
            f.rip += in.pos;
            return true;
        }
        f.rflags |= RFLAGS_ZF;
    }
    arch::ExceptionFrame flags_after = f;  // the flags change only if the write is done
    uint64_t part;
    if (!modify(op, old_part, src & mask_of(width), width, flags_after, part)) return false;
    uint64_t value = (old & ~(mask_of(width) << shift)) | (part << shift);
    if (pv_mm::update_entry(d, table, index, value, false)) return false;
    f.rflags = flags_after.rflags;
    if (op == Op::xchg) reg(f, reg_index) = old_part;  // 32-bit: zero-extended, as on hardware
    f.rip += in.pos;
    return true;
}

}  // namespace pv_ptwr
