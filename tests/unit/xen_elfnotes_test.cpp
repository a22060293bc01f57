// Xen ELF notes: decoding every type, where notes are looked for, the FEATURES string, and
// the 64-bit PV load rules (required notes, LOADER/GUEST_OS, XEN_VERSION, defaults, bounds,
// required features, dom0 support).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "elf_image_builder.hpp"
#include "xen_elfnotes.hpp"

namespace {

using testelf::Builder;
using testelf::Bytes;
using testelf::str;
using testelf::u32;
using testelf::u64;
using testelf::xen_note;

constexpr uint32_t KESTREL_FEATURES = (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_dom0);
constexpr xen_notes::Policy DOM0{KESTREL_FEATURES, true};
constexpr xen_notes::Policy DOMU{KESTREL_FEATURES, false};

struct Parsed {
    Bytes file;
    elf::Image image;
    xen_notes::XenNotes notes;
};

Parsed parse(Builder b) {
    Parsed p;
    p.file = b.build();
    auto img = elf::parse({p.file.data(), p.file.size()});
    EXPECT_TRUE(img.has_value()) << (img ? "" : img.error().what);
    if (!img) return p;
    p.image = *img;
    auto n = xen_notes::parse(p.image);
    EXPECT_TRUE(n.has_value()) << (n ? "" : n.error().what);
    if (n) p.notes = *n;
    return p;
}

std::string plan_error(const std::vector<Bytes>& notes, const xen_notes::Policy& policy = DOM0) {
    Parsed p = parse(testelf::linux_like_kernel(notes));
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, policy);
    return plan ? "" : plan.error().what;
}

// The Linux notes with one type removed or replaced.
std::vector<Bytes> without(uint32_t type) {
    std::vector<Bytes> out;
    for (const Bytes& n : testelf::linux_notes()) {
        uint32_t t;
        memcpy(&t, n.data() + 8, 4);
        if (t != type) out.push_back(n);
    }
    return out;
}
std::vector<Bytes> replacing(uint32_t type, const Bytes& desc) {
    auto out = without(type);
    out.push_back(xen_note(type, desc));
    return out;
}

TEST(XenNotes, DecodesLinuxNotes) {
    Parsed p = parse(testelf::linux_like_kernel());
    const auto& n = p.notes;
    EXPECT_EQ(n.count, 16u);
    EXPECT_FALSE(n.from_sections);
    EXPECT_TRUE(n.guest_os == kstd::StringView("linux"));
    EXPECT_TRUE(n.guest_version == kstd::StringView("2.6"));
    EXPECT_TRUE(n.xen_version == kstd::StringView("xen-3.0"));
    EXPECT_TRUE(n.loader == kstd::StringView("generic"));
    EXPECT_EQ(n.pae_mode, xen_notes::PaeMode::yes);
    EXPECT_EQ(n.virt_base, testelf::LINUX_VIRT_BASE);
    EXPECT_EQ(n.init_p2m, 0x8000000000u);
    EXPECT_EQ(n.entry, testelf::KERNEL_ENTRY);
    EXPECT_EQ(n.hypercall_page, testelf::KERNEL_HYPERCALL_PAGE);
    EXPECT_EQ(n.hv_start_low, 0xffff800000000000u);
    EXPECT_TRUE(n.mod_start_pfn);
    EXPECT_TRUE(n.suspend_cancel);
    EXPECT_FALSE(n.bsd_symtab);
    EXPECT_EQ(n.features_required[0], 1u << XENFEAT_writable_page_tables);
    EXPECT_EQ(n.features_supported[0], (1u << 0) | (1u << 4) | (1u << 11) | (1u << 15));
    ASSERT_EQ(n.l1_mfn_valid_count, 1u);
    EXPECT_EQ(n.l1_mfn_valid[0].mask, 1u);
    EXPECT_EQ(n.l1_mfn_valid[0].value, 1u);
    EXPECT_TRUE(n.has(XEN_ELFNOTE_PADDR_OFFSET));
    EXPECT_FALSE(n.has(XEN_ELFNOTE_PHYS32_ENTRY));
}

