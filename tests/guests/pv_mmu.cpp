// pv_mmu: the rules of the PV MMU, through mmu_update, update_va_mapping and mmuext_op pins:
// an entry may only map the domain's own frames, never a page table writably; a frame becomes
// a page table only when all its entries check out (no superpages) and while it is one it
// cannot be mapped writable; the hypervisor's L4 slots cannot be written; the M2P entry of a
// frame can be set with MMU_MACHPHYS_UPDATE.
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

[[gnu::aligned(4096)]] std::uint64_t page_a[512];
[[gnu::aligned(4096)]] std::uint64_t page_b[512];
[[gnu::aligned(4096)]] std::uint64_t table[512];

std::uint64_t va(const void* p) { return reinterpret_cast<std::uint64_t>(p); }
std::uint64_t maddr(const void* p) { return kt::virt_to_mfn(p) << 12; }

// Machine address of the L1 entry that maps p (tables read through the bootstrap area).
std::uint64_t l1e_maddr(const void* p)
{
    const std::uint64_t v = va(p);
    std::uint64_t frame = kt::virt_to_mfn(reinterpret_cast<void*>(kt::start_info()->pt_base));
    for (int level = 3; level >= 1; --level) {
        const auto* t = static_cast<const std::uint64_t*>(kt::mfn_to_virt(frame));
        frame = (t[(v >> (12 + 9 * level)) & 511] & kt::pte_addr_mask) >> 12;
    }
    return (frame << 12) | (((v >> 12) & 511) * 8);
}

long update_pte(std::uint64_t ptr, std::uint64_t val)
{
    mmu_update_t req{ptr, val};
    unsigned done = 0;
    return kt::hypercall(__HYPERVISOR_mmu_update, kt::arg(&req), 1, kt::arg(&done), DOMID_SELF);
}

long mmuext(unsigned cmd, std::uint64_t mfn)
{
    mmuext_op_t op{};
    op.cmd = cmd;
    op.arg1.mfn = mfn;
    unsigned done = 0;
    return kt::mmuext_op(&op, 1, &done, DOMID_SELF);
}

long flush(const void* p)
{
    mmuext_op_t op{};
    op.cmd = MMUEXT_INVLPG_LOCAL;
    op.arg1.linear_addr = va(p);
    unsigned done = 0;
    return kt::mmuext_op(&op, 1, &done, DOMID_SELF);
}

constexpr std::uint64_t present = kt::pte_present, rw = kt::pte_rw;

// Maps p's own frame back at p, writable or not.
bool remap(void* p, bool writable) { return kt::map_machine_page(p, maddr(p), writable); }

} // namespace

TEST(mmu_update_rewrites_an_l1_entry)
{
    page_a[0] = 0xaaaa;
    page_b[0] = 0xbbbb;
    const std::uint64_t slot = l1e_maddr(page_a);
    ASSERT_EQ(update_pte(slot, maddr(page_b) | present | rw), 0);
    ASSERT_EQ(flush(page_a), 0);
    EXPECT_EQ(page_a[0], 0xbbbbu);  // page_a's address now shows page_b's frame
    ASSERT_EQ(update_pte(slot, maddr(page_a) | present | rw), 0);
    ASSERT_EQ(flush(page_a), 0);
    EXPECT_EQ(page_a[0], 0xaaaau);
}

TEST(page_tables_cannot_be_mapped_writable)
{
    const std::uint64_t l4 = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base));
    const std::uint64_t slot = l1e_maddr(page_a);
    EXPECT_EQ(update_pte(slot, l4 | present | rw), -XEN_EBUSY);  // Xen's answer to the type conflict
    EXPECT_EQ(update_pte(slot, l4 | present), 0);  // read-only is fine
    ASSERT_EQ(update_pte(slot, maddr(page_a) | present | rw), 0);
    ASSERT_EQ(flush(page_a), 0);
}

