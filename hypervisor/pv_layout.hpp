// The start-of-day virtual layout of a 64-bit PV domain, computed exactly as Xen 4.17's dom0
// builder (xen/arch/x86/pv/dom0_build.c, dom0_construct_pv) computes it. Everything a PV
// kernel finds at its first instruction lies in one "bootstrap area" [v_start, v_end), mapped
// linearly: the page at v_start + n*4K is pseudo-physical frame n. In order, page-aligned:
//
//   kernel image      [kernel_start, kernel_end)        from the ELF and its notes
//   initrd            right after the kernel             unless MOD_START_PFN: then unmapped
//   p2m list          8 bytes per page of the domain     unless INIT_P2M: then mapped apart
//   start_info        one page
//   xenstore, console one page each                      option: where Xen's PV shim and the
//                                                        toolstack (libxenguest) put them
//   page tables       nr_pt_frames pages: L4 first, then L1, L2, L3 as the mapping needs them
//   boot stack        one page; rsp starts at its top
//   padding           to a 4 MiB boundary, with at least 512 KiB after the stack
//
// The page-table count and the area's size depend on each other (every table frame is itself
// mapped); like Xen, we try 2, 3, ... frames until the tables for [v_start, v_end) fit.
//
// Frames beyond the bootstrap area (Xen's allocation order): Xen gives the kernel a block of
// 2^order frames covering the area (less a mapped initrd, which keeps its own frames), so
// pfns [0, chunk_pages) are the area and then spare memory; the initrd's frames follow the
// block when it is unmapped; with INIT_P2M the p2m list and its page tables come next, from
// first_p2m_pfn on (start_info's first_p2m_pfn/nr_p2m_frames). Kestrel maps that list with
// 4 KiB pages only, which is what Xen does whenever it cannot get 2 MiB or 1 GiB blocks.
//
// Errors: a layout that wraps or leaves the canonical address space, overlaps the hypervisor's
// range [HYPERVISOR_VIRT_START, HYPERVISOR_VIRT_END), a separately mapped p2m list touching the
// bootstrap area, or a domain too small for it all.
#pragma once

#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "types.hpp"

namespace pv {

struct LayoutInput {
    Gva virt_base;     // v_start; page-aligned
    Gva kernel_start;  // from the kernel load plan
    Gva kernel_end;    // exclusive
    uint64_t initrd_bytes;
    uint64_t nr_pages;        // pages of the domain
    bool unmapped_initrd;     // MOD_START_PFN
    bool has_p2m_base;        // INIT_P2M
    Gva p2m_base;
    bool console_and_store;   // give xenstore and console a page each after start_info
};

struct Region {
    Gva start;
    Gva end;  // exclusive; start == end for an absent region
    Pfn pfn;  // frame of start (bootstrap regions only)

    constexpr uint64_t bytes() const { return end - start; }
    constexpr bool empty() const { return start == end; }
};

struct Layout {
    Gva v_start;
    Gva v_end;
    Region kernel;
    Region initrd;       // empty when unmapped
    Region p2m;          // in the bootstrap area, or at INIT_P2M (pfn then = first_p2m_pfn)
    Region start_info;   // [start, start + sizeof(start_info))
    Region xenstore;     // empty unless console_and_store
    Region console;      // empty unless console_and_store
    Region page_tables;  // nr_pt_frames pages
    Region stack;        // one page

    uint64_t nr_pt_frames;     // bootstrap page-table frames, L4 included
    uint64_t bootstrap_pages;  // (v_end - v_start) / 4 KiB
    uint64_t chunk_pages;      // Xen's first allocation: 2^order frames covering the area
    bool initrd_mapped;
    Pfn initrd_pfn;            // first frame of the initrd, mapped or not
    uint64_t initrd_pages;
    bool p2m_in_bootstrap;
    uint64_t first_p2m_pfn;    // frames before the separately mapped p2m (Xen's count)
    uint64_t p2m_pages;        // frames of p2m entries
    uint64_t p2m_table_frames; // L3/L2/L1 frames mapping a separate p2m list (0 otherwise)
    uint64_t total_pfns;       // frames the layout uses; the rest of the domain is free memory
};

kstd::Expected<Layout, kstd::ParseError> compute_layout(const LayoutInput& in);

// Page-table frames a 4-level mapping of [start, end) needs, L4 included (Xen's NR() sum).
uint64_t tables_for(Gva start, Gva end);

}  // namespace pv
