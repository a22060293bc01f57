// user_mode: guest user mode entered with the iret hypercall (cs with RPL 3) and left with
// `syscall`, which the hypervisor bounces to the CALLBACKTYPE_syscall callback on the kernel
// stack from stack_switch; exceptions and int n from user mode bounce the same way, with RPL 3
// in the saved cs. (The user/kernel page-table split is not tested here: user mode runs on
// the kernel's own top-level table.)
#include <xen/callback.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

std::uint64_t user_add(std::uint64_t x) { return x + 1000; }

std::uint64_t user_cs_ss(std::uint64_t)
{
    std::uint64_t cs = 0, ss = 0;
    asm volatile("mov %%cs, %0\n mov %%ss, %1" : "=r"(cs), "=r"(ss));
    return (cs << 16) | ss;
}

std::uint64_t user_ud2(std::uint64_t)
{
    asm volatile("ud2");
    return 0;
}

std::uint64_t user_int3(std::uint64_t)
{
    asm volatile("int3");
    return 0;
}

std::uint64_t user_int80(std::uint64_t)
{
    asm volatile("int $0x80");
    return 0;
}

std::uint64_t user_read_kernel_stack_pointer(std::uint64_t p) { return *reinterpret_cast<volatile std::uint64_t*>(p); }

// A hypercall attempted from user mode: the stub's `syscall` is just a system call there.
std::uint64_t user_hypercall(std::uint64_t)
{
    std::uint64_t rax = 0;
    asm volatile("call hypercall_page + %c[off]"
                 : "=a"(rax)
                 : [off] "i"(__HYPERVISOR_xen_version * kt::hypercall_stub_size), "D"(0), "S"(0)
                 : "rcx", "r11", "rdx", "r8", "r10", "memory");
    return rax;  // not reached: the syscall ends the user run
}

bool from_user(std::uint64_t cs) { return (cs & 3) == 3; }

} // namespace

TEST(user_run_returns_through_syscall)
{
    ASSERT_TRUE(kt::user_mode_init());
    const kt::UserRun run = kt::run_user(user_add, 23);
    ASSERT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value, 1023u);
}

TEST(user_mode_runs_on_user_selectors)
{
    const kt::UserRun run = kt::run_user(user_cs_ss, 0);
    ASSERT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value >> 16, static_cast<std::uint64_t>(FLAT_USER_CS | 3));
    EXPECT_EQ(run.value & 0xffff, static_cast<std::uint64_t>(FLAT_USER_SS | 3));
}

TEST(syscall_frame)
{
    const kt::UserRun run = kt::run_user(user_add, 1);
    ASSERT_EQ(run.how, kt::caught_syscall);
    kt::print("syscall frame: rcx {x} r11 {x} rip {x} cs {x} rflags {x} rsp {x} ss {x} at {x}\n", run.rcx, run.r11,
              run.rip, run.cs, run.rflags, run.rsp, run.ss, run.frame_address);
    EXPECT_TRUE(from_user(run.cs));
    EXPECT_EQ(run.cs & 0xffff, static_cast<std::uint64_t>(FLAT_USER_CS | 3));
    EXPECT_EQ(run.ss & 0xffff, static_cast<std::uint64_t>(FLAT_USER_SS | 3));
    // `syscall` leaves the return address in rcx, and that is where the frame says to go.
    EXPECT_EQ(run.rcx, run.rip);
    EXPECT_GE(run.rip, kt::virt_base);
    // The frame (7 words, no error code) sits at the top of the stack_switch stack.
    EXPECT_EQ((run.frame_address + 7 * 8) % 16, 0u);
    // The callback was registered with CALLBACKF_mask_events.
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_mask, 1u);
}

TEST(syscall_callback_event_masking)
{
    // User mode with events unmasked: the frame's saved mask is 0 and rflags.IF set; the
    // callback runs with events masked only when registered with CALLBACKF_mask_events.
    ASSERT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);
    const kt::UserRun masked = kt::run_user(user_add, 0, 0, true);
    kt::vcpu0()->evtchn_upcall_mask = 1;
    ASSERT_EQ(masked.how, kt::caught_syscall);
    EXPECT_EQ((masked.cs >> 32) & 0xff, 0u);
    EXPECT_NE(masked.rflags & kt::rflags_if, 0u);
    EXPECT_EQ(masked.upcall_mask, 1u);

    callback_register_t cb{};
    cb.type = CALLBACKTYPE_syscall;
    cb.flags = 0;
    cb.address = reinterpret_cast<std::uint64_t>(&kt::kt_syscall_entry);
    ASSERT_EQ(kt::callback_op(CALLBACKOP_register, &cb), 0);
    const kt::UserRun open = kt::run_user(user_add, 0, 0, true);
    kt::vcpu0()->evtchn_upcall_mask = 1;
    cb.flags = CALLBACKF_mask_events;
    ASSERT_EQ(kt::callback_op(CALLBACKOP_register, &cb), 0);
    ASSERT_EQ(open.how, kt::caught_syscall);
    EXPECT_EQ(open.upcall_mask, 0u);
}

