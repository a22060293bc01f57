// ACPI tables, read once at boot: the RSDP (from the loader's copy), the XSDT (ACPI 2.0+) or
// RSDT, the MADT for CPUs, I/O APICs and interrupt overrides, the FADT for power, timer and
// reset registers, and the \_S5 package of the DSDT for poweroff.
//
// Error policy: the RSDP (signature, checksums, length) and the root table (mapping, length,
// checksum, signature) must be sound and a usable MADT must exist, or parse() fails with a
// ParseError (the boot cannot find its CPUs otherwise; `where` is the byte in the RSDP or the
// root table's address). Any other table that is unmappable, shorter than its header or has a
// bad checksum is skipped with a warning. A MADT entry with a bad length ends the MADT walk with
// a warning; entries that do not fit the arrays are counted and dropped. A FADT shorter than
// ACPI 1.0's 116 bytes is ignored with a warning; fields of later revisions are read only when
// the table is long enough to hold them. A missing or malformed \_S5 leaves has_s5 false with
// a warning. Every read is bounds-checked against what PhysReader mapped.
#pragma once

#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "types.hpp"

namespace acpi {

// Maps physical memory for reading; null if the range cannot be mapped.
class PhysReader {
public:
    virtual const uint8_t* map(Paddr pa, size_t len) = 0;

protected:
    ~PhysReader() = default;
};

struct GenericAddress {
    uint8_t space_id;  // 0 system memory, 1 system I/O
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;  // 0: not present
};

struct Cpu {
    uint32_t apic_id;
    uint32_t uid;
    bool enabled;
    bool online_capable;
    bool x2apic_entry;
};

struct IoApic {
    uint32_t id;
    Paddr address;
    uint32_t gsi_base;
};

struct IrqOverride {
    uint8_t bus;
    uint8_t source_irq;
    uint32_t gsi;
    uint16_t flags;
};

// IAPC_BOOT_ARCH bit 5 (ACPI 5.0): no CMOS RTC at the legacy ports.
constexpr uint16_t BOOT_ARCH_NO_CMOS_RTC = 1u << 5;

constexpr size_t MAX_CPUS = 256;
constexpr size_t MAX_IOAPICS = 16;
constexpr size_t MAX_OVERRIDES = 32;

struct Platform {
    uint8_t revision;  // of the RSDP
    char oem_id[7];
    Paddr lapic_address;
    bool pcat_compat;  // legacy 8259 PICs present
    Cpu cpus[MAX_CPUS];
    size_t cpu_count;
    IoApic ioapics[MAX_IOAPICS];
    size_t ioapic_count;
    IrqOverride overrides[MAX_OVERRIDES];
    size_t override_count;

    bool has_fadt;
    bool hw_reduced;
    uint16_t sci_irq;
    uint32_t smi_cmd;
    uint8_t acpi_enable_value;
    GenericAddress pm1a_cnt;
    GenericAddress pm1b_cnt;
    GenericAddress pm_timer;
    bool pm_timer_32bit;
    bool reset_supported;
    GenericAddress reset_reg;
    uint8_t reset_value;
    uint16_t iapc_boot_arch;
    uint8_t rtc_century_index;  // CMOS RTC register holding the century; 0 if none

    bool has_s5;
    uint8_t slp_typa;
    uint8_t slp_typb;
};

kstd::Expected<Platform, kstd::ParseError> parse(const uint8_t* rsdp, size_t rsdp_length, PhysReader& mem,
                                                 kstd::Diagnostics& diag);

// The \_S5 sleep types from DSDT AML; false if no well-formed \_S5 package is found.
bool find_s5(const uint8_t* aml, size_t len, uint8_t& slp_typa, uint8_t& slp_typb);

}  // namespace acpi
