// xsave: extended FPU state of a PV guest. Where the CPU has XSAVE (the test runs with QEMU's
// "max" CPU model), the guest kernel may enable components with XSETBV, which the hypervisor
// emulates within what it offers (x87 always on, AVX only with SSE, nothing unknown; a bad
// value or a non-zero index is #GP, as is XSETBV from user mode), and an AVX register's upper
// half survives the vCPU's trips through the hypervisor.
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

struct Cpuid {
    std::uint32_t a, b, c, d;
};

Cpuid cpuid(std::uint32_t leaf, std::uint32_t sub = 0)
{
    Cpuid r;
    asm volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
    return r;
}

bool has_xsave() { return (cpuid(1).c >> 27) & 1; }  // OSXSAVE: XGETBV/XSETBV usable
bool has_avx() { return (cpuid(1).c >> 28) & 1; }

std::uint64_t xgetbv()
{
    std::uint32_t lo, hi;
    asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

void xsetbv_value(std::uint64_t v, std::uint32_t index = 0)
{
    asm volatile("xsetbv" : : "c"(index), "a"(static_cast<std::uint32_t>(v)), "d"(static_cast<std::uint32_t>(v >> 32)));
}

constexpr std::uint64_t cr4_osxsave = 1u << 18;

std::uint64_t read_cr4()
{
    std::uint64_t v;
    asm volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}

void write_cr4(std::uint64_t v) { asm volatile("mov %0, %%cr4" : : "r"(v)); }

std::uint64_t user_xsetbv(std::uint64_t v)
{
    xsetbv_value(v);
    return 0;
}

} // namespace

TEST(xsetbv_needs_osxsave_in_the_guest_cr4)
{
    if (!has_xsave()) {
        kt::print("xsave: no XSAVE on this CPU, nothing to check\n");
        return;
    }
    EXPECT_EQ(xgetbv() & 3, 3u);  // x87 and SSE on from the start
    kt::TrapRecord r;
    // The guest's own CR4 starts without OSXSAVE: XSETBV is undefined until it sets it.
    EXPECT_EQ(read_cr4() & cr4_osxsave, 0u);
    EXPECT_EQ(kt::catch_trap([] { xsetbv_value(3); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 6u);
    EXPECT_EQ(kt::catch_trap([] { write_cr4(read_cr4() | cr4_osxsave); }, r), kt::caught_none);
    EXPECT_NE(read_cr4() & cr4_osxsave, 0u);
}

TEST(xsetbv_within_the_offer)
{
    if (!has_xsave())
        return;
    EXPECT_NE(read_cr4() & cr4_osxsave, 0u);
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { xsetbv_value(0); }, r), kt::caught_trap);  // x87 off
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(kt::catch_trap([] { xsetbv_value(3, 1); }, r), kt::caught_trap);  // no XCR1
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(kt::catch_trap([] { xsetbv_value(1ull << 62); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 13u);
    if (has_avx()) {
        EXPECT_EQ(kt::catch_trap([] { xsetbv_value(5); }, r), kt::caught_trap);  // AVX without SSE
        EXPECT_EQ(r.vector, 13u);
        EXPECT_EQ(kt::catch_trap([] { xsetbv_value(7); }, r), kt::caught_none);
        EXPECT_EQ(xgetbv(), 7u);
    }
    EXPECT_EQ(kt::catch_trap([] { xsetbv_value(3); }, r), kt::caught_none);
    EXPECT_EQ(xgetbv(), 3u);
}

TEST(xsetbv_from_user_mode_is_gp)
{
    if (!has_xsave())
        return;
    ASSERT_TRUE(kt::user_mode_init());
    const kt::UserRun run = kt::run_user(user_xsetbv, 3);
    ASSERT_EQ(run.how, kt::caught_trap);
    EXPECT_EQ(run.trap.vector, 13u);
}

TEST(avx_state_survives_the_hypervisor)
{
    if (!has_xsave() || !has_avx())
        return;
    kt::TrapRecord r;
    ASSERT_EQ(kt::catch_trap([] { xsetbv_value(7); }, r), kt::caught_none);
    alignas(32) std::uint64_t in[4] = {0x1111, 0x2222, 0x3333, 0x4444}, out[4] = {};
    asm volatile("vmovdqa %0, %%ymm3" : : "m"(in));
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(kt::sched_op(SCHEDOP_yield, nullptr), 0);
    asm volatile("vmovdqa %%ymm3, %0" : "=m"(out));
    EXPECT_EQ(out[2], 0x3333u);  // the upper 128 bits, which FXSAVE would not keep
    EXPECT_EQ(out[3], 0x4444u);
    asm volatile("vzeroall");
    ASSERT_EQ(kt::catch_trap([] { xsetbv_value(3); }, r), kt::caught_none);
}
