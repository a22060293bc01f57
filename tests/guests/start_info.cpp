// start_info: what a 64-bit PV dom0 finds at entry, checked against the ABI's description of
// the bootstrap area (xen.h, "start of day" layout):
//   - the area starts at VIRT_BASE and holds, each element page-aligned and packed in this
//     order: the kernel image, the p2m list (mfn_list), start_info (rsi; dom0's VGA info right
//     behind it), the bootstrap page tables (pt_base), a one-page stack (rsp at its top);
//   - it ends on a 4 MiB boundary with at least 512 KiB of mapped padding after the stack;
//   - pseudo-physical frame p is mapped at VIRT_BASE + p * 4096, page-table frames read-only;
//   - the p2m list and the hypervisor's machine-to-phys table agree for every frame;
//   - dom0 has SIF_INITDOMAIN and SIF_PRIVILEGED, no xenstore or console ring, and its
//     cmd_line is the module string (GRUB 2 passes it without the file name);
//   - at entry: cs/ss are FLAT_KERNEL_CS/SS, the other general registers are zero.
// The module string the harness passes is "<kernel name> kt.arg=42 kt.dom0_mem=<N>", with N MiB
// also given to the hypervisor as dom0_mem, so the expected page count comes from the input.
#include <xen/xen.h>

#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

constexpr std::uint64_t mib = 1ull << 20;

std::uint64_t round_up(std::uint64_t v, std::uint64_t to) { return (v + to - 1) & ~(to - 1); }
const start_info_t& si() { return *kt::start_info(); }
const char* cmd_line() { return reinterpret_cast<const char*>(si().cmd_line); }

// First virtual address at or above `from` that the initial page tables do not map.
std::uint64_t first_unmapped(std::uint64_t from)
{
    std::uint64_t pte;
    while (kt::lookup_pte(from, &pte))
        from += kt::page_size;
    return from;
}

std::uint64_t cmdline_number(const char* key)
{
    std::uint64_t v = ~0ull;
    return kt::cmdline_number(cmd_line(), key, &v) ? v : ~0ull;
}

} // namespace

TEST(magic_names_the_64bit_abi)
{
    EXPECT_EQ(kt::strnlen(si().magic, sizeof si().magic) < sizeof si().magic, true);
    EXPECT_STREQ(si().magic, "xen-3.0-x86_64");
}

TEST(dom0_flags)
{
    EXPECT_EQ(si().flags & SIF_INITDOMAIN, static_cast<std::uint32_t>(SIF_INITDOMAIN));
    EXPECT_EQ(si().flags & SIF_PRIVILEGED, static_cast<std::uint32_t>(SIF_PRIVILEGED));
    EXPECT_EQ(si().flags & SIF_MOD_START_PFN, 0u);  // no initrd was given
    EXPECT_EQ(si().mod_start, 0u);
    EXPECT_EQ(si().mod_len, 0u);
}

TEST(cmd_line_is_the_module_string)
{
    kt::print("cmd_line: \"{}\"\n", cmd_line());
    EXPECT_TRUE(kt::starts_with(cmd_line(), "start_info "));
    EXPECT_EQ(cmdline_number("kt.arg"), 42u);
    EXPECT_LT(kt::strnlen(cmd_line(), MAX_GUEST_CMDLINE), static_cast<std::size_t>(MAX_GUEST_CMDLINE));
}

TEST(nr_pages_is_dom0_mem)
{
    const std::uint64_t mem_mib = cmdline_number("kt.dom0_mem");
    ASSERT_NE(mem_mib, ~0ull);
    EXPECT_EQ(si().nr_pages, mem_mib * mib / kt::page_size);
}

TEST(no_xenstore_or_console_ring_for_dom0)
{
    EXPECT_EQ(si().store_mfn, 0u);
    EXPECT_EQ(si().store_evtchn, 0u);
    kt::print("console.dom0: info_off {} info_size {}\n", si().console.dom0.info_off, si().console.dom0.info_size);
    if (si().console.dom0.info_size != 0) {
        // The VGA description sits right behind start_info in the same page.
        EXPECT_EQ(si().console.dom0.info_off, sizeof(start_info_t));
        EXPECT_LE(si().console.dom0.info_off + si().console.dom0.info_size, kt::page_size);
    }
    EXPECT_EQ(si().nr_p2m_frames, 0u);  // no physically mapped p2m was asked for
}

TEST(shared_info_is_a_page)
{
    EXPECT_NE(si().shared_info, 0u);
    EXPECT_EQ(si().shared_info % kt::page_size, 0u);
    // Events start masked: no callback exists yet for an upcall to go to.
    EXPECT_EQ(kt::initial_upcall_mask(), 1u);
}

