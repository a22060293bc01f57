// stack_switch: the stack the hypervisor builds frames on when an exception, int n or syscall
// takes the guest from user mode to kernel mode. Frames from kernel mode stay on the current
// stack whatever stack_switch said.
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

[[gnu::aligned(16)]] unsigned char stack_a[8192];
[[gnu::aligned(16)]] unsigned char stack_b[8192];

template <std::size_t N> std::uint64_t top(unsigned char (&s)[N]) { return reinterpret_cast<std::uint64_t>(s + N); }

std::uint64_t user_ud2(std::uint64_t)
{
    asm volatile("ud2");
    return 0;
}

std::uint64_t user_return(std::uint64_t v) { return v; }

} // namespace

TEST(stack_switch_answers_zero)
{
    EXPECT_EQ(kt::stack_switch(FLAT_KERNEL_SS, top(stack_a)), 0);
}

TEST(user_exception_frame_lands_on_the_switched_stack)
{
    ASSERT_TRUE(kt::user_mode_init());
    kt::UserRun a = kt::run_user(user_ud2, 0, top(stack_a));
    ASSERT_EQ(a.how, kt::caught_trap);
    EXPECT_EQ(a.trap.frame_end, top(stack_a));  // 16-byte aligned top: no adjustment
    kt::UserRun b = kt::run_user(user_ud2, 0, top(stack_b));
    ASSERT_EQ(b.how, kt::caught_trap);
    EXPECT_EQ(b.trap.frame_end, top(stack_b));
}

TEST(unaligned_stack_top_is_rounded_down_to_16)
{
    kt::UserRun r = kt::run_user(user_ud2, 0, top(stack_a) - 8);
    ASSERT_EQ(r.how, kt::caught_trap);
    EXPECT_EQ(r.trap.frame_end, top(stack_a) - 16);
}

TEST(syscall_frame_lands_on_the_switched_stack)
{
    kt::UserRun r = kt::run_user(user_return, 7, top(stack_b));
    ASSERT_EQ(r.how, kt::caught_syscall);
    EXPECT_EQ(r.value, 7u);
    EXPECT_EQ(r.frame_address, top(stack_b) - 7 * 8);  // rcx, r11, rip, cs, rflags, rsp, ss
}

TEST(kernel_mode_frames_stay_on_the_current_stack)
{
    ASSERT_EQ(kt::stack_switch(FLAT_KERNEL_SS, top(stack_a)), 0);
    kt::TrapRecord r;
    std::uint64_t sp = 0;
    kt::catch_trap([&] { asm volatile("movq %%rsp, %0\n ud2" : "=m"(sp)); }, r);
    EXPECT_EQ(r.vector, 6u);
    EXPECT_EQ(r.rsp, sp);
    EXPECT_EQ(r.frame_end, sp & ~15ull);  // right below the interrupted stack pointer, aligned
}