TEST(XenNotes, PlanForLinux) {
    Parsed p = parse(testelf::linux_like_kernel());
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, DOM0);
    ASSERT_TRUE(plan.has_value()) << plan.error().what;
    EXPECT_EQ(plan->virt_base, Gva(testelf::LINUX_VIRT_BASE));
    EXPECT_EQ(plan->kernel_start, Gva(testelf::KERNEL_TEXT));
    EXPECT_EQ(plan->kernel_end, Gva(testelf::KERNEL_TEXT + 0x7000));
    EXPECT_EQ(plan->entry, Gva(testelf::KERNEL_ENTRY));
    EXPECT_TRUE(plan->has_hypercall_page);
    EXPECT_EQ(plan->hypercall_page, Gva(testelf::KERNEL_HYPERCALL_PAGE));
    EXPECT_TRUE(plan->has_p2m_base);
    EXPECT_EQ(plan->p2m_base, Gva(0x8000000000));
    EXPECT_TRUE(plan->unmapped_initrd);
    EXPECT_EQ(plan->pstart, testelf::KERNEL_PADDR);
}

TEST(XenNotes, NumericSizes) {
    // 1, 2, 4 and 8 bytes are read little-endian; anything else is refused.
    for (const Bytes& d : {Bytes{0x10}, Bytes{0x10, 0}, u32(0x10), u64(0x10)}) {
        Parsed p = parse(testelf::linux_like_kernel(replacing(XEN_ELFNOTE_SUSPEND_CANCEL, d)));
        EXPECT_TRUE(p.notes.suspend_cancel);
    }
    Parsed p = parse(testelf::linux_like_kernel(replacing(XEN_ELFNOTE_VIRT_BASE, u32(0x80000000))));
    EXPECT_EQ(p.notes.virt_base, 0x80000000u);

    Builder b = testelf::linux_like_kernel(replacing(XEN_ELFNOTE_ENTRY, Bytes{1, 2, 3}));
    const Bytes file = b.build();
    auto img = elf::parse({file.data(), file.size()});
    ASSERT_TRUE(img.has_value());
    auto n = xen_notes::parse(*img);
    ASSERT_FALSE(n.has_value());
    EXPECT_STREQ(n.error().what, "Xen numeric note is not 1, 2, 4 or 8 bytes");
}

TEST(XenNotes, LaterNotesOverrideAndFeaturesAccumulate) {
    auto notes = testelf::linux_notes();
    notes.push_back(xen_note(XEN_ELFNOTE_ENTRY, u64(testelf::KERNEL_TEXT + 0x80)));
    notes.push_back(xen_note(XEN_ELFNOTE_FEATURES, str("writable_descriptor_tables")));
    notes.push_back(xen_note(XEN_ELFNOTE_SUPPORTED_FEATURES, u32(1u << 5)));
    Parsed p = parse(testelf::linux_like_kernel(notes));
    EXPECT_EQ(p.notes.entry, testelf::KERNEL_TEXT + 0x80);
    EXPECT_EQ(p.notes.features_supported[0], (1u << 0) | (1u << 1) | (1u << 4) | (1u << 5) | (1u << 11) | (1u << 15));
    EXPECT_EQ(p.notes.features_required[0], 1u << 0);
}

TEST(XenNotes, OtherOwnersAndUnknownTypesAreIgnored) {
    auto notes = testelf::linux_notes();
    notes.push_back(testelf::note("GNU", XEN_ELFNOTE_ENTRY, u64(0)));    // not "Xen"
    notes.push_back(testelf::note("Xen2", XEN_ELFNOTE_ENTRY, u64(0)));   // not "Xen" either
    notes.push_back(xen_note(XEN_ELFNOTE_INFO, Bytes{1, 2, 3}));         // obsolete type
    notes.push_back(xen_note(0x1000001, Bytes(5, 0)));                   // crash info type
    Parsed p = parse(testelf::linux_like_kernel(notes));
    EXPECT_EQ(p.notes.entry, testelf::KERNEL_ENTRY);
    EXPECT_EQ(p.notes.count, 16u);
}

