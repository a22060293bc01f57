// Multiboot2 information parsing: a full valid blob, every structural error, and truncation at
// every length (ASan proves no read goes past the bytes given).
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "multiboot2.hpp"

namespace {

// Builds boot information blobs tag by tag.
class Blob {
public:
    Blob() { bytes_.resize(8); }

    Blob& tag(uint32_t type, const std::vector<uint8_t>& body) {
        size_t at = bytes_.size();
        put32(type);
        put32(uint32_t(8 + body.size()));
        bytes_.insert(bytes_.end(), body.begin(), body.end());
        while (bytes_.size() % 8) bytes_.push_back(0);
        last_tag_ = at;
        return *this;
    }
    Blob& string_tag(uint32_t type, const std::string& s) {
        std::vector<uint8_t> b(s.begin(), s.end());
        b.push_back(0);
        return tag(type, b);
    }
    Blob& module(uint32_t start, uint32_t end, const std::string& cmd) {
        std::vector<uint8_t> b;
        append32(b, start);
        append32(b, end);
        b.insert(b.end(), cmd.begin(), cmd.end());
        b.push_back(0);
        return tag(3, b);
    }
    struct Region {
        uint64_t base, len;
        uint32_t type;
    };
    Blob& mmap(const std::vector<Region>& regions, uint32_t entry_size = 24) {
        std::vector<uint8_t> b;
        append32(b, entry_size);
        append32(b, 0);
        for (const Region& r : regions) {
            std::vector<uint8_t> e(entry_size, 0);
            memcpy(&e[0], &r.base, 8);
            memcpy(&e[8], &r.len, 8);
            memcpy(&e[16], &r.type, 4);
            b.insert(b.end(), e.begin(), e.end());
        }
        return tag(6, b);
    }
    Blob& rsdp(uint32_t type, char marker) {
        std::vector<uint8_t> b(type == 15 ? 36 : 20, uint8_t(marker));
        return tag(type, b);
    }
    Blob& end() { return tag(0, {}); }

    std::vector<uint8_t> finish() {
        uint32_t total = uint32_t(bytes_.size());
        memcpy(&bytes_[0], &total, 4);
        return bytes_;
    }
    size_t last_tag() const { return last_tag_; }

private:
    static void append32(std::vector<uint8_t>& b, uint32_t v) {
        uint8_t raw[4];
        memcpy(raw, &v, 4);
        b.insert(b.end(), raw, raw + 4);
    }
    void put32(uint32_t v) { append32(bytes_, v); }

