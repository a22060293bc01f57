// The multiboot2 boot information: a size header, then 8-byte aligned tags ending with a
// type-0 tag. Only the tags the boot path uses are decoded; the others are skipped.
//
// Error policy: structural damage (a bad total size, a tag smaller than its header or running
// past the end, a missing end tag, a bad memory map entry size, a region wrapping past 2^64,
// a module ending before it starts, a string without its NUL, a tag too short for its fixed
// fields) is a ParseError naming the byte offset of the damage. Problems the boot can live with
// (more regions or modules than fit, zero-length regions, no memory map tag) are counted into
// Diagnostics and parsing goes on. Nothing outside [info, info + total_size) is ever read.
// The result points into the information blob, which must stay mapped and untouched.
#pragma once

#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "types.hpp"

namespace mb2 {

constexpr uint32_t BOOTLOADER_MAGIC = 0x36d76289;

enum class MemoryType : uint32_t { available = 1, reserved = 2, acpi_reclaimable = 3, nvs = 4, bad = 5 };

struct MemoryRegion {
    Paddr base;
    uint64_t size;
    MemoryType type;  // types the spec does not define are reported as reserved
};

struct Module {
    Paddr start;
    Paddr end;  // exclusive
    kstd::StringView cmdline;
};

constexpr size_t MAX_REGIONS = 128;
constexpr size_t MAX_MODULES = 16;

struct BootInfo {
    kstd::StringView cmdline;
    kstd::StringView loader_name;
    MemoryRegion regions[MAX_REGIONS];
    size_t region_count;
    Module modules[MAX_MODULES];
    size_t module_count;
    const uint8_t* rsdp;  // copy of the RSDP inside the tag; the ACPI 2.0+ one when both exist
    size_t rsdp_length;
    bool rsdp_v2;
    bool efi64;
    Paddr efi_system_table;
    uint32_t mem_lower_kib;  // conventional memory below 1 MiB
    uint32_t mem_upper_kib;  // memory from 1 MiB up to the first hole
    bool has_basic_meminfo;
};

// The total_size field; callers map that many bytes before calling parse().
uint32_t total_size(const uint8_t* info);

kstd::Expected<BootInfo, kstd::ParseError> parse(const uint8_t* info, size_t mapped_bytes, kstd::Diagnostics& diag);

}  // namespace mb2
