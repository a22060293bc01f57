// Start-of-day layout: worked examples computed by hand from Xen's algorithm (Linux-like dom0
// with INIT_P2M and MOD_START_PFN, an in-area p2m at an unaligned base, store/console pages,
// a huge initrd, the 512 KiB padding rule), invariants over many inputs, and every error.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "pv_layout.hpp"
#include "xen/xen.h"

namespace {

constexpr uint64_t KTEXT = 0xffffffff81000000;

pv::LayoutInput linux_dom0() {
    pv::LayoutInput in{};
    in.virt_base = Gva(0xffffffff80000000);
    in.kernel_start = Gva(KTEXT);
    in.kernel_end = Gva(KTEXT + 0x7000);
    in.initrd_bytes = 0x1234;
    in.nr_pages = 0x10000;
    in.unmapped_initrd = true;
    in.has_p2m_base = true;
    in.p2m_base = Gva(0x8000000000);
    return in;
}

std::string error_of(const pv::LayoutInput& in) {
    auto l = pv::compute_layout(in);
    return l ? "" : l.error().what;
}

// Also checked against Xen 4.17.7 booting the test fixture kernel (elf_image_builder.hpp) as
// dom0 (dom0_mem=64M, a 12345-byte initrd): the same kernel, start_info, page-table, stack
// and total ranges, and "Dom0 alloc.: c000000->e000000" (the 8192-page block).
TEST(PvLayout, LinuxDom0WithSeparateP2mAndUnmappedInitrd) {
    auto r = pv::compute_layout(linux_dom0());
    ASSERT_TRUE(r.has_value()) << r.error().what;
    const pv::Layout& l = *r;
    EXPECT_EQ(l.v_start, Gva(0xffffffff80000000));
    EXPECT_EQ(l.kernel.start, Gva(KTEXT));
    EXPECT_EQ(l.kernel.pfn, Pfn(0x1000));
    EXPECT_TRUE(l.initrd.empty());
    EXPECT_FALSE(l.initrd_mapped);
    EXPECT_FALSE(l.p2m_in_bootstrap);
    EXPECT_EQ(l.start_info.start, Gva(KTEXT + 0x7000));
    EXPECT_EQ(l.start_info.end, Gva(KTEXT + 0x7000 + sizeof(struct start_info)));
    EXPECT_EQ(l.start_info.pfn, Pfn(0x1007));
    EXPECT_TRUE(l.xenstore.empty());
    EXPECT_EQ(l.page_tables.start, Gva(KTEXT + 0x8000));
    EXPECT_EQ(l.nr_pt_frames, 13u);  // L4 + L3 + L2 + ten L1s for 20 MiB
    EXPECT_EQ(l.page_tables.end, Gva(KTEXT + 0x8000 + 13 * 0x1000));
    EXPECT_EQ(l.stack.start, l.page_tables.end);
    EXPECT_EQ(l.stack.end, Gva(KTEXT + 0x16000));
    EXPECT_EQ(l.stack.pfn, Pfn(0x1015));
    EXPECT_EQ(l.v_end, Gva(0xffffffff81400000));
    EXPECT_EQ(l.bootstrap_pages, 0x1400u);
    EXPECT_EQ(l.chunk_pages, 0x2000u);
    EXPECT_EQ(l.initrd_pfn, Pfn(0x2000));  // right after Xen's 2^order block
    EXPECT_EQ(l.initrd_pages, 2u);
    EXPECT_EQ(l.first_p2m_pfn, 0x2002u);
    EXPECT_EQ(l.p2m.start, Gva(0x8000000000));
    EXPECT_EQ(l.p2m.end, Gva(0x8000080000));
    EXPECT_EQ(l.p2m.pfn, Pfn(0x2002));
    EXPECT_EQ(l.p2m_pages, 128u);
    EXPECT_EQ(l.p2m_table_frames, 3u);  // a new L3 (slot 1), L2 and L1
    EXPECT_EQ(l.total_pfns, 0x2002u + 131);
}

// The same inputs as a small test guest booted as dom0 (dom0_mem=64M) on Xen 4.17.7 with a
// 12345-byte initrd; expected values are what Xen printed in its VIRTUAL MEMORY ARRANGEMENT
// (its start_info end adds the 40-byte dom0_vga_console_info) and its allocation (4 MiB).
TEST(PvLayout, MatchesXen417ForASmallDom0) {
    pv::LayoutInput in{};
    in.virt_base = Gva(0xffffffff80000000);
    in.kernel_start = Gva(0xffffffff80000000);
    in.kernel_end = Gva(0xffffffff800172d1);
    in.initrd_bytes = 12345;
    in.nr_pages = 16384;
    auto r = pv::compute_layout(in);
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->initrd.start, Gva(0xffffffff80018000));
    EXPECT_EQ(r->initrd.end, Gva(0xffffffff8001b039));
    EXPECT_EQ(r->p2m.start, Gva(0xffffffff8001c000));
    EXPECT_EQ(r->p2m.end, Gva(0xffffffff8003c000));
    EXPECT_EQ(r->start_info.start, Gva(0xffffffff8003c000));
    EXPECT_EQ(r->start_info.end + 40, Gva(0xffffffff8003c4b8));
    EXPECT_EQ(r->page_tables.start, Gva(0xffffffff8003d000));
    EXPECT_EQ(r->page_tables.end, Gva(0xffffffff80042000));
    EXPECT_EQ(r->stack.start, Gva(0xffffffff80042000));
    EXPECT_EQ(r->stack.end, Gva(0xffffffff80043000));
    EXPECT_EQ(r->v_end, Gva(0xffffffff80400000));
    EXPECT_EQ(r->chunk_pages, 1024u);                        // "Dom0 alloc.: f000000->f400000"
    EXPECT_EQ(in.nr_pages - r->chunk_pages - r->initrd_pages, 15356u);  // "(15356 pages to be allocated)"
}

