// segments: set_segment_base for FS, kernel GS and user GS, seen through %fs:/%gs: loads in
// the mode each base belongs to; non-canonical bases and unknown selectors of the base are
// -EINVAL; SEGBASE_GS_USER_SEL loads a user %gs selector and, on a bad one, loads the null
// selector and still answers 0 (Xen's documented behaviour: callers re-read %gs to check).
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/user.hpp"

namespace {

std::uint64_t fs_cell = 0x1111111111111111ull;
std::uint64_t gs_kernel_cell = 0x2222222222222222ull;
std::uint64_t gs_user_cell = 0x3333333333333333ull;

template <typename T> std::uint64_t addr(T* p) { return reinterpret_cast<std::uint64_t>(p); }

std::uint64_t read_fs0()
{
    std::uint64_t v;
    asm volatile("movq %%fs:0, %0" : "=r"(v));
    return v;
}

std::uint64_t read_gs0()
{
    std::uint64_t v;
    asm volatile("movq %%gs:0, %0" : "=r"(v));
    return v;
}

std::uint16_t gs_selector()
{
    std::uint16_t v;
    asm volatile("mov %%gs, %0" : "=r"(v));
    return v;
}

std::uint64_t user_read_gs0(std::uint64_t) { return read_gs0(); }
std::uint64_t user_read_fs0(std::uint64_t) { return read_fs0(); }

constexpr std::uint64_t non_canonical = 0x0000800000000000ull;

} // namespace

TEST(fs_base)
{
    ASSERT_EQ(kt::set_segment_base(SEGBASE_FS, addr(&fs_cell)), 0);
    EXPECT_EQ(read_fs0(), fs_cell);
    // FS is not swapped between modes: user mode sees the same base.
    ASSERT_TRUE(kt::user_mode_init());
    const kt::UserRun run = kt::run_user(user_read_fs0, 0);
    EXPECT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value, fs_cell);
}

TEST(gs_kernel_and_user_bases_are_separate)
{
    ASSERT_EQ(kt::set_segment_base(SEGBASE_GS_KERNEL, addr(&gs_kernel_cell)), 0);
    ASSERT_EQ(kt::set_segment_base(SEGBASE_GS_USER, addr(&gs_user_cell)), 0);
    EXPECT_EQ(read_gs0(), gs_kernel_cell);
    const kt::UserRun run = kt::run_user(user_read_gs0, 0);
    EXPECT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value, gs_user_cell);
    // Back in the kernel, the kernel base is in force again.
    EXPECT_EQ(read_gs0(), gs_kernel_cell);
}

TEST(non_canonical_bases_are_einval)
{
    ASSERT_EQ(kt::set_segment_base(SEGBASE_FS, addr(&fs_cell)), 0);
    EXPECT_EQ(kt::set_segment_base(SEGBASE_FS, non_canonical), -XEN_EINVAL);
    EXPECT_EQ(kt::set_segment_base(SEGBASE_GS_USER, non_canonical), -XEN_EINVAL);
    EXPECT_EQ(kt::set_segment_base(SEGBASE_GS_KERNEL, non_canonical), -XEN_EINVAL);
    // Nothing changed.
    EXPECT_EQ(read_fs0(), fs_cell);
}

TEST(unknown_segment_is_einval)
{
    EXPECT_EQ(kt::set_segment_base(4, 0), -XEN_EINVAL);
    EXPECT_EQ(kt::set_segment_base(0xffffffffu, 0), -XEN_EINVAL);
}

TEST(gs_user_selector)
{
    // A flat data selector of the hypervisor's GDT with base 0: user GS base becomes 0.
    ASSERT_EQ(kt::set_segment_base(SEGBASE_GS_USER_SEL, FLAT_USER_DS32), 0);
    EXPECT_EQ(gs_selector(), static_cast<std::uint16_t>(FLAT_USER_DS32 | 3));
    ASSERT_EQ(kt::set_segment_base(SEGBASE_GS_USER, addr(&gs_user_cell)), 0);
    // Null selector.
    EXPECT_EQ(kt::set_segment_base(SEGBASE_GS_USER_SEL, 0), 0);
    EXPECT_EQ(gs_selector() & ~3u, 0u);
}

TEST(gs_user_bad_selector_loads_null)
{
    // Beyond any GDT we have: the load fails inside the hypervisor, which loads null instead.
    EXPECT_EQ(kt::set_segment_base(SEGBASE_GS_USER_SEL, 0xfff8), 0);
    EXPECT_EQ(gs_selector(), 0u);
    // An LDT selector with no LDT: the same.
    EXPECT_EQ(kt::set_segment_base(SEGBASE_GS_USER_SEL, 0x000c), 0);
    EXPECT_EQ(gs_selector(), 0u);
    // The kernel's GS base is untouched by all this.
    ASSERT_EQ(kt::set_segment_base(SEGBASE_GS_KERNEL, addr(&gs_kernel_cell)), 0);
    EXPECT_EQ(read_gs0(), gs_kernel_cell);
}