    std::vector<uint8_t> bytes_;
    size_t last_tag_ = 0;
};

std::vector<uint8_t> full_info() {
    return Blob()
        .string_tag(1, "console=com1 loglvl=debug")
        .string_tag(2, "GRUB 2.06")
        .tag(4, {0x80, 0x02, 0, 0, 0x00, 0xfc, 0x07, 0})
        .mmap({{0, 0x9fc00, 1}, {0x9fc00, 0x400, 2}, {0x100000, 0x7ff00000, 1}, {0x100000000, 0x40000000, 1},
               {0xfffc0000, 0x40000, 2}, {0x7ffe0000, 0x20000, 3}, {0x1000, 0x1000, 4}, {0x2000, 0x1000, 5},
               {0x3000, 0x1000, 77}})
        .module(0x1000000, 0x1800000, "vmlinuz console=hvc0")
        .module(0x1800000, 0x1900000, "")
        .rsdp(14, 'o')
        .rsdp(15, 'n')
        .tag(12, {0x00, 0x10, 0, 0, 0, 0, 0, 0})
        .tag(99, {1, 2, 3})
        .end()
        .finish();
}

TEST(Multiboot2, ParsesEveryTagWeUse) {
    auto info = full_info();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r) << r.error().what;
    const mb2::BootInfo& bi = *r;
    EXPECT_TRUE(bi.cmdline == "console=com1 loglvl=debug");
    EXPECT_TRUE(bi.loader_name == "GRUB 2.06");
    EXPECT_TRUE(bi.has_basic_meminfo);
    EXPECT_EQ(bi.mem_lower_kib, 640u);
    EXPECT_EQ(bi.mem_upper_kib, 0x7fc00u);
    ASSERT_EQ(bi.region_count, 9u);
    EXPECT_EQ(bi.regions[3].base, Paddr(0x100000000));
    EXPECT_EQ(bi.regions[3].size, 0x40000000u);
    EXPECT_EQ(bi.regions[3].type, mb2::MemoryType::available);
    EXPECT_EQ(bi.regions[5].type, mb2::MemoryType::acpi_reclaimable);
    EXPECT_EQ(bi.regions[6].type, mb2::MemoryType::nvs);
    EXPECT_EQ(bi.regions[7].type, mb2::MemoryType::bad);
    EXPECT_EQ(bi.regions[8].type, mb2::MemoryType::reserved);  // unknown type 77
    ASSERT_EQ(bi.module_count, 2u);
    EXPECT_EQ(bi.modules[0].start, Paddr(0x1000000));
    EXPECT_EQ(bi.modules[0].end, Paddr(0x1800000));
    EXPECT_TRUE(bi.modules[0].cmdline == "vmlinuz console=hvc0");
    EXPECT_TRUE(bi.modules[1].cmdline.empty());
    ASSERT_NE(bi.rsdp, nullptr);
    EXPECT_TRUE(bi.rsdp_v2);
    EXPECT_EQ(bi.rsdp_length, 36u);
    EXPECT_EQ(bi.rsdp[0], 'n');
    EXPECT_TRUE(bi.efi64);
    EXPECT_EQ(bi.efi_system_table, Paddr(0x1000));
    EXPECT_EQ(diag.count(), 0u);
    EXPECT_EQ(mb2::total_size(info.data()), info.size());
}

TEST(Multiboot2, NewRsdpWinsWhicheverComesFirst) {
    auto info = Blob().mmap({{0, 0x1000, 1}}).rsdp(15, 'n').rsdp(14, 'o').end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rsdp[0], 'n');
    EXPECT_TRUE(r->rsdp_v2);
}

TEST(Multiboot2, OldRsdpAlone) {
    auto info = Blob().mmap({{0, 0x1000, 1}}).rsdp(14, 'o').end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->rsdp[0], 'o');
    EXPECT_FALSE(r->rsdp_v2);
    EXPECT_EQ(r->rsdp_length, 20u);
}

void expect_error(const std::vector<uint8_t>& info, const char* what_part, size_t mapped = 0) {
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), mapped ? mapped : info.size(), diag);
    ASSERT_FALSE(r) << "expected an error containing '" << what_part << "'";
    EXPECT_NE(std::string(r.error().what).find(what_part), std::string::npos) << r.error().what;
}

TEST(Multiboot2, MissingEndTag) { expect_error(Blob().string_tag(1, "x").finish(), "no end tag"); }

TEST(Multiboot2, TagRunsPastTheEnd) {
    Blob b;
    b.string_tag(1, "hello").end();
    auto info = b.finish();
    uint32_t huge = 4096;
    memcpy(&info[8 + 4], &huge, 4);  // the command line tag's size
    expect_error(info, "runs past the end");
}

TEST(Multiboot2, TagSmallerThanItsHeader) {
    auto info = Blob().string_tag(1, "hello").end().finish();
    uint32_t tiny = 4;
    memcpy(&info[8 + 4], &tiny, 4);
    expect_error(info, "smaller than its header");
}

TEST(Multiboot2, TotalSizeChecks) {
    auto info = full_info();
    expect_error(info, "larger than the memory", info.size() - 8);
    uint32_t small = 8;
    auto copy = info;
    memcpy(&copy[0], &small, 4);
    expect_error(copy, "too small");
    kstd::Diagnostics diag;
    EXPECT_FALSE(mb2::parse(info.data(), 8, diag));
}

