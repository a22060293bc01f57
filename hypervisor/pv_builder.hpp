// The PV domain builder: from a kernel ELF, an initrd and a command line, writes a 64-bit PV
// domain's initial memory image the way Xen 4.17's dom0 builder does, and says how to start
// its first vCPU. Two steps, so the caller can size what it hands in:
//
//   prepare()  parses the ELF and its Xen notes, applies Xen's rules, computes the layout;
//   build()    writes the image into the domain's memory through GuestMemory.
//
// What build() writes (the layout is in pv_layout.hpp):
//  - every page the layout uses is zeroed first (bss, start_info, tables, stack, padding),
//    except initrd pages that are overwritten whole;
//  - PT_LOAD segments at kernel_start + (p_paddr - pstart), as Xen's elf_load_binary;
//  - the initrd, mapped or at its pfns (MOD_START_PFN);
//  - bootstrap page tables mapping [v_start, v_end) to pfns 0, 1, ... through their machine
//    frames, allocated in Xen's order (L4, then L1, L2, L3 as the walk needs them) with Xen's
//    flags: leaf entries present|rw|accessed|user plus Xen's software bit 52
//    (_PAGE_GUEST_KERNEL: a kernel mapping, user-accessible because 64-bit PV kernels run in
//    ring 3), upper levels present|rw|accessed|dirty|user; the leaf entries of the page-table
//    frames themselves without rw. L4 slots 256-271 belong to the hypervisor and are left for
//    GuestMemory::install_hypervisor_slots; Xen's own linear self-map lives in slot 258, inside
//    that range, so the guest-visible slots hold no self-reference;
//  - with INIT_P2M, the p2m list mapped at p2m_base by 4 KiB pages (L3/L2/L1 as needed, leaf
//    entries also dirty), its frames taken in Xen's order after first_p2m_pfn;
//  - the hypercall page, start_info, and the p2m list (pfn -> mfn, 8 bytes each, all pages).
//    start_info.magic is "xen-3.0-x86_64", with a "p" appended for an initial domain whose
//    kernel has a PAE_MODE note (as dom0_construct_pv writes it; Linux's says "yes"); the
//    toolstack writes no "p" for 64-bit domUs. first_p2m_pfn is always Xen's frame count
//    before a separately mapped p2m, nr_p2m_frames that list's frames (0 without INIT_P2M).
//
// Kestrel only (Xen would accept): the hypercall page must lie inside the kernel image, where
// nothing written later can overwrite it.
#pragma once

#include <span>

#include "elf.hpp"
#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "kstd/string.hpp"
#include "pv_layout.hpp"
#include "types.hpp"
#include "xen_elfnotes.hpp"

namespace pv {

// The domain's memory as the builder sees it: nr_pages() frames, each with its machine frame
// and a writable mapping valid until build() returns. Also the hook for the hypervisor's part
// of every L4.
class GuestMemory {
public:
    virtual uint64_t nr_pages() const = 0;
    virtual Mfn mfn_of(Pfn pfn) const = 0;
    virtual uint8_t* map(Pfn pfn) = 0;
    // Fills the hypervisor's slots (256-271) of a freshly zeroed guest L4 at l4_mfn.
    virtual void install_hypervisor_slots(uint64_t* l4, Mfn l4_mfn) = 0;

protected:
    ~GuestMemory() = default;
};

struct DomainParams {
    DomId domid;
    uint64_t nr_pages;
    bool initial_domain;             // dom0: SIF_INITDOMAIN | SIF_PRIVILEGED, dom0 console fields
    uint32_t hypervisor_features;    // XENFEAT_* Kestrel offers PV guests (submap 0)
    Mfn shared_info_mfn;
    bool console_and_store_pages;    // lay out a xenstore and a console page after start_info
    // domU fields of start_info. With console_and_store_pages the frames are the layout's
    // pages; otherwise these mfns are used as given.
    Mfn store_mfn;
    uint32_t store_evtchn;
    Mfn console_mfn;
    uint32_t console_evtchn;
    uint32_t extra_si_flags;         // SIF_* a toolstack adds (0 for dom0)
};

struct Prepared {
    elf::Image image;
    xen_notes::XenNotes notes;
    xen_notes::KernelPlan plan;
    Layout layout;
    DomainParams params;
    uint64_t initrd_bytes;
};

kstd::Expected<Prepared, kstd::ParseError> prepare(std::span<const uint8_t> kernel, uint64_t initrd_bytes,
                                                   const DomainParams& params);

// A page-table frame of the initial image, for the caller to type and pin (the L4).
struct TableFrame {
    Pfn pfn;
    Mfn mfn;
    uint8_t level;  // 1..4
    Gva base;       // first virtual address it maps
};

// How many TableFrame entries build() writes.
constexpr uint64_t table_frames_needed(const Prepared& p) { return p.layout.nr_pt_frames + p.layout.p2m_table_frames; }

// Register state of vCPU 0 at the kernel's entry (Xen's initial values; others are zero).
struct InitialRegs {
    uint64_t rip;     // the kernel entry
    uint64_t rsp;     // top of the boot stack
    uint64_t rsi;     // virtual address of start_info
    uint64_t rflags;  // IF only
    uint16_t cs, ss, ds, es, fs, gs;  // FLAT_KERNEL_CS/SS/DS
};

struct BuildResult {
    InitialRegs regs;
    Pfn l4_pfn;
    Mfn l4_mfn;
    uint64_t cr3;            // machine address of the L4
    size_t table_count;      // TableFrame entries written, L4 first
    Gva start_info;
    Pfn start_info_pfn;
    Mfn store_mfn;           // as written into start_info (domU)
    Mfn console_mfn;
    // VMASST_TYPE_* bits the domain starts with: pae_extended_cr3 for a kernel whose PAE_MODE
    // note is exactly "yes" (libelf's extended-cr3 mode; Linux's note), as Xen's dom0 builder
    // sets it, and for a domU also for "bimodal", as libxenguest does.
    uint64_t vm_assist;
};

struct BuildInput {
    std::span<const uint8_t> initrd;  // must be prepare()'s initrd_bytes long
    kstd::StringView cmdline;         // truncated to MAX_GUEST_CMDLINE - 1 characters
    std::span<const uint8_t> dom0_console_info;  // a dom0_vga_console_info to place after start_info, or empty
};

kstd::Expected<BuildResult, kstd::ParseError> build(const Prepared& p, const BuildInput& in, GuestMemory& mem,
                                                    std::span<TableFrame> tables);

}  // namespace pv
