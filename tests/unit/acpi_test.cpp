// ACPI parsing over synthetic tables in a fake physical memory: RSDT and XSDT machines,
// checksum and length damage at every level, MADT entry damage, short and long FADTs, and the
// \_S5 encodings firmware uses.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "acpi.hpp"

namespace {

using Bytes = std::vector<uint8_t>;

void put(Bytes& b, size_t off, uint64_t v, size_t n) {
    if (b.size() < off + n) b.resize(off + n);
    memcpy(&b[off], &v, n);
}

void fix_checksum(Bytes& b, size_t checksum_at, size_t len) {
    b[checksum_at] = 0;
    uint8_t s = 0;
    for (size_t i = 0; i < len; ++i) s = uint8_t(s + b[i]);
    b[checksum_at] = uint8_t(-s);
}

// A table with its header; body bytes follow at offset 36.
Bytes table(const char* sig, const Bytes& body, uint8_t revision = 1) {
    Bytes t(36, 0);
    memcpy(&t[0], sig, 4);
    t[8] = revision;
    memcpy(&t[10], "KTEST ", 6);
    t.insert(t.end(), body.begin(), body.end());
    put(t, 4, t.size(), 4);
    fix_checksum(t, 9, t.size());
    return t;
}

// Physical memory made of separate regions; map() refuses ranges that leave a region.
class FakeMemory final : public acpi::PhysReader {
public:
    void place(uint64_t pa, Bytes b) {
        b.shrink_to_fit();  // so that ASan sees a read one byte past a region
        regions_[pa] = std::move(b);
    }
    const uint8_t* map(Paddr pa, size_t len) override {
        auto it = regions_.upper_bound(pa.raw());
        if (it == regions_.begin()) return nullptr;
        --it;
        uint64_t off = pa.raw() - it->first;
        if (off + len > it->second.size()) return nullptr;
        return it->second.data() + off;
    }
    Bytes& at(uint64_t pa) { return regions_.at(pa); }

private:
    std::map<uint64_t, Bytes> regions_;
};

Bytes madt_body(uint32_t lapic, const std::vector<Bytes>& entries) {
    Bytes b(8, 0);
    put(b, 0, lapic, 4);
    put(b, 4, 1, 4);  // PCAT_COMPAT
    for (const Bytes& e : entries) b.insert(b.end(), e.begin(), e.end());
    return b;
}

Bytes lapic_entry(uint8_t uid, uint8_t id, uint32_t flags) {
    Bytes e = {0, 8, uid, id};
    put(e, 4, flags, 4);
    return e;
}
Bytes x2apic_entry(uint32_t id, uint32_t uid, uint32_t flags) {
    Bytes e = {9, 16, 0, 0};
    put(e, 4, id, 4);
    put(e, 8, flags, 4);
    put(e, 12, uid, 4);
    return e;
}
Bytes ioapic_entry(uint8_t id, uint32_t addr, uint32_t gsi) {
    Bytes e = {1, 12, id, 0};
    put(e, 4, addr, 4);
    put(e, 8, gsi, 4);
    return e;
}
Bytes override_entry(uint8_t irq, uint32_t gsi, uint16_t flags) {
    Bytes e = {2, 10, 0, irq};
    put(e, 4, gsi, 4);
    put(e, 8, flags, 2);
    return e;
}

// AML for Name(\_S5, Package(n) { a, b, ... }) with each element's encoding given raw.
Bytes s5_aml(const Bytes& elements, bool root_prefix = false, uint8_t count = 4) {
    Bytes aml = {0x10, 0x05, 0x5c, 0x00};  // some unrelated Scope opening first
    aml.push_back(0x08);
    if (root_prefix) aml.push_back('\\');
    for (char c : std::string("_S5_")) aml.push_back(uint8_t(c));
    aml.push_back(0x12);
    aml.push_back(uint8_t(elements.size() + 2));  // one-byte PkgLength
    aml.push_back(count);
    aml.insert(aml.end(), elements.begin(), elements.end());
    return aml;
}

// An ACPI 1.0 FADT (116 bytes): I/O port blocks only.
Bytes fadt_v1(uint32_t dsdt) {
    Bytes b(116 - 36, 0);
    put(b, 40 - 36, dsdt, 4);
    put(b, 46 - 36, 9, 2);        // SCI_INT
    put(b, 48 - 36, 0xb2, 4);     // SMI_CMD
    b[52 - 36] = 0xf1;            // ACPI_ENABLE
    put(b, 64 - 36, 0x604, 4);    // PM1a_CNT_BLK, as on QEMU's i440fx
    put(b, 76 - 36, 0x608, 4);    // PM_TMR_BLK
    b[89 - 36] = 2;               // PM1_CNT_LEN
    b[91 - 36] = 4;               // PM_TMR_LEN
    b[108 - 36] = 0x32;           // CENTURY, as on QEMU
    put(b, 109 - 36, 0x3, 2);     // IAPC_BOOT_ARCH
    put(b, 112 - 36, 1u << 8, 4); // TMR_VAL_EXT
    return table("FACP", b, 1);
}

// An ACPI 6 FADT (276 bytes) with X_ fields and a reset register.
Bytes fadt_v6(uint64_t x_dsdt, uint32_t flags) {
    Bytes b(276 - 36, 0);
    put(b, 64 - 36, 0x1004, 4);  // legacy PM1a_CNT_BLK, overridden by X_PM1a_CNT_BLK
    b[89 - 36] = 2;
    put(b, 112 - 36, flags, 4);
    Bytes reset = {1, 8, 0, 1};
    b.resize(276 - 36);
    memcpy(&b[116 - 36], reset.data(), 4);
    put(b, 120 - 36, 0xcf9, 8);
    b[128 - 36] = 0x06;
    put(b, 140 - 36, x_dsdt, 8);
    Bytes x_pm1a = {0, 16, 0, 2};  // system memory
    memcpy(&b[172 - 36], x_pm1a.data(), 4);
    put(b, 176 - 36, 0xfed80404, 8);
    return table("FACP", b, 6);
}

Bytes rsdp_v1(uint32_t rsdt) {
    Bytes r(20, 0);
    memcpy(&r[0], "RSD PTR ", 8);
    memcpy(&r[9], "KTEST ", 6);
    r[15] = 0;
    put(r, 16, rsdt, 4);
    fix_checksum(r, 8, 20);
    return r;
}

Bytes rsdp_v2(uint64_t xsdt) {
    Bytes r(36, 0);
    memcpy(&r[0], "RSD PTR ", 8);
    memcpy(&r[9], "KTEST ", 6);
    r[15] = 2;
    put(r, 20, 36, 4);
    put(r, 24, xsdt, 8);
    fix_checksum(r, 8, 20);
    fix_checksum(r, 32, 36);
    return r;
}

Bytes root(const char* sig, const std::vector<uint64_t>& tables, size_t width) {
    Bytes b;
    for (uint64_t t : tables) put(b, b.size(), t, width);
    return table(sig, b);
}

// A QEMU-like machine: RSDT at 0x7ffe0000 listing FADT, MADT; DSDT with \_S5 = {0,0,0,0}.
struct Machine {
    FakeMemory mem;
    Bytes rsdp;
    Machine() {
        mem.place(0x7ffe0000, root("RSDT", {0x7ffe1000, 0x7ffe2000}, 4));
        mem.place(0x7ffe1000, fadt_v1(0x7ffe3000));
        mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), lapic_entry(1, 1, 1),
                                                                    lapic_entry(2, 2, 2), ioapic_entry(0, 0xfec00000, 0),
                                                                    override_entry(0, 2, 0), override_entry(9, 9, 0xd)})));
        mem.place(0x7ffe3000, table("DSDT", s5_aml({0x00, 0x00, 0x00, 0x00})));
        rsdp = rsdp_v1(0x7ffe0000);
    }
    kstd::Expected<acpi::Platform, kstd::ParseError> parse(kstd::Diagnostics& diag) {
        return acpi::parse(rsdp.data(), rsdp.size(), mem, diag);
    }
};

