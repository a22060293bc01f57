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
    void place(uint64_t pa, Bytes b) { regions_[pa] = std::move(b); }
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

}  // namespace
