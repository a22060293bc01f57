#include "user.hpp"

#include <xen/callback.h>
#include <xen/xen.h>

#include "console.hpp"
#include "hypercall.hpp"
#include "lib.hpp"
#include "runtime.hpp"

namespace {

[[gnu::aligned(16)]] unsigned char user_stack[16384];
[[gnu::aligned(16)]] unsigned char kernel_trap_stack[16384];

struct UserEntry {
    std::uint64_t fn;     // 0
    std::uint64_t arg;    // 8
    std::uint64_t stack;  // 16
    std::uint64_t rflags; // 24
};
// kt_user_enter reads these offsets.
static_assert(__builtin_offsetof(UserEntry, fn) == 0);
static_assert(__builtin_offsetof(UserEntry, arg) == 8);
static_assert(__builtin_offsetof(UserEntry, stack) == 16);
static_assert(__builtin_offsetof(UserEntry, rflags) == 24);

} // namespace

extern "C" {
extern kt::Catch* kt_catch_top;
void kt_user_enter(void* entry);
std::uint64_t kt_syscall_saved[10];  // rax, rcx, r11, rip, cs, rflags, rsp, ss, frame address, mask
// Where the syscall entry finds vcpu 0's event mask (set by user_mode_init).
std::uint8_t* kt_upcall_mask_ptr;
}

namespace kt {
namespace {

[[gnu::used]] void user_stubs()
{
    asm volatile(R"(
    .pushsection .text, "ax"
    // void kt_user_enter(UserEntry*): iret to kt_user_trampoline in user mode, events masked.
    .globl kt_user_enter
kt_user_enter:
    mov 16(%%rdi), %%rax
    pushq %[uss]
    pushq %%rax
    pushq 24(%%rdi)
    pushq %[ucs]
    leaq kt_user_trampoline(%%rip), %%rax
    pushq %%rax
    pushq $0
    mov 8(%%rdi), %%rsi
    mov 0(%%rdi), %%rdi
    jmp hypercall_page + %c[iret]

    // Runs in guest user mode: rax = fn(arg), then back to the kernel.
kt_user_trampoline:
    mov %%rdi, %%rax
    mov %%rsi, %%rdi
    call *%%rax
    syscall
    ud2

    // The syscall callback: frame rcx, r11, rip, cs, rflags, rsp, ss on the kernel stack.
    .globl kt_syscall_entry
kt_syscall_entry:
    mov %%rax, kt_syscall_saved(%%rip)
    mov %%rsp, kt_syscall_saved+64(%%rip)
    mov kt_upcall_mask_ptr(%%rip), %%rax
    movzbq (%%rax), %%rax
    mov %%rax, kt_syscall_saved+72(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+8(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+16(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+24(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+32(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+40(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+48(%%rip)
    pop %%rax
    mov %%rax, kt_syscall_saved+56(%%rip)
    mov kt_catch_top(%%rip), %%rdx
    test %%rdx, %%rdx
    jz 1f
    mov 0(%%rdx), %%rax
    mov %%rax, kt_catch_top(%%rip)
    mov 8(%%rdx), %%rsp
    mov $2, %%eax
    jmp kt_catch_return
1:  ud2
    .popsection
    )"
                 :
                 : [iret] "i"(__HYPERVISOR_iret * hypercall_stub_size), [ucs] "i"(FLAT_USER_CS | 3),
                   [uss] "i"(FLAT_USER_SS | 3));
}

bool initialised = false;

} // namespace

bool user_mode_init()
{
    if (initialised)
        return true;
    kt_upcall_mask_ptr = &vcpu0()->evtchn_upcall_mask;
    mmuext_op_t op{};
    op.cmd = MMUEXT_NEW_USER_BASEPTR;
    op.arg1.mfn = virt_to_mfn(reinterpret_cast<void*>(start_info()->pt_base));
    unsigned done = 0;
    if (mmuext_op(&op, 1, &done, DOMID_SELF) != 0) {
        print("user_mode_init: MMUEXT_NEW_USER_BASEPTR refused\n");
        return false;
    }
    callback_register_t cb{};
    cb.type = CALLBACKTYPE_syscall;
    cb.flags = CALLBACKF_mask_events;
    cb.address = reinterpret_cast<std::uint64_t>(&kt_syscall_entry);
    if (callback_op(CALLBACKOP_register, &cb) != 0) {
        print("user_mode_init: syscall callback refused\n");
        return false;
    }
    initialised = true;
    return true;
}

UserRun run_user(std::uint64_t (*fn)(std::uint64_t), std::uint64_t arg, std::uint64_t kernel_stack_top,
                 bool events_enabled)
{
    UserRun run;
    if (!user_mode_init())
        fatal("user mode unavailable");
    // Exceptions and syscalls from user mode land on this stack; each run starts it afresh.
    if (kernel_stack_top == 0)
        kernel_stack_top = reinterpret_cast<std::uint64_t>(kernel_trap_stack + sizeof kernel_trap_stack);
    if (stack_switch(FLAT_KERNEL_SS, kernel_stack_top) != 0)
        fatal("stack_switch refused");
    UserEntry entry{reinterpret_cast<std::uint64_t>(fn), arg,
                    reinterpret_cast<std::uint64_t>(user_stack + sizeof user_stack),
                    // Bit 1 is always set in rflags; IF becomes the inverse of the event mask.
                    events_enabled ? 0x202u : 0x2u};
    Catch ctx{nullptr, 0, &run.trap};
    run.how = kt_trap_catch([](void* p) { kt_user_enter(p); }, &entry, &ctx);
    if (run.how == caught_syscall) {
        run.value = kt_syscall_saved[0];
        run.rcx = kt_syscall_saved[1];
        run.r11 = kt_syscall_saved[2];
        run.rip = kt_syscall_saved[3];
        run.cs = kt_syscall_saved[4];
        run.rflags = kt_syscall_saved[5];
        run.rsp = kt_syscall_saved[6];
        run.ss = kt_syscall_saved[7];
        run.frame_address = kt_syscall_saved[8];
        run.upcall_mask = kt_syscall_saved[9];
    }
    return run;
}

} // namespace kt