TEST(Acpi, QemuLikeMachineWithRsdt) {
    Machine m;
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r) << r.error().what;
    const acpi::Platform& p = *r;
    EXPECT_STREQ(p.oem_id, "KTEST ");
    EXPECT_EQ(p.lapic_address, Paddr(0xfee00000));
    EXPECT_TRUE(p.pcat_compat);
    ASSERT_EQ(p.cpu_count, 3u);
    EXPECT_TRUE(p.cpus[1].enabled);
    EXPECT_EQ(p.cpus[1].apic_id, 1u);
    EXPECT_FALSE(p.cpus[2].enabled);
    EXPECT_TRUE(p.cpus[2].online_capable);
    ASSERT_EQ(p.ioapic_count, 1u);
    EXPECT_EQ(p.ioapics[0].address, Paddr(0xfec00000));
    ASSERT_EQ(p.override_count, 2u);
    EXPECT_EQ(p.overrides[0].gsi, 2u);
    EXPECT_EQ(p.overrides[1].flags, 0xd);
    EXPECT_TRUE(p.has_fadt);
    EXPECT_EQ(p.sci_irq, 9);
    EXPECT_EQ(p.pm1a_cnt.space_id, 1);
    EXPECT_EQ(p.pm1a_cnt.address, 0x604u);
    EXPECT_EQ(p.pm1a_cnt.bit_width, 16);
    EXPECT_EQ(p.pm1b_cnt.address, 0u);
    EXPECT_EQ(p.pm_timer.address, 0x608u);
    EXPECT_TRUE(p.pm_timer_32bit);
    EXPECT_FALSE(p.reset_supported);  // ACPI 1.0 has no reset register
    EXPECT_EQ(p.iapc_boot_arch, 3);
    EXPECT_EQ(p.rtc_century_index, 0x32);
    EXPECT_TRUE(p.has_s5);
    EXPECT_EQ(p.slp_typa, 0);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Acpi, XsdtMachineWithLongFadt) {
    FakeMemory mem;
    mem.place(0x100000000, root("XSDT", {0x100001000, 0x100002000}, 8));
    mem.place(0x100001000, table("APIC", madt_body(0xfee00000, {x2apic_entry(0x100, 7, 1)})));
    mem.place(0x100002000, fadt_v6(0x100003000, (1u << 10) | (1u << 20)));
    mem.place(0x100003000, table("DSDT", s5_aml({0x0a, 0x07, 0x0a, 0x05}, true)));
    Bytes r = rsdp_v2(0x100000000);
    kstd::Diagnostics diag;
    auto p = acpi::parse(r.data(), r.size(), mem, diag);
    ASSERT_TRUE(p) << p.error().what;
    EXPECT_EQ(p->revision, 2);
    ASSERT_EQ(p->cpu_count, 1u);
    EXPECT_TRUE(p->cpus[0].x2apic_entry);
    EXPECT_EQ(p->cpus[0].apic_id, 0x100u);
    EXPECT_EQ(p->cpus[0].uid, 7u);
    EXPECT_EQ(p->pm1a_cnt.space_id, 0);
    EXPECT_EQ(p->pm1a_cnt.address, 0xfed80404u);  // X_ field wins over the legacy block
    EXPECT_TRUE(p->reset_supported);
    EXPECT_EQ(p->reset_reg.address, 0xcf9u);
    EXPECT_EQ(p->reset_value, 6);
    EXPECT_TRUE(p->hw_reduced);
    EXPECT_TRUE(p->has_s5);
    EXPECT_EQ(p->slp_typa, 7);
    EXPECT_EQ(p->slp_typb, 5);
    EXPECT_EQ(diag.count(), 0u);
}