TEST(hypervisor_l4_slots_cannot_be_written)
{
    const std::uint64_t l4 = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base));
    EXPECT_EQ(update_pte(l4 + 256 * 8, 0), -XEN_EINVAL);
    EXPECT_EQ(update_pte(l4 + 271 * 8, 0), -XEN_EINVAL);
}

TEST(pinning_validates_a_new_table)
{
    for (auto& e : table)
        e = 0;
    table[0] = maddr(page_b) | present;  // a read-only mapping of one of our frames
    // While table is mapped writable it cannot become a page table.
    EXPECT_EQ(mmuext(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    ASSERT_TRUE(remap(table, false));
    ASSERT_EQ(mmuext(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), 0);
    EXPECT_EQ(mmuext(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);  // already pinned
    // And while it is one, it cannot be mapped writable.
    EXPECT_FALSE(remap(table, true));
    ASSERT_EQ(mmuext(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(table)), 0);
    EXPECT_EQ(mmuext(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);  // not pinned
    EXPECT_TRUE(remap(table, true));
}

TEST(tables_with_bad_entries_are_refused)
{
    const std::uint64_t l4 = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base));
    for (auto& e : table)
        e = 0;
    table[7] = l4 | present | rw;  // a writable mapping of a page table
    ASSERT_TRUE(remap(table, false));
    EXPECT_EQ(mmuext(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EBUSY);
    ASSERT_TRUE(remap(table, true));

    for (auto& e : table)
        e = 0;
    table[3] = maddr(page_b) | present | rw | kt::pte_large;  // a 2 MiB superpage in an L2
    ASSERT_TRUE(remap(table, false));
    EXPECT_EQ(mmuext(MMUEXT_PIN_L2_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    ASSERT_TRUE(remap(table, true));
}

TEST(machphys_update_sets_the_m2p_entry)
{
    const std::uint64_t mfn = kt::virt_to_mfn(page_b);
    const std::uint64_t pfn = kt::mfn_to_pfn(mfn);
    ASSERT_EQ(update_pte((mfn << 12) | MMU_MACHPHYS_UPDATE, 12345), 0);
    EXPECT_EQ(kt::mfn_to_pfn(mfn), 12345u);
    ASSERT_EQ(update_pte((mfn << 12) | MMU_MACHPHYS_UPDATE, pfn), 0);
    EXPECT_EQ(kt::mfn_to_pfn(mfn), pfn);
}

TEST(bad_request_lists_are_efault)
{
    unsigned done = 0;
    for (const auto& b : kt::bad_pointers) {
        kt::print("request list: {} {x}\n", b.what, b.address);
        EXPECT_EQ(kt::hypercall(__HYPERVISOR_mmu_update, b.address, 1, kt::arg(&done), DOMID_SELF), -XEN_EFAULT);
    }
}

TEST(the_control_domain_may_flush_caches)
{
    EXPECT_EQ(mmuext(MMUEXT_FLUSH_CACHE, 0), 0);
    EXPECT_EQ(mmuext(MMUEXT_FLUSH_CACHE_GLOBAL, 0), 0);
}

// Last: it gives page_b's frame away. A frame still mapped leaves the domain's memory at
// once (the reservation shrinks) but lives on until its last mapping goes.
TEST(a_mapped_frame_given_back_lives_until_unmapped)
{
    page_b[5] = 0x5151;
    xen_pfn_t frame = kt::virt_to_mfn(page_b);
    xen_memory_reservation_t r{};
    set_xen_guest_handle(r.extent_start, &frame);
    r.nr_extents = 1;
    r.extent_order = 0;
    r.domid = DOMID_SELF;
    const long before = kt::hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, kt::arg(&r.domid));
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, kt::arg(&r)), 1);
    EXPECT_EQ(page_b[5], 0x5151u);  // still mapped: still the same frame
    // Giving it back again changes nothing and counts as done, as on Xen.
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, kt::arg(&r)), 1);
    ASSERT_EQ(kt::update_va_mapping(va(page_b), 0, UVMF_INVLPG), 0);  // the last mapping goes
    const long after = kt::hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, kt::arg(&r.domid));
    EXPECT_EQ(after, before - 1);
}