TEST(PvLayout, StoreAndConsolePagesFollowStartInfo) {
    auto in = linux_dom0();
    in.console_and_store = true;
    auto r = pv::compute_layout(in);
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->xenstore.start, Gva(KTEXT + 0x8000));
    EXPECT_EQ(r->xenstore.pfn, Pfn(0x1008));
    EXPECT_EQ(r->console.start, Gva(KTEXT + 0x9000));
    EXPECT_EQ(r->console.end, Gva(KTEXT + 0xa000));
    EXPECT_EQ(r->page_tables.start, Gva(KTEXT + 0xa000));
    EXPECT_EQ(r->nr_pt_frames, 13u);
    EXPECT_EQ(r->stack.end, Gva(KTEXT + 0x18000));
}

TEST(PvLayout, P2mInsideTheAreaAtAnUnalignedBase) {
    pv::LayoutInput in{};
    in.virt_base = Gva(0x1000);  // not 4 MiB aligned: v_end still rounds to an absolute 4 MiB
    in.kernel_start = Gva(0x1000);
    in.kernel_end = Gva(0x1001000);
    in.nr_pages = 0x8000;
    auto r = pv::compute_layout(in);
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_TRUE(r->p2m_in_bootstrap);
    EXPECT_TRUE(r->initrd_mapped);
    EXPECT_TRUE(r->initrd.empty());
    EXPECT_EQ(r->p2m.start, Gva(0x1001000));
    EXPECT_EQ(r->p2m.end, Gva(0x1041000));
    EXPECT_EQ(r->p2m.pfn, Pfn(0x1000));
    EXPECT_EQ(r->start_info.pfn, Pfn(0x1040));
    EXPECT_EQ(r->page_tables.pfn, Pfn(0x1041));
    EXPECT_EQ(r->nr_pt_frames, 13u);
    EXPECT_EQ(r->stack.pfn, Pfn(0x104e));
    EXPECT_EQ(r->v_end, Gva(0x1400000));
    EXPECT_EQ(r->bootstrap_pages, 0x13ffu);
    EXPECT_EQ(r->chunk_pages, 0x2000u);
    EXPECT_EQ(r->first_p2m_pfn, 0x2000u);
    EXPECT_EQ(r->total_pfns, 0x2000u);
    EXPECT_EQ(r->p2m_table_frames, 0u);
}

TEST(PvLayout, PaddingRuleAddsFourMiB) {
    pv::LayoutInput in{};
    in.nr_pages = 2048;
    in.kernel_end = Gva(0x370000);  // stack ends 0x85000 below 4 MiB: enough padding
    auto a = pv::compute_layout(in);
    ASSERT_TRUE(a.has_value()) << a.error().what;
    EXPECT_EQ(a->nr_pt_frames, 5u);
    EXPECT_EQ(a->stack.end, Gva(0x37b000));
    EXPECT_EQ(a->v_end, Gva(0x400000));

    in.kernel_end = Gva(0x380000);  // now less than 512 KiB would remain: another 4 MiB
    auto b = pv::compute_layout(in);
    ASSERT_TRUE(b.has_value()) << b.error().what;
    EXPECT_EQ(b->v_end, Gva(0x800000));
    EXPECT_EQ(b->nr_pt_frames, 7u);  // the bigger area needs two more L1s
    EXPECT_EQ(b->stack.end, Gva(0x38d000));
    EXPECT_EQ(b->chunk_pages, 2048u);
}