void expect_failure(Machine& m, const char* what_part) {
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_FALSE(r) << "expected failure with '" << what_part << "'";
    EXPECT_NE(std::string(r.error().what).find(what_part), std::string::npos) << r.error().what;
}

TEST(Acpi, RsdpDamage) {
    Machine m;
    m.rsdp[8] ^= 1;
    expect_failure(m, "RSDP checksum bad");
    Machine n;
    n.rsdp[0] = 'X';
    expect_failure(n, "RSDP signature");
    Machine short_rsdp;
    short_rsdp.rsdp.resize(12);
    expect_failure(short_rsdp, "RSDP signature");
    Bytes v2 = rsdp_v2(0x1000);
    v2[33] ^= 1;  // reserved byte under the extended checksum
    FakeMemory mem;
    kstd::Diagnostics diag;
    auto r = acpi::parse(v2.data(), v2.size(), mem, diag);
    ASSERT_FALSE(r);
    EXPECT_STREQ(r.error().what, "RSDP extended checksum bad");
    Bytes v2_short = rsdp_v2(0x1000);
    EXPECT_FALSE(acpi::parse(v2_short.data(), 20, mem, diag));
}

TEST(Acpi, RootTableDamage) {
    Machine m;
    m.mem.at(0x7ffe0000)[20] ^= 0x40;
    expect_failure(m, "RSDT unusable");
    Machine n;
    n.mem.place(0x7ffe0000, table("XSDT", {}));
    expect_failure(n, "signature wrong");
    Machine o;
    put(o.mem.at(0x7ffe0000), 4, 0x10000, 4);  // claims more than is mapped
    expect_failure(o, "RSDT unusable");
}

TEST(Acpi, MissingMadtIsFatal) {
    Machine m;
    m.mem.at(0x7ffe2000)[9] ^= 1;  // MADT checksum broken: skipped, and there is no other
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_FALSE(r);
    EXPECT_NE(std::string(r.error().what).find("no MADT"), std::string::npos);
    EXPECT_TRUE(diag.contains("bad checksum"));
}

TEST(Acpi, UnmappableAndShortTablesAreSkipped) {
    Machine m;
    m.mem.place(0x7ffe0000, root("RSDT", {0xdead0000, 0x7ffe4000, 0x7ffe1000, 0x7ffe2000}, 4));
    Bytes tiny = table("SSDT", {});
    put(tiny, 4, 20, 4);
    m.mem.place(0x7ffe4000, tiny);
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_TRUE(diag.contains("table at 0xdead0000 cannot be mapped"));
    EXPECT_TRUE(diag.contains("shorter than its header"));
    EXPECT_EQ(r->cpu_count, 3u);
}

TEST(Acpi, MadtEntryDamageStopsTheWalk) {
    Machine m;
    Bytes bad_len = {0, 0};  // length 0 would loop forever if trusted
    m.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), bad_len, lapic_entry(1, 1, 1)})));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cpu_count, 1u);
    EXPECT_TRUE(diag.contains("bad length 0"));

    Machine n;
    Bytes overrun = {0, 40, 0, 0};  // claims to run past the table
    n.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), overrun})));
    kstd::Diagnostics d2;
    ASSERT_TRUE(n.parse(d2));
    EXPECT_TRUE(d2.contains("bad length 40"));

    Machine o;
    Bytes short_ioapic = {1, 6, 0, 0, 0, 0};
    o.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {short_ioapic, lapic_entry(0, 0, 1)})));
    kstd::Diagnostics d3;
    auto p = o.parse(d3);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->ioapic_count, 0u);
    EXPECT_EQ(p->cpu_count, 1u);
    EXPECT_TRUE(d3.contains("entry type 1 too short"));
}

TEST(Acpi, LapicAddressOverride) {
    Machine m;
    Bytes ovr = {5, 12, 0, 0};
    put(ovr, 4, 0x1fee00000, 8);
    m.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), ovr})));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->lapic_address, Paddr(0x1fee00000));
}

TEST(Acpi, TooManyCpusWarns) {
    Machine m;
    std::vector<Bytes> entries;
    for (unsigned i = 0; i < acpi::MAX_CPUS + 3; ++i) entries.push_back(x2apic_entry(i, i, 1));
    m.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, entries)));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cpu_count, acpi::MAX_CPUS);
    EXPECT_TRUE(diag.contains("more than 256 CPUs"));
}

TEST(Acpi, ShortFadtIsIgnoredWithAWarning) {
    Machine m;
    m.mem.place(0x7ffe1000, table("FACP", Bytes(40, 0)));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_fadt);
    EXPECT_FALSE(r->has_s5);
    EXPECT_TRUE(diag.contains("FADT shorter"));
}

TEST(Acpi, DsdtProblemsOnlyDisablePoweroff) {
    Machine m;
    m.mem.at(0x7ffe3000)[9] ^= 1;
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->has_fadt);
    EXPECT_FALSE(r->has_s5);
    EXPECT_TRUE(diag.contains("DSDT has a bad checksum"));
}

TEST(Acpi, S5Encodings) {
    uint8_t a = 0xff, b = 0xff;
    Bytes ones = s5_aml({0x01, 0x01});
    EXPECT_TRUE(acpi::find_s5(ones.data(), ones.size(), a, b));
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 1);
    Bytes bytes = s5_aml({0x0a, 0x05, 0x00});
    EXPECT_TRUE(acpi::find_s5(bytes.data(), bytes.size(), a, b));
    EXPECT_EQ(a, 5);
    EXPECT_EQ(b, 0);
    Bytes words = s5_aml({0x0b, 0x07, 0x00, 0x0c, 0x03, 0, 0, 0});
    EXPECT_TRUE(acpi::find_s5(words.data(), words.size(), a, b));
    EXPECT_EQ(a, 7);
    EXPECT_EQ(b, 3);
    Bytes rooted = s5_aml({0x0a, 0x02, 0x0a, 0x02}, true);
    EXPECT_TRUE(acpi::find_s5(rooted.data(), rooted.size(), a, b));
    EXPECT_EQ(a, 2);
}