TEST(Multiboot2, UnterminatedStrings) {
    auto info = Blob().tag(1, {'a', 'b', 'c'}).end().finish();
    // The padding after "abc" is zero; overwrite it so no NUL is inside the tag.
    info[8 + 8 + 3] = 'x';
    uint32_t size = 8 + 4;
    memcpy(&info[8 + 4], &size, 4);
    expect_error(info, "command line not terminated");
    expect_error(Blob().tag(3, {0, 0, 0, 1, 0, 0, 0, 2, 'a'}).end().finish(), "module string not terminated");
}

TEST(Multiboot2, ModuleEndingBeforeItStarts) {
    expect_error(Blob().module(0x2000, 0x1000, "m").end().finish(), "ends before it starts");
}

TEST(Multiboot2, BadMemoryMapEntrySizes) {
    expect_error(Blob().mmap({{0, 0x1000, 1}}, 20).end().finish(), "entry size invalid");
    expect_error(Blob().mmap({{0, 0x1000, 1}}, 28).end().finish(), "entry size invalid");
    // Entries that do not fill the tag exactly.
    auto info = Blob().mmap({{0, 0x1000, 1}, {0x1000, 0x1000, 1}}).end().finish();
    uint32_t size = 16 + 24 + 8;
    memcpy(&info[8 + 4], &size, 4);
    expect_error(info, "do not fill");
}

TEST(Multiboot2, WrappingRegionIsAnError) {
    expect_error(Blob().mmap({{0xfffffffffffff000, 0x2000, 1}}).end().finish(), "wraps");
}

TEST(Multiboot2, ZeroLengthRegionsAreDroppedWithAWarning) {
    auto info = Blob().mmap({{0, 0x1000, 1}, {0x5000, 0, 1}, {0x10000, 0x1000, 2}}).end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->region_count, 2u);
    EXPECT_TRUE(diag.contains("zero-length memory region at 0x5000 dropped"));
}

TEST(Multiboot2, TooManyRegionsOrModulesWarn) {
    std::vector<Blob::Region> many;
    for (uint64_t i = 0; i < mb2::MAX_REGIONS + 5; ++i) many.push_back({i * 0x1000, 0x1000, 1});
    Blob b;
    b.mmap(many);
    for (size_t i = 0; i < mb2::MAX_MODULES + 2; ++i) b.module(0x100000, 0x200000, "m");
    auto info = b.end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->region_count, mb2::MAX_REGIONS);
    EXPECT_EQ(r->module_count, mb2::MAX_MODULES);
    EXPECT_TRUE(diag.contains("more than 128 memory regions"));
    EXPECT_TRUE(diag.contains("more than 16 modules"));
}

TEST(Multiboot2, NoMemoryMapWarns) {
    auto info = Blob().string_tag(1, "x").end().finish();
    kstd::Diagnostics diag;
    ASSERT_TRUE(mb2::parse(info.data(), info.size(), diag));
    EXPECT_TRUE(diag.contains("no memory map"));
}

// Every prefix of a valid blob, given as exactly that many mapped bytes (with the size field
// still claiming the full length, and with it patched to the prefix length): always a clean
// error, never a read past the buffer.
TEST(Multiboot2, TruncatedAtEveryLength) {
    auto info = full_info();
    for (size_t len = 0; len < info.size(); ++len) {
        std::vector<uint8_t> cut(info.begin(), info.begin() + long(len));
        kstd::Diagnostics diag;
        cut.shrink_to_fit();
        EXPECT_FALSE(mb2::parse(cut.data(), cut.size(), diag)) << len;
        if (len >= 4) {
            uint32_t l = uint32_t(len);
            memcpy(cut.data(), &l, 4);
            EXPECT_FALSE(mb2::parse(cut.data(), cut.size(), diag)) << "patched " << len;
        }
    }
}

// --- Where errors are reported, and the less common shapes of valid input ---

void set32(std::vector<uint8_t>& b, size_t at, uint32_t v) { memcpy(&b[at], &v, 4); }

