// privileged: what happens to privileged instructions in a 64-bit PV guest. The guest kernel
// runs in ring 3 with IOPL 0 (no PHYSDEVOP_set_iopl here), so each of these raises #GP in
// hardware; the hypervisor then either emulates the instruction for the kernel or bounces the
// #GP(0) to it. From guest user mode every one of them is a #GP(0).
//   kernel: cli/sti (virtual IOPL 0), hlt, in/out, wrmsr/rdmsr of an MSR that does not exist,
//           lgdt and mov to cr3 -> #GP(0); mov from cr0 is emulated (TS from fpu_taskswitch).
// With PHYSDEVOP_set_iopl the virtual IOPL changes that: at IOPL >= 1 the kernel's in/out are
// emulated (ports the domain may not use read as all ones and writes to them are dropped - the
// hypervisor's own UART among them) and cli/sti are accepted but ignored (the event mask does
// not change); user mode needs IOPL 3.
#include <xen/errno.h>
#include <xen/physdev.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

// An MSR index in no architecture's range (neither 0-0x1fff, 0x40000000s nor 0xc000xxxx).
constexpr std::uint32_t no_such_msr = 0x3fff0123;

void op_cli() { asm volatile("cli"); }
void op_sti() { asm volatile("sti"); }
void op_hlt() { asm volatile("hlt"); }
void op_in() { std::uint8_t v; asm volatile("inb $0x80, %0" : "=a"(v)); }
void op_out() { asm volatile("outb %0, $0x80" : : "a"(std::uint8_t{0})); }
void op_wrmsr() { asm volatile("wrmsr" : : "c"(no_such_msr), "a"(0), "d"(0)); }
void op_rdmsr() { std::uint32_t a, d; asm volatile("rdmsr" : "=a"(a), "=d"(d) : "c"(no_such_msr)); }
void op_lgdt() { struct [[gnu::packed]] { std::uint16_t limit; std::uint64_t base; } d{7, 0}; asm volatile("lgdt %0" : : "m"(d)); }
void op_write_cr3() { asm volatile("mov %0, %%cr3" : : "r"(0ul)); }

struct Op {
    const char* name;
    void (*fn)();
};

constexpr Op kernel_gp_ops[] = {
    {"cli", op_cli}, {"sti", op_sti}, {"hlt", op_hlt}, {"in", op_in}, {"out", op_out},
    {"wrmsr", op_wrmsr}, {"rdmsr", op_rdmsr}, {"lgdt", op_lgdt}, {"mov cr3", op_write_cr3},
};

// User mode runs the same functions through this table.
std::uint64_t user_op(std::uint64_t index)
{
    kernel_gp_ops[index].fn();
    return 0;
}

} // namespace

TEST(privileged_ops_in_kernel_mode_are_gp0)
{
    for (const Op& op : kernel_gp_ops) {
        kt::TrapRecord r;
        const std::uint8_t mask_before = kt::vcpu0()->evtchn_upcall_mask;
        const int how = kt::catch_trap([&] { op.fn(); }, r);
        kt::print("kernel {}: {} vector {} error {x}\n", op.name, how == kt::caught_trap ? "trapped" : "completed",
                  r.vector, r.error_code);
        EXPECT_EQ(how, kt::caught_trap);
        EXPECT_EQ(r.vector, 13u);
        EXPECT_EQ(r.error_code, 0u);
        EXPECT_EQ(kt::vcpu0()->evtchn_upcall_mask, mask_before);  // cli/sti changed nothing
    }
}

TEST(privileged_ops_in_user_mode_are_gp0)
{
    ASSERT_TRUE(kt::user_mode_init());
    for (std::uint64_t i = 0; i < sizeof kernel_gp_ops / sizeof kernel_gp_ops[0]; ++i) {
        const kt::UserRun run = kt::run_user(user_op, i);
        kt::print("user {}: {} vector {} error {x}\n", kernel_gp_ops[i].name,
                  run.how == kt::caught_trap ? "trapped" : "completed", run.trap.vector, run.trap.error_code);
        EXPECT_EQ(run.how, kt::caught_trap);
        EXPECT_EQ(run.trap.vector, 13u);
        EXPECT_EQ(run.trap.error_code, 0u);
        EXPECT_EQ(run.trap.cs & 3, 3u);
    }
}