TEST(Acpi, S5MalformedOrMissing) {
    uint8_t a, b;
    Bytes not_named = s5_aml({0x00, 0x00});
    not_named[4] = 0x99;  // not a NameOp before _S5_
    EXPECT_FALSE(acpi::find_s5(not_named.data(), not_named.size(), a, b));
    Bytes bad_element = s5_aml({0x0d, 0x00});  // a string where a number must be
    EXPECT_FALSE(acpi::find_s5(bad_element.data(), bad_element.size(), a, b));
    Bytes good = s5_aml({0x0a, 0x05, 0x0a, 0x05});
    for (size_t cut = 0; cut < good.size(); ++cut) {
        Bytes part(good.begin(), good.begin() + long(cut));
        part.shrink_to_fit();
        EXPECT_FALSE(acpi::find_s5(part.data(), part.size(), a, b)) << cut;
    }
    EXPECT_FALSE(acpi::find_s5(nullptr, 0, a, b));
}

// Every table cut short of its claimed length (the rest unmapped) is skipped or refused.
TEST(Acpi, TruncatedTablesNeverReadPastTheirMapping) {
    for (uint64_t pa : {0x7ffe1000ull, 0x7ffe2000ull, 0x7ffe3000ull}) {
        Machine proto;
        size_t full = proto.mem.at(pa).size();
        for (size_t len = 0; len < full; ++len) {
            Machine m;
            m.mem.at(pa).resize(len);
            m.mem.at(pa).shrink_to_fit();
            kstd::Diagnostics diag;
            auto r = m.parse(diag);
            if (pa == 0x7ffe2000) EXPECT_FALSE(r) << len;
            else EXPECT_TRUE(r) << len;
        }
    }
}

// --- Root table selection, error positions, and damage at each level ---

// An ACPI 2.0 RSDP naming both an RSDT and an XSDT.
Bytes rsdp_both(uint32_t rsdt, uint64_t xsdt) {
    Bytes r = rsdp_v2(xsdt);
    put(r, 16, rsdt, 4);
    fix_checksum(r, 8, 20);
    fix_checksum(r, 32, 36);
    return r;
}

// Sets a table's length field and checksums it again, as firmware would for a shorter table.
Bytes with_length(Bytes t, size_t len) {
    t.resize(len);
    put(t, 4, len, 4);
    fix_checksum(t, 9, len);
    return t;
}

acpi::Platform parse_ok(FakeMemory& mem, const Bytes& rsdp, kstd::Diagnostics& diag) {
    auto r = acpi::parse(rsdp.data(), rsdp.size(), mem, diag);
    EXPECT_TRUE(r) << r.error().what;
    return r ? *r : acpi::Platform{};
}

kstd::ParseError parse_error(FakeMemory& mem, const Bytes& rsdp) {
    kstd::Diagnostics diag;
    auto r = acpi::parse(rsdp.data(), rsdp.size(), mem, diag);
    EXPECT_FALSE(r);
    return r ? kstd::ParseError{"", 0} : r.error();
}

TEST(Acpi, XsdtIsPreferredAndRsdtIsTheFallback) {
    FakeMemory mem;
    mem.place(0x1000, root("RSDT", {0x3000}, 4));
    mem.place(0x2000, root("XSDT", {0x4000}, 8));
    mem.place(0x3000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1)})));
    mem.place(0x4000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), lapic_entry(1, 1, 1)})));
    kstd::Diagnostics diag;
    EXPECT_EQ(parse_ok(mem, rsdp_both(0x1000, 0x2000), diag).cpu_count, 2u) << "revision 2: the XSDT";
    EXPECT_EQ(parse_ok(mem, rsdp_both(0x1000, 0), diag).cpu_count, 1u) << "no XSDT address: the RSDT";
    EXPECT_EQ(parse_ok(mem, rsdp_v1(0x1000), diag).cpu_count, 1u);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Acpi, RsdpErrorsNameTheField) {
    FakeMemory mem;
    Bytes v1 = rsdp_v1(0x1000);
    v1[16] ^= 1;
    kstd::ParseError e = parse_error(mem, v1);
    EXPECT_STREQ(e.what, "RSDP checksum bad");
    EXPECT_EQ(e.where, 8u);

    Bytes v2 = rsdp_v2(0x1000);
    v2[24] ^= 1;  // the XSDT address, covered by the extended checksum only
    e = parse_error(mem, v2);
    EXPECT_STREQ(e.what, "RSDP extended checksum bad");
    EXPECT_EQ(e.where, 32u);

    for (uint32_t len : {20u, 35u, 37u}) {  // shorter than the structure, or longer than the copy
        Bytes bad_len = rsdp_v2(0x1000);
        put(bad_len, 20, len, 4);
        fix_checksum(bad_len, 8, 20);
        e = parse_error(mem, bad_len);
        EXPECT_STREQ(e.what, "RSDP extended length bad") << len;
        EXPECT_EQ(e.where, 20u);
    }
    kstd::Diagnostics diag;
    EXPECT_FALSE(acpi::parse(nullptr, 0, mem, diag));
}

