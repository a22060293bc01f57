// fpu: fpu_taskswitch sets and clears a virtual CR0.TS. With it set, the next FPU instruction
// raises #NM, which the hypervisor bounces to the guest's vector-7 handler and clears TS, as
// hardware would not (a guest's #NM handler in a PV kernel has no clts to do). clts from the
// guest kernel is emulated as fpu_taskswitch(0).
//
// FPU code: this file's x87 instructions live only in the inline asm of fpu_op() below; the
// rest of the kernel is compiled with -mgeneral-regs-only.
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

constexpr std::uint64_t cr0_ts = 1u << 3;

// FPU instructions (explicitly x87): load 1.0 and pop it again.
void fpu_op() { asm volatile("fld1\n fstp %%st(0)" ::: "memory"); }

std::uint64_t read_cr0()
{
    std::uint64_t v;
    asm volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}

} // namespace

TEST(fpu_usable_without_ts)
{
    ASSERT_EQ(kt::fpu_taskswitch(0), 0);
    asm volatile("fninit");
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap(fpu_op, r), kt::caught_none);
}

TEST(ts_set_gives_nm_once)
{
    ASSERT_EQ(kt::fpu_taskswitch(1), 0);
    EXPECT_NE(read_cr0() & cr0_ts, 0u);
    kt::TrapRecord r;
    std::uint64_t at = 0;
    const int how = kt::catch_trap([&] { KT_AT(at, "fld1"); }, r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 7u);
    EXPECT_EQ(r.rip, at);
    EXPECT_EQ(r.error_code, 0u);
    // The bounce cleared the virtual TS: the instruction now runs.
    EXPECT_EQ(read_cr0() & cr0_ts, 0u);
    kt::TrapRecord again;
    EXPECT_EQ(kt::catch_trap(fpu_op, again), kt::caught_none);
}

TEST(ts_cleared_by_taskswitch_0)
{
    ASSERT_EQ(kt::fpu_taskswitch(1), 0);
    ASSERT_EQ(kt::fpu_taskswitch(0), 0);
    EXPECT_EQ(read_cr0() & cr0_ts, 0u);
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap(fpu_op, r), kt::caught_none);
}

TEST(clts_is_emulated)
{
    ASSERT_EQ(kt::fpu_taskswitch(1), 0);
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("clts"); }, r), kt::caught_none);
    EXPECT_EQ(read_cr0() & cr0_ts, 0u);
    EXPECT_EQ(kt::catch_trap(fpu_op, r), kt::caught_none);
}

TEST(fpu_state_survives_a_bounce)
{
    // A value on the x87 stack stays there across a #NM bounce and the iret back.
    ASSERT_EQ(kt::fpu_taskswitch(0), 0);
    asm volatile("fninit\n fld1" ::: "memory");
    ASSERT_EQ(kt::fpu_taskswitch(1), 0);
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("fld1" ::: "memory"); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 7u);
    std::uint16_t sw = 0;
    std::uint32_t one = 0;
    asm volatile("fnstsw %0\n fstps %1" : "=m"(sw), "=m"(one) : : "memory");
    EXPECT_EQ(one, 0x3f800000u);  // 1.0f: the value loaded before the bounce
    EXPECT_EQ((sw >> 11) & 7, 7u);  // TOP was 7 (one value pushed) before the store popped it
}