TEST(XenNotes, SectionsAreAFallbackOnly) {
    // Notes only in a section (no PT_NOTE segment): found there.
    Builder b = testelf::linux_like_kernel();
    b.segments[2].type = 0x6474e551;  // the note segment becomes PT_GNU_STACK
    b.sections.push_back({".note.extra", elf::SHT_NOTE, 4, xen_note(XEN_ELFNOTE_GUEST_VERSION, str("9.9"))});
    Parsed p = parse(b);
    EXPECT_TRUE(p.notes.from_sections);
    EXPECT_TRUE(p.notes.guest_version == kstd::StringView("9.9"));  // both sections read, in order

    // With a PT_NOTE segment holding Xen notes, sections are not read at all.
    Builder c = testelf::linux_like_kernel();
    c.sections.push_back({".note.extra", elf::SHT_NOTE, 4, xen_note(XEN_ELFNOTE_GUEST_VERSION, str("9.9"))});
    Parsed q = parse(c);
    EXPECT_FALSE(q.notes.from_sections);
    EXPECT_TRUE(q.notes.guest_version == kstd::StringView("2.6"));
}

TEST(XenNotes, MalformedNoteAreaIsAnError) {
    Builder b = testelf::linux_like_kernel();
    Bytes file = b.build();
    testelf::poke<uint32_t>(file, b.layout.segment_offsets[2] + 4, 0x10000);  // first note's descsz
    auto img = elf::parse({file.data(), file.size()});
    ASSERT_TRUE(img.has_value());
    auto n = xen_notes::parse(*img);
    ASSERT_FALSE(n.has_value());
    EXPECT_STREQ(n.error().what, "note descriptor runs past the end of its area");
    EXPECT_EQ(n.error().where, b.layout.segment_offsets[2]);
}

TEST(XenNotes, FeatureStrings) {
    uint32_t sup[1] = {}, req[1] = {};
    size_t bad = 0;
    EXPECT_TRUE(xen_notes::parse_feature_string("writable_page_tables|!dom0|pae_pgdir_above_4gb", sup, req, &bad));
    EXPECT_EQ(sup[0], (1u << 0) | (1u << 11) | (1u << 4));
    EXPECT_EQ(req[0], 1u << 11);

    // Unknown optional names are ignored; empty names too.
    sup[0] = req[0] = 0;
    EXPECT_TRUE(xen_notes::parse_feature_string("|gnttab_map_avail_bits||hvm_callback_vector|", sup, req, &bad));
    EXPECT_EQ(sup[0], 1u << 8);
    EXPECT_EQ(req[0], 0u);

    // An unknown required name fails, and says where.
    EXPECT_FALSE(xen_notes::parse_feature_string("dom0|!warp_drive", sup, req, &bad));
    EXPECT_EQ(bad, 5u);

    // Names are cut at 63 characters, as Xen cuts them: the tail is a name of its own.
    const std::string long_name = std::string(63, 'x') + "dom0";
    sup[0] = req[0] = 0;
    EXPECT_TRUE(xen_notes::parse_feature_string(kstd::StringView(long_name.c_str()), sup, req, &bad));
    EXPECT_EQ(sup[0], 1u << 11);

    EXPECT_STREQ(xen_notes::feature_name(XENFEAT_supervisor_mode_kernel), "supervisor_mode_kernel");
    EXPECT_EQ(xen_notes::feature_name(XENFEAT_highmem_assist), nullptr);
}

TEST(XenNotes, PaeModes) {
    Parsed p = parse(testelf::linux_like_kernel(replacing(XEN_ELFNOTE_PAE_MODE, str("yes,bimodal"))));
    EXPECT_EQ(p.notes.pae_mode, xen_notes::PaeMode::bimodal);
    Parsed q = parse(testelf::linux_like_kernel(replacing(XEN_ELFNOTE_PAE_MODE, str("no"))));
    EXPECT_EQ(q.notes.pae_mode, xen_notes::PaeMode::none);
}

TEST(XenNotes, L1MfnValidMalformedIsIgnored) {
    Parsed p = parse(testelf::linux_like_kernel(replacing(XEN_ELFNOTE_L1_MFN_VALID, Bytes(12, 1))));
    EXPECT_EQ(p.notes.l1_mfn_valid_count, 0u);
}

