// Exceptions of a 64-bit PV guest, and a way for tests to provoke them and look at the result.
//
// The hypervisor bounces an exception to the handler registered with set_trap_table by
// building this frame on the guest kernel stack (the current one when the guest was in kernel
// mode, the one from stack_switch when it was in user mode), 16-byte aligned first, lowest
// address first:
//     rcx, r11, [error code, for vectors that have one], rip, cs, rflags, rsp, ss
// rcx and r11 are the guest's own values (they are lost to the `syscall` the hypervisor
// returns with). In the cs slot, bits 0-15 are the selector with RPL 0 when the guest was in
// kernel mode (so a handler can tell kernel from user by cs & 3) and bits 32-39 hold the event
// mask as it was before the bounce; rflags.IF is the inverse of that mask. A handler returns
// through the iret hypercall with the frame in struct iret_context order.
//
// Our stubs pop rcx and r11 back into their registers, push a zero error code where the CPU
// pushes none, push the vector and the general registers, and call kt_trap_dispatch() with a
// TrapFrame; what the dispatcher leaves in the frame is where iret goes.
#pragma once

#include <cstdint>

#include <xen/xen.h>

namespace kt {

struct TrapFrame {
    std::uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;  // pushed by our stub
    std::uint64_t vector, error_code;  // pushed by our stub (error code: the hypervisor's or 0)
    std::uint64_t rip, cs, rflags, rsp, ss;  // built by the hypervisor
};
static_assert(sizeof(TrapFrame) == 22 * 8);
static_assert(__builtin_offsetof(TrapFrame, vector) == 15 * 8);
static_assert(__builtin_offsetof(TrapFrame, rip) == 17 * 8);

// What a caught trap looked like.
struct TrapRecord {
    std::uint64_t vector = ~0ull;
    std::uint64_t error_code = 0;
    std::uint64_t rip = 0, cs = 0, rflags = 0, rsp = 0, ss = 0;
    std::uint64_t rcx = 0, r11 = 0, rax = 0;
    std::uint64_t cr2 = 0;  // vcpu_info arch.cr2 as the handler saw it (page faults)
    std::uint8_t upcall_mask = 0;  // vcpu_info evtchn_upcall_mask as the handler found it
    std::uint64_t frame_end = 0;  // address just past the ss slot of the hypervisor's frame
};

// A recovery point: kt_trap_catch() pushes one, a caught trap (or a return from guest user
// mode) resumes it. Offsets are used by the assembly in traps.cpp.
struct Catch {
    Catch* prev;          // 0
    std::uint64_t rsp;    // 8
    TrapRecord* record;   // 16
};
static_assert(__builtin_offsetof(Catch, prev) == 0);
static_assert(__builtin_offsetof(Catch, rsp) == 8);
static_assert(__builtin_offsetof(Catch, record) == 16);

inline constexpr int caught_none = 0;     // fn returned normally
inline constexpr int caught_trap = 1;     // an exception was bounced to us
inline constexpr int caught_syscall = 2;  // guest user mode came back with `syscall`

// Vectors whose exceptions carry an error code (Intel SDM vol. 3 table 6-1).
constexpr bool vector_has_error_code(unsigned v)
{
    return v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21
           || v == 29 || v == 30;
}

// The entry stub for an exception vector (0-31), or for int 0x80 (vector 0x80).
std::uint64_t trap_entry(unsigned vector);
// Registers a handler for every vector 0-31 (int3 and into callable from user mode).
void install_default_traps();
// Fills `table` (at least 33 entries) the way install_default_traps() does; returns the count.
unsigned default_trap_table(trap_info* table);

// Runs fn(arg); if an exception is bounced to us meanwhile, fills *record, abandons fn and
// returns caught_trap. Nested calls are allowed: the innermost one catches.
extern "C" int kt_trap_catch(void (*fn)(void*), void* arg, Catch* ctx);

template <typename F> int catch_trap(F&& fn, TrapRecord& record)
{
    Catch ctx{nullptr, 0, &record};
    auto call = [&fn] { fn(); };
    return kt_trap_catch([](void* p) { (*static_cast<decltype(call)*>(p))(); }, &call, &ctx);
}

// Runs `insn` (asm text) with the address of its first byte stored in `where` first; for
// tests that expect `insn` to fault at a known rip.
#define KT_AT(where, insn) asm volatile("leaq 1f(%%rip), %%rax\n movq %%rax, %0\n1: " insn "\n" : "=m"(where) : : "rax", "memory")

} // namespace kt
