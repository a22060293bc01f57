// ACPI table reader. Each table is mapped in two steps (the 36-byte header for its length, then
// the whole table) and checksummed before anything in it is trusted; from then on every field
// is read through Bytes, which yields zero for a field beyond the table's length. That one
// rule is how short (older revision) FADTs are handled, and why no MADT or AML damage can make
// the parser read outside what PhysReader mapped. Soft problems go to Diagnostics, counted
// where they could repeat (entries that do not fit), so a large MADT cannot flood it.
#include "acpi.hpp"

#include "kstd/string.hpp"

namespace acpi {

namespace {

using kstd::bit;

// Byte offsets of the fields used, named as in the ACPI specification (6.5, chapter 5.2).
namespace rsdp {
constexpr size_t SIGNATURE = 0;          // 8 bytes, "RSD PTR "
constexpr size_t CHECKSUM = 8;           // u8, over the first 20 bytes
constexpr size_t OEMID = 9;              // 6 bytes
constexpr size_t REVISION = 15;          // u8: 0 for ACPI 1.0, 2 from ACPI 2.0 on
constexpr size_t RSDT_ADDRESS = 16;      // u32
constexpr size_t LENGTH = 20;            // u32, revision >= 2: the whole structure
constexpr size_t XSDT_ADDRESS = 24;      // u64, revision >= 2
constexpr size_t EXTENDED_CHECKSUM = 32; // u8, revision >= 2: over LENGTH bytes
constexpr size_t V1_LENGTH = 20;
constexpr size_t V2_LENGTH = 36;
}  // namespace rsdp

namespace sdt {  // the header every system description table starts with
constexpr size_t SIGNATURE = 0;  // 4 bytes
constexpr size_t LENGTH = 4;     // u32, header included
constexpr size_t HEADER_LENGTH = 36;
}  // namespace sdt

namespace madt {
constexpr size_t LOCAL_APIC_ADDRESS = 36;  // u32
constexpr size_t FLAGS = 40;               // u32
constexpr size_t ENTRIES = 44;
constexpr uint32_t PCAT_COMPAT = bit(0);

// Interrupt controller structures: u8 type @0, u8 length @1, then
constexpr uint8_t LOCAL_APIC = 0;                // u8 uid @2, u8 APIC id @3, u32 flags @4; 8 bytes
constexpr uint8_t IO_APIC = 1;                   // u8 id @2, u32 address @4, u32 GSI base @8; 12 bytes
constexpr uint8_t SOURCE_OVERRIDE = 2;           // u8 bus @2, u8 IRQ @3, u32 GSI @4, u16 flags @8; 10 bytes
constexpr uint8_t LOCAL_APIC_ADDR_OVERRIDE = 5;  // u64 address @4; 12 bytes
constexpr uint8_t LOCAL_X2APIC = 9;              // u32 x2APIC id @4, u32 flags @8, u32 uid @12; 16 bytes
constexpr uint32_t ENABLED = bit(0);
constexpr uint32_t ONLINE_CAPABLE = bit(1);
}  // namespace madt

namespace fadt {
constexpr size_t DSDT = 40;             // u32
constexpr size_t SCI_INT = 46;          // u16
constexpr size_t SMI_CMD = 48;          // u32
constexpr size_t ACPI_ENABLE = 52;      // u8
constexpr size_t PM1A_CNT_BLK = 64;     // u32, I/O port
constexpr size_t PM1B_CNT_BLK = 68;     // u32, I/O port
constexpr size_t PM_TMR_BLK = 76;       // u32, I/O port
constexpr size_t PM1_CNT_LEN = 89;      // u8, bytes
constexpr size_t PM_TMR_LEN = 91;       // u8, bytes
constexpr size_t CENTURY = 108;         // u8, CMOS RTC index of the century, 0: none
constexpr size_t IAPC_BOOT_ARCH = 109;  // u16
constexpr size_t FLAGS = 112;           // u32
constexpr size_t RESET_REG = 116;       // GAS, ACPI 2.0+
constexpr size_t RESET_VALUE = 128;     // u8, ACPI 2.0+
constexpr size_t X_DSDT = 140;          // u64
constexpr size_t X_PM1A_CNT_BLK = 172;  // GAS
constexpr size_t X_PM1B_CNT_BLK = 184;  // GAS
constexpr size_t X_PM_TMR_BLK = 208;    // GAS
constexpr size_t V1_LENGTH = 116;       // an ACPI 1.0 FADT ends after FLAGS

constexpr uint32_t TMR_VAL_EXT = bit(8);
constexpr uint32_t RESET_REG_SUP = bit(10);
constexpr uint32_t HW_REDUCED_ACPI = bit(20);
}  // namespace fadt

// Generic Address Structure: u8 space @0, u8 bit width @1, u8 bit offset @2, u8 access size @3,
// u64 address @4.
constexpr size_t GAS_LENGTH = 12;
constexpr uint8_t SPACE_SYSTEM_IO = 1;

// AML encodings (ACPI 6.5, chapter 20).
namespace aml {
constexpr uint8_t ZERO_OP = 0x00;
constexpr uint8_t ONE_OP = 0x01;
constexpr uint8_t NAME_OP = 0x08;
constexpr uint8_t BYTE_PREFIX = 0x0a;
constexpr uint8_t WORD_PREFIX = 0x0b;
constexpr uint8_t DWORD_PREFIX = 0x0c;
constexpr uint8_t PACKAGE_OP = 0x12;
constexpr uint8_t ROOT_CHAR = '\\';
}  // namespace aml

// A bounded byte range: reads beyond the end yield zero, has() says whether they would.
class Bytes {
public:
    constexpr Bytes() = default;
    constexpr Bytes(const uint8_t* p, size_t n) : data_(p), size_(n) {}

    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }
    bool has(size_t off, size_t n) const { return off <= size_ && n <= size_ - off; }
    Bytes from(size_t off) const { return has(off, 0) ? Bytes(data_ + off, size_ - off) : Bytes(); }
    Bytes first(size_t n) const { return Bytes(data_, kstd::min(n, size_)); }