TEST(XenPlan, NoNotesAtAll) {
    EXPECT_EQ(plan_error({}), "not a Xen PV kernel: no Xen ELF notes");
    Builder b = testelf::linux_like_kernel({});
    b.sections.push_back({"__xen_guest", 1, 1, str("GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x0")});
    Parsed p = parse(b);
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, DOM0);
    ASSERT_FALSE(plan.has_value());
    EXPECT_STREQ(plan.error().what, "legacy __xen_guest section not supported: kernel has no Xen ELF notes");
}

TEST(XenPlan, LoaderOrGuestOs) {
    // GUEST_OS "linux" alone is enough, and so is LOADER "generic" alone (Xen accepts either).
    EXPECT_EQ(plan_error(without(XEN_ELFNOTE_LOADER)), "");
    auto generic_only = replacing(XEN_ELFNOTE_GUEST_OS, str("minios"));
    EXPECT_EQ(plan_error(generic_only), "");
    auto prefixes = replacing(XEN_ELFNOTE_LOADER, str("generic-v2"));
    EXPECT_EQ(plan_error(prefixes), "");
    auto neither = replacing(XEN_ELFNOTE_LOADER, str("special"));
    neither = [&] {
        std::vector<Bytes> out;
        for (const Bytes& n : neither) {
            uint32_t t;
            memcpy(&t, n.data() + 8, 4);
            if (t != XEN_ELFNOTE_GUEST_OS) out.push_back(n);
        }
        out.push_back(xen_note(XEN_ELFNOTE_GUEST_OS, str("netbsd")));
        return out;
    }();
    EXPECT_EQ(plan_error(neither), "kernel is neither for the generic loader (LOADER) nor Linux (GUEST_OS)");
}

TEST(XenPlan, XenVersion) {
    EXPECT_EQ(plan_error(without(XEN_ELFNOTE_XEN_VERSION)), "kernel is not built for the xen-3.0 ABI (XEN_VERSION)");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_XEN_VERSION, str("xen-2.0"))),
              "kernel is not built for the xen-3.0 ABI (XEN_VERSION)");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_XEN_VERSION, str("xen-3.0-unstable"))), "");
}

TEST(XenPlan, AddressDefaults) {
    // No VIRT_BASE, no PADDR_OFFSET, no ENTRY: base 0, kernel at its physical addresses, e_entry.
    auto notes = without(XEN_ELFNOTE_VIRT_BASE);
    notes = [&] {
        std::vector<Bytes> out;
        for (const Bytes& n : notes) {
            uint32_t t;
            memcpy(&t, n.data() + 8, 4);
            if (t != XEN_ELFNOTE_PADDR_OFFSET && t != XEN_ELFNOTE_ENTRY && t != XEN_ELFNOTE_INIT_P2M) out.push_back(n);
        }
        return out;
    }();
    Builder b = testelf::linux_like_kernel(notes);
    b.entry = testelf::KERNEL_PADDR + 0x10;
    Parsed p = parse(b);
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, DOM0);
    ASSERT_TRUE(plan.has_value()) << plan.error().what;
    EXPECT_EQ(plan->virt_base, Gva(0));
    EXPECT_EQ(plan->kernel_start, Gva(testelf::KERNEL_PADDR));
    EXPECT_EQ(plan->entry, Gva(testelf::KERNEL_PADDR + 0x10));
    EXPECT_FALSE(plan->has_p2m_base);
}

TEST(XenPlan, PaddrOffsetNeedsVirtBase) {
    EXPECT_EQ(plan_error(without(XEN_ELFNOTE_VIRT_BASE)), "PADDR_OFFSET set but VIRT_BASE unset");
}

TEST(XenPlan, PaddrOffsetShiftsTheKernel) {
    // Old-style kernels: ELF physical addresses equal virtual ones, PADDR_OFFSET = VIRT_BASE.
    auto notes = replacing(XEN_ELFNOTE_PADDR_OFFSET, u64(testelf::LINUX_VIRT_BASE));
    Builder b = testelf::linux_like_kernel(notes);
    for (auto& s : b.segments)
        if (s.type == elf::PT_LOAD) s.paddr = s.vaddr;
    Parsed p = parse(b);
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, DOM0);
    ASSERT_TRUE(plan.has_value()) << plan.error().what;
    EXPECT_EQ(plan->kernel_start, Gva(testelf::KERNEL_TEXT));
    EXPECT_EQ(plan->pstart, testelf::KERNEL_TEXT);
}