TEST(exception_from_user_mode)
{
    const kt::UserRun run = kt::run_user(user_ud2, 0);
    ASSERT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 6u);
    EXPECT_TRUE(from_user(run.trap.cs));
    EXPECT_EQ(run.trap.cs & 0xffff, static_cast<std::uint64_t>(FLAT_USER_CS | 3));
    EXPECT_EQ(run.trap.frame_end % 16, 0u);
}

TEST(int3_allowed_from_user_mode)
{
    const kt::UserRun run = kt::run_user(user_int3, 0);
    ASSERT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 3u);
    EXPECT_TRUE(from_user(run.trap.cs));
}

TEST(int80_without_user_gate_is_gp)
{
    // Nothing registered for 0x80: the int is a #GP whose error code names IDT entry 0x80.
    const kt::UserRun run = kt::run_user(user_int80, 0);
    ASSERT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 13u);
    EXPECT_EQ(run.trap.error_code, (0x80u << 3) | 2u);
}

TEST(int80_with_user_gate_bounces)
{
    trap_info table[2] = {};
    table[0].vector = 0x80;
    table[0].flags = 3;  // callable from user mode
    table[0].cs = FLAT_KERNEL_CS;
    table[0].address = kt::trap_entry(0x80);
    ASSERT_EQ(kt::set_trap_table(table), 0);
    const kt::UserRun run = kt::run_user(user_int80, 0);
    ASSERT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 0x80u);
    EXPECT_TRUE(from_user(run.trap.cs));

    // Xen's int 0x80 fast path only asks whether a handler is registered, not its DPL: with
    // DPL 0 the int is still delivered as vector 0x80 (every other vector would be #GP).
    table[0].flags = 0;
    ASSERT_EQ(kt::set_trap_table(table), 0);
    const kt::UserRun again = kt::run_user(user_int80, 0);
    ASSERT_EQ(again.how, kt::caught_trap);
    EXPECT_EQ(again.trap.vector, 0x80u);

    // Unregistering it (address 0 ends a table, so clear the whole table and reinstall the
    // defaults) brings the #GP back.
    ASSERT_EQ(kt::set_trap_table(nullptr), 0);
    kt::install_default_traps();
    const kt::UserRun gone = kt::run_user(user_int80, 0);
    ASSERT_EQ(gone.how, kt::caught_trap);
    EXPECT_EQ(gone.trap.vector, 13u);
    EXPECT_EQ(gone.trap.error_code, (0x80u << 3) | 2u);
}

TEST(int_n_from_user_respects_dpl)
{
    // Vector 4 (into) is registered with DPL 3 by the runtime, vector 5 with DPL 0.
    const kt::UserRun four = kt::run_user([](std::uint64_t) -> std::uint64_t { asm volatile("int $4"); return 0; }, 0);
    ASSERT_EQ(four.how, kt::caught_trap);
    EXPECT_EQ(four.trap.vector, 4u);
    const kt::UserRun five = kt::run_user([](std::uint64_t) -> std::uint64_t { asm volatile("int $5"); return 0; }, 0);
    ASSERT_EQ(five.how, kt::caught_trap);
    kt::print("int $5 from user: vector {} error {x} rip {x}\n", five.trap.vector, five.trap.error_code, five.trap.rip);
    EXPECT_EQ(five.trap.vector, 13u);
    // Hardware reports (5 << 3) | 2 (IDT entry 5); QEMU 7.2's TCG reports (5 << 4) | 2 (it
    // scales by the 16-byte long-mode gate size), and Xen passes the #GP on as it got it. So
    // only "an IDT entry, not an external event" is checked, plus the rip of the int.
    EXPECT_EQ(five.trap.error_code & 3, 2u);
    EXPECT_TRUE(five.trap.error_code == ((5u << 3) | 2u) || five.trap.error_code == ((5u << 4) | 2u));
}

TEST(user_page_fault_has_user_bit)
{
    const kt::UserRun run = kt::run_user(user_read_kernel_stack_pointer, 0x2000);
    ASSERT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 14u);
    EXPECT_EQ(run.trap.cr2, 0x2000u);
    EXPECT_EQ(run.trap.error_code, 4u);  // user, read, not present
}

TEST(hypercall_from_user_mode_is_a_syscall)
{
    const kt::UserRun run = kt::run_user(user_hypercall, 0);
    ASSERT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value, static_cast<std::uint64_t>(__HYPERVISOR_xen_version));
}