TEST(Acpi, RootTableErrorsNameItsAddress) {
    FakeMemory mem;
    kstd::ParseError e = parse_error(mem, rsdp_v1(0x5000));
    EXPECT_STREQ(e.what, "RSDT unusable: cannot be mapped");
    EXPECT_EQ(e.where, 0x5000u);

    Bytes xsdt = root("XSDT", {0x3000}, 8);
    xsdt[40] ^= 1;
    mem.place(0x6000, xsdt);
    e = parse_error(mem, rsdp_v2(0x6000));
    EXPECT_STREQ(e.what, "XSDT unusable: bad checksum");
    EXPECT_EQ(e.where, 0x6000u);

    Bytes tiny = root("RSDT", {}, 4);
    put(tiny, 4, 35, 4);
    mem.place(0x7000, tiny);
    EXPECT_STREQ(parse_error(mem, rsdp_v1(0x7000)).what, "RSDT unusable: shorter than its header");

    mem.place(0x8000, root("RSDT", {0x3000}, 4));  // no such table: nothing to find the CPUs with
    e = parse_error(mem, rsdp_v1(0x8000));
    EXPECT_STREQ(e.what, "no MADT");
    EXPECT_EQ(e.where, 0x8000u);
}

TEST(Acpi, NullAndPartialRootEntriesWarn) {
    Machine m;
    Bytes r = root("RSDT", {0, 0x7ffe1000, 0x7ffe2000}, 4);
    r.insert(r.end(), {0xaa, 0xbb});  // half an entry
    m.mem.place(0x7ffe0000, with_length(r, r.size()));
    kstd::Diagnostics diag;
    auto p = m.parse(diag);
    ASSERT_TRUE(p) << p.error().what;
    EXPECT_EQ(p->cpu_count, 3u);
    EXPECT_TRUE(diag.contains("null entry"));
    EXPECT_TRUE(diag.contains("partial entry"));
}

TEST(Acpi, DamagedFadtIsSkippedButTheMadtStillCounts) {
    Machine m;
    m.mem.at(0x7ffe1000)[60] ^= 0x10;
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_fadt);
    EXPECT_FALSE(r->has_s5);
    EXPECT_EQ(r->cpu_count, 3u);
    EXPECT_TRUE(diag.contains("table at 0x7ffe1000 has a bad checksum: skipped"));
}

TEST(Acpi, TableWhoseHeaderMapsButNotItsBody) {
    Machine m;
    Bytes header = table("SSDT", Bytes(200, 0));
    header.resize(36);  // the length still says 236
    m.mem.place(0x7ffe4000, header);
    m.mem.place(0x7ffe0000, root("RSDT", {0x7ffe4000, 0x7ffe1000, 0x7ffe2000}, 4));
    kstd::Diagnostics diag;
    ASSERT_TRUE(m.parse(diag));
    EXPECT_TRUE(diag.contains("table at 0x7ffe4000 cannot be mapped whole"));
}

// --- MADT ---

TEST(Acpi, MadtShorterThanItsFixedPartIsNoMadt) {
    Machine m;
    m.mem.place(0x7ffe2000, table("APIC", Bytes(4, 0)));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_FALSE(r);
    EXPECT_STREQ(r.error().what, "no MADT");
    EXPECT_TRUE(diag.contains("shorter than its fixed part"));
}

TEST(Acpi, SecondMadtIsIgnored) {
    Machine m;
    m.mem.place(0x7ffe5000, table("APIC", madt_body(0xfee00000, {lapic_entry(9, 9, 1)})));
    m.mem.place(0x7ffe0000, root("RSDT", {0x7ffe1000, 0x7ffe2000, 0x7ffe5000}, 4));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cpu_count, 3u);
    EXPECT_TRUE(diag.contains("second MADT at 0x7ffe5000 ignored"));
}

TEST(Acpi, MadtEntryLengthOneAndAHalfHeader) {
    Machine m;
    m.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), Bytes{0, 1}})));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cpu_count, 1u);
    EXPECT_TRUE(diag.contains("entry at offset 52 has bad length 1"));

    Machine n;  // one stray byte after the last entry: not even a type and a length
    n.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, {lapic_entry(0, 0, 1), Bytes{0}})));
    kstd::Diagnostics d2;
    r = n.parse(d2);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->cpu_count, 1u);
    EXPECT_TRUE(d2.contains("entry at offset 52 has bad length 0"));
}

TEST(Acpi, UnusedMadtEntryTypesAreSkipped) {
    Machine m;
    Bytes nmi = {4, 6, 0xff, 0x05, 0x00, 0x01};  // local APIC NMI on LINT1
    Bytes future = {0x7f, 3, 0x42};
    Bytes x2nmi = {0x0a, 12, 0x05, 0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0};
    m.mem.place(0x7ffe2000,
                table("APIC", madt_body(0xfee00000, {nmi, lapic_entry(0, 0, 1), future, x2nmi, lapic_entry(1, 4, 1)})));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->cpu_count, 2u);
    EXPECT_EQ(r->cpus[1].apic_id, 4u);
    EXPECT_EQ(r->cpus[1].uid, 1u);
    EXPECT_FALSE(r->cpus[1].x2apic_entry);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Acpi, TooManyIoApicsAndOverridesAreCounted) {
    Machine m;
    std::vector<Bytes> entries = {lapic_entry(0, 0, 1)};
    for (unsigned i = 0; i < acpi::MAX_IOAPICS + 2; ++i)
        entries.push_back(ioapic_entry(uint8_t(i), 0xfec00000 + i * 0x1000, i * 24));
    for (unsigned i = 0; i < acpi::MAX_OVERRIDES + 7; ++i) entries.push_back(override_entry(uint8_t(i), i, 0));
    for (unsigned i = 0; i < acpi::MAX_CPUS + 3; ++i) entries.push_back(lapic_entry(uint8_t(i), uint8_t(i), 1));
    m.mem.place(0x7ffe2000, table("APIC", madt_body(0xfee00000, entries)));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->ioapic_count, acpi::MAX_IOAPICS);
    EXPECT_EQ(r->ioapics[15].gsi_base, 15u * 24);
    EXPECT_EQ(r->override_count, acpi::MAX_OVERRIDES);
    EXPECT_EQ(r->cpu_count, acpi::MAX_CPUS);
    EXPECT_EQ(diag.count(), 3u) << "one message per kind, not one per entry";
    EXPECT_TRUE(diag.contains("more than 16 I/O APICs: 2 dropped"));
    EXPECT_TRUE(diag.contains("more than 32 interrupt overrides: 7 dropped"));
    EXPECT_TRUE(diag.contains("more than 256 CPUs: 4 dropped"));
}