void expect_error_at(const std::vector<uint8_t>& info, const char* what_part, uint64_t where) {
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_FALSE(r) << "expected an error containing '" << what_part << "'";
    EXPECT_NE(std::string(r.error().what).find(what_part), std::string::npos) << r.error().what;
    EXPECT_EQ(r.error().where, where) << r.error().what;
}

TEST(Multiboot2, ErrorsNameTheOffendingByte) {
    Blob a;
    a.string_tag(1, "x").mmap({{0, 0x1000, 1}, {0xfffffffffffff000, 0x1001, 1}});
    size_t mmap_at = a.last_tag();
    expect_error_at(a.end().finish(), "wraps", mmap_at + 16 + 24);  // the second entry

    Blob b;
    b.string_tag(1, "x").mmap({{0, 0x1000, 1}}, 20);
    size_t at = b.last_tag();
    expect_error_at(b.end().finish(), "entry size invalid", at + 8);  // the entry_size field

    Blob c;
    c.string_tag(1, "x").module(0x2000, 0x1000, "m");
    at = c.last_tag();
    expect_error_at(c.end().finish(), "ends before it starts", at + 12);  // mod_end

    Blob d;
    d.string_tag(1, "x").string_tag(2, "GRUB");
    at = d.last_tag();
    auto info = d.end().finish();
    memcpy(&info[at + 8 + 4], "\xcc\xcc\xcc\xcc", 4);  // the NUL and the padding after it
    set32(info, at + 4, 8 + 5);
    expect_error_at(info, "loader name not terminated", at + 8);

    Blob e;
    e.string_tag(1, "x").tag(7, {});
    at = e.last_tag();
    auto tiny = e.end().finish();
    set32(tiny, at + 4, 7);
    expect_error_at(tiny, "smaller than its header", at);

    auto no_end = Blob().string_tag(1, "x").finish();
    expect_error_at(no_end, "no end tag", no_end.size());
}

TEST(Multiboot2, TotalSizeThatCutsTheEndTagShortMeansNoEndTag) {
    auto info = Blob().string_tag(1, "x").end().finish();
    set32(info, 0, uint32_t(info.size() - 1));
    expect_error_at(info, "no end tag", info.size() - 1);
}

TEST(Multiboot2, NulInThePaddingDoesNotTerminate) {
    auto info = Blob().tag(1, {'a', 'b', 'c'}).end().finish();  // the padding after "abc" is zero
    expect_error_at(info, "command line not terminated", 16);
}

TEST(Multiboot2, TagsTooShortForTheirFixedFields) {
    struct Case {
        uint32_t type;
        size_t body;
        const char* what;
    } cases[] = {{3, 8, "module tag too short"},  // start and end, no string at all
                 {4, 4, "basic memory information tag too short"},
                 {6, 4, "memory map tag too short"},
                 {12, 4, "EFI64 system table tag too short"},
                 {14, 19, "ACPI RSDP tag too short"},
                 {15, 35, "ACPI RSDP tag too short"}};
    for (const Case& c : cases) {
        Blob b;
        b.string_tag(1, "x").tag(c.type, std::vector<uint8_t>(c.body, 0));
        size_t at = b.last_tag();
        expect_error_at(b.end().finish(), c.what, at);
    }
}

TEST(Multiboot2, MinimalInformationIsHeaderAndEndTag) {
    auto info = Blob().end().finish();
    ASSERT_EQ(info.size(), 16u);
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->region_count, 0u);
    EXPECT_EQ(r->module_count, 0u);
    EXPECT_EQ(r->rsdp, nullptr);
    EXPECT_FALSE(r->efi64);
    EXPECT_FALSE(r->has_basic_meminfo);
    EXPECT_TRUE(r->cmdline.empty());
    EXPECT_TRUE(diag.contains("no memory map tag"));
}

TEST(Multiboot2, BytesAfterTheEndTagAreNotRead) {
    // An unterminated string tag after the end tag: never looked at.
    auto info = Blob().mmap({{0, 0x1000, 1}}).end().tag(1, {'x', 'y', 'z', 'w'}).finish();
    info[info.size() - 4] = 'x';
    kstd::Diagnostics diag;
    EXPECT_TRUE(mb2::parse(info.data(), info.size(), diag));
}

