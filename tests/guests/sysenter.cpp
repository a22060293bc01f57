// sysenter: SYSENTER from guest user mode. On an Intel CPU the hypervisor takes it and bounces
// it to the guest kernel's sysenter callback with Xen's frame (rip 0, the null ring-3 cs 3,
// rsp 0, the user stack selector: SYSENTER saves nothing, the caller passes what it needs in
// registers), or raises #GP(0) when no callback is registered. On an AMD CPU the instruction is
// invalid in 64-bit mode (#UD). The test runs with QEMU's CPU model set to each vendor.
#include <xen/callback.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

bool intel()
{
    std::uint32_t a, b, c, d;
    asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0), "c"(0));
    return b == 0x756e6547 && d == 0x49656e69 && c == 0x6c65746e;  // "GenuineIntel"
}

constexpr std::uint64_t marker = 0x5e5e5e5e;

std::uint64_t user_sysenter(std::uint64_t value)
{
    asm volatile("mov %0, %%rax\n sysenter" : : "r"(value) : "rax", "memory");
    return 0;  // not reached: SYSENTER does not come back here
}

} // namespace

TEST(without_a_callback)
{
    ASSERT_TRUE(kt::user_mode_init());
    const kt::UserRun run = kt::run_user(user_sysenter, marker);
    ASSERT_EQ(run.how, kt::caught_trap);
    if (intel()) {
        EXPECT_EQ(run.trap.vector, 13u);  // #GP(0)
        EXPECT_EQ(run.trap.error_code, 0u);
    } else {
        EXPECT_EQ(run.trap.vector, 6u);  // #UD
    }
}

TEST(with_a_callback)
{
    callback_register_t cb{};
    cb.type = CALLBACKTYPE_sysenter;
    cb.flags = CALLBACKF_mask_events;
    cb.address = reinterpret_cast<std::uint64_t>(&kt::kt_syscall_entry);
    ASSERT_EQ(kt::callback_op(CALLBACKOP_register, &cb), 0);
    const kt::UserRun run = kt::run_user(user_sysenter, marker);
    if (!intel()) {
        ASSERT_EQ(run.how, kt::caught_trap);
        EXPECT_EQ(run.trap.vector, 6u);
        return;
    }
    ASSERT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value, marker);
    EXPECT_EQ(run.rip, 0u);
    EXPECT_EQ(run.cs & 0xffff, 3u);
    EXPECT_EQ(run.rsp, 0u);
    EXPECT_EQ(run.ss, static_cast<std::uint64_t>(FLAT_USER_SS));
    EXPECT_EQ(run.upcall_mask, 1u);
}