TEST(mov_from_cr0_is_emulated_with_virtual_ts)
{
    std::uint64_t cr0_set = 0, cr0_clear = 0;
    kt::TrapRecord r;
    ASSERT_EQ(kt::fpu_taskswitch(1), 0);
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("mov %%cr0, %0" : "=r"(cr0_set)); }, r), kt::caught_none);
    ASSERT_EQ(kt::fpu_taskswitch(0), 0);
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("mov %%cr0, %0" : "=r"(cr0_clear)); }, r), kt::caught_none);
    kt::print("cr0 with TS {x}, without {x}\n", cr0_set, cr0_clear);
    constexpr std::uint64_t cr0_pe = 1u << 0, cr0_ts = 1u << 3, cr0_pg = 1u << 31;
    EXPECT_NE(cr0_set & cr0_ts, 0u);
    EXPECT_EQ(cr0_clear & cr0_ts, 0u);
    EXPECT_EQ(cr0_clear & (cr0_pe | cr0_pg), cr0_pe | cr0_pg);  // protected mode with paging
}

TEST(mov_from_cr0_in_user_mode_is_gp0)
{
    const kt::UserRun run = kt::run_user(
        [](std::uint64_t) -> std::uint64_t {
            std::uint64_t v;
            asm volatile("mov %%cr0, %0" : "=r"(v));
            return v;
        },
        0);
    EXPECT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 13u);
}

TEST(rdtsc_works_in_both_modes)
{
    kt::TrapRecord r;
    std::uint32_t lo = 0, hi = 0;
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("rdtsc" : "=a"(lo), "=d"(hi)); }, r), kt::caught_none);
    const kt::UserRun run = kt::run_user(
        [](std::uint64_t) -> std::uint64_t {
            std::uint32_t a, d;
            asm volatile("rdtsc" : "=a"(a), "=d"(d));
            return (static_cast<std::uint64_t>(d) << 32) | a;
        },
        0);
    EXPECT_EQ(run.how, kt::caught_syscall);
    EXPECT_GE(run.value, (static_cast<std::uint64_t>(hi) << 32) | lo);
}

namespace {

long set_iopl(std::uint32_t level)
{
    physdev_set_iopl_t a{};
    a.iopl = level;
    return kt::hypercall(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, kt::arg(&a));
}

// COM1, which the hypervisor keeps for its console.
constexpr std::uint16_t com1 = 0x3f8;

std::uint64_t user_inb_80(std::uint64_t)
{
    std::uint8_t v;
    asm volatile("inb $0x80, %0" : "=a"(v));
    return v;
}

} // namespace

TEST(set_iopl_argument_errors)
{
    EXPECT_EQ(set_iopl(4), -XEN_EINVAL);
    EXPECT_EQ(set_iopl(0xffffffffu), -XEN_EINVAL);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_physdev_op, PHYSDEVOP_set_iopl, 0x1000), -XEN_EFAULT);
}

TEST(iopl1_lets_the_kernel_do_port_io)
{
    ASSERT_EQ(set_iopl(1), 0);
    kt::TrapRecord r;
    std::uint8_t v = 0;
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("inb $0x80, %0" : "=a"(v)); }, r), kt::caught_none);
    EXPECT_EQ(kt::catch_trap([] { asm volatile("outb %0, $0x80" : : "a"(std::uint8_t{0x5a})); }, r), kt::caught_none);
    // Not for user mode: its CPL 3 is above IOPL 1.
    const kt::UserRun run = kt::run_user(user_inb_80, 0);
    EXPECT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 13u);
    EXPECT_EQ(set_iopl(0), 0);
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("inb $0x80, %0" : "=a"(v)); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 13u);
}

TEST(iopl_cli_sti_are_ignored)
{
    ASSERT_EQ(set_iopl(1), 0);
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("sti"); }, r), kt::caught_none);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_mask, 1u);  // sti did not unmask events
    kt::vcpu0()->evtchn_upcall_mask = 0;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("cli"); }, r), kt::caught_none);
    const std::uint8_t after_cli = kt::vcpu0()->evtchn_upcall_mask;
    kt::vcpu0()->evtchn_upcall_mask = 1;
    EXPECT_EQ(after_cli, 0u);  // nor did cli mask them
    EXPECT_EQ(set_iopl(0), 0);
}

TEST(hypervisor_uart_is_off_limits)
{
    ASSERT_EQ(set_iopl(3), 0);
    kt::TrapRecord r;
    std::uint8_t lsr = 0;
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("inb %1, %0" : "=a"(lsr) : "d"(static_cast<std::uint16_t>(com1 + 5))); }, r),
              kt::caught_none);
    EXPECT_EQ(lsr, 0xffu);  // a port the domain may not use reads as all ones
    // Written byte by byte to the data port: the harness fails the run if it shows up.
    for (const char* p = "KT-UART-LEAK\n"; *p != '\0'; ++p)
        kt::catch_trap([p] { asm volatile("outb %0, %1" : : "a"(*p), "d"(com1)); }, r);
    // With IOPL 3 user mode may do port I/O as well.
    const kt::UserRun run = kt::run_user(user_inb_80, 0);
    EXPECT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(set_iopl(0), 0);
}
