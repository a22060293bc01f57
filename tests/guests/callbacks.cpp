// callbacks: callback_op register/unregister and set_callbacks, with Xen's error numbers and
// the observable effect of replacing the syscall callback.
#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

extern "C" {
void kt_syscall_entry_alt();
std::uint64_t kt_alt_hits;
}

// A second syscall callback: counts, then does what the runtime's does.
asm(R"(
    .pushsection .text, "ax"
kt_syscall_entry_alt:
    incq kt_alt_hits(%rip)
    jmp kt_syscall_entry
    .popsection
)");

namespace {

constexpr std::uint64_t non_canonical = 0x0000800000000000ull;

long reg(std::uint16_t type, std::uint64_t address, std::uint16_t flags = 0)
{
    callback_register_t cb{};
    cb.type = type;
    cb.flags = flags;
    cb.address = address;
    return kt::callback_op(CALLBACKOP_register, &cb);
}

long unreg(std::uint16_t type)
{
    callback_unregister_t cb{};
    cb.type = type;
    return kt::callback_op(CALLBACKOP_unregister, &cb);
}

std::uint64_t entry(void (*f)()) { return reinterpret_cast<std::uint64_t>(f); }

std::uint64_t user_return(std::uint64_t v) { return v; }

} // namespace

TEST(register_syscall_callback_takes_effect)
{
    ASSERT_TRUE(kt::user_mode_init());
    ASSERT_EQ(reg(CALLBACKTYPE_syscall, entry(kt_syscall_entry_alt), CALLBACKF_mask_events), 0);
    const std::uint64_t before = kt_alt_hits;
    kt::UserRun r = kt::run_user(user_return, 5);
    EXPECT_EQ(r.how, kt::caught_syscall);
    EXPECT_EQ(kt_alt_hits, before + 1);
    ASSERT_EQ(reg(CALLBACKTYPE_syscall, entry(kt::kt_syscall_entry), CALLBACKF_mask_events), 0);
    kt::run_user(user_return, 5);
    EXPECT_EQ(kt_alt_hits, before + 1);
}

TEST(register_each_type)
{
    // Nothing is delivered on these in a test kernel (events stay masked, no NMI is sent),
    // so any canonical address will do; the last registration restores nothing harmful.
    const std::uint64_t a = entry(kt_syscall_entry_alt);
    EXPECT_EQ(reg(CALLBACKTYPE_event, a), 0);
    EXPECT_EQ(reg(CALLBACKTYPE_failsafe, a, CALLBACKF_mask_events), 0);
    EXPECT_EQ(reg(CALLBACKTYPE_nmi, kt::trap_entry(2)), 0);
    EXPECT_EQ(reg(CALLBACKTYPE_syscall32, a), 0);
    EXPECT_EQ(reg(CALLBACKTYPE_sysenter, a), 0);
}

TEST(register_unknown_type_is_enosys)
{
    EXPECT_EQ(reg(CALLBACKTYPE_sysenter_deprecated, entry(kt_syscall_entry_alt)), -XEN_ENOSYS);
    EXPECT_EQ(reg(6, entry(kt_syscall_entry_alt)), -XEN_ENOSYS);
    EXPECT_EQ(reg(100, entry(kt_syscall_entry_alt)), -XEN_ENOSYS);
}

TEST(register_non_canonical_is_einval)
{
    EXPECT_EQ(reg(CALLBACKTYPE_syscall, non_canonical), -XEN_EINVAL);
    EXPECT_EQ(reg(CALLBACKTYPE_event, non_canonical), -XEN_EINVAL);
    EXPECT_EQ(reg(CALLBACKTYPE_nmi, non_canonical), -XEN_EINVAL);
    // The address is checked before the type.
    EXPECT_EQ(reg(100, non_canonical), -XEN_EINVAL);
    // And the syscall callback still works.
    kt::UserRun r = kt::run_user(user_return, 9);
    EXPECT_EQ(r.how, kt::caught_syscall);
    EXPECT_EQ(r.value, 9u);
}

TEST(unregister)
{
    // Only the NMI callback can be unregistered.
    EXPECT_EQ(unreg(CALLBACKTYPE_nmi), 0);
    EXPECT_EQ(unreg(CALLBACKTYPE_event), -XEN_EINVAL);
    EXPECT_EQ(unreg(CALLBACKTYPE_failsafe), -XEN_EINVAL);
    EXPECT_EQ(unreg(CALLBACKTYPE_syscall), -XEN_EINVAL);
    EXPECT_EQ(unreg(CALLBACKTYPE_syscall32), -XEN_EINVAL);
    EXPECT_EQ(unreg(CALLBACKTYPE_sysenter), -XEN_EINVAL);
    EXPECT_EQ(unreg(100), -XEN_ENOSYS);
}

TEST(bad_arguments)
{
    for (const auto& b : kt::bad_pointers) {
        kt::print("argument: {} {x}\n", b.what, b.address);
        EXPECT_EQ(kt::callback_op(CALLBACKOP_register, kt::bad<void>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::callback_op(CALLBACKOP_unregister, kt::bad<void>(b)), -XEN_EFAULT);
    }
    callback_register_t cb{};
    EXPECT_EQ(kt::callback_op(2, &cb), -XEN_ENOSYS);
    EXPECT_EQ(kt::callback_op(-1, &cb), -XEN_ENOSYS);
}

TEST(set_callbacks)
{
    const std::uint64_t alt = entry(kt_syscall_entry_alt);
    const std::uint64_t before = kt_alt_hits;
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_set_callbacks, alt, alt, alt), 0);
    kt::UserRun r = kt::run_user(user_return, 1);
    EXPECT_EQ(r.how, kt::caught_syscall);
    EXPECT_EQ(kt_alt_hits, before + 1);
    // Bad addresses are ignored one by one and the call still answers 0.
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_set_callbacks, non_canonical, non_canonical, non_canonical), 0);
    kt::run_user(user_return, 1);
    EXPECT_EQ(kt_alt_hits, before + 2);
    ASSERT_EQ(reg(CALLBACKTYPE_syscall, entry(kt::kt_syscall_entry), CALLBACKF_mask_events), 0);
}
