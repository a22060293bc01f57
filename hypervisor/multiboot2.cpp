// Multiboot2 boot information walker. Every tag is checked against total_size before any of
// its fields is read, and every field is copied out with memcpy, so a damaged blob can only
// produce a ParseError, never a read outside it. Soft problems are counted while walking and
// reported once at the end, so a long memory map cannot flood Diagnostics.
#include "multiboot2.hpp"

#include "kstd/string.hpp"

namespace mb2 {

namespace {

// Layouts from the Multiboot2 specification (1.0, section 3.6); little-endian, naturally aligned.

struct InfoHeader {
    uint32_t total_size;  // 0: bytes, this header and the end tag included
    uint32_t reserved;    // 4
};
static_assert(sizeof(InfoHeader) == 8);

struct TagHeader {
    uint32_t type;  // 0
    uint32_t size;  // 4: bytes, this header included, the padding to 8 bytes excluded
};
static_assert(sizeof(TagHeader) == 8);

struct ModuleTag {  // followed by the module's NUL-terminated command line
    TagHeader header;    // 0
    uint32_t mod_start;  // 8
    uint32_t mod_end;    // 12: exclusive
};
static_assert(sizeof(ModuleTag) == 16);

struct BasicMeminfoTag {
    TagHeader header;    // 0
    uint32_t mem_lower;  // 8: KiB
    uint32_t mem_upper;  // 12: KiB
};
static_assert(sizeof(BasicMeminfoTag) == 16);

struct MmapTag {  // followed by entries of entry_size bytes
    TagHeader header;        // 0
    uint32_t entry_size;     // 8: a multiple of 8, at least sizeof(MmapEntry)
    uint32_t entry_version;  // 12: 0 so far; later versions only append fields
};
static_assert(sizeof(MmapTag) == 16);

struct MmapEntry {
    uint64_t base_addr;  // 0
    uint64_t length;     // 8
    uint32_t type;       // 16: MemoryType
    uint32_t reserved;   // 20
};
static_assert(sizeof(MmapEntry) == 24);

struct Efi64Tag {
    TagHeader header;  // 0
    uint64_t pointer;  // 8: EFI system table
};
static_assert(sizeof(Efi64Tag) == 16);

enum TagType : uint32_t {
    TAG_END = 0,
    TAG_CMDLINE = 1,
    TAG_LOADER_NAME = 2,
    TAG_MODULE = 3,
    TAG_BASIC_MEMINFO = 4,
    TAG_MMAP = 6,
    TAG_EFI64 = 12,
    TAG_ACPI_OLD = 14,
    TAG_ACPI_NEW = 15,
};

constexpr size_t TAG_ALIGN = 8;
constexpr size_t MIN_TOTAL_SIZE = sizeof(InfoHeader) + sizeof(TagHeader);  // header and end tag
constexpr size_t RSDP_V1_LENGTH = 20;
constexpr size_t RSDP_V2_LENGTH = 36;

struct Ok {};
using Status = kstd::Expected<Ok, kstd::ParseError>;
using Error = kstd::Unexpected<kstd::ParseError>;

Error fail(const char* what, uint64_t where) { return kstd::unexpected(kstd::ParseError{what, where}); }

// Callers have checked that sizeof(T) bytes at p lie inside the blob.
template <typename T>
T load(const uint8_t* p) {
    T v;
    memcpy(&v, p, sizeof v);
    return v;
}

// One tag, already checked to lie inside the blob.
struct Tag {
    const uint8_t* data;
    size_t offset;  // from the start of the information, for error reports
    uint32_t type;
    uint32_t size;
};

// What the walk has seen beyond what BootInfo records.
struct Walk {
    BootInfo& out;
    bool saw_mmap = false;
    size_t regions_dropped = 0;
    size_t empty_regions = 0;
    uint64_t first_empty_base = 0;
    size_t modules_dropped = 0;
};

// A string field runs from `from` to a NUL that must lie inside the tag.
Status string_field(const Tag& t, size_t from, kstd::StringView& out, const char* what) {
    for (size_t i = from; i < t.size; ++i)
        if (t.data[i] == 0) {
            out = kstd::StringView(reinterpret_cast<const char*>(t.data + from), i - from);
            return Ok{};
        }
    return fail(what, t.offset + from);
}

Status need(const Tag& t, size_t bytes, const char* what) {
    if (t.size < bytes) return fail(what, t.offset);
    return Ok{};
}

MemoryType memory_type(uint32_t t) {
    switch (t) {
    case 1: case 2: case 3: case 4: case 5: return MemoryType(t);
    default: return MemoryType::reserved;
    }
}

Status add_region(const uint8_t* p, size_t offset, Walk& w) {
    const MmapEntry e = load<MmapEntry>(p);
    if (e.length == 0) {
        if (w.empty_regions++ == 0) w.first_empty_base = e.base_addr;
        return Ok{};
    }
    // The end must be representable: base + length may not pass 2^64 - 1.
    if (e.length - 1 > UINT64_MAX - e.base_addr) return fail("memory region wraps past 2^64", offset);
    if (w.out.region_count == MAX_REGIONS) {
        ++w.regions_dropped;
        return Ok{};
    }
    w.out.regions[w.out.region_count++] = {Paddr(e.base_addr), e.length, memory_type(e.type)};
    return Ok{};
}

Status parse_mmap(const Tag& t, Walk& w) {
    if (auto s = need(t, sizeof(MmapTag), "memory map tag too short"); !s) return s;
    const MmapTag m = load<MmapTag>(t.data);
    const size_t field = t.offset + offsetof(MmapTag, entry_size);
    if (m.entry_size < sizeof(MmapEntry)) return fail("memory map entry size invalid: smaller than an entry", field);
    if (m.entry_size % 8) return fail("memory map entry size invalid: not a multiple of 8", field);
    if ((t.size - sizeof(MmapTag)) % m.entry_size) return fail("memory map entries do not fill the tag", field);
    w.saw_mmap = true;
    for (size_t at = sizeof(MmapTag); at < t.size; at += m.entry_size)
        if (auto s = add_region(t.data + at, t.offset + at, w); !s) return s;
    return Ok{};
}

Status parse_module(const Tag& t, Walk& w) {
    if (auto s = need(t, sizeof(ModuleTag) + 1, "module tag too short"); !s) return s;
    const ModuleTag m = load<ModuleTag>(t.data);
    if (m.mod_end < m.mod_start) return fail("module ends before it starts", t.offset + offsetof(ModuleTag, mod_end));
    kstd::StringView cmdline;
    if (auto s = string_field(t, sizeof(ModuleTag), cmdline, "module string not terminated"); !s) return s;
    if (w.out.module_count == MAX_MODULES) {
        ++w.modules_dropped;
        return Ok{};
    }
    w.out.modules[w.out.module_count++] = {Paddr(m.mod_start), Paddr(m.mod_end), cmdline};
    return Ok{};
}

// The tag body is a copy of the RSDP; the ACPI 2.0+ one wins over the 1.0 one in any order.
Status parse_rsdp(const Tag& t, BootInfo& out) {
    const bool v2 = t.type == TAG_ACPI_NEW;
    const size_t body = t.size - sizeof(TagHeader);
    if (body < (v2 ? RSDP_V2_LENGTH : RSDP_V1_LENGTH)) return fail("ACPI RSDP tag too short", t.offset);
    if (v2 || !out.rsdp_v2) {
        out.rsdp = t.data + sizeof(TagHeader);
        out.rsdp_length = body;
        out.rsdp_v2 = v2;
    }
    return Ok{};
}

Status parse_tag(const Tag& t, Walk& w) {
    BootInfo& out = w.out;
    switch (t.type) {
    case TAG_CMDLINE: return string_field(t, sizeof(TagHeader), out.cmdline, "command line not terminated");
    case TAG_LOADER_NAME: return string_field(t, sizeof(TagHeader), out.loader_name, "loader name not terminated");
    case TAG_MODULE: return parse_module(t, w);
    case TAG_MMAP: return parse_mmap(t, w);
    case TAG_ACPI_OLD:
    case TAG_ACPI_NEW: return parse_rsdp(t, out);
    case TAG_BASIC_MEMINFO: {
        if (auto s = need(t, sizeof(BasicMeminfoTag), "basic memory information tag too short"); !s) return s;
        const BasicMeminfoTag m = load<BasicMeminfoTag>(t.data);
        out.mem_lower_kib = m.mem_lower;
        out.mem_upper_kib = m.mem_upper;
        out.has_basic_meminfo = true;
        return Ok{};
    }
    case TAG_EFI64:
        if (auto s = need(t, sizeof(Efi64Tag), "EFI64 system table tag too short"); !s) return s;
        out.efi64 = true;
        out.efi_system_table = Paddr(load<Efi64Tag>(t.data).pointer);
        return Ok{};
    default: return Ok{};  // framebuffer, ELF sections, APM, SMBIOS, ...: not used
    }
}

void report(const Walk& w, kstd::Diagnostics& diag) {
    if (!w.saw_mmap) diag.add("no memory map tag: the caller must fall back");
    else if (w.out.region_count == 0) diag.add("memory map tag without usable regions");
    if (w.empty_regions == 1) diag.add("zero-length memory region at {:#x} dropped", w.first_empty_base);
    if (w.empty_regions > 1)
        diag.add("zero-length memory region at {:#x} dropped, and {} more", w.first_empty_base, w.empty_regions - 1);
    if (w.regions_dropped) diag.add("more than {} memory regions: {} dropped", MAX_REGIONS, w.regions_dropped);
    if (w.modules_dropped) diag.add("more than {} modules: {} dropped", MAX_MODULES, w.modules_dropped);
}

}  // namespace

uint32_t total_size(const uint8_t* info) { return load<InfoHeader>(info).total_size; }

kstd::Expected<BootInfo, kstd::ParseError> parse(const uint8_t* info, size_t mapped_bytes, kstd::Diagnostics& diag) {
    if (mapped_bytes < sizeof(InfoHeader)) return fail("boot information shorter than its header", 0);
    const size_t total = total_size(info);
    if (total < MIN_TOTAL_SIZE) return fail("boot information total size too small", 0);
    if (total > mapped_bytes) return fail("boot information larger than the memory given for it", 0);
    BootInfo bi{};
    Walk w{bi};
    // Offsets are size_t: rounding a tag size up to 8 may step past total, never past 2^64.
    for (size_t off = sizeof(InfoHeader); off + sizeof(TagHeader) <= total;) {
        const TagHeader h = load<TagHeader>(info + off);
        if (h.size < sizeof(TagHeader)) return fail("tag smaller than its header", off);
        if (h.size > total - off) return fail("tag runs past the end of the boot information", off);
        if (h.type == TAG_END) {
            report(w, diag);
            return bi;
        }
        if (auto s = parse_tag(Tag{info + off, off, h.type, h.size}, w); !s) return kstd::unexpected(s.error());
        off += kstd::align_up(h.size, TAG_ALIGN);
    }
    return fail("no end tag", total);
}

}  // namespace mb2
