// ldt: MMUEXT_SET_LDT. A guest may install an LDT at a page-aligned address of its own space
// (at most 8192 entries); its descriptors are checked like a GDT's, its pages cannot be
// mapped writable while the LDT uses them, and selectors with the table bit set reach it.
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

constexpr std::uint64_t data_dpl3 = 0x00cff2000000ffffull;
[[gnu::aligned(4096)]] std::uint64_t ldt[512];

long set_ldt(std::uint64_t va, unsigned ents)
{
    mmuext_op_t op{};
    op.cmd = MMUEXT_SET_LDT;
    op.arg1.linear_addr = va;
    op.arg2.nr_ents = ents;
    unsigned done = 0;
    return kt::mmuext_op(&op, 1, &done, DOMID_SELF);
}

bool remap(bool writable) { return kt::map_machine_page(ldt, kt::virt_to_mfn(ldt) << 12, writable); }

std::uint16_t es()
{
    std::uint16_t s;
    asm volatile("mov %%es, %0" : "=r"(s));
    return s;
}

} // namespace

TEST(argument_errors)
{
    const std::uint64_t base = reinterpret_cast<std::uint64_t>(ldt);
    EXPECT_EQ(set_ldt(base, 8193), -XEN_EINVAL);
    EXPECT_EQ(set_ldt(base + 8, 1), -XEN_EINVAL);  // not page aligned
    EXPECT_EQ(set_ldt(0xffff800000000000ull, 1), -XEN_EINVAL);  // the hypervisor's area
    EXPECT_EQ(set_ldt(0x123, 0), 0);  // no entries: the address does not matter
}

TEST(selectors_reach_the_ldt)
{
    for (auto& d : ldt)
        d = 0;
    ldt[1] = data_dpl3;
    ASSERT_TRUE(remap(false));
    ASSERT_EQ(set_ldt(reinterpret_cast<std::uint64_t>(ldt), 2), 0);
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("mov %0, %%es" : : "r"(std::uint16_t{0x0f})); }, r), kt::caught_none);
    EXPECT_EQ(es(), 0x0fu);
    // Entry 2 is beyond the LDT's two entries.
    EXPECT_EQ(kt::catch_trap([] { asm volatile("mov %0, %%es" : : "r"(std::uint16_t{0x17})); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(r.error_code & ~3u, 0x14u);
    asm volatile("mov %0, %%es" : : "r"(std::uint16_t{0}));
    // While the LDT uses the page it cannot be mapped writable.
    EXPECT_FALSE(remap(true));
    ASSERT_EQ(set_ldt(0, 0), 0);
    EXPECT_TRUE(remap(true));
}