    template <typename T>
    T get(size_t off) const {
        T v{};
        if (has(off, sizeof v)) memcpy(&v, data_ + off, sizeof v);
        return v;
    }
    uint8_t operator[](size_t off) const { return get<uint8_t>(off); }
    bool matches(size_t off, const char* s, size_t n) const { return has(off, n) && memcmp(data_ + off, s, n) == 0; }

private:
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

using Result = kstd::Expected<Platform, kstd::ParseError>;

kstd::Unexpected<kstd::ParseError> fail(const char* what, uint64_t where) {
    return kstd::unexpected(kstd::ParseError{what, where});
}

uint8_t checksum(Bytes b) {
    uint8_t s = 0;
    for (size_t i = 0; i < b.size(); ++i) s = uint8_t(s + b[i]);
    return s;
}

enum class TableProblem : uint8_t { unmappable, shorter_than_header, unmappable_whole, bad_checksum };
using Mapped = kstd::Expected<Bytes, TableProblem>;

const char* describe(TableProblem p) {
    switch (p) {
    case TableProblem::unmappable: return "cannot be mapped";
    case TableProblem::shorter_than_header: return "is shorter than its header";
    case TableProblem::unmappable_whole: return "cannot be mapped whole";
    case TableProblem::bad_checksum: return "has a bad checksum";
    }
    return "is unusable";
}

// A ParseError's text is a fixed string, so each root table and problem has its own sentence.
const char* describe_root(bool xsdt, TableProblem p) {
    switch (p) {
    case TableProblem::unmappable: return xsdt ? "XSDT unusable: cannot be mapped" : "RSDT unusable: cannot be mapped";
    case TableProblem::shorter_than_header:
        return xsdt ? "XSDT unusable: shorter than its header" : "RSDT unusable: shorter than its header";
    case TableProblem::unmappable_whole:
        return xsdt ? "XSDT unusable: cannot be mapped whole" : "RSDT unusable: cannot be mapped whole";
    case TableProblem::bad_checksum: return xsdt ? "XSDT unusable: bad checksum" : "RSDT unusable: bad checksum";
    }
    return xsdt ? "XSDT unusable" : "RSDT unusable";
}

// Maps a table whole and checks its length and checksum.
Mapped map_table(Paddr pa, PhysReader& mem) {
    const uint8_t* head = mem.map(pa, sdt::HEADER_LENGTH);
    if (!head) return kstd::unexpected(TableProblem::unmappable);
    const uint32_t len = Bytes(head, sdt::HEADER_LENGTH).get<uint32_t>(sdt::LENGTH);
    if (len < sdt::HEADER_LENGTH) return kstd::unexpected(TableProblem::shorter_than_header);
    const uint8_t* all = mem.map(pa, len);
    if (!all) return kstd::unexpected(TableProblem::unmappable_whole);
    const Bytes t(all, len);
    if (checksum(t) != 0) return kstd::unexpected(TableProblem::bad_checksum);
    return t;
}

// --- MADT ---

// What did not fit, reported once per MADT.
struct Dropped {
    size_t cpus = 0;
    size_t ioapics = 0;
    size_t overrides = 0;
};

template <typename T, size_t N>
void append(T (&array)[N], size_t& count, const T& v, size_t& dropped) {
    if (count == N) ++dropped;
    else array[count++] = v;
}

Cpu cpu_entry(Bytes e) {
    if (e[0] == madt::LOCAL_X2APIC) {
        const uint32_t flags = e.get<uint32_t>(8);
        return {e.get<uint32_t>(4), e.get<uint32_t>(12), bool(flags & madt::ENABLED),
                bool(flags & madt::ONLINE_CAPABLE), true};
    }
    const uint32_t flags = e.get<uint32_t>(4);
    return {e[3], e[2], bool(flags & madt::ENABLED), bool(flags & madt::ONLINE_CAPABLE), false};
}

size_t madt_entry_min_length(uint8_t type) {
    switch (type) {
    case madt::LOCAL_APIC: return 8;
    case madt::IO_APIC: return 12;
    case madt::SOURCE_OVERRIDE: return 10;
    case madt::LOCAL_APIC_ADDR_OVERRIDE: return 12;
    case madt::LOCAL_X2APIC: return 16;
    default: return 2;  // types not used here
    }
}

void madt_entry(Bytes e, Platform& p, Dropped& d) {
    switch (e[0]) {
    case madt::LOCAL_APIC:
    case madt::LOCAL_X2APIC: append(p.cpus, p.cpu_count, cpu_entry(e), d.cpus); break;
    case madt::IO_APIC:
        append(p.ioapics, p.ioapic_count, IoApic{e[2], Paddr(e.get<uint32_t>(4)), e.get<uint32_t>(8)}, d.ioapics);
        break;
    case madt::SOURCE_OVERRIDE:
        append(p.overrides, p.override_count, IrqOverride{e[2], e[3], e.get<uint32_t>(4), e.get<uint16_t>(8)},
               d.overrides);
        break;
    case madt::LOCAL_APIC_ADDR_OVERRIDE: p.lapic_address = Paddr(e.get<uint64_t>(4)); break;
    default: break;
    }
}

void report_dropped(const Dropped& d, kstd::Diagnostics& diag) {
    if (d.cpus) diag.add("MADT: more than {} CPUs: {} dropped", MAX_CPUS, d.cpus);
    if (d.ioapics) diag.add("MADT: more than {} I/O APICs: {} dropped", MAX_IOAPICS, d.ioapics);
    if (d.overrides) diag.add("MADT: more than {} interrupt overrides: {} dropped", MAX_OVERRIDES, d.overrides);
}

// The caller has checked that the fixed part (up to ENTRIES) is there.
void parse_madt(Bytes t, Platform& p, kstd::Diagnostics& diag) {
    p.lapic_address = Paddr(t.get<uint32_t>(madt::LOCAL_APIC_ADDRESS));
    p.pcat_compat = t.get<uint32_t>(madt::FLAGS) & madt::PCAT_COMPAT;
    Dropped dropped;
    for (size_t off = madt::ENTRIES; off < t.size();) {
        const uint8_t type = t[off], len = t[off + 1];
        if (!t.has(off, 2) || len < 2 || !t.has(off, len)) {
            diag.add("MADT: entry at offset {} has bad length {}: rest ignored", off, len);
            break;
        }
        if (len < madt_entry_min_length(type)) diag.add("MADT: entry type {} too short ({} bytes): ignored", type, len);
        else madt_entry(t.from(off).first(len), p, dropped);
        off += len;
    }
    report_dropped(dropped, diag);
}

// --- FADT ---

// An I/O port block given by a 32-bit FADT field and its length in bytes.
GenericAddress io_block(uint32_t port, uint8_t len) {
    const uint8_t access = len == 1 ? 1 : len == 2 ? 2 : len == 4 ? 3 : 0;  // byte, word, dword, undefined
    return {SPACE_SYSTEM_IO, uint8_t(len * 8), 0, access, port};
}

GenericAddress gas_at(Bytes t, size_t off) {
    return {t[off], t[off + 1], t[off + 2], t[off + 3], t.get<uint64_t>(off + 4)};
}

// The 64-bit X_ field when the table holds it and it is filled in, else the 32-bit port field.
GenericAddress pick_register(Bytes t, size_t x_field, size_t port_field, size_t len_field) {
    if (t.has(x_field, GAS_LENGTH)) {
        const GenericAddress g = gas_at(t, x_field);
        if (g.address) return g;
    }
    const uint32_t port = t.get<uint32_t>(port_field);
    return port ? io_block(port, t[len_field]) : GenericAddress{};
}

void parse_dsdt(Paddr pa, Platform& p, PhysReader& mem, kstd::Diagnostics& diag) {
    if (pa.raw() == 0) {
        diag.add("FADT names no DSDT: ACPI poweroff unavailable");
        return;
    }
    const Mapped t = map_table(pa, mem);
    if (!t) {
        diag.add("DSDT {} (at {:#x}): ACPI poweroff unavailable", describe(t.error()), pa);
        return;
    }
    if (!t->matches(sdt::SIGNATURE, "DSDT", 4)) {
        diag.add("table at {:#x} named as DSDT is not one: ACPI poweroff unavailable", pa);
        return;
    }
    const Bytes body = t->from(sdt::HEADER_LENGTH);
    p.has_s5 = find_s5(body.data(), body.size(), p.slp_typa, p.slp_typb);
    if (!p.has_s5) diag.add("DSDT has no well-formed \\_S5 package: ACPI poweroff unavailable");
}

// Fields past the 116 bytes of ACPI 1.0 are read only if the table holds them (Bytes yields 0
// otherwise); a table shorter than that is no FADT of any revision, and is not trusted.
void parse_fadt(Bytes t, Platform& p, PhysReader& mem, kstd::Diagnostics& diag) {
    if (t.size() < fadt::V1_LENGTH) {
        diag.add("FADT shorter than ACPI 1.0's ({} bytes): ignored", t.size());
        return;
    }
    p.has_fadt = true;
    p.sci_irq = t.get<uint16_t>(fadt::SCI_INT);
    p.smi_cmd = t.get<uint32_t>(fadt::SMI_CMD);
    p.acpi_enable_value = t[fadt::ACPI_ENABLE];
    p.pm1a_cnt = pick_register(t, fadt::X_PM1A_CNT_BLK, fadt::PM1A_CNT_BLK, fadt::PM1_CNT_LEN);
    p.pm1b_cnt = pick_register(t, fadt::X_PM1B_CNT_BLK, fadt::PM1B_CNT_BLK, fadt::PM1_CNT_LEN);
    p.pm_timer = pick_register(t, fadt::X_PM_TMR_BLK, fadt::PM_TMR_BLK, fadt::PM_TMR_LEN);
    p.iapc_boot_arch = t.get<uint16_t>(fadt::IAPC_BOOT_ARCH);
    p.rtc_century_index = t[fadt::CENTURY];
    const uint32_t flags = t.get<uint32_t>(fadt::FLAGS);
    p.pm_timer_32bit = flags & fadt::TMR_VAL_EXT;
    p.hw_reduced = flags & fadt::HW_REDUCED_ACPI;
    p.reset_reg = gas_at(t, fadt::RESET_REG);  // all zero in an ACPI 1.0 table
    p.reset_value = t[fadt::RESET_VALUE];
    // Usable only with a register to write and a value to write to it, both inside the table.
    p.reset_supported = (flags & fadt::RESET_REG_SUP) && p.reset_reg.address != 0 && t.has(fadt::RESET_VALUE, 1);
    const uint64_t x_dsdt = t.get<uint64_t>(fadt::X_DSDT);
    parse_dsdt(Paddr(x_dsdt ? x_dsdt : t.get<uint32_t>(fadt::DSDT)), p, mem, diag);
}

// --- \_S5 in AML ---

// PkgLength (ACPI 6.5, 20.2.4): the lead byte's bits 7:6 count the bytes that follow; with none,
// bits 5:0 are the length, else bits 3:0 are its low nibble and bits 5:4 must be zero. The
// length counts the PkgLength bytes themselves. Returns the byte count read, 0 if malformed.
size_t pkg_length(Bytes b, size_t at, size_t& length) {
    const uint8_t lead = b[at];
    const size_t follow = lead >> 6;
    if (!b.has(at, 1 + follow)) return 0;
    if (follow == 0) {
        length = lead & 0x3f;
        return 1;
    }
    if (lead & 0x30) return 0;
    length = lead & 0x0f;
    for (size_t i = 0; i < follow; ++i) length |= size_t(b[at + 1 + i]) << (4 + 8 * i);
    return 1 + follow;
}

// One package element that must be an integer below 256; `at` moves past it. Besides the
// forms \_S5 packages use (ZeroOp, OneOp, BytePrefix), the wider prefixes are accepted when
// the value fits.
bool small_integer(Bytes pkg, size_t& at, uint8_t& v) {
    uint64_t value = 0;
    size_t size = 1;
    switch (pkg[at]) {
    case aml::ZERO_OP: value = 0; break;
    case aml::ONE_OP: value = 1; break;
    case aml::BYTE_PREFIX: value = pkg[at + 1], size = 2; break;
    case aml::WORD_PREFIX: value = pkg.get<uint16_t>(at + 1), size = 3; break;
    case aml::DWORD_PREFIX: value = pkg.get<uint32_t>(at + 1), size = 5; break;
    default: return false;
    }
    if (!pkg.has(at, size) || value > 0xff) return false;
    v = uint8_t(value);
    at += size;
    return true;
}

// A PackageOp at `at` with at least two elements, the first two small integers; every byte
// read lies inside both the AML and the package's own length.
bool s5_package(Bytes code, size_t at, uint8_t& a, uint8_t& b) {
    if (!code.has(at, 1) || code[at] != aml::PACKAGE_OP) return false;
    size_t length = 0;
    const size_t len_bytes = pkg_length(code, at + 1, length);
    if (len_bytes == 0 || length < len_bytes + 1 || !code.has(at + 1, length)) return false;
    const Bytes pkg = code.from(at + 1).first(length);
    size_t pos = len_bytes;
    if (pkg[pos++] < 2) return false;  // NumElements
    return small_integer(pkg, pos, a) && small_integer(pkg, pos, b);
}

// --- RSDP and root table ---

void parse_table(Paddr pa, Platform& p, PhysReader& mem, kstd::Diagnostics& diag, bool& have_madt) {
    if (pa.raw() == 0) {
        diag.add("null entry in the root table: skipped");
        return;
    }
    const Mapped t = map_table(pa, mem);
    if (!t) {
        diag.add("table at {:#x} {}: skipped", pa, describe(t.error()));
        return;
    }
    if (t->matches(sdt::SIGNATURE, "APIC", 4)) {
        if (have_madt) diag.add("second MADT at {:#x} ignored", pa);
        else if (t->size() < madt::ENTRIES) diag.add("MADT at {:#x} shorter than its fixed part: skipped", pa);
        else {
            have_madt = true;
            parse_madt(*t, p, diag);
        }
    } else if (t->matches(sdt::SIGNATURE, "FACP", 4)) {
        if (p.has_fadt) diag.add("second FADT at {:#x} ignored", pa);
        else parse_fadt(*t, p, mem, diag);
    }
}

// What is wrong with the RSDP and at which of its bytes; a null `what` if it is sound.
kstd::ParseError check_rsdp(Bytes r) {
    if (!r.has(0, rsdp::V1_LENGTH)) return {"RSDP signature missing: fewer than 20 bytes given", r.size()};
    if (!r.matches(rsdp::SIGNATURE, "RSD PTR ", 8)) return {"RSDP signature missing", rsdp::SIGNATURE};
    if (checksum(r.first(rsdp::V1_LENGTH)) != 0) return {"RSDP checksum bad", rsdp::CHECKSUM};
    if (r[rsdp::REVISION] < 2) return {nullptr, 0};
    const uint32_t len = r.get<uint32_t>(rsdp::LENGTH);
    if (len < rsdp::V2_LENGTH || !r.has(0, len)) return {"RSDP extended length bad", rsdp::LENGTH};
    if (checksum(r.first(len)) != 0) return {"RSDP extended checksum bad", rsdp::EXTENDED_CHECKSUM};
    return {nullptr, 0};
}

}  // namespace

bool find_s5(const uint8_t* code, size_t len, uint8_t& slp_typa, uint8_t& slp_typb) {
    const Bytes c(code, len);
    for (size_t i = 1; c.has(i, 4); ++i) {
        if (!c.matches(i, "_S5_", 4)) continue;
        const bool rooted = i >= 2 && c[i - 1] == aml::ROOT_CHAR && c[i - 2] == aml::NAME_OP;
        const bool named = c[i - 1] == aml::NAME_OP || rooted;
        uint8_t a, b;
        if (named && s5_package(c, i + 4, a, b)) {
            slp_typa = a;
            slp_typb = b;
            return true;
        }
    }
    return false;
}

Result parse(const uint8_t* rsdp_copy, size_t rsdp_length, PhysReader& mem, kstd::Diagnostics& diag) {
    if (!rsdp_copy) return fail("no RSDP", 0);
    const Bytes r(rsdp_copy, rsdp_length);
    if (const kstd::ParseError e = check_rsdp(r); e.what) return kstd::unexpected(e);
    Platform p{};
    p.revision = r[rsdp::REVISION];
    memcpy(p.oem_id, r.data() + rsdp::OEMID, 6);
    p.oem_id[6] = '\0';
    // The XSDT when the RSDP is ACPI 2.0+ and names one, else the RSDT.
    const uint64_t xsdt = p.revision >= 2 ? r.get<uint64_t>(rsdp::XSDT_ADDRESS) : 0;
    const Paddr root(xsdt ? xsdt : r.get<uint32_t>(rsdp::RSDT_ADDRESS));
    const size_t entry = xsdt ? 8 : 4;
    const Mapped t = map_table(root, mem);
    if (!t) return fail(describe_root(xsdt != 0, t.error()), root.raw());
    if (!t->matches(sdt::SIGNATURE, xsdt ? "XSDT" : "RSDT", 4)) return fail("root table signature wrong", root.raw());
    if ((t->size() - sdt::HEADER_LENGTH) % entry) diag.add("root table ends in a partial entry: ignored");
    bool have_madt = false;
    for (size_t off = sdt::HEADER_LENGTH; t->has(off, entry); off += entry)
        parse_table(Paddr(xsdt ? t->get<uint64_t>(off) : t->get<uint32_t>(off)), p, mem, diag, have_madt);
    if (!have_madt) return fail("no MADT", root.raw());
    return p;
}

}  // namespace acpi
