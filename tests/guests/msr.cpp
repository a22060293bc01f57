// msr: rdmsr and wrmsr in a 64-bit PV guest's kernel, which fault in ring 3 and are emulated
// by the hypervisor (Xen 4.17's read_msr/write_msr and guest_rdmsr/guest_wrmsr): the segment
// bases (as set_segment_base sets them, canonical only), APIC_BASE, EFER (written back
// unchanged only), Xen's PAT, no performance capabilities, the virtual machine-check banks,
// the hypercall-page MSR; and xenpmu_op, which answers -EOPNOTSUPP with no virtual PMU.
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

constexpr std::uint32_t msr_apic_base = 0x1b, msr_mcg_cap = 0x179, msr_mcg_status = 0x17a, msr_pat = 0x277;
constexpr std::uint32_t msr_perf_capabilities = 0x345, msr_mc0_ctl = 0x400, msr_mc0_status = 0x401;
constexpr std::uint32_t msr_efer = 0xc0000080, msr_fs_base = 0xc0000100, msr_gs_base = 0xc0000101;
constexpr std::uint32_t msr_shadow_gs_base = 0xc0000102, msr_hypercall_page = 0x40000000;

// Reads an MSR; false if it raised #GP (the trap's vector and error code are checked here).
bool read_msr(std::uint32_t msr, std::uint64_t& value)
{
    std::uint32_t lo = 0, hi = 0;
    kt::TrapRecord r;
    const int how = kt::catch_trap([&] { asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); }, r);
    value = (static_cast<std::uint64_t>(hi) << 32) | lo;
    if (how == kt::caught_none) return true;
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(r.error_code, 0u);
    return false;
}

bool write_msr(std::uint32_t msr, std::uint64_t value)
{
    kt::TrapRecord r;
    const int how = kt::catch_trap(
        [&] {
            asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<std::uint32_t>(value)),
                         "d"(static_cast<std::uint32_t>(value >> 32)));
        },
        r);
    if (how == kt::caught_none) return true;
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(r.error_code, 0u);
    return false;
}

std::uint64_t msr_or_zero(std::uint32_t msr)
{
    std::uint64_t v = 0;
    EXPECT_TRUE(read_msr(msr, v));
    return v;
}

} // namespace

TEST(fs_base_is_the_guests)
{
    ASSERT_EQ(kt::set_segment_base(SEGBASE_FS, 0x12345000), 0);
    EXPECT_EQ(msr_or_zero(msr_fs_base), 0x12345000u);
    EXPECT_TRUE(write_msr(msr_fs_base, 0x00007f0000001000));
    EXPECT_EQ(msr_or_zero(msr_fs_base), 0x00007f0000001000u);
    EXPECT_FALSE(write_msr(msr_fs_base, 0x0000800000000000));  // not canonical
    EXPECT_EQ(msr_or_zero(msr_fs_base), 0x00007f0000001000u);
    EXPECT_TRUE(write_msr(msr_fs_base, 0));
}

TEST(gs_bases_are_the_kernels_and_the_users)
{
    const std::uint64_t kernel_gs = msr_or_zero(msr_gs_base);
    ASSERT_EQ(kt::set_segment_base(SEGBASE_GS_USER, 0x600000), 0);
    EXPECT_EQ(msr_or_zero(msr_shadow_gs_base), 0x600000u);
    EXPECT_TRUE(write_msr(msr_shadow_gs_base, 0x700000));
    EXPECT_EQ(msr_or_zero(msr_shadow_gs_base), 0x700000u);
    EXPECT_FALSE(write_msr(msr_shadow_gs_base, 0xffff000000000000));  // not canonical
    EXPECT_TRUE(write_msr(msr_gs_base, 0xffff888000002000));
    EXPECT_EQ(msr_or_zero(msr_gs_base), 0xffff888000002000u);
    EXPECT_FALSE(write_msr(msr_gs_base, 0x8000000000000000));
    EXPECT_TRUE(write_msr(msr_gs_base, kernel_gs));
    EXPECT_EQ(kt::set_segment_base(SEGBASE_GS_USER, 0), 0);
}

TEST(apic_base_efer_and_pat)
{
    EXPECT_EQ(msr_or_zero(msr_apic_base), 0xfee00900u);  // enabled, default address, BSP
    const std::uint64_t efer = msr_or_zero(msr_efer);
    kt::print("EFER {x}\n", efer);
    constexpr std::uint64_t efer_sce = 1u << 0, efer_lme = 1u << 8, efer_lma = 1u << 10, efer_svme = 1u << 12;
    EXPECT_EQ(efer & (efer_sce | efer_lme | efer_lma), efer_sce | efer_lme | efer_lma);
    EXPECT_EQ(efer & efer_svme, 0u);
    EXPECT_TRUE(write_msr(msr_efer, efer));           // Linux writes back what it read
    EXPECT_FALSE(write_msr(msr_efer, efer & ~efer_sce));
    EXPECT_EQ(msr_or_zero(msr_pat), 0x0000050100070406u);
    EXPECT_FALSE(write_msr(msr_pat, 0x0007040600070406));
    EXPECT_EQ(msr_or_zero(msr_perf_capabilities), 0u);
}

TEST(machine_check_banks_hold_no_errors)
{
    EXPECT_EQ(msr_or_zero(msr_mcg_cap) & 0xff, 2u);  // two banks
    EXPECT_EQ(msr_or_zero(msr_mcg_status), 0u);
    EXPECT_EQ(msr_or_zero(msr_mc0_ctl), ~0ull);
    EXPECT_EQ(msr_or_zero(msr_mc0_status), 0u);
    EXPECT_TRUE(write_msr(msr_mc0_status, 0));
    EXPECT_FALSE(write_msr(msr_mc0_status, 1ull << 63));  // no error can be made up
}

TEST(hypercall_page_msr_reads_zero)
{
    EXPECT_EQ(msr_or_zero(msr_hypercall_page), 0u);
    std::uint64_t v;
    EXPECT_FALSE(read_msr(msr_hypercall_page + 1, v));
    EXPECT_FALSE(write_msr(msr_hypercall_page, 0x1001));  // not a page boundary
}

TEST(no_virtual_pmu)
{
    // XENPMU_mode_get with somewhere to write: refused before the argument is looked at.
    std::uint64_t params[4] = {};
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_xenpmu_op, 0, kt::arg(params)), -XEN_EOPNOTSUPP);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_xenpmu_op, 99, 0), -XEN_EOPNOTSUPP);
}
