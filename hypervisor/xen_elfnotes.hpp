// The Xen ELF notes of a PV kernel (notes named "Xen", types XEN_ELFNOTE_* from
// guest-abi/xen/elfnote.h), decoded into one struct, and the rules Xen 4.17 applies to them
// before it builds a 64-bit PV domain, giving the kernel's load plan.
//
// Where the notes come from (as libelf's elf_xen_parse): every PT_NOTE segment (those with
// p_offset 0 are skipped); only if they hold no Xen note, every SHT_NOTE section. A later note
// of a type overrides an earlier one, except FEATURES and SUPPORTED_FEATURES which accumulate.
// Kestrel does not read the legacy "__xen_guest" string section: a kernel with only that gets
// a clear error (Xen would still parse it; no kernel of the last fifteen years needs it).
//
// Values: string notes are their descriptor up to the first NUL (or the whole descriptor);
// numeric notes are little-endian integers of 1, 2, 4 or 8 bytes (what libelf's
// elf_note_numeric reads). Xen silently reads any other size as 0; Kestrel rejects it, naming
// the note, because a zero VIRT_BASE or ENTRY only fails later and less clearly.
// L1_MFN_VALID is decoded (Xen's loader ignores it) when its size is a multiple of 16 bytes.
//
// The rules (libelf's elf_xen_note_check and elf_xen_addr_calc_check with hvm=false, and
// dom0_construct_pv's own checks), all enforced by plan_pv_kernel():
//  - LOADER must start with "generic" or GUEST_OS with "linux" (either is enough, as in Xen);
//  - XEN_VERSION must start with "xen-3.0";
//  - PADDR_OFFSET without VIRT_BASE is an error; VIRT_BASE defaults to 0, PADDR_OFFSET to 0;
//  - the kernel occupies [pstart, pend) of the ELF physical addresses shifted by
//    VIRT_BASE - PADDR_OFFSET; ENTRY defaults to e_entry and must lie in [kstart, kend];
//    VIRT_BASE may not exceed kstart; INIT_P2M may not point inside the kernel;
//  - a FEATURES name with '!' is required; a required name unknown to Xen's list is an error
//    (as in elf_xen_parse_features). Of the known ones Xen refuses only what it cannot give a
//    PV kernel: supervisor_mode_kernel (dom0_construct_pv: ring-0 kernels are gone), unless
//    Policy::hypervisor_features lists it, and dom0 for a domU (libxenguest's elf loader).
//    Others, such as Linux's "!writable_page_tables", describe what the PV ABI gives anyway;
//  - an initial domain whose kernel has a SUPPORTED_FEATURES note must list XENFEAT_dom0;
//  - Kestrel only: BSD_SYMTAB "yes" is refused (no symbol-table loading), and HYPERCALL_PAGE
//    and INIT_P2M must be page-aligned.
#pragma once

#include "elf.hpp"
#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "types.hpp"
#include "xen/elfnote.h"
#include "xen/features.h"

namespace xen_notes {

// The string form of XEN_ELFNOTE_PAE_MODE, as libelf reads it (meaningless for 64-bit kernels).
enum class PaeMode : uint8_t { none, yes, bimodal };

constexpr size_t MAX_L1_MFN_VALID = 4;

struct XenNotes {
    uint32_t present;     // bit n: a note of type n was seen
    size_t count;         // Xen notes seen
    bool from_sections;   // found in SHT_NOTE sections (no PT_NOTE segment had any)

    kstd::StringView guest_os;
    kstd::StringView guest_version;
    kstd::StringView xen_version;
    kstd::StringView loader;
    kstd::StringView pae_mode_string;
    PaeMode pae_mode;
    bool bsd_symtab;  // BSD_SYMTAB is "yes"

    uint64_t entry;
    uint64_t hypercall_page;
    uint64_t virt_base;
    uint64_t paddr_offset;
    uint64_t hv_start_low;
    uint64_t init_p2m;
    uint64_t phys32_entry;
    bool suspend_cancel;
    bool mod_start_pfn;

    uint32_t features_supported[XENFEAT_NR_SUBMAPS];  // FEATURES names and SUPPORTED_FEATURES bits
    uint32_t features_required[XENFEAT_NR_SUBMAPS];   // FEATURES names marked '!'
    bool unknown_required_feature;                    // a '!' name outside Xen's list
    uint64_t unknown_required_feature_at;             // its file offset

    struct MaskValue {
        uint64_t mask, value;
    } l1_mfn_valid[MAX_L1_MFN_VALID];
    size_t l1_mfn_valid_count;

    constexpr bool has(unsigned type) const { return type < 32 && (present & (uint32_t{1} << type)) != 0; }
};

// Collects the Xen notes of an image. Errors: a malformed note area, a numeric note of an
// unreadable size.
kstd::Expected<XenNotes, kstd::ParseError> parse(const elf::Image& image);

// Decodes one FEATURES string into the bitmaps, as elf_xen_parse_features does. Returns false
// if a required ('!') name is not one Xen knows; `bad_at` is then its offset in the string.
bool parse_feature_string(kstd::StringView features, uint32_t* supported, uint32_t* required, size_t* bad_at);

// The name Xen's FEATURES string uses for a feature bit, or nullptr if it has none.
const char* feature_name(unsigned bit);

// What the hypervisor offers the kernel, for the checks that depend on it.
struct Policy {
    uint32_t hypervisor_features;  // XENFEAT_* bits Kestrel implements for PV guests (submap 0);
                                   // only supervisor_mode_kernel is checked against it
    bool initial_domain;
};

// Where and how the kernel is loaded: the input to the layout and the builder.
struct KernelPlan {
    Gva virt_base;       // v_start: the bootstrap area begins here
    uint64_t paddr_offset;
    Gva kernel_start;    // segment with p_paddr == pstart goes here
    Gva kernel_end;      // exclusive
    uint64_t pstart;     // ELF physical address that maps to kernel_start
    Gva entry;
    bool has_hypercall_page;
    Gva hypercall_page;
    bool has_p2m_base;   // INIT_P2M: the p2m list is mapped separately at p2m_base
    Gva p2m_base;
    bool unmapped_initrd;  // MOD_START_PFN: the initrd is not mapped; start_info gives its pfn
    uint32_t features_supported;
    uint32_t features_required;
};

kstd::Expected<KernelPlan, kstd::ParseError> plan_pv_kernel(const elf::Image& image, const XenNotes& notes,
                                                             const Policy& policy);

}  // namespace xen_notes