// A MADT cut at every length, its length field and checksum made consistent: only whole
// entries are used, and nothing past the table is read.
TEST(Acpi, MadtTruncatedAtEveryLength) {
    Machine proto;
    const Bytes full = proto.mem.at(0x7ffe2000);
    for (size_t len = 36; len <= full.size(); ++len) {
        Machine m;
        m.mem.place(0x7ffe2000, with_length(full, len));
        kstd::Diagnostics diag;
        auto r = m.parse(diag);
        if (len < 44) {
            EXPECT_FALSE(r) << len;
            continue;
        }
        ASSERT_TRUE(r) << len;
        size_t whole_cpus = len < 52 ? 0 : len < 60 ? 1 : len < 68 ? 2 : 3;
        EXPECT_EQ(r->cpu_count, whole_cpus) << len;
    }
}

// --- FADT ---

// A FADT of the given length cut from a full ACPI 6 one, so the fields present are exactly
// those of an older revision. Legacy and X_ fields name different registers and DSDTs, to
// show which was used.
Bytes fadt_cut(size_t len) {
    Bytes b(276 - 36, 0);
    put(b, 40 - 36, 0x7ffe3000, 4);  // DSDT
    put(b, 46 - 36, 9, 2);           // SCI_INT
    put(b, 48 - 36, 0xb2, 4);        // SMI_CMD
    b[52 - 36] = 0xf1;               // ACPI_ENABLE
    put(b, 64 - 36, 0x604, 4);       // PM1a_CNT_BLK
    put(b, 68 - 36, 0x644, 4);       // PM1b_CNT_BLK
    put(b, 76 - 36, 0x608, 4);       // PM_TMR_BLK
    b[89 - 36] = 2;                  // PM1_CNT_LEN
    b[91 - 36] = 4;                  // PM_TMR_LEN
    put(b, 109 - 36, 0x2, 2);        // IAPC_BOOT_ARCH: 8042
    put(b, 112 - 36, 1u << 10, 4);   // RESET_REG_SUP
    Bytes reset = {1, 8, 0, 1};
    memcpy(&b[116 - 36], reset.data(), 4);
    put(b, 120 - 36, 0xcf9, 8);
    b[128 - 36] = 0x06;
    put(b, 140 - 36, 0x7ffe6000, 8);  // X_DSDT
    Bytes x_io16 = {1, 16, 0, 2}, x_io32 = {1, 32, 0, 3};
    memcpy(&b[172 - 36], x_io16.data(), 4);
    put(b, 176 - 36, 0xb004, 8);  // X_PM1a_CNT_BLK
    memcpy(&b[184 - 36], x_io16.data(), 4);
    put(b, 188 - 36, 0xb044, 8);  // X_PM1b_CNT_BLK
    memcpy(&b[208 - 36], x_io32.data(), 4);
    put(b, 212 - 36, 0xb008, 8);  // X_PM_TMR_BLK
    return with_length(table("FACP", b, 6), len);
}

TEST(Acpi, FadtFieldsAppearWithTheTableLength) {
    struct Case {
        size_t len;
        bool reset;
        uint8_t slp_typ;  // 0 from the DSDT, 5 from the X_DSDT
        uint64_t pm1a, pm1b, timer;
    } cases[] = {
        {116, false, 0, 0x604, 0x644, 0x608},  // ACPI 1.0
        {128, false, 0, 0x604, 0x644, 0x608},  // RESET_REG but no RESET_VALUE
        {129, true, 0, 0x604, 0x644, 0x608},   // ACPI 2.0's reset register
        {147, true, 0, 0x604, 0x644, 0x608},   // X_DSDT one byte short
        {148, true, 5, 0x604, 0x644, 0x608},
        {183, true, 5, 0x604, 0x644, 0x608},   // X_PM1a_CNT_BLK one byte short
        {184, true, 5, 0xb004, 0x644, 0x608},
        {196, true, 5, 0xb004, 0xb044, 0x608},
        {220, true, 5, 0xb004, 0xb044, 0xb008},
        {276, true, 5, 0xb004, 0xb044, 0xb008},  // ACPI 6
    };
    for (const Case& c : cases) {
        Machine m;
        m.mem.place(0x7ffe1000, fadt_cut(c.len));
        m.mem.place(0x7ffe6000, table("DSDT", s5_aml({0x0a, 0x05, 0x0a, 0x05})));
        kstd::Diagnostics diag;
        auto r = m.parse(diag);
        ASSERT_TRUE(r) << c.len;
        EXPECT_TRUE(r->has_fadt) << c.len;
        EXPECT_EQ(r->sci_irq, 9) << c.len;
        EXPECT_EQ(r->reset_supported, c.reset) << c.len;
        EXPECT_EQ(r->reset_value, c.reset ? 6 : 0) << c.len;
        EXPECT_EQ(r->slp_typa, c.slp_typ) << c.len;
        EXPECT_EQ(r->pm1a_cnt.address, c.pm1a) << c.len;
        EXPECT_EQ(r->pm1b_cnt.address, c.pm1b) << c.len;
        EXPECT_EQ(r->pm_timer.address, c.timer) << c.len;
        EXPECT_EQ(diag.count(), 0u) << c.len << ": " << diag.message(0);
    }
}

