// debugreg: set_debugreg/get_debugreg. Breakpoint addresses must lie outside the hypervisor's
// area (-EPERM), DR6/DR7 take 32-bit values with their reserved bits forced to the
// architectural values, DR7.GD is refused (-EPERM), unknown registers are -ENODEV; and a data
// breakpoint really fires, as a #DB bounced to the guest with DR6 reporting it.
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

// DR6/DR7 reserved bits (Intel SDM vol. 3 17.2).
constexpr std::uint64_t dr6_reserved_one = 0xffff0ff0;
constexpr std::uint64_t dr7_reserved_one = 1u << 10;
constexpr std::uint64_t dr7_gd = 1u << 13;
constexpr std::uint64_t dr6_b0 = 1u << 0;
// DR7: L0 enable, R/W0 = 01 (data writes), LEN0 = 11 (8 bytes).
constexpr std::uint64_t dr7_l0_write8 = (1u << 0) | (1u << 16) | (3u << 18);

volatile std::uint64_t watched = 0;

} // namespace

TEST(address_registers_round_trip)
{
    for (int reg = 0; reg < 4; ++reg) {
        const std::uint64_t v = 0x7f0000001000ull + static_cast<std::uint64_t>(reg) * 8;
        EXPECT_EQ(kt::set_debugreg(reg, v), 0);
        EXPECT_EQ(static_cast<std::uint64_t>(kt::get_debugreg(reg)), v);
    }
    EXPECT_EQ(kt::set_debugreg(0, kt::virt_base), 0);  // kernel addresses are fine
    for (int reg = 0; reg < 4; ++reg)
        EXPECT_EQ(kt::set_debugreg(reg, 0), 0);
}

TEST(address_in_hypervisor_area_is_eperm)
{
    EXPECT_EQ(kt::set_debugreg(0, HYPERVISOR_VIRT_START), -XEN_EPERM);
    EXPECT_EQ(kt::set_debugreg(1, HYPERVISOR_VIRT_END - 8), -XEN_EPERM);
    EXPECT_EQ(kt::set_debugreg(2, 0x0000800000000000ull), -XEN_EPERM);  // non-canonical
    EXPECT_EQ(kt::get_debugreg(2), 0);  // unchanged
}

TEST(dr6_reserved_bits_forced)
{
    EXPECT_EQ(kt::set_debugreg(6, 0), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(kt::get_debugreg(6)), dr6_reserved_one);
    EXPECT_EQ(kt::set_debugreg(6, 1ull << 32), -XEN_EINVAL);
}

TEST(dr7_reserved_bits_forced)
{
    EXPECT_EQ(kt::set_debugreg(7, 0), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(kt::get_debugreg(7)), dr7_reserved_one);
    EXPECT_EQ(kt::set_debugreg(7, 1ull << 32), -XEN_EINVAL);
    EXPECT_EQ(kt::set_debugreg(7, dr7_gd), -XEN_EPERM);
    EXPECT_EQ(static_cast<std::uint64_t>(kt::get_debugreg(7)), dr7_reserved_one);
}

TEST(unknown_registers_are_enodev)
{
    EXPECT_EQ(kt::set_debugreg(8, 0), -XEN_ENODEV);
    EXPECT_EQ(kt::set_debugreg(-1, 0), -XEN_ENODEV);
    EXPECT_EQ(kt::get_debugreg(8), -XEN_ENODEV);
    EXPECT_EQ(kt::get_debugreg(100), -XEN_ENODEV);
}

TEST(data_breakpoint_fires)
{
    ASSERT_EQ(kt::set_debugreg(6, 0), 0);
    ASSERT_EQ(kt::set_debugreg(0, reinterpret_cast<std::uint64_t>(&watched)), 0);
    ASSERT_EQ(kt::set_debugreg(7, dr7_l0_write8), 0);
    kt::TrapRecord r;
    std::uint64_t after = 0;
    const int how = kt::catch_trap([&] { asm volatile("movq $5, %1\n leaq 1f(%%rip), %%rax\n movq %%rax, %0\n1:" : "=m"(after), "=m"(watched) : : "rax", "memory"); }, r);
    const std::uint64_t dr6 = static_cast<std::uint64_t>(kt::get_debugreg(6));
    EXPECT_EQ(kt::set_debugreg(7, 0), 0);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 1u);
    EXPECT_EQ(watched, 5u);  // a data breakpoint is a trap: the write happened
    kt::print("#DB at {x}, dr6 {x}\n", r.rip, dr6);
    EXPECT_NE(dr6 & dr6_b0, 0u);
}
