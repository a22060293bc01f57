// pv_mmu: the rules of the PV MMU, through mmu_update, update_va_mapping and mmuext_op pins:
// an entry may only map the domain's own frames, never a page table writably; a frame becomes
// a page table only when all its entries check out (no superpages) and while it is one it
// cannot be mapped writable; the hypervisor's L4 slots cannot be written; the M2P entry of a
// frame can be set with MMU_MACHPHYS_UPDATE. Also the attack shapes of real Xen escapes: a
// table that maps itself writable, tables pointing at the wrong level, superpage bits, many
// references to one frame; the foreign-domain forms as dom0 alone can try them; the flush
// flags of update_va_mapping.
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
[[gnu::aligned(4096)]] std::uint64_t spare[512];
[[gnu::aligned(4096)]] std::uint64_t many[8][512];
std::uint64_t vcpu_mask = 1;  // vCPU 0: the only one

std::uint64_t va(const void* p) { return reinterpret_cast<std::uint64_t>(p); }
std::uint64_t maddr(const void* p) { return kt::virt_to_mfn(p) << 12; }

long update_pte_as(std::uint64_t ptr, std::uint64_t val, std::uint32_t foreigndom)
{
    mmu_update_t req{ptr, val};
    unsigned done = 0;
    return kt::hypercall(__HYPERVISOR_mmu_update, kt::arg(&req), 1, kt::arg(&done), foreigndom);
}

long update_pte(std::uint64_t ptr, std::uint64_t val) { return update_pte_as(ptr, val, DOMID_SELF); }

long uvm_otherdomain(const void* p, std::uint64_t pte, std::uint64_t flags, domid_t dom)
{
    return kt::hypercall(__HYPERVISOR_update_va_mapping_otherdomain, va(p), pte, flags, dom);
}

std::uint64_t peek(const std::uint64_t* p) { return *static_cast<const volatile std::uint64_t*>(p); }

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
    const std::uint64_t slot = kt::l1e_maddr(page_a);
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
    const std::uint64_t slot = kt::l1e_maddr(page_a);
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
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    ASSERT_TRUE(remap(table, false));
    ASSERT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), 0);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);  // already pinned
    // And while it is one, it cannot be mapped writable.
    EXPECT_FALSE(remap(table, true));
    ASSERT_EQ(kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(table)), 0);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);  // not pinned
    EXPECT_TRUE(remap(table, true));
}

TEST(tables_with_bad_entries_are_refused)
{
    const std::uint64_t l4 = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base));
    for (auto& e : table)
        e = 0;
    table[7] = l4 | present | rw;  // a writable mapping of a page table
    ASSERT_TRUE(remap(table, false));
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EBUSY);
    ASSERT_TRUE(remap(table, true));

    for (auto& e : table)
        e = 0;
    table[3] = maddr(page_b) | present | rw | kt::pte_large;  // a 2 MiB superpage in an L2
    ASSERT_TRUE(remap(table, false));
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L2_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
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
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_FLUSH_CACHE, 0), 0);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_FLUSH_CACHE_GLOBAL, 0), 0);
}

// A table that maps itself writable would let the guest write its own entries: as an L1 it is
// a type conflict (-EBUSY), as an L2 or L4 the entry would need the table to be of the level
// below (-EINVAL).
TEST(a_table_that_maps_itself_writable_is_refused)
{
    for (auto& e : table)
        e = 0;
    table[5] = maddr(table) | present | rw;
    ASSERT_TRUE(remap(table, false));
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table)), -XEN_EBUSY);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L2_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L3_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L4_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    ASSERT_TRUE(remap(table, true));
    table[5] = 0;
}

