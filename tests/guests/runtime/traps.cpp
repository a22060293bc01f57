// Exception entry stubs, the dispatcher and the catch/resume mechanism. See traps.hpp.
#include "traps.hpp"

#include <xen/xen.h>

#include "console.hpp"
#include "hypercall.hpp"
#include "lib.hpp"
#include "runtime.hpp"

extern "C" {
kt::Catch* kt_catch_top;
extern const std::uint64_t kt_trap_stubs[33];
void kt_trap_dispatch(kt::TrapFrame* frame);
void kt_catch_resume();
}

namespace kt {
namespace {

// Entry stubs (one per vector, table kt_trap_stubs[]), the common path, and the catch point.
// Kept in one extended asm statement so that the iret stub's offset in the hypercall page
// comes from <xen/xen.h>.
[[gnu::used]] void trap_stubs()
{
    asm volatile(R"(
    .pushsection .text, "ax"
    .macro kt_stub vector, has_ec
    .balign 16
kt_trap_\vector:
    pop %%rcx
    pop %%r11
    .if \has_ec == 0
    pushq $0
    .endif
    pushq $\vector
    jmp kt_trap_common
    .endm

    .irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,31,128
    kt_stub \v, 0
    .endr
    .irp v, 8,10,11,12,13,14,17,21,29,30
    kt_stub \v, 1
    .endr

kt_trap_common:
    push %%rax
    push %%rbx
    push %%rcx
    push %%rdx
    push %%rsi
    push %%rdi
    push %%rbp
    push %%r8
    push %%r9
    push %%r10
    push %%r11
    push %%r12
    push %%r13
    push %%r14
    push %%r15
    cld
    mov %%rsp, %%rdi
    mov %%rsp, %%rbx
    and $-16, %%rsp
    call kt_trap_dispatch
    mov %%rbx, %%rsp
    pop %%r15
    pop %%r14
    pop %%r13
    pop %%r12
    pop %%r11
    pop %%r10
    pop %%r9
    pop %%r8
    pop %%rbp
    pop %%rdi
    pop %%rsi
    pop %%rdx
    pop %%rcx
    pop %%rbx
    pop %%rax
    add $16, %%rsp
    // iret hypercall: flags word (0: restore rcx and r11 too), then the stub pushes
    // rcx, r11 and rax itself.
    pushq $0
    jmp hypercall_page + %c[iret]

    // int kt_trap_catch(void (*fn)(void*), void* arg, Catch* ctx)
    .globl kt_trap_catch
kt_trap_catch:
    push %%rbx
    push %%rbp
    push %%r12
    push %%r13
    push %%r14
    push %%r15
    mov %%rsp, 8(%%rdx)
    mov kt_catch_top(%%rip), %%rax
    mov %%rax, 0(%%rdx)
    mov %%rdx, kt_catch_top(%%rip)
    mov %%rdx, %%rbx
    sub $8, %%rsp
    mov %%rdi, %%rax
    mov %%rsi, %%rdi
    call *%%rax
    add $8, %%rsp
    mov 0(%%rbx), %%rax
    mov %%rax, kt_catch_top(%%rip)
    xor %%eax, %%eax
    jmp kt_catch_return

    // Entered by iret (from the dispatcher) or a jump (from the syscall callback) with rsp
    // at the saved callee-saved registers and eax = what kt_trap_catch returns.
    .globl kt_catch_resume
kt_catch_resume:
    mov $1, %%eax
    .globl kt_catch_return
kt_catch_return:
    pop %%r15
    pop %%r14
    pop %%r13
    pop %%r12
    pop %%rbp
    pop %%rbx
    ret

    .pushsection .rodata
    .balign 8
    .globl kt_trap_stubs
kt_trap_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,128
    .quad kt_trap_\v
    .endr
    .popsection
    .popsection
    )"
                 :
                 : [iret] "i"(__HYPERVISOR_iret * hypercall_stub_size));
}

void report_unexpected(const TrapFrame& f)
{
    print("unexpected trap: vector {} error {x} at rip {x} cs {x} rflags {x} rsp {x} cr2 {x}\n", f.vector,
          f.error_code, f.rip, f.cs, f.rflags, f.rsp, vcpu0()->arch.cr2);
}

} // namespace

std::uint64_t trap_entry(unsigned vector) { return kt_trap_stubs[vector == 0x80 ? 32 : vector]; }

unsigned default_trap_table(trap_info* table)
{
    unsigned n = 0;
    for (unsigned v = 0; v < 32; ++v) {
        trap_info& t = table[n++];
        t.vector = static_cast<std::uint8_t>(v);
        // Bits 0-1: the lowest privilege level allowed to raise the vector with int n; 3 for
        // int3 and into, as on bare metal, 0 for the rest (an int n from user mode then
        // becomes #GP). Bit 2 clear: events keep their mask state in the handler.
        t.flags = (v == 3 || v == 4) ? 3 : 0;
        t.cs = FLAT_KERNEL_CS;
        t.address = trap_entry(v);
    }
    table[n] = trap_info{};  // address 0 ends the table
    return n;
}

void install_default_traps()
{
    static trap_info table[33];
    default_trap_table(table);
    if (set_trap_table(table) != 0)
        fatal("set_trap_table refused the default table");
}

} // namespace kt

extern "C" void kt_trap_dispatch(kt::TrapFrame* f)
{
    using namespace kt;
    Catch* c = kt_catch_top;
    if (c == nullptr) {
        report_unexpected(*f);
        fatal("exception with no catch point");
    }
    TrapRecord& r = *c->record;
    r.vector = f->vector;
    r.error_code = f->error_code;
    r.rip = f->rip;
    r.cs = f->cs;
    r.rflags = f->rflags;
    r.rsp = f->rsp;
    r.ss = f->ss;
    r.rcx = f->rcx;
    r.r11 = f->r11;
    r.rax = f->rax;
    r.cr2 = vcpu0()->arch.cr2;
    r.upcall_mask = vcpu0()->evtchn_upcall_mask;
    r.frame_end = reinterpret_cast<std::uint64_t>(&f->ss + 1);
    kt_catch_top = c->prev;
    // Resume the catch point in guest kernel mode (RPL 0 in cs: the iret hypercall switches to
    // user mode only for RPL 3), events masked as they are everywhere in test kernels.
    f->rip = reinterpret_cast<std::uint64_t>(&kt_catch_resume);
    f->cs = FLAT_KERNEL_CS & ~3u;
    f->ss = FLAT_KERNEL_SS & ~3u;
    f->rsp = c->rsp;
    f->rflags &= ~rflags_if;
}
