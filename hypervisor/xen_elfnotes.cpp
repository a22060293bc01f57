// Xen note decoding and the 64-bit PV load rules. The note table says, per type, whether the
// descriptor is a string or a number; types outside it are skipped, as Xen skips them.
#include "xen_elfnotes.hpp"

namespace xen_notes {

namespace {

using Error = kstd::Unexpected<kstd::ParseError>;
struct Ok {};
using Status = kstd::Expected<Ok, kstd::ParseError>;

Error fail(const char* what, uint64_t where) { return kstd::unexpected(kstd::ParseError{what, where}); }

enum class Kind : uint8_t { ignored, string, number, bitmap, mask_pairs };

// How each note type is read; types Xen's loader does not list are ignored.
constexpr Kind kind_of(uint32_t type) {
    switch (type) {
    case XEN_ELFNOTE_ENTRY:
    case XEN_ELFNOTE_HYPERCALL_PAGE:
    case XEN_ELFNOTE_VIRT_BASE:
    case XEN_ELFNOTE_INIT_P2M:
    case XEN_ELFNOTE_PADDR_OFFSET:
    case XEN_ELFNOTE_HV_START_LOW:
    case XEN_ELFNOTE_SUSPEND_CANCEL:
    case XEN_ELFNOTE_MOD_START_PFN:
    case XEN_ELFNOTE_PHYS32_ENTRY: return Kind::number;
    case XEN_ELFNOTE_XEN_VERSION:
    case XEN_ELFNOTE_GUEST_OS:
    case XEN_ELFNOTE_GUEST_VERSION:
    case XEN_ELFNOTE_LOADER:
    case XEN_ELFNOTE_PAE_MODE:
    case XEN_ELFNOTE_FEATURES:
    case XEN_ELFNOTE_BSD_SYMTAB: return Kind::string;
    case XEN_ELFNOTE_SUPPORTED_FEATURES: return Kind::bitmap;
    case XEN_ELFNOTE_L1_MFN_VALID: return Kind::mask_pairs;
    default: return Kind::ignored;
    }
}

// Names Xen's FEATURES parser knows, indexed by XENFEAT_* bit.
struct FeatureName {
    unsigned bit;
    const char* name;
    const char* unsupported;  // the error when the kernel requires it and the hypervisor lacks it
};
constexpr FeatureName FEATURE_NAMES[] = {
    {XENFEAT_writable_page_tables, "writable_page_tables",
     "kernel requires unsupported Xen feature writable_page_tables"},
    {XENFEAT_writable_descriptor_tables, "writable_descriptor_tables",
     "kernel requires unsupported Xen feature writable_descriptor_tables"},
    {XENFEAT_auto_translated_physmap, "auto_translated_physmap",
     "kernel requires unsupported Xen feature auto_translated_physmap"},
    {XENFEAT_supervisor_mode_kernel, "supervisor_mode_kernel",
     "kernel requires unsupported Xen feature supervisor_mode_kernel"},
    {XENFEAT_pae_pgdir_above_4gb, "pae_pgdir_above_4gb", "kernel requires unsupported Xen feature pae_pgdir_above_4gb"},
    {XENFEAT_hvm_callback_vector, "hvm_callback_vector", "kernel requires unsupported Xen feature hvm_callback_vector"},
    {XENFEAT_dom0, "dom0", "kernel requires unsupported Xen feature dom0"},
};

// elf_xen_parse_features copies at most 63 characters of a name; a longer one is cut there
// and its remainder read as the next name.
constexpr size_t FEATURE_NAME_MAX = 63;

uint64_t little_endian(std::span<const uint8_t> d) {
    uint64_t v = 0;
    for (size_t i = d.size(); i-- > 0;) v = (v << 8) | d[i];
    return v;
}

kstd::StringView string_of(std::span<const uint8_t> d) {
    size_t n = 0;
    while (n < d.size() && d[n] != 0) ++n;
    return kstd::StringView(reinterpret_cast<const char*>(d.data()), n);
}

void set_feature(uint32_t* map, unsigned bit) { map[bit / 32] |= uint32_t{1} << (bit % 32); }

PaeMode pae_mode_of(kstd::StringView s) {
    // libelf: "yes" exactly, or "bimodal" anywhere in the string.
    for (size_t i = 0; i + 7 <= s.size(); ++i)
        if (s.substr(i, 7) == kstd::StringView("bimodal")) return PaeMode::bimodal;
    return s == kstd::StringView("yes") ? PaeMode::yes : PaeMode::none;
}

void apply_string(XenNotes& n, uint32_t type, kstd::StringView s, uint64_t desc_at) {
    switch (type) {
    case XEN_ELFNOTE_GUEST_OS: n.guest_os = s; break;
    case XEN_ELFNOTE_GUEST_VERSION: n.guest_version = s; break;
    case XEN_ELFNOTE_XEN_VERSION: n.xen_version = s; break;
    case XEN_ELFNOTE_LOADER: n.loader = s; break;
    case XEN_ELFNOTE_PAE_MODE:
        n.pae_mode_string = s;
        n.pae_mode = pae_mode_of(s);
        break;
    case XEN_ELFNOTE_BSD_SYMTAB: n.bsd_symtab = s == kstd::StringView("yes"); break;
    case XEN_ELFNOTE_FEATURES: {
        size_t bad = 0;
        if (!parse_feature_string(s, n.features_supported, n.features_required, &bad) && !n.unknown_required_feature) {
            n.unknown_required_feature = true;
            n.unknown_required_feature_at = desc_at + bad;
        }
        break;
    }
    default: break;
    }
}

void apply_number(XenNotes& n, uint32_t type, uint64_t v) {
    switch (type) {
    case XEN_ELFNOTE_ENTRY: n.entry = v; break;
    case XEN_ELFNOTE_HYPERCALL_PAGE: n.hypercall_page = v; break;
    case XEN_ELFNOTE_VIRT_BASE: n.virt_base = v; break;
    case XEN_ELFNOTE_INIT_P2M: n.init_p2m = v; break;
    case XEN_ELFNOTE_PADDR_OFFSET: n.paddr_offset = v; break;
    case XEN_ELFNOTE_HV_START_LOW: n.hv_start_low = v; break;
    case XEN_ELFNOTE_SUSPEND_CANCEL: n.suspend_cancel = v != 0; break;
    case XEN_ELFNOTE_MOD_START_PFN: n.mod_start_pfn = v != 0; break;
    case XEN_ELFNOTE_PHYS32_ENTRY: n.phys32_entry = v; break;
    default: break;
    }
}

void apply_mask_pairs(XenNotes& n, std::span<const uint8_t> d) {
    if (d.size() % 16 != 0) return;  // malformed: ignored, as Xen ignores the note altogether
    n.l1_mfn_valid_count = 0;
    for (size_t at = 0; at < d.size() && n.l1_mfn_valid_count < MAX_L1_MFN_VALID; at += 16)
        n.l1_mfn_valid[n.l1_mfn_valid_count++] = {little_endian(d.subspan(at, 8)), little_endian(d.subspan(at + 8, 8))};
}

Status apply(XenNotes& n, const elf::Note& note, const uint8_t* file) {
    const Kind kind = kind_of(note.type);
    const uint64_t desc_at = note.desc.empty() ? note.offset : static_cast<uint64_t>(note.desc.data() - file);
    switch (kind) {
    case Kind::ignored: return Ok{};
    case Kind::string: apply_string(n, note.type, string_of(note.desc), desc_at); break;
    case Kind::number: {
        const size_t sz = note.desc.size();
        if (sz != 1 && sz != 2 && sz != 4 && sz != 8) return fail("Xen numeric note is not 1, 2, 4 or 8 bytes", note.offset);
        apply_number(n, note.type, little_endian(note.desc));
        break;
    }
    case Kind::bitmap:
        // elf_note_numeric_array with 32-bit units: read only when the size is a multiple of 4.
        if (note.desc.size() % 4 == 0)
            for (size_t i = 0; i < XENFEAT_NR_SUBMAPS && 4 * i < note.desc.size(); ++i)
                n.features_supported[i] |= static_cast<uint32_t>(little_endian(note.desc.subspan(4 * i, 4)));
        break;
    case Kind::mask_pairs: apply_mask_pairs(n, note.desc); break;
    }
    n.present |= uint32_t{1} << note.type;
    ++n.count;
    return Ok{};
}

// Reads the Xen notes of a list of areas; returns how many it found.
kstd::Expected<size_t, kstd::ParseError> read_areas(const elf::Image& img, const elf::NoteArea* areas, size_t count,
                                                    XenNotes& out) {
    const size_t before = out.count;
    for (size_t i = 0; i < count; ++i) {
        Status status = Ok{};
        auto walk = elf::for_each_note(img.file, areas[i], [&](const elf::Note& note) {
            if (!(note.name == kstd::StringView("Xen"))) return true;
            status = apply(out, note, img.file.data());
            return status.has_value();
        });
        if (!walk) return kstd::unexpected(walk.error());
        if (!status) return kstd::unexpected(status.error());
    }
    return out.count - before;
}

}  // namespace

const char* feature_name(unsigned bit) {
    for (const FeatureName& f : FEATURE_NAMES)
        if (f.bit == bit) return f.name;
    return nullptr;
}

bool parse_feature_string(kstd::StringView s, uint32_t* supported, uint32_t* required, size_t* bad_at) {
    size_t pos = 0;
    while (pos < s.size()) {
        const size_t start = pos;
        size_t len = 0;
        while (len < FEATURE_NAME_MAX && pos + len < s.size() && s[pos + len] != '|') ++len;
        kstd::StringView name = s.substr(start, len);
        pos += len;
        if (pos < s.size() && s[pos] == '|' && len < FEATURE_NAME_MAX) ++pos;
        const bool is_required = !name.empty() && name[0] == '!';
        if (is_required) name = name.substr(1);
        bool known = false;
        for (const FeatureName& f : FEATURE_NAMES) {
            if (!(name == kstd::StringView(f.name))) continue;
            set_feature(supported, f.bit);
            if (is_required) set_feature(required, f.bit);
            known = true;
            break;
        }
        if (is_required && !known) {
            if (bad_at) *bad_at = start;
            return false;
        }
    }
    return true;
}

kstd::Expected<XenNotes, kstd::ParseError> parse(const elf::Image& image) {
    XenNotes n{};
    auto from_segments = read_areas(image, image.note_segments, image.note_segment_count, n);
    if (!from_segments) return kstd::unexpected(from_segments.error());
    if (*from_segments == 0) {
        auto from_sections = read_areas(image, image.note_sections, image.note_section_count, n);
        if (!from_sections) return kstd::unexpected(from_sections.error());
        n.from_sections = *from_sections != 0;
    }
    return n;
}

namespace {

Status check_identity(const elf::Image& image, const XenNotes& n) {
    if (n.count == 0) {
        if (image.has_xen_guest_section)
            return fail("legacy __xen_guest section not supported: kernel has no Xen ELF notes", 0);
        return fail("not a Xen PV kernel: no Xen ELF notes", 0);
    }
    const bool generic = n.loader.starts_with("generic");
    const bool for_linux = n.guest_os.starts_with("linux");
    if (!generic && !for_linux) return fail("kernel is neither for the generic loader (LOADER) nor Linux (GUEST_OS)", 0);
    if (!n.xen_version.starts_with("xen-3.0")) return fail("kernel is not built for the xen-3.0 ABI (XEN_VERSION)", 0);
    if (n.bsd_symtab) return fail("BSD_SYMTAB loading not supported", 0);
    return Ok{};
}

Status check_features(const XenNotes& n, const Policy& policy) {
    if (n.unknown_required_feature) return fail("kernel requires a Xen feature unknown to the loader", n.unknown_required_feature_at);
    // Like Xen 4.17's dom0 builder, refuse only a kernel that needs to run in ring 0: a PV
    // kernel may "require" the other features (Linux requires writable_page_tables), which
    // describe guest behaviour the PV ABI provides anyway.
    const uint32_t missing = n.features_required[0] & (uint32_t{1} << XENFEAT_supervisor_mode_kernel) &
                             ~policy.hypervisor_features;
    // libxenguest's rule for a domU: a kernel that requires dom0 cannot run unprivileged.
    if (!policy.initial_domain && (n.features_required[0] & (uint32_t{1} << XENFEAT_dom0)) != 0)
        return fail("kernel does not support unprivileged (domU) operation: it requires dom0", XENFEAT_dom0);
    if (missing != 0) {
        for (const FeatureName& f : FEATURE_NAMES)
            if (missing & (uint32_t{1} << f.bit)) return fail(f.unsupported, f.bit);
        return fail("kernel requires an unsupported Xen feature", static_cast<uint64_t>(__builtin_ctz(missing)));
    }
    if (policy.initial_domain && n.has(XEN_ELFNOTE_SUPPORTED_FEATURES) &&
        (n.features_supported[0] & (uint32_t{1} << XENFEAT_dom0)) == 0)
        return fail("kernel does not support dom0 operation (no XENFEAT_dom0 in SUPPORTED_FEATURES)", 0);
    return Ok{};
}

}  // namespace

kstd::Expected<KernelPlan, kstd::ParseError> plan_pv_kernel(const elf::Image& image, const XenNotes& n,
                                                             const Policy& policy) {
    if (auto s = check_identity(image, n); !s) return kstd::unexpected(s.error());
    if (auto s = check_features(n, policy); !s) return kstd::unexpected(s.error());

    const bool has_base = n.has(XEN_ELFNOTE_VIRT_BASE);
    if (n.has(XEN_ELFNOTE_PADDR_OFFSET) && !has_base) return fail("PADDR_OFFSET set but VIRT_BASE unset", 0);

    KernelPlan p{};
    p.virt_base = Gva(has_base ? n.virt_base : 0);
    p.paddr_offset = n.has(XEN_ELFNOTE_PADDR_OFFSET) ? n.paddr_offset : 0;
    // Xen computes these modulo 2^64; a wrap shows up as start > end below.
    const uint64_t virt_offset = p.virt_base.raw() - p.paddr_offset;
    p.kernel_start = Gva(image.pstart + virt_offset);
    p.kernel_end = Gva(image.pend + virt_offset);
    p.pstart = image.pstart;
    p.entry = n.has(XEN_ELFNOTE_ENTRY) ? Gva(n.entry) : image.entry;
    if (p.kernel_start > p.kernel_end || p.entry < p.kernel_start || p.entry > p.kernel_end ||
        p.virt_base > p.kernel_start)
        return fail("kernel start or entry out of bounds", p.entry.raw());

    p.has_p2m_base = n.has(XEN_ELFNOTE_INIT_P2M);
    p.p2m_base = Gva(n.init_p2m);
    if (p.has_p2m_base) {
        if (p.p2m_base >= p.kernel_start && p.p2m_base < p.kernel_end) return fail("INIT_P2M points inside the kernel", n.init_p2m);
        if (!kstd::is_aligned(n.init_p2m, PAGE_SIZE)) return fail("INIT_P2M not page aligned", n.init_p2m);
    }
    p.has_hypercall_page = n.has(XEN_ELFNOTE_HYPERCALL_PAGE);
    p.hypercall_page = Gva(n.hypercall_page);
    if (p.has_hypercall_page && !kstd::is_aligned(n.hypercall_page, PAGE_SIZE))
        return fail("HYPERCALL_PAGE not page aligned", n.hypercall_page);
    p.unmapped_initrd = n.mod_start_pfn;
    p.features_supported = n.features_supported[0];
    p.features_required = n.features_required[0];
    return p;
}

}  // namespace xen_notes