// Entries that point at a table of the wrong level: an L3 or L4 entry naming the live L4, an
// L4 entry naming a live L2. Each is -EINVAL, writable or not.
TEST(tables_at_the_wrong_level_are_refused)
{
    const std::uint64_t l4 = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base));
    const std::uint64_t l2 = kt::read_entry(kt::entry_maddr(page_a, 3)) & kt::pte_addr_mask;
    for (auto& e : table)
        e = 0;
    const std::uint64_t variants[] = {present, present | rw};
    for (std::uint64_t flags : variants) {
        table[1] = l4 | flags;
        ASSERT_TRUE(remap(table, false));
        EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L3_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
        EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L2_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
        ASSERT_TRUE(remap(table, true));
        table[1] = l2 | flags;
        ASSERT_TRUE(remap(table, false));
        EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L4_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
        ASSERT_TRUE(remap(table, true));
    }
    table[1] = 0;
    // In the live tables: page_a's L2 entry pointed at the L4.
    EXPECT_EQ(update_pte(kt::entry_maddr(page_a, 2), l4 | present), -XEN_EINVAL);
    EXPECT_EQ(update_pte(kt::entry_maddr(page_a, 3), l4 | present | rw), -XEN_EINVAL);
}

// PS makes an L2 or L3 entry a superpage, which a PV guest may not have; in an L4 it is a
// reserved bit. In an L1 entry the same bit is PAT, which dom0 (with I/O rights) may set.
TEST(superpage_bits_are_refused_where_not_allowed)
{
    for (auto& e : table)
        e = 0;
    table[2] = maddr(page_b) | present | rw | kt::pte_large;
    ASSERT_TRUE(remap(table, false));
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L3_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L4_TABLE, kt::virt_to_mfn(table)), -XEN_EINVAL);
    ASSERT_TRUE(remap(table, true));
    table[2] = 0;
    const int levels[] = {2, 3, 4};
    for (int level : levels) {
        const std::uint64_t slot = kt::entry_maddr(page_a, level);
        EXPECT_EQ(update_pte(slot, kt::read_entry(slot) | kt::pte_large), -XEN_EINVAL);
    }
    const std::uint64_t l1 = kt::l1e_maddr(page_a);
    EXPECT_EQ(update_pte(l1, maddr(page_a) | present | rw | kt::pte_large), 0);
    EXPECT_EQ(update_pte(l1, maddr(page_a) | present | rw), 0);
    ASSERT_EQ(flush(page_a), 0);
}

// Thousands of references to one frame are counted one by one and all given back: while 512
// writable mappings of `spare` live in a pinned L1, spare cannot become a table; once that L1
// is unpinned it can. Seven more L1s map page_b read-only 3584 times.
TEST(many_mappings_of_one_frame_are_counted_and_released)
{
    for (auto& e : spare)
        e = 0;
    for (auto& e : many[0])
        e = maddr(spare) | present | rw;
    for (int t = 1; t < 8; ++t)
        for (auto& e : many[t])
            e = maddr(page_b) | present;
    for (auto& t : many) {
        ASSERT_TRUE(remap(t, false));
        ASSERT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(t)), 0);
    }
    ASSERT_TRUE(remap(spare, false));
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(spare)), -XEN_EINVAL);
    for (auto& t : many) {
        ASSERT_EQ(kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(t)), 0);
        ASSERT_TRUE(remap(t, true));
    }
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(spare)), 0);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(spare)), 0);
    EXPECT_TRUE(remap(spare, true));
}

// Every flush update_va_mapping offers (local, all, a vCPU mask; one page or the whole TLB)
// makes the new entry visible at once. An unreadable mask is -EFAULT, the entry changed.
TEST(update_va_mapping_flush_flags)
{
    page_a[0] = 0xaaaa;
    page_b[0] = 0xbbbb;
    const std::uint64_t mask = va(&vcpu_mask);
    const std::uint64_t types[] = {UVMF_INVLPG, UVMF_TLB_FLUSH};
    const std::uint64_t whiches[] = {UVMF_LOCAL, UVMF_ALL, UVMF_MULTI | mask};
    for (std::uint64_t type : types)
        for (std::uint64_t which : whiches) {
            EXPECT_EQ(peek(page_a), 0xaaaau);
            ASSERT_EQ(kt::update_va_mapping(va(page_a), maddr(page_b) | present | rw, type | which), 0);
            EXPECT_EQ(peek(page_a), 0xbbbbu);
            ASSERT_EQ(kt::update_va_mapping(va(page_a), maddr(page_a) | present | rw, type | which), 0);
        }
    EXPECT_EQ(kt::update_va_mapping(va(page_a), maddr(page_b) | present | rw, UVMF_INVLPG | 0x1000), -XEN_EFAULT);
    ASSERT_EQ(flush(page_a), 0);
    EXPECT_EQ(peek(page_a), 0xbbbbu);
    EXPECT_EQ(kt::update_va_mapping(va(page_a), maddr(page_a) | present | rw, UVMF_TLB_FLUSH | 0x1000), -XEN_EFAULT);
    ASSERT_EQ(flush(page_a), 0);
    EXPECT_EQ(peek(page_a), 0xaaaau);
    EXPECT_EQ(kt::update_va_mapping(va(page_a), maddr(page_a) | present | rw, UVMF_NONE | 0x1000), 0);
    // mmuext_op's MULTI forms: a mask that cannot be read is -EINVAL there.
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_TLB_FLUSH_MULTI, 0, DOMID_SELF, &vcpu_mask), 0);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_TLB_FLUSH_MULTI, 0, DOMID_SELF, reinterpret_cast<void*>(0x1000)), -XEN_EINVAL);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_INVLPG_MULTI, va(page_a), DOMID_SELF, reinterpret_cast<void*>(0x1000)), -XEN_EINVAL);
}