TEST(XenPlan, Bounds) {
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_ENTRY, u64(testelf::KERNEL_TEXT - 1))), "kernel start or entry out of bounds");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_ENTRY, u64(testelf::KERNEL_TEXT + 0x7001))),
              "kernel start or entry out of bounds");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_ENTRY, u64(testelf::KERNEL_TEXT + 0x7000))), "");  // Xen allows the end
    // VIRT_BASE above the kernel.
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_VIRT_BASE, u64(testelf::KERNEL_TEXT + 0x1000))),
              "kernel start or entry out of bounds");
    // A VIRT_BASE that makes the kernel wrap past 2^64.
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_VIRT_BASE, u64(UINT64_MAX - 0x1000000 - 0x3fff))),
              "kernel start or entry out of bounds");
}

TEST(XenPlan, P2mAndHypercallPagePlacement) {
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_INIT_P2M, u64(testelf::KERNEL_TEXT + 0x1000))),
              "INIT_P2M points inside the kernel");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_INIT_P2M, u64(0x8000000800))), "INIT_P2M not page aligned");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_HYPERCALL_PAGE, u64(testelf::KERNEL_HYPERCALL_PAGE + 8))),
              "HYPERCALL_PAGE not page aligned");
    Parsed p = parse(testelf::linux_like_kernel(without(XEN_ELFNOTE_HYPERCALL_PAGE)));
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, DOM0);
    ASSERT_TRUE(plan.has_value());
    EXPECT_FALSE(plan->has_hypercall_page);
}

TEST(XenPlan, RequiredFeatures) {
    // Linux requires writable_page_tables: Xen never checks that one, nor does Kestrel.
    Parsed p = parse(testelf::linux_like_kernel());
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, xen_notes::Policy{1u << XENFEAT_dom0, true});
    ASSERT_TRUE(plan.has_value()) << plan.error().what;
    EXPECT_EQ(plan->features_required, 1u << XENFEAT_writable_page_tables);

    // A ring-0 kernel is refused, naming the feature, unless the hypervisor offers it.
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_FEATURES, str("!supervisor_mode_kernel"))),
              "kernel requires unsupported Xen feature supervisor_mode_kernel");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_FEATURES, str("!supervisor_mode_kernel")),
                         xen_notes::Policy{KESTREL_FEATURES | (1u << XENFEAT_supervisor_mode_kernel), true}),
              "");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_FEATURES, str("writable_page_tables|!quantum"))),
              "kernel requires a Xen feature unknown to the loader");
    // Required dom0: fine for dom0, refused for a domU.
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_FEATURES, str("!dom0")), DOM0), "");
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_FEATURES, str("!dom0")), DOMU),
              "kernel does not support unprivileged (domU) operation: it requires dom0");
    // Optional features the hypervisor lacks are fine.
    EXPECT_EQ(plan_error(replacing(XEN_ELFNOTE_FEATURES, str("!writable_page_tables|auto_translated_physmap"))), "");
}

TEST(XenPlan, Dom0Support) {
    const auto no_dom0 = replacing(XEN_ELFNOTE_SUPPORTED_FEATURES, u32(1u << 0));
    EXPECT_EQ(plan_error(no_dom0, DOM0), "kernel does not support dom0 operation (no XENFEAT_dom0 in SUPPORTED_FEATURES)");
    EXPECT_EQ(plan_error(no_dom0, DOMU), "");
    // Without a SUPPORTED_FEATURES note Xen does not ask.
    EXPECT_EQ(plan_error(without(XEN_ELFNOTE_SUPPORTED_FEATURES), DOM0), "");
    // "dom0" in the FEATURES string counts too.
    auto via_string = replacing(XEN_ELFNOTE_SUPPORTED_FEATURES, u32(1u << 0));
    via_string.push_back(xen_note(XEN_ELFNOTE_FEATURES, str("dom0")));
    EXPECT_EQ(plan_error(via_string, DOM0), "");
}

TEST(XenPlan, BsdSymtabRefused) {
    auto notes = testelf::linux_notes();
    notes.push_back(xen_note(XEN_ELFNOTE_BSD_SYMTAB, str("yes")));
    EXPECT_EQ(plan_error(notes), "BSD_SYMTAB loading not supported");
}

}  // namespace
