// ptwr: writable page tables. With VMASST_TYPE_writable_pagetables enabled the guest kernel
// writes its L1 entries directly (they are mapped read-only to it): the hypervisor emulates
// mov, xchg and cmpxchg on them after validating the new entry; an entry that fails the check
// (a writable mapping of a page table) is the guest's page fault. Without the assist every
// such write of a domU is a page fault (the control domain has the emulation regardless).
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

[[gnu::aligned(4096)]] volatile std::uint64_t page_a[512];
[[gnu::aligned(4096)]] std::uint64_t page_b[512];

std::uint64_t maddr(const volatile void* p) { return kt::virt_to_mfn(const_cast<const void*>(p)) << 12; }

// The L1 entry mapping p, through the bootstrap area's read-only view of the table.
volatile std::uint64_t* l1e_of(const volatile void* p)
{
    const std::uint64_t v = reinterpret_cast<std::uint64_t>(p);
    std::uint64_t frame = kt::virt_to_mfn(reinterpret_cast<void*>(kt::start_info()->pt_base));
    for (int level = 3; level >= 1; --level) {
        const auto* t = static_cast<const std::uint64_t*>(kt::mfn_to_virt(frame));
        frame = (t[(v >> (12 + 9 * level)) & 511] & kt::pte_addr_mask) >> 12;
    }
    return static_cast<volatile std::uint64_t*>(kt::mfn_to_virt(frame)) + ((v >> 12) & 511);
}

void invlpg(const volatile void* p)
{
    mmuext_op_t op{};
    op.cmd = MMUEXT_INVLPG_LOCAL;
    op.arg1.linear_addr = reinterpret_cast<std::uint64_t>(p);
    unsigned done = 0;
    kt::mmuext_op(&op, 1, &done, DOMID_SELF);
}

constexpr std::uint64_t flags = kt::pte_present | kt::pte_rw | kt::pte_accessed | kt::pte_dirty;
volatile std::uint64_t* the_entry;
std::uint64_t the_value;

} // namespace

TEST(the_control_domain_has_it_without_the_assist)
{
    // Xen emulates read-only page writes for the hardware domain whatever its assists; test
    // kernels run as dom0, so a plain store of the same entry succeeds.
    the_entry = l1e_of(page_a);
    the_value = *the_entry;
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { *the_entry = the_value; }, r), kt::caught_none);
    EXPECT_EQ(*the_entry, the_value);
}

TEST(mov_xchg_and_cmpxchg_are_emulated)
{
    ASSERT_EQ(kt::vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables), 0);
    volatile std::uint64_t* e = l1e_of(page_a);
    const std::uint64_t original = *e;
    page_a[0] = 0xaaaa;
    page_b[0] = 0xbbbb;

    *e = maddr(page_b) | flags;  // a plain store
    invlpg(page_a);
    EXPECT_EQ(page_a[0], 0xbbbbu);
    EXPECT_EQ(*e & kt::pte_addr_mask, maddr(page_b));

    const std::uint64_t before = __atomic_exchange_n(e, original, __ATOMIC_SEQ_CST);
    invlpg(page_a);
    EXPECT_EQ(before & kt::pte_addr_mask, maddr(page_b));
    EXPECT_EQ(page_a[0], 0xaaaau);

    std::uint64_t expected = 12345;  // wrong: nothing is written, expected gets the entry
    EXPECT_FALSE(__atomic_compare_exchange_n(e, &expected, maddr(page_b) | flags, false, __ATOMIC_SEQ_CST,
                                             __ATOMIC_SEQ_CST));
    EXPECT_EQ(expected & kt::pte_addr_mask, maddr(page_a));
    EXPECT_TRUE(__atomic_compare_exchange_n(e, &expected, maddr(page_b) | flags, false, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST));
    invlpg(page_a);
    EXPECT_EQ(page_a[0], 0xbbbbu);
    *e = original;
    invlpg(page_a);
    EXPECT_EQ(page_a[0], 0xaaaau);
}

TEST(an_entry_that_fails_validation_is_a_page_fault)
{
    the_entry = l1e_of(page_a);
    the_value = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base)) | flags;  // the L4, writable
    const std::uint64_t before = *the_entry;
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { *the_entry = the_value; }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 14u);
    EXPECT_EQ(*the_entry, before);
}
