#include "acpi.hpp"

#include "kstd/string.hpp"

namespace acpi {

namespace {

constexpr size_t RSDP_V1_LENGTH = 20;
constexpr size_t RSDP_V2_LENGTH = 36;
constexpr size_t HEADER_LENGTH = 36;
constexpr size_t MADT_ENTRIES = 44;
constexpr size_t FADT_V1_LENGTH = 116;

constexpr uint32_t FADT_TMR_VAL_EXT = 1u << 8;
constexpr uint32_t FADT_RESET_REG_SUP = 1u << 10;
constexpr uint32_t FADT_HW_REDUCED = 1u << 20;
constexpr uint32_t MADT_PCAT_COMPAT = 1u << 0;
constexpr uint32_t LAPIC_ENABLED = 1u << 0;
constexpr uint32_t LAPIC_ONLINE_CAPABLE = 1u << 1;

using Result = kstd::Expected<Platform, kstd::ParseError>;

kstd::Unexpected<kstd::ParseError> fail(const char* what, uint64_t where) {
    return kstd::unexpected(kstd::ParseError{what, where});
}

template <typename T>
T read(const uint8_t* p) {
    T v;
    memcpy(&v, p, sizeof v);
    return v;
}

uint8_t sum(const uint8_t* p, size_t n) {
    uint8_t s = 0;
    for (size_t i = 0; i < n; ++i) s = uint8_t(s + p[i]);
    return s;
}

// A table mapped whole and checked: signature, length and checksum.
struct Table {
    const uint8_t* data;
    uint32_t length;
};

bool map_table(Paddr pa, PhysReader& mem, Table& out, const char*& problem) {
    const uint8_t* head = mem.map(pa, HEADER_LENGTH);
    if (!head) {
        problem = "cannot be mapped";
        return false;
    }
    uint32_t len = read<uint32_t>(head + 4);
    if (len < HEADER_LENGTH) {
        problem = "is shorter than its header";
        return false;
    }
    const uint8_t* all = mem.map(pa, len);
    if (!all) {
        problem = "cannot be mapped whole";
        return false;
    }
    if (sum(all, len) != 0) {
        problem = "has a bad checksum";
        return false;
    }
    out = {all, len};
    return true;
}

bool signature_is(const Table& t, const char* sig) { return memcmp(t.data, sig, 4) == 0; }

void add_cpu(Platform& p, const Cpu& c, kstd::Diagnostics& diag) {
    if (p.cpu_count == MAX_CPUS) {
        diag.add("MADT: more than {} CPUs: APIC id {} ignored", MAX_CPUS, c.apic_id);
        return;
    }
    p.cpus[p.cpu_count++] = c;
}

void madt_entry(Platform& p, const uint8_t* e, uint8_t type, uint8_t len, kstd::Diagnostics& diag) {
    if (type == 0 && len >= 8) {
        uint32_t flags = read<uint32_t>(e + 4);
        add_cpu(p, {e[3], e[2], bool(flags & LAPIC_ENABLED), bool(flags & LAPIC_ONLINE_CAPABLE), false}, diag);
    } else if (type == 9 && len >= 16) {
        uint32_t flags = read<uint32_t>(e + 8);
        add_cpu(p, {read<uint32_t>(e + 4), read<uint32_t>(e + 12), bool(flags & LAPIC_ENABLED),
                    bool(flags & LAPIC_ONLINE_CAPABLE), true}, diag);
    } else if (type == 1 && len >= 12) {
        if (p.ioapic_count == MAX_IOAPICS) diag.add("MADT: more than {} I/O APICs: id {} ignored", MAX_IOAPICS, e[2]);
        else p.ioapics[p.ioapic_count++] = {e[2], Paddr(read<uint32_t>(e + 4)), read<uint32_t>(e + 8)};
    } else if (type == 2 && len >= 10) {
        if (p.override_count == MAX_OVERRIDES) diag.add("MADT: more than {} overrides: IRQ {} ignored", MAX_OVERRIDES, e[3]);
        else p.overrides[p.override_count++] = {e[2], e[3], read<uint32_t>(e + 4), read<uint16_t>(e + 8)};
    } else if (type == 5 && len >= 12) {
        p.lapic_address = Paddr(read<uint64_t>(e + 4));
    } else if ((type == 0 && len < 8) || (type == 9 && len < 16) || (type == 1 && len < 12) ||
               (type == 2 && len < 10) || (type == 5 && len < 12)) {
        diag.add("MADT: entry type {} too short ({} bytes): ignored", type, len);
    }
}

void parse_madt(const Table& t, Platform& p, kstd::Diagnostics& diag) {
    if (t.length < MADT_ENTRIES) {
        diag.add("MADT shorter than its fixed part");
        return;
    }
    p.lapic_address = Paddr(read<uint32_t>(t.data + 36));
    p.pcat_compat = read<uint32_t>(t.data + 40) & MADT_PCAT_COMPAT;
    for (size_t off = MADT_ENTRIES; off < t.length;) {
        if (t.length - off < 2) {
            diag.add("MADT: truncated entry at offset {}: rest ignored", off);
            return;
        }
        uint8_t type = t.data[off], len = t.data[off + 1];
        if (len < 2 || len > t.length - off) {
            diag.add("MADT: entry at offset {} has bad length {}: rest ignored", off, len);
            return;
        }
        madt_entry(p, t.data + off, type, len, diag);
        off += len;
    }
}

GenericAddress gas_at(const uint8_t* p) {
    return {p[0], p[1], p[2], p[3], read<uint64_t>(p + 4)};
}

GenericAddress io_block(uint32_t port, uint8_t len) {
    return {1, uint8_t(len * 8), 0, 0, port};
}

// Uses the 64-bit X_ field when the table is long enough to hold it and it is filled in.
GenericAddress pick(const Table& t, size_t x_off, uint32_t legacy_port, uint8_t legacy_len) {
    if (t.length >= x_off + 12) {
        GenericAddress g = gas_at(t.data + x_off);
        if (g.address) return g;
    }
    return legacy_port ? io_block(legacy_port, legacy_len) : GenericAddress{};
}

void parse_s5(Paddr dsdt, Platform& p, PhysReader& mem, kstd::Diagnostics& diag) {
    Table t;
    const char* problem = nullptr;
    if (!dsdt.raw() || !map_table(dsdt, mem, t, problem)) {
        diag.add("DSDT {}: no \\_S5, ACPI poweroff unavailable", problem ? problem : "missing");
        return;
    }
    p.has_s5 = find_s5(t.data + HEADER_LENGTH, t.length - HEADER_LENGTH, p.slp_typa, p.slp_typb);
    if (!p.has_s5) diag.add("DSDT has no well-formed \\_S5 package: ACPI poweroff unavailable");
}

void parse_fadt(const Table& t, Platform& p, PhysReader& mem, kstd::Diagnostics& diag) {
    if (t.length < FADT_V1_LENGTH) {
        diag.add("FADT shorter than ACPI 1.0's ({} bytes): ignored", t.length);
        return;
    }
    const uint8_t* d = t.data;
    p.has_fadt = true;
    p.sci_irq = read<uint16_t>(d + 46);
    p.smi_cmd = read<uint32_t>(d + 48);
    p.acpi_enable_value = d[52];
    p.pm1a_cnt = pick(t, 172, read<uint32_t>(d + 64), d[89]);
    p.pm1b_cnt = pick(t, 184, read<uint32_t>(d + 68), d[89]);
    p.pm_timer = pick(t, 208, read<uint32_t>(d + 76), d[91]);
    p.iapc_boot_arch = read<uint16_t>(d + 109);
    uint32_t flags = read<uint32_t>(d + 112);
    p.pm_timer_32bit = flags & FADT_TMR_VAL_EXT;
    p.hw_reduced = flags & FADT_HW_REDUCED;
    if (t.length >= 129) {
        p.reset_supported = (flags & FADT_RESET_REG_SUP) && read<uint64_t>(d + 120) != 0;
        p.reset_reg = gas_at(d + 116);
        p.reset_value = d[128];
    }
    uint64_t dsdt = t.length >= 148 ? read<uint64_t>(d + 140) : 0;
    if (!dsdt) dsdt = read<uint32_t>(d + 40);
    parse_s5(Paddr(dsdt), p, mem, diag);
}

void parse_table(Paddr pa, Platform& p, PhysReader& mem, kstd::Diagnostics& diag, bool& have_madt) {
    Table t;
    const char* problem = nullptr;
    if (!map_table(pa, mem, t, problem)) {
        diag.add("table at {:#x} {}: skipped", pa, problem);
        return;
    }
    if (signature_is(t, "APIC") && !have_madt) {
        have_madt = true;
        parse_madt(t, p, diag);
    } else if (signature_is(t, "FACP") && !p.has_fadt) {
        parse_fadt(t, p, mem, diag);
    }
}

bool check_rsdp(const uint8_t* r, size_t len, const char*& problem) {
    if (len < RSDP_V1_LENGTH || memcmp(r, "RSD PTR ", 8) != 0) problem = "RSDP signature missing";
    else if (sum(r, RSDP_V1_LENGTH) != 0) problem = "RSDP checksum bad";
    else if (r[15] >= 2 && (len < RSDP_V2_LENGTH || read<uint32_t>(r + 20) < RSDP_V2_LENGTH ||
                            read<uint32_t>(r + 20) > len))
        problem = "RSDP extended length bad";
    else if (r[15] >= 2 && sum(r, read<uint32_t>(r + 20)) != 0) problem = "RSDP extended checksum bad";
    else return true;
    return false;
}

}  // namespace

bool find_s5(const uint8_t* aml, size_t len, uint8_t& slp_typa, uint8_t& slp_typb) {
    for (size_t i = 1; i + 4 <= len; ++i) {
        if (memcmp(aml + i, "_S5_", 4) != 0) continue;
        bool named = aml[i - 1] == 0x08 || (aml[i - 1] == '\\' && i >= 2 && aml[i - 2] == 0x08);
        size_t at = i + 4;
        if (!named || at >= len || aml[at] != 0x12) continue;  // PackageOp
        ++at;
        if (at >= len) return false;
        size_t pkglen_bytes = 1 + (aml[at] >> 6);
        at += pkglen_bytes;  // skip PkgLength
        if (at >= len) return false;
        ++at;  // NumElements
        uint8_t values[2];
        for (uint8_t& v : values) {
            if (at >= len) return false;
            uint8_t op = aml[at];
            if (op == 0x00 || op == 0x01) { v = op; at += 1; }                           // Zero, One
            else if (op == 0x0a && at + 1 < len) { v = aml[at + 1]; at += 2; }           // BytePrefix
            else if (op == 0x0b && at + 2 < len) { v = aml[at + 1]; at += 3; }           // WordPrefix
            else if (op == 0x0c && at + 4 < len) { v = aml[at + 1]; at += 5; }           // DWordPrefix
            else return false;
        }
        slp_typa = values[0];
        slp_typb = values[1];
        return true;
    }
    return false;
}

Result parse(const uint8_t* rsdp, size_t rsdp_length, PhysReader& mem, kstd::Diagnostics& diag) {
    Platform p{};
    const char* problem = nullptr;
    if (!rsdp || !check_rsdp(rsdp, rsdp_length, problem)) return fail(problem ? problem : "no RSDP", 0);
    p.revision = rsdp[15];
    memcpy(p.oem_id, rsdp + 9, 6);
    p.oem_id[6] = 0;
    bool use_xsdt = p.revision >= 2 && read<uint64_t>(rsdp + 24) != 0;
    Paddr root(use_xsdt ? read<uint64_t>(rsdp + 24) : read<uint32_t>(rsdp + 16));
    Table t;
    if (!map_table(root, mem, t, problem)) return fail(use_xsdt ? "XSDT unusable" : "RSDT unusable", root.raw());
    if (!signature_is(t, use_xsdt ? "XSDT" : "RSDT")) return fail("root table signature wrong", root.raw());
    size_t entry = use_xsdt ? 8 : 4;
    bool have_madt = false;
    for (size_t off = HEADER_LENGTH; off + entry <= t.length; off += entry) {
        Paddr pa(use_xsdt ? read<uint64_t>(t.data + off) : read<uint32_t>(t.data + off));
        parse_table(pa, p, mem, diag, have_madt);
    }
    if (!have_madt) return fail("no MADT: cannot find the CPUs and interrupt controllers", root.raw());
    return p;
}

}  // namespace acpi