// The foreign forms, as dom0 alone can try them: naming oneself by number or a domain that
// does not exist is -ESRCH; DOMID_IO owns no RAM (mapping ours through it is "could not pin",
// -EBUSY) and is not the caller (-EPERM for its vCPU's own operations); commands 4-7 of
// mmu_update do not exist.
TEST(foreign_domain_forms)
{
    const std::uint64_t slot = kt::l1e_maddr(page_a);
    const std::uint64_t own = maddr(page_a) | present | rw;
    EXPECT_EQ(update_pte_as(slot, own, 0), -XEN_ESRCH);  // dom0 by number
    EXPECT_EQ(update_pte_as(slot, own, 0x1234), -XEN_ESRCH);
    EXPECT_EQ(update_pte_as(slot, own, ((0x1234u + 1) << 16) | DOMID_SELF), -XEN_ESRCH);
    EXPECT_EQ(update_pte_as(slot, maddr(page_b) | present | rw, DOMID_IO), -XEN_EBUSY);
    // Xen's fast path: the same frame with the same rw and cache bits takes no new reference,
    // so the owner named does not matter.
    EXPECT_EQ(update_pte_as(slot, own, DOMID_IO), 0);
    EXPECT_EQ(update_pte_as(slot, own, (1u << 16) | DOMID_SELF), 0);  // our own tables, named
    EXPECT_EQ(update_pte_as(slot | 4, own, DOMID_SELF), -XEN_ENOSYS);
    EXPECT_EQ(update_pte_as(slot | 7, own, DOMID_SELF), -XEN_ENOSYS);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_TLB_FLUSH_LOCAL, 0, 0), -XEN_ESRCH);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_TLB_FLUSH_LOCAL, 0, 0x1234), -XEN_ESRCH);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_IO), -XEN_EPERM);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_NEW_BASEPTR, 0, DOMID_IO), -XEN_EPERM);
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, kt::virt_to_mfn(table), DOMID_IO), -XEN_EINVAL);
    EXPECT_EQ(uvm_otherdomain(page_a, own, UVMF_INVLPG, 0), -XEN_ESRCH);
    EXPECT_EQ(uvm_otherdomain(page_a, own, UVMF_INVLPG, 0x1234), -XEN_ESRCH);
    EXPECT_EQ(uvm_otherdomain(page_a, maddr(page_b) | present | rw, UVMF_INVLPG, DOMID_IO), -XEN_EBUSY);
    EXPECT_EQ(uvm_otherdomain(page_a, own | kt::pte_accessed, UVMF_INVLPG, DOMID_IO), 0);  // fast path
    page_b[1] = 0xb1;
    EXPECT_EQ(uvm_otherdomain(page_a, maddr(page_b) | present | rw, UVMF_INVLPG, DOMID_SELF), 0);
    EXPECT_EQ(peek(&page_a[1]), 0xb1u);
    EXPECT_EQ(uvm_otherdomain(page_a, own, UVMF_INVLPG, DOMID_SELF), 0);
}