TEST(bootstrap_elements_in_order)
{
    const std::uint64_t p2m = si().mfn_list;
    const std::uint64_t start = reinterpret_cast<std::uint64_t>(kt::start_info());
    kt::print("kernel {x}-{x} p2m {x} start_info {x} pt_base {x} ({} frames) rsp {x}\n", kt::virt_base,
              reinterpret_cast<std::uint64_t>(kt_load_end), p2m, start, si().pt_base, si().nr_pt_frames, kt_entry_rsp);
    EXPECT_EQ(p2m, round_up(reinterpret_cast<std::uint64_t>(kt_load_end), kt::page_size));
    EXPECT_EQ(start, round_up(p2m + si().nr_pages * sizeof(std::uint64_t), kt::page_size));
    EXPECT_EQ(si().pt_base, round_up(start + sizeof(start_info_t) + si().console.dom0.info_size, kt::page_size));
    EXPECT_GE(si().nr_pt_frames, 4u);  // at least one table per level
    // One-page stack right after the page tables, rsp at its top.
    EXPECT_EQ(kt_entry_rsp, si().pt_base + (si().nr_pt_frames + 1) * kt::page_size);
    EXPECT_EQ(kt_entry_rsi, start);
}

TEST(area_ends_on_4mib_with_512kib_padding)
{
    const std::uint64_t end = first_unmapped(kt::virt_base);
    kt::print("bootstrap area {x}-{x}\n", kt::virt_base, end);
    EXPECT_EQ(end % (4 * mib), 0u);
    EXPECT_GE(end - kt_entry_rsp, 512 * 1024u);
    EXPECT_LE((end - kt::virt_base) / kt::page_size, si().nr_pages);
}

TEST(area_maps_pfns_in_order)
{
    const std::uint64_t end = first_unmapped(kt::virt_base);
    const std::uint64_t pt_first = (si().pt_base - kt::virt_base) / kt::page_size;
    unsigned bad_frame = 0, bad_rw = 0, bad_present = 0;
    for (std::uint64_t va = kt::virt_base; va < end; va += kt::page_size) {
        const std::uint64_t pfn = (va - kt::virt_base) / kt::page_size;
        std::uint64_t pte;
        if (!kt::lookup_pte(va, &pte)) {
            ++bad_present;
            continue;
        }
        // (The runtime re-pointed one page of its image at shared_info.)
        if (((pte & kt::pte_addr_mask) >> 12) != kt::pfn_to_mfn(pfn) && va != reinterpret_cast<std::uint64_t>(kt::shared_info()))
            ++bad_frame;
        // Page-table frames are mapped read-only, everything else writable.
        const bool is_table = pfn >= pt_first && pfn < pt_first + si().nr_pt_frames;
        if (((pte & kt::pte_rw) != 0) == is_table)
            ++bad_rw;
    }
    EXPECT_EQ(bad_present, 0u);
    EXPECT_EQ(bad_frame, 0u);
    EXPECT_EQ(bad_rw, 0u);
}

TEST(page_tables_are_the_listed_frames)
{
    // Every table frame reached while walking the area lies in [pt_base, pt_base + nr_pt_frames).
    const std::uint64_t end = first_unmapped(kt::virt_base);
    const std::uint64_t lo = si().pt_base, hi = si().pt_base + si().nr_pt_frames * kt::page_size;
    std::uint64_t seen[64];
    unsigned nseen = 0, outside = 0;
    auto note = [&](std::uint64_t table_va) {
        if (table_va < lo || table_va >= hi)
            ++outside;
        for (unsigned i = 0; i < nseen; ++i)
            if (seen[i] == table_va)
                return;
        if (nseen < 64)
            seen[nseen++] = table_va;
    };
    for (std::uint64_t va = kt::virt_base; va < end; va += kt::page_size) {
        auto* table = reinterpret_cast<const std::uint64_t*>(si().pt_base);
        note(si().pt_base);
        for (int level = 3; level > 0; --level) {
            const std::uint64_t e = table[(va >> (12 + 9 * level)) & 511];
            table = static_cast<const std::uint64_t*>(kt::mfn_to_virt((e & kt::pte_addr_mask) >> 12));
            note(reinterpret_cast<std::uint64_t>(table));
        }
    }
    EXPECT_EQ(outside, 0u);
    EXPECT_EQ(nseen, si().nr_pt_frames);
}

TEST(p2m_and_m2p_agree)
{
    unsigned mismatches = 0;
    for (std::uint64_t pfn = 0; pfn < si().nr_pages; ++pfn) {
        if (kt::mfn_to_pfn(kt::pfn_to_mfn(pfn)) != pfn)
            ++mismatches;
    }
    EXPECT_EQ(mismatches, 0u);
}

TEST(entry_registers)
{
    EXPECT_EQ(kt_entry_regs_or, 0u);  // rax, rbx, rcx, rdx, rdi, rbp, r8-r15
    EXPECT_NE(kt_entry_rflags & kt::rflags_if, 0u);
    std::uint16_t cs, ss, ds, es;
    asm volatile("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2; mov %%es, %3" : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es));
    EXPECT_EQ(cs, FLAT_KERNEL_CS);
    EXPECT_EQ(ss, FLAT_KERNEL_SS);
    EXPECT_EQ(ds, FLAT_KERNEL_DS);
    EXPECT_EQ(es, FLAT_KERNEL_DS);
}