TEST(Multiboot2, WiderMemoryMapEntriesOfLaterVersions) {
    auto info = Blob().mmap({{0, 0x9fc00, 1}, {0x100000, 0x1000000, 3}}, 32).end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r) << r.error().what;
    ASSERT_EQ(r->region_count, 2u);
    EXPECT_EQ(r->regions[1].base, Paddr(0x100000));
    EXPECT_EQ(r->regions[1].size, 0x1000000u);
    EXPECT_EQ(r->regions[1].type, mb2::MemoryType::acpi_reclaimable);
}

TEST(Multiboot2, RegionEndingExactlyAtTheTopIsAccepted) {
    auto ok = Blob().mmap({{0xfffffffffffff000, 0x1000, 2}}).end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(ok.data(), ok.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->region_count, 1u);
    expect_error(Blob().mmap({{UINT64_MAX, UINT64_MAX, 1}}).end().finish(), "wraps");
}

TEST(Multiboot2, EmptyModuleIsAllowed) {
    auto info = Blob().module(0x5000, 0x5000, "empty").end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->module_count, 1u);
    EXPECT_EQ(r->modules[0].end - r->modules[0].start, 0u);
}

TEST(Multiboot2, RepeatedProblemsAreCountedInOneMessage) {
    std::vector<Blob::Region> regions;
    for (uint64_t i = 0; i < 6; ++i) regions.push_back({0x1000 * (i + 1), 0, 1});
    for (uint64_t i = 0; i < mb2::MAX_REGIONS + 40; ++i) regions.push_back({0x100000 + i * 0x1000, 0x1000, 1});
    Blob b;
    b.mmap(regions);
    for (size_t i = 0; i < mb2::MAX_MODULES + 30; ++i) b.module(0x100000, 0x200000, "m");
    auto info = b.end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(diag.count(), 3u);
    EXPECT_EQ(diag.dropped(), 0u);
    EXPECT_TRUE(diag.contains("zero-length memory region at 0x1000 dropped, and 5 more"));
    EXPECT_TRUE(diag.contains("more than 128 memory regions: 40 dropped"));
    EXPECT_TRUE(diag.contains("more than 16 modules: 30 dropped"));
}

TEST(Multiboot2, MemoryMapWithOnlyEmptyRegionsIsNotAMissingOne) {
    auto info = Blob().mmap({{0x1000, 0, 1}}).end().finish();
    kstd::Diagnostics diag;
    auto r = mb2::parse(info.data(), info.size(), diag);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->region_count, 0u);
    EXPECT_TRUE(diag.contains("without usable regions"));
    EXPECT_FALSE(diag.contains("no memory map tag"));
}

// Any single damaged byte gives a result or a clean error; ASan checks that nothing outside the
// blob is read, and the strings of a result lie inside it.
TEST(Multiboot2, EveryByteCorrupted) {
    const auto full = full_info();
    for (size_t at = 0; at < full.size(); ++at)
        for (uint8_t v : {0x00, 0x01, 0x07, 0x80, 0xff}) {
            std::vector<uint8_t> info = full;
            info[at] = v;
            kstd::Diagnostics diag;
            auto r = mb2::parse(info.data(), info.size(), diag);
            if (!r) continue;
            const char* lo = reinterpret_cast<const char*>(info.data());
            const char* hi = lo + info.size();
            for (kstd::StringView sv : {r->cmdline, r->loader_name})
                EXPECT_TRUE(!sv.data() || (sv.data() >= lo && sv.data() + sv.size() < hi)) << at;
            for (size_t i = 0; i < r->module_count; ++i)
                EXPECT_TRUE(r->modules[i].cmdline.data() >= lo && r->modules[i].cmdline.data() < hi) << at;
            EXPECT_TRUE(!r->rsdp || (r->rsdp >= info.data() && r->rsdp + r->rsdp_length <= info.data() + info.size()));
        }
}

}  // namespace
