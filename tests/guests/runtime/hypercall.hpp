// Hypercalls of a 64-bit PV guest: a near call into the hypercall page, which the hypervisor
// fills with one 32-byte stub per hypercall number (the stub loads the number into rax and
// executes `syscall`). Arguments travel in rdi, rsi, rdx, r10 and r8, the result comes back in
// rax, and rcx and r11 are lost to `syscall`. The hypervisor may also scribble on argument
// registers it did not use (Xen's debug builds do), so every one is an in/out operand here.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xen/xen.h>

extern "C" unsigned char hypercall_page[4096];

// Guard against the pre-3.0.2 interface names: the compat sched_op (6) and event_channel_op (16)
// take their arguments differently, and a test kernel must speak today's ABI.
static_assert(__HYPERVISOR_sched_op != __HYPERVISOR_sched_op_compat, "build with the current Xen interface version");

namespace kt {

inline constexpr std::size_t hypercall_stub_size = 32;

// Any hypercall by number, including numbers the hypervisor does not implement.
inline long hypercall(unsigned nr, std::uint64_t a1 = 0, std::uint64_t a2 = 0, std::uint64_t a3 = 0,
                      std::uint64_t a4 = 0, std::uint64_t a5 = 0)
{
    register std::uint64_t r10 asm("r10") = a4;
    register std::uint64_t r8 asm("r8") = a5;
    void* entry = hypercall_page + nr * hypercall_stub_size;
    long result;
    asm volatile("call *%[entry]"
                 : "=a"(result), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                 : [entry] "r"(entry)
                 : "rcx", "r11", "memory");
    return result;
}

template <typename T> inline std::uint64_t arg(T* p) { return reinterpret_cast<std::uint64_t>(p); }

inline long console_write(const char* text, std::size_t length)
{
    return hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, length, arg(text));
}

inline long sched_op(int cmd, void* a) { return hypercall(__HYPERVISOR_sched_op, cmd, arg(a)); }
inline long xen_version(int cmd, void* a) { return hypercall(__HYPERVISOR_xen_version, cmd, arg(a)); }
inline long set_trap_table(const trap_info* table) { return hypercall(__HYPERVISOR_set_trap_table, arg(table)); }
inline long stack_switch(std::uint64_t ss, std::uint64_t sp) { return hypercall(__HYPERVISOR_stack_switch, ss, sp); }
inline long set_segment_base(unsigned which, std::uint64_t base)
{
    return hypercall(__HYPERVISOR_set_segment_base, which, base);
}
inline long callback_op(int cmd, const void* a) { return hypercall(__HYPERVISOR_callback_op, cmd, arg(a)); }
inline long fpu_taskswitch(int set) { return hypercall(__HYPERVISOR_fpu_taskswitch, set); }
inline long set_debugreg(int reg, std::uint64_t value) { return hypercall(__HYPERVISOR_set_debugreg, reg, value); }
inline long get_debugreg(int reg) { return hypercall(__HYPERVISOR_get_debugreg, reg); }
inline long vm_assist(unsigned cmd, unsigned type) { return hypercall(__HYPERVISOR_vm_assist, cmd, type); }
inline long update_va_mapping(std::uint64_t va, std::uint64_t pte, std::uint64_t flags)
{
    return hypercall(__HYPERVISOR_update_va_mapping, va, pte, flags);
}
inline long evtchn_op(int cmd, void* a) { return hypercall(__HYPERVISOR_event_channel_op, cmd, arg(a)); }
inline long mmuext_op(mmuext_op_t* ops, unsigned count, unsigned* done, domid_t dom)
{
    return hypercall(__HYPERVISOR_mmuext_op, arg(ops), count, arg(done), dom);
}
// One MMUEXT op naming a frame (arg1.mfn: pin, unpin, new_baseptr, ...), with an optional vCPU
// mask in arg2, on the page tables of `dom`.
inline long mmuext_mfn(unsigned cmd, std::uint64_t mfn, domid_t dom = DOMID_SELF, const void* arg2 = nullptr)
{
    mmuext_op_t op{};
    op.cmd = cmd;
    op.arg1.mfn = mfn;
    op.arg2.vcpumask.p = arg2;
    unsigned done = 0;
    return mmuext_op(&op, 1, &done, dom);
}

// Ends the domain: SCHEDOP_shutdown with the given reason never returns on success.
[[noreturn]] void shutdown(unsigned reason);

} // namespace kt