TEST(PvLayout, HugeMappedInitrd) {
    pv::LayoutInput in = linux_dom0();
    in.unmapped_initrd = false;
    in.has_p2m_base = false;
    in.initrd_bytes = 0x40000001;  // 1 GiB and a byte
    in.nr_pages = 1u << 20;
    auto r = pv::compute_layout(in);
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->initrd.start, Gva(KTEXT + 0x7000));
    EXPECT_EQ(r->initrd.end, Gva(KTEXT + 0x7000 + 0x40000001));
    EXPECT_EQ(r->initrd_pfn, Pfn(0x1007));
    EXPECT_EQ(r->initrd_pages, 0x40001u);
    EXPECT_EQ(r->p2m.start, Gva(0xffffffffc1008000));
    EXPECT_EQ(r->p2m.end, Gva(0xffffffffc1808000));
    EXPECT_EQ(r->page_tables.start, Gva(0xffffffffc1809000));
    EXPECT_EQ(r->nr_pt_frames, 530u);  // L4, L3, two L2s, 526 L1s
    EXPECT_EQ(r->v_end, Gva(0xffffffffc1c00000));
    EXPECT_EQ(r->chunk_pages, 8192u);  // the area less the initrd: 7167 pages
    EXPECT_EQ(r->total_pfns, 8192u + 0x40001);
}

TEST(PvLayout, MemoryTooSmall) {
    pv::LayoutInput in{};
    in.virt_base = Gva(0x1000);
    in.kernel_start = Gva(0x1000);
    in.kernel_end = Gva(0x1001000);
    in.nr_pages = 8191;  // the 2^order block is 8192
    EXPECT_EQ(error_of(in), "domain memory too small for the kernel image");
    in.nr_pages = 8192;
    EXPECT_EQ(error_of(in), "");
    // An unmapped initrd must fit after the block.
    in.unmapped_initrd = true;
    in.initrd_bytes = 1;
    EXPECT_EQ(error_of(in), "domain memory too small for the kernel image");
    // The separate p2m list and its tables must fit after that.
    auto d = linux_dom0();
    d.nr_pages = 8213;  // 0x2002 + 17 p2m pages + 3 tables = 8214
    EXPECT_EQ(error_of(d), "domain memory too small for the initial p2m list");
    d.nr_pages = 8214;
    EXPECT_EQ(error_of(d), "");
}

TEST(PvLayout, SeparateP2mPlacementErrors) {
    auto in = linux_dom0();
    in.p2m_base = Gva(0xffffffff81400000);  // touches v_end: Xen refuses it
    EXPECT_EQ(error_of(in), "INIT_P2M list overlaps the bootstrap area");
    in.p2m_base = Gva(0xffffffff7ff80000);  // ends right at v_start
    EXPECT_EQ(error_of(in), "INIT_P2M list overlaps the bootstrap area");
    in.p2m_base = Gva(0xffffffff7ff00000);
    EXPECT_EQ(error_of(in), "");
    in.p2m_base = Gva(0xffff800000000000);
    EXPECT_EQ(error_of(in), "INIT_P2M list overlaps the hypervisor's range");
    in.p2m_base = Gva(0x7fffffffe000);
    EXPECT_EQ(error_of(in), "INIT_P2M list leaves the canonical address space");
    in.p2m_base = Gva(0xfffffffffffff000);
    EXPECT_EQ(error_of(in), "INIT_P2M list leaves the canonical address space");
}

TEST(PvLayout, SeparateP2mSharingTablesWithTheArea) {
    // Just below v_start: same 512 GiB slot (its L3 exists), another GiB: an L2 and an L1.
    auto in = linux_dom0();
    in.p2m_base = Gva(0xffffffff7fe00000);
    auto r = pv::compute_layout(in);
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->p2m_table_frames, 2u);
    // Below a v_start inside a GiB: that GiB's L2 exists too, only an L1 is new.
    in.virt_base = Gva(0xffffffff80400000);
    in.p2m_base = Gva(0xffffffff80000000);
    auto q = pv::compute_layout(in);
    ASSERT_TRUE(q.has_value()) << q.error().what;
    EXPECT_EQ(q->p2m_table_frames, 1u);
    // A 1 GiB-straddling list in a fresh slot: L3, two L2s, two L1s.
    in.p2m_base = Gva(0x8000000000 + 0x40000000 - 0x40000);
    auto s = pv::compute_layout(in);
    ASSERT_TRUE(s.has_value()) << s.error().what;
    EXPECT_EQ(s->p2m_table_frames, 5u);
}