// Linear page tables (Xen 4.17's default pv-linear-pt): a read-only entry pointing at a table
// of its own level, through which the guest reads its tables. Writable is refused. Here slot
// 300 of the live L4 (used by nobody) maps the L4 itself, then another pinned L4.
TEST(linear_page_tables_are_read_only_and_of_the_same_level)
{
    const std::uint64_t l4 = maddr(reinterpret_cast<void*>(kt::start_info()->pt_base));
    const std::uint64_t slot = l4 + 300 * 8;
    ASSERT_EQ(kt::read_entry(slot), 0u);
    EXPECT_EQ(update_pte(slot, l4 | present | rw), -XEN_EINVAL);
    ASSERT_EQ(update_pte(slot, l4 | present), 0);
    constexpr std::uint64_t base = 0xffff000000000000ull | (300ull << 39);
    const auto* self = reinterpret_cast<const std::uint64_t*>(base | (300ull << 30) | (300ull << 21) | (300ull << 12));
    EXPECT_EQ(peek(&self[300]) & kt::pte_addr_mask, l4);
    // page_a's L1, read through the L4 standing in for the three levels above it.
    const std::uint64_t v = va(page_a);
    const auto* l1 = reinterpret_cast<const std::uint64_t*>(base | (((v >> 39) & 511) << 30) |
                                                           (((v >> 30) & 511) << 21) | (((v >> 21) & 511) << 12));
    EXPECT_EQ(peek(&l1[(v >> 12) & 511]) & kt::pte_addr_mask, maddr(page_a));
    ASSERT_EQ(update_pte(slot, 0), 0);

    for (auto& e : table)
        e = 0;
    ASSERT_TRUE(remap(table, false));
    ASSERT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L4_TABLE, kt::virt_to_mfn(table)), 0);
    EXPECT_EQ(update_pte(slot, maddr(table) | present | rw), -XEN_EINVAL);
    ASSERT_EQ(update_pte(slot, maddr(table) | present), 0);
    // Unpinned, it stays an L4 while the linear entry holds it...
    ASSERT_EQ(kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, kt::virt_to_mfn(table)), 0);
    EXPECT_FALSE(remap(table, true));
    // ...and stops being one with the entry.
    ASSERT_EQ(update_pte(slot, 0), 0);
    EXPECT_TRUE(remap(table, true));
    EXPECT_EQ(kt::mmuext_mfn(MMUEXT_TLB_FLUSH_LOCAL, 0), 0);
}

// A pinned page table given back (decrease_reservation) leaves the domain's memory at once but
// stays a table until unpinned, and its frame lives until the last mapping of it goes; then
// it is no longer ours to map. spare's frame is given away for good.
TEST(a_pinned_table_given_back_lives_until_unpinned_and_unmapped)
{
    for (auto& e : spare)
        e = 0;
    const std::uint64_t frame = kt::virt_to_mfn(spare);
    ASSERT_TRUE(remap(spare, false));
    ASSERT_EQ(kt::mmuext_mfn(MMUEXT_PIN_L1_TABLE, frame), 0);
    xen_pfn_t list[1] = {frame};
    xen_memory_reservation_t r{};
    set_xen_guest_handle(r.extent_start, list);
    r.nr_extents = 1;
    r.domid = DOMID_SELF;
    const long before = kt::hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, kt::arg(&r.domid));
    const std::uint64_t pfn = kt::mfn_to_pfn(frame);
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_memory_op, XENMEM_decrease_reservation, kt::arg(&r)), 1);
    // Until it is freed the frame is still counted, and its M2P entry stays.
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, kt::arg(&r.domid)), before);
    EXPECT_EQ(kt::mfn_to_pfn(frame), pfn);
    EXPECT_FALSE(remap(spare, true));  // still a table
    ASSERT_EQ(kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, frame), 0);
    EXPECT_EQ(peek(&spare[3]), 0u);  // still mapped, still the same frame
    ASSERT_EQ(kt::update_va_mapping(va(spare), 0, UVMF_INVLPG), 0);  // the last reference goes
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_memory_op, XENMEM_current_reservation, kt::arg(&r.domid)), before - 1);
    EXPECT_EQ(kt::mfn_to_pfn(frame), ~0ull);
    EXPECT_FALSE(kt::map_machine_page(spare, frame << 12, false));  // freed: not ours any more
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