TEST(Acpi, FadtTruncatedAtEveryLength) {
    for (size_t len = 36; len <= 276; ++len) {
        Machine m;
        m.mem.place(0x7ffe1000, fadt_cut(len));
        kstd::Diagnostics diag;
        auto r = m.parse(diag);
        ASSERT_TRUE(r) << len;
        EXPECT_EQ(r->has_fadt, len >= 116) << len;
    }
}

TEST(Acpi, LongFadtWithEmptyXFieldsUsesThePortBlocks) {
    Bytes b(244 - 36, 0);  // ACPI 3.0 length, X_ fields left zero as some firmware does
    put(b, 40 - 36, 0x7ffe3000, 4);
    put(b, 64 - 36, 0x1804, 4);
    put(b, 76 - 36, 0x1808, 4);
    b[89 - 36] = 2;
    b[91 - 36] = 4;
    Machine m;
    m.mem.place(0x7ffe1000, table("FACP", b, 3));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->pm1a_cnt.space_id, 1);
    EXPECT_EQ(r->pm1a_cnt.address, 0x1804u);
    EXPECT_EQ(r->pm1a_cnt.bit_width, 16);
    EXPECT_EQ(r->pm1a_cnt.access_size, 2);
    EXPECT_EQ(r->pm_timer.address, 0x1808u);
    EXPECT_EQ(r->pm_timer.bit_width, 32);
    EXPECT_EQ(r->pm_timer.access_size, 3);
    EXPECT_FALSE(r->pm_timer_32bit);
    EXPECT_EQ(r->pm1b_cnt.address, 0u) << "no PM1b block: stays empty";
    EXPECT_TRUE(r->has_s5) << "the 32-bit DSDT field when X_DSDT is zero";
}

// Laid out like QEMU's q35 machine: an ACPI 3.0 FADT whose X_ blocks repeat the port blocks
// at 0x600, a reset register at 0xcf9, no 8042 flag; \_S5 written with BytePrefix.
TEST(Acpi, QemuQ35LikeMachine) {
    Bytes b(244 - 36, 0);
    put(b, 40 - 36, 0x7ffe3000, 4);
    put(b, 46 - 36, 9, 2);
    put(b, 48 - 36, 0xb2, 4);
    b[52 - 36] = 0x02;
    put(b, 64 - 36, 0x604, 4);
    put(b, 76 - 36, 0x608, 4);
    b[89 - 36] = 2;
    b[91 - 36] = 4;
    put(b, 112 - 36, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 7) | (1u << 10) | (1u << 15), 4);
    Bytes reset = {1, 8, 0, 0};
    memcpy(&b[116 - 36], reset.data(), 4);
    put(b, 120 - 36, 0xcf9, 8);
    b[128 - 36] = 0x0f;
    Bytes x_pm1a = {1, 16, 0, 0}, x_tmr = {1, 32, 0, 0};
    memcpy(&b[172 - 36], x_pm1a.data(), 4);
    put(b, 176 - 36, 0x604, 8);
    memcpy(&b[208 - 36], x_tmr.data(), 4);
    put(b, 212 - 36, 0x608, 8);
    Machine m;
    m.mem.place(0x7ffe1000, table("FACP", b, 3));
    m.mem.place(0x7ffe3000, table("DSDT", s5_aml({0x00, 0x00, 0x00, 0x00})));
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r) << r.error().what;
    EXPECT_EQ(r->smi_cmd, 0xb2u);
    EXPECT_EQ(r->acpi_enable_value, 0x02);
    EXPECT_EQ(r->pm1a_cnt.space_id, 1);
    EXPECT_EQ(r->pm1a_cnt.address, 0x604u);
    EXPECT_EQ(r->pm1a_cnt.bit_width, 16);
    EXPECT_EQ(r->pm_timer.address, 0x608u);
    EXPECT_EQ(r->pm_timer.bit_width, 32);
    EXPECT_FALSE(r->pm_timer_32bit);
    EXPECT_FALSE(r->hw_reduced);
    EXPECT_TRUE(r->reset_supported);
    EXPECT_EQ(r->reset_reg.space_id, 1);
    EXPECT_EQ(r->reset_reg.bit_width, 8);
    EXPECT_EQ(r->reset_reg.address, 0xcf9u);
    EXPECT_EQ(r->reset_value, 0x0f);
    EXPECT_EQ(r->iapc_boot_arch, 0);
    EXPECT_EQ(r->rtc_century_index, 0);  // none named
    EXPECT_TRUE(r->has_s5);
    EXPECT_EQ(r->slp_typa, 0);
    EXPECT_EQ(r->slp_typb, 0);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Acpi, ResetFlagWithoutARegisterIsNotSupport) {
    Bytes t = fadt_cut(276);
    put(t, 120, 0, 8);  // RESET_REG.address
    fix_checksum(t, 9, t.size());
    Machine m;
    m.mem.place(0x7ffe1000, t);
    kstd::Diagnostics diag;
    auto r = m.parse(diag);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->reset_supported);
}

// --- DSDT and \_S5 ---