TEST(PvLayout, AreaErrors) {
    auto in = linux_dom0();
    in.virt_base = Gva(0xffffffff80000800);
    EXPECT_EQ(error_of(in), "VIRT_BASE not page aligned");
    in = linux_dom0();
    in.kernel_start = Gva(0xffffffff7ffff000);
    EXPECT_EQ(error_of(in), "kernel outside the bootstrap area");
    in = linux_dom0();
    in.kernel_start = Gva(0xfffffffffff00000);
    in.kernel_end = Gva(0xffffffffffff0000);  // start_info and tables would pass 2^64
    EXPECT_EQ(error_of(in), "bootstrap area wraps past 2^64");
    in = linux_dom0();
    in.unmapped_initrd = false;
    in.initrd_bytes = UINT64_MAX - 0x1000;
    EXPECT_EQ(error_of(in), "bootstrap area wraps past 2^64");
    in = linux_dom0();
    in.virt_base = Gva(0xffff800000000000);
    in.kernel_start = Gva(0xffff800001000000);
    in.kernel_end = Gva(0xffff800001007000);
    EXPECT_EQ(error_of(in), "bootstrap area overlaps the hypervisor's range");
    in.virt_base = Gva(0x7fffff000000);
    in.kernel_start = Gva(0x7fffff000000);
    in.kernel_end = Gva(0x7fffffff0000);  // v_end would be 2^47 + 4 MiB
    EXPECT_EQ(error_of(in), "bootstrap area leaves the canonical address space");
    in = linux_dom0();
    in.has_p2m_base = false;
    in.nr_pages = UINT64_MAX / 4;
    EXPECT_EQ(error_of(in), "domain too large for a p2m list");
}

TEST(PvLayout, TablesFor) {
    EXPECT_EQ(pv::tables_for(Gva(0), Gva(0x400000)), 1u + 1 + 1 + 2);
    EXPECT_EQ(pv::tables_for(Gva(0x1000), Gva(0x400000)), 5u);
    EXPECT_EQ(pv::tables_for(Gva(0x7fc0000000), Gva(0x8040000000)), 1u + 2 + 2 + 1024);  // across a 512 GiB slot
}

// Invariants of Xen's algorithm over many generated inputs.
TEST(PvLayout, InvariantsOverManyInputs) {
    std::mt19937_64 rng(1234);
    for (int i = 0; i < 3000; ++i) {
        pv::LayoutInput in{};
        const uint64_t base = (rng() % 4) == 0 ? 0xffffffff80000000 : (rng() % 0x100000) << 12;
        in.virt_base = Gva(base);
        in.kernel_start = Gva(base + ((rng() % 0x2000) << 12));
        in.kernel_end = in.kernel_start + (rng() % 0x3000000);
        in.initrd_bytes = (rng() % 3) ? rng() % 0x2000000 : 0;
        in.nr_pages = 0x4000 + rng() % 0x80000;
        in.unmapped_initrd = rng() & 1;
        in.console_and_store = rng() & 1;
        auto r = pv::compute_layout(in);
        if (!r) {
            EXPECT_STREQ(r.error().what, "domain memory too small for the kernel image") << i;
            continue;
        }
        const pv::Layout& l = *r;
        EXPECT_TRUE(kstd::is_aligned(l.v_end.raw(), 4 * kstd::MiB)) << i;
        EXPECT_GE(l.v_end - l.stack.end, 512 * kstd::KiB) << i;
        EXPECT_LT(l.v_end - l.stack.end, 512 * kstd::KiB + 4 * kstd::MiB) << i;
        // The tables are exactly enough, and one fewer would not have been.
        EXPECT_EQ(pv::tables_for(l.v_start, l.v_end), l.nr_pt_frames) << i;
        EXPECT_EQ(l.page_tables.end - l.page_tables.start, l.nr_pt_frames * PAGE_SIZE) << i;
        // Regions follow each other in Xen's order, page-aligned, pfns by position.
        EXPECT_LE(l.kernel.end, l.p2m.start) << i;
        EXPECT_LE(l.p2m.end, l.start_info.start) << i;
        EXPECT_TRUE(kstd::is_aligned(l.start_info.start.raw(), PAGE_SIZE)) << i;
        EXPECT_EQ(l.stack.start, l.page_tables.end) << i;
        EXPECT_EQ(l.stack.end - l.stack.start, PAGE_SIZE) << i;
        EXPECT_EQ(l.page_tables.pfn, Pfn((l.page_tables.start - l.v_start) >> 12)) << i;
        EXPECT_GE(l.chunk_pages, l.bootstrap_pages - (l.initrd_mapped ? l.initrd_pages : 0)) << i;
        EXPECT_LT(l.chunk_pages / 2, kstd::max<uint64_t>(1, l.bootstrap_pages - (l.initrd_mapped ? l.initrd_pages : 0))) << i;
        EXPECT_LE(l.total_pfns, in.nr_pages) << i;
    }
}

}  // namespace
