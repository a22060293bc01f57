#include "multiboot2.hpp"

#include "kstd/string.hpp"

namespace mb2 {

namespace {

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

constexpr uint32_t TAG_HEADER = 8;
constexpr uint32_t MMAP_HEADER = 16;     // tag header, entry_size, entry_version
constexpr uint32_t MMAP_ENTRY_MIN = 24;  // base, length, type, reserved
constexpr uint32_t MODULE_HEADER = 16;   // tag header, mod_start, mod_end

uint32_t read32(const uint8_t* p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t read64(const uint8_t* p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

using Result = kstd::Expected<BootInfo, kstd::ParseError>;
using Error = kstd::Unexpected<kstd::ParseError>;

Error fail(const char* what, uint64_t where) { return kstd::unexpected(kstd::ParseError{what, where}); }

// A string field must end with a NUL inside its tag.
bool string_in(const uint8_t* p, size_t len, kstd::StringView& out) {
    for (size_t i = 0; i < len; ++i)
        if (p[i] == 0) {
            out = kstd::StringView(reinterpret_cast<const char*>(p), i);
            return true;
        }
    return false;
}

MemoryType memory_type(uint32_t t) {
    return (t >= 1 && t <= 5) ? MemoryType(t) : MemoryType::reserved;
}

const char* parse_mmap(const uint8_t* tag, uint32_t size, BootInfo& bi, kstd::Diagnostics& diag) {
    if (size < MMAP_HEADER) return "memory map tag too short";
    uint32_t entry_size = read32(tag + 8);
    if (entry_size < MMAP_ENTRY_MIN || entry_size % 8) return "memory map entry size invalid";
    if ((size - MMAP_HEADER) % entry_size) return "memory map entries do not fill the tag";
    for (uint32_t off = MMAP_HEADER; off + entry_size <= size; off += entry_size) {
        uint64_t base = read64(tag + off), len = read64(tag + off + 8);
        if (base + len < base) return "memory map region wraps past the end of the address space";
        if (len == 0) {
            diag.add("zero-length memory region at {:#x} dropped", base);
            continue;
        }
        if (bi.region_count == MAX_REGIONS) {
            diag.add("more than {} memory regions: region at {:#x} dropped", MAX_REGIONS, base);
            continue;
        }
        bi.regions[bi.region_count++] = {Paddr(base), len, memory_type(read32(tag + off + 16))};
    }
    return nullptr;
}

const char* parse_module(const uint8_t* tag, uint32_t size, BootInfo& bi, kstd::Diagnostics& diag) {
    if (size < MODULE_HEADER + 1) return "module tag too short";
    uint32_t start = read32(tag + 8), end = read32(tag + 12);
    if (end < start) return "module ends before it starts";
    kstd::StringView cmd;
    if (!string_in(tag + MODULE_HEADER, size - MODULE_HEADER, cmd)) return "module string not terminated";
    if (bi.module_count == MAX_MODULES) {
        diag.add("more than {} modules: module at {:#x} dropped", MAX_MODULES, start);
        return nullptr;
    }
    bi.modules[bi.module_count++] = {Paddr(start), Paddr(end), cmd};
    return nullptr;
}

const char* parse_tag(uint32_t type, const uint8_t* tag, uint32_t size, BootInfo& bi, kstd::Diagnostics& diag) {
    const uint8_t* body = tag + TAG_HEADER;
    uint32_t len = size - TAG_HEADER;
    switch (type) {
    case TAG_CMDLINE:
        return string_in(body, len, bi.cmdline) ? nullptr : "command line not terminated";
    case TAG_LOADER_NAME:
        return string_in(body, len, bi.loader_name) ? nullptr : "loader name not terminated";
    case TAG_MODULE: return parse_module(tag, size, bi, diag);
    case TAG_MMAP: return parse_mmap(tag, size, bi, diag);
    case TAG_BASIC_MEMINFO:
        if (len < 8) return "basic memory information tag too short";
        bi.has_basic_meminfo = true;
        bi.mem_lower_kib = read32(body);
        bi.mem_upper_kib = read32(body + 4);
        return nullptr;
    case TAG_EFI64:
        if (len < 8) return "EFI system table tag too short";
        bi.efi64 = true;
        bi.efi_system_table = Paddr(read64(body));
        return nullptr;
    case TAG_ACPI_OLD:
    case TAG_ACPI_NEW:
        if (len < 20) return "ACPI RSDP tag too short";
        if (type == TAG_ACPI_NEW || !bi.rsdp_v2) {
            bi.rsdp = body;
            bi.rsdp_length = len;
            bi.rsdp_v2 = type == TAG_ACPI_NEW;
        }
        return nullptr;
    default: return nullptr;  // tags we do not use
    }
}

}  // namespace

uint32_t total_size(const uint8_t* info) { return read32(info); }

Result parse(const uint8_t* info, size_t mapped_bytes, kstd::Diagnostics& diag) {
    BootInfo bi{};
    if (mapped_bytes < 16) return fail("boot information shorter than its header and end tag", 0);
    uint32_t total = read32(info);
    if (total < 16) return fail("boot information total size too small", 0);
    if (total > mapped_bytes) return fail("boot information larger than the memory given for it", 0);
    for (uint32_t off = 8; off + TAG_HEADER <= total;) {
        uint32_t type = read32(info + off), size = read32(info + off + 4);
        if (size < TAG_HEADER) return fail("tag smaller than its header", off);
        if (size > total - off) return fail("tag runs past the end of the boot information", off);
        if (type == TAG_END) {
            if (bi.region_count == 0) diag.add("no memory map tag");
            return bi;
        }
        if (const char* err = parse_tag(type, info + off, size, bi, diag)) return fail(err, off);
        off += uint32_t(kstd::align_up(size, 8));
    }
    return fail("no end tag", total);
}

}  // namespace mb2