TEST(Acpi, DsdtMissingUnmappableOrMisnamed) {
    Machine none;
    Bytes t = fadt_v1(0);
    none.mem.place(0x7ffe1000, t);
    kstd::Diagnostics d1;
    auto r = none.parse(d1);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_s5);
    EXPECT_TRUE(d1.contains("FADT names no DSDT"));

    Machine far;
    far.mem.place(0x7ffe1000, fadt_v1(0x9000000));
    kstd::Diagnostics d2;
    r = far.parse(d2);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_s5);
    EXPECT_TRUE(d2.contains("DSDT cannot be mapped (at 0x9000000)"));

    Machine ssdt;
    ssdt.mem.place(0x7ffe3000, table("SSDT", s5_aml({0x0a, 0x05, 0x0a, 0x05})));
    kstd::Diagnostics d3;
    r = ssdt.parse(d3);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_s5);
    EXPECT_TRUE(d3.contains("is not one"));

    Machine no_s5;
    no_s5.mem.place(0x7ffe3000, table("DSDT", Bytes{0x10, 0x05, 0x5c, 0x00}));
    kstd::Diagnostics d4;
    r = no_s5.parse(d4);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_s5);
    EXPECT_TRUE(d4.contains("no well-formed \\_S5 package"));
}

// Name(_S5, Package(count) {elements}) with the PkgLength written in len_bytes bytes (1 to 4).
Bytes s5_pkg(const Bytes& elements, size_t len_bytes, uint8_t count = 2) {
    size_t length = len_bytes + 1 + elements.size();
    Bytes aml = {0x08, '_', 'S', '5', '_', 0x12};
    if (len_bytes == 1) {
        aml.push_back(uint8_t(length));
    } else {
        aml.push_back(uint8_t(((len_bytes - 1) << 6) | (length & 0x0f)));
        for (size_t i = 1; i < len_bytes; ++i) aml.push_back(uint8_t(length >> (4 + 8 * (i - 1))));
    }
    aml.push_back(count);
    aml.insert(aml.end(), elements.begin(), elements.end());
    return aml;
}

bool s5(const Bytes& aml, uint8_t& a, uint8_t& b) {
    Bytes exact(aml);  // a copy allocates exactly its size
    return acpi::find_s5(exact.data(), exact.size(), a, b);
}

TEST(Acpi, S5PkgLengthEncodings) {
    Bytes big = {0x0a, 0x03, 0x0a, 0x04};
    big.resize(big.size() + 100, 0x00);  // 102 elements: more than a one-byte PkgLength holds
    for (size_t n = 1; n <= 4; ++n) {
        uint8_t a = 0xff, b = 0xff;
        EXPECT_TRUE(s5(s5_pkg({0x0a, 0x03, 0x0a, 0x04}, n), a, b)) << n << " length bytes";
        EXPECT_EQ(a, 3);
        EXPECT_EQ(b, 4);
        if (n == 1) continue;
        a = b = 0xff;
        EXPECT_TRUE(s5(s5_pkg(big, n, 102), a, b)) << n << " length bytes, long package";
        EXPECT_EQ(a, 3);
        EXPECT_EQ(b, 4);
    }
}

TEST(Acpi, S5MalformedPackages) {
    uint8_t a, b;
    Bytes reserved_bits = s5_pkg({0x0a, 0x03, 0x0a, 0x04}, 2);
    reserved_bits[6] |= 0x30;  // bits 5:4 of a multi-byte PkgLength must be zero
    EXPECT_FALSE(s5(reserved_bits, a, b));
    EXPECT_FALSE(s5(s5_pkg({0x0a, 0x03, 0x0a, 0x04}, 1, 1), a, b)) << "NumElements 1";
    Bytes too_short = s5_pkg({0x0a, 0x03, 0x0a, 0x04}, 1);
    too_short[6] = 4;  // the package ends inside its second element
    EXPECT_FALSE(s5(too_short, a, b));
    Bytes overrun = s5_pkg({0x0a, 0x03, 0x0a, 0x04}, 1);
    overrun[6] = 0x3f;  // the package claims to run past the AML
    EXPECT_FALSE(s5(overrun, a, b));
    EXPECT_FALSE(s5(Bytes{0x08, '_', 'S', '5', '_', 0x0a, 0x05}, a, b)) << "an integer, not a package";
    EXPECT_FALSE(s5(s5_pkg({0x0b, 0x05, 0x01, 0x0a, 0x00}, 1), a, b)) << "a word above 255";
    EXPECT_FALSE(s5(s5_pkg({0x0a, 0x05, 0x0d, 'x', 0x00}, 1), a, b)) << "a string as second element";
    EXPECT_FALSE(s5(Bytes{'_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x00, 0x00}, a, b)) << "no NameOp before";
}

TEST(Acpi, S5DecoysBeforeTheRealObject) {
    Bytes aml = {0x0d, 'x', '_', 'S', '5', '_', 0x00};                  // the name inside a string
    Bytes broken = s5_pkg({0x0d, 0x00, 0x00}, 1);                       // a NameOp, but a bad package
    Bytes real = s5_pkg({0x0a, 0x07, 0x01}, 1);
    aml.insert(aml.end(), broken.begin(), broken.end());
    aml.insert(aml.end(), real.begin(), real.end());
    uint8_t a = 0, b = 0;
    ASSERT_TRUE(s5(aml, a, b));
    EXPECT_EQ(a, 7);
    EXPECT_EQ(b, 1);
}

// Every prefix of each encoding, in a buffer of exactly that size: found only when complete.
TEST(Acpi, S5TruncatedAtEveryLength) {
    const Bytes encodings[] = {s5_pkg({0x0a, 0x05, 0x0a, 0x05}, 1), s5_pkg({0x00, 0x01}, 4),
                               s5_pkg({0x0c, 0x02, 0, 0, 0, 0x0b, 0x03, 0x00}, 3), s5_aml({0x01, 0x00}, true)};
    for (const Bytes& full : encodings)
        for (size_t cut = 0; cut <= full.size(); ++cut) {
            Bytes part(full.begin(), full.begin() + long(cut));
            uint8_t a, b;
            EXPECT_EQ(s5(part, a, b), cut == full.size()) << cut << " of " << full.size();
        }
}

}  // namespace
