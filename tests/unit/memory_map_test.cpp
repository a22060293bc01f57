// MemoryMap: sanitizing raw firmware maps, carve-outs, mem=, early page allocation, and the
// fixed capacity.
#include <gtest/gtest.h>

#include <cstdio>
#include <optional>
#include <random>
#include <vector>

#include "memory_map.hpp"

namespace {

using RT = RegionType;
constexpr uint64_t P = PAGE_SIZE;

struct Want {
    uint64_t base, end;
    RegionType type;
};

std::vector<Want> contents(const MemoryMap& m) {
    std::vector<Want> v;
    for (size_t i = 0; i < m.count(); ++i) v.push_back({m[i].base.raw(), m[i].end().raw(), m[i].type});
    return v;
}

std::string describe(const std::vector<Want>& v) {
    std::string s;
    char buf[96];
    for (const Want& w : v) {
        snprintf(buf, sizeof buf, "[%#llx, %#llx) %s\n", (unsigned long long)w.base, (unsigned long long)w.end,
                 region_type_name(w.type));
        s += buf;
    }
    return s;
}

void expect_map(const MemoryMap& m, const std::vector<Want>& want) {
    auto got = contents(m);
    bool same = got.size() == want.size();
    for (size_t i = 0; same && i < got.size(); ++i)
        same = got[i].base == want[i].base && got[i].end == want[i].end && got[i].type == want[i].type;
    EXPECT_TRUE(same) << "got:\n" << describe(got) << "want:\n" << describe(want);
}

// The invariants every public call must leave behind.
void expect_invariants(const MemoryMap& m) {
    ASSERT_LE(m.count(), MemoryMap::CAPACITY);
    for (size_t i = 0; i < m.count(); ++i) {
        EXPECT_GT(m[i].size, 0u) << i;
        if (m[i].type == RT::available) {
            EXPECT_EQ(m[i].base.raw() % P, 0u) << i;
            EXPECT_EQ(m[i].end().raw() % P, 0u) << i;
        }
        if (i == 0) continue;
        EXPECT_LE(m[i - 1].end(), m[i].base) << "overlap or disorder at " << i;
        if (m[i - 1].end() == m[i].base) {
            EXPECT_NE(m[i - 1].type, m[i].type) << "unmerged at " << i;
        }
    }
}

std::optional<RegionType> type_at(const MemoryMap& m, uint64_t a) {
    for (size_t i = 0; i < m.count(); ++i)
        if (m[i].base.raw() <= a && a < m[i].end().raw()) return m[i].type;
    return std::nullopt;
}

struct Raw {
    uint64_t base, size;
    RegionType type;
};

MemoryMap sanitized(std::initializer_list<Raw> raw, kstd::Diagnostics& diag) {
    MemoryMap m;
    for (const Raw& r : raw) EXPECT_TRUE(m.add(Paddr(r.base), r.size, r.type, diag));
    m.sanitize(diag);
    expect_invariants(m);
    return m;
}

MemoryMap sanitized(std::initializer_list<Raw> raw) {
    kstd::Diagnostics diag;
    return sanitized(raw, diag);
}

TEST(MemoryMap, EmptyMapStaysEmpty) {
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({}, diag);
    EXPECT_EQ(m.count(), 0u);
    EXPECT_EQ(diag.count(), 0u);
    EXPECT_EQ(m.highest_available_end(), Paddr(0));
}

TEST(MemoryMap, TypicalPcMapIsKeptAsIs) {
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({{0, 0x9f000, RT::available},
                             {0x9f000, 0x1000, RT::reserved},
                             {0xf0000, 0x10000, RT::reserved},
                             {0x100000, 0x7fee0000, RT::available},
                             {0x7ffe0000, 0x20000, RT::reserved},
                             {0xfffc0000, 0x40000, RT::reserved},
                             {0x100000000, 0x80000000, RT::available}},
                            diag);
    expect_map(m, {{0, 0x9f000, RT::available},
                   {0x9f000, 0xa0000, RT::reserved},
                   {0xf0000, 0x100000, RT::reserved},
                   {0x100000, 0x7ffe0000, RT::available},
                   {0x7ffe0000, 0x80000000, RT::reserved},
                   {0xfffc0000, 0x100000000, RT::reserved},
                   {0x100000000, 0x180000000, RT::available}});
    EXPECT_EQ(diag.count(), 0u);
    EXPECT_EQ(m.total(RT::available), 0x9f000u + 0x7fee0000u + 0x80000000u);
    EXPECT_EQ(m.highest_available_end(), Paddr(0x180000000));
}

TEST(MemoryMap, UnsortedInputIsSorted) {
    MemoryMap m = sanitized({{0x10000, P, RT::reserved}, {0x3000, P, RT::available}, {0x8000, P, RT::nvs}});
    expect_map(m, {{0x3000, 0x4000, RT::available}, {0x8000, 0x9000, RT::nvs}, {0x10000, 0x11000, RT::reserved}});
}

TEST(MemoryMap, ZeroLengthRegionsAreDroppedWithAWarning) {
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({{0x1000, 0, RT::reserved}, {0x2000, P, RT::available}, {0x2800, 0, RT::bad}}, diag);
    expect_map(m, {{0x2000, 0x3000, RT::available}});
    EXPECT_EQ(diag.count(), 2u);
    EXPECT_TRUE(diag.contains("zero-length reserved region at 0x1000"));
    EXPECT_TRUE(diag.contains("zero-length bad region at 0x2800"));
}

TEST(MemoryMap, RegionReachingPastTheAddressSpaceIsCutShort) {
    kstd::Diagnostics diag;
    MemoryMap m;
    EXPECT_TRUE(m.add(Paddr(0xfffffffffff00000), 0x200000, RT::reserved, diag));
    EXPECT_TRUE(diag.contains("reaches past the end"));
    m.sanitize(diag);
    expect_map(m, {{0xfffffffffff00000, UINT64_MAX, RT::reserved}});
}

TEST(MemoryMap, ReservedInsideAvailableSplitsIt) {
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({{0, 0x10000, RT::available}, {0x4000, 0x2000, RT::reserved}}, diag);
    expect_map(m, {{0, 0x4000, RT::available}, {0x4000, 0x6000, RT::reserved}, {0x6000, 0x10000, RT::available}});
    ASSERT_EQ(diag.count(), 1u);
    EXPECT_STREQ(diag.message(0), "overlap [0x0, 0x10000) available / [0x4000, 0x6000) reserved: reserved kept");
}

TEST(MemoryMap, AvailableInsideReservedDisappears) {
    MemoryMap m = sanitized({{0, 0x10000, RT::reserved}, {0x4000, 0x2000, RT::available}});
    expect_map(m, {{0, 0x10000, RT::reserved}});
}

TEST(MemoryMap, StraddlingOverlapFromEitherSide) {
    // Available first, reserved reaching past its end; and the mirror image.
    expect_map(sanitized({{0, 0x8000, RT::available}, {0x6000, 0x4000, RT::reserved}}),
               {{0, 0x6000, RT::available}, {0x6000, 0xa000, RT::reserved}});
    expect_map(sanitized({{0x6000, 0x4000, RT::available}, {0, 0x8000, RT::reserved}}),
               {{0, 0x8000, RT::reserved}, {0x8000, 0xa000, RT::available}});
}

TEST(MemoryMap, IdenticalRegions) {
    kstd::Diagnostics diag;
    expect_map(sanitized({{0x1000, 0x3000, RT::available}, {0x1000, 0x3000, RT::available}}, diag),
               {{0x1000, 0x4000, RT::available}});
    EXPECT_TRUE(diag.contains("overlap [0x1000, 0x4000) available / [0x1000, 0x4000) available: available kept"));
    // Input order must not matter.
    expect_map(sanitized({{0x1000, 0x3000, RT::nvs}, {0x1000, 0x3000, RT::available}}), {{0x1000, 0x4000, RT::nvs}});
    expect_map(sanitized({{0x1000, 0x3000, RT::available}, {0x1000, 0x3000, RT::nvs}}), {{0x1000, 0x4000, RT::nvs}});
}

TEST(MemoryMap, SameStartDifferentLengths) {
    expect_map(sanitized({{0x1000, 0x1000, RT::reserved}, {0x1000, 0x4000, RT::available}}),
               {{0x1000, 0x2000, RT::reserved}, {0x2000, 0x5000, RT::available}});
    expect_map(sanitized({{0x1000, 0x4000, RT::available}, {0x1000, 0x1000, RT::reserved}}),
               {{0x1000, 0x2000, RT::reserved}, {0x2000, 0x5000, RT::available}});
}

TEST(MemoryMap, SameEndDifferentStarts) {
    expect_map(sanitized({{0x1000, 0x4000, RT::available}, {0x4000, 0x1000, RT::bad}}),
               {{0x1000, 0x4000, RT::available}, {0x4000, 0x5000, RT::bad}});
}

TEST(MemoryMap, ChainOfOverlapsIsResolvedAndEachPairReported) {
    // A overlaps B overlaps C overlaps D, types alternating.
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({{0x0000, 0x4000, RT::available},
                             {0x3000, 0x4000, RT::reserved},
                             {0x6000, 0x4000, RT::available},
                             {0x9000, 0x4000, RT::acpi_reclaimable}},
                            diag);
    expect_map(m, {{0x0000, 0x3000, RT::available},
                   {0x3000, 0x7000, RT::reserved},
                   {0x7000, 0x9000, RT::available},
                   {0x9000, 0xd000, RT::acpi_reclaimable}});
    EXPECT_EQ(diag.count(), 3u);
    EXPECT_TRUE(diag.contains("[0x0, 0x4000) available / [0x3000, 0x7000) reserved: reserved kept"));
    EXPECT_TRUE(diag.contains("[0x3000, 0x7000) reserved / [0x6000, 0xa000) available: reserved kept"));
    EXPECT_TRUE(diag.contains("[0x6000, 0xa000) available / [0x9000, 0xd000) ACPI reclaimable: ACPI reclaimable kept"));
}

TEST(MemoryMap, ManyRegionsInsideOne) {
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({{0x0, 0x10000, RT::available},
                             {0x1000, 0x1000, RT::reserved},
                             {0x3000, 0x1000, RT::nvs},
                             {0x5000, 0x2000, RT::reserved},
                             {0x6000, 0x3000, RT::bad}},
                            diag);
    expect_map(m, {{0x0, 0x1000, RT::available},
                   {0x1000, 0x2000, RT::reserved},
                   {0x2000, 0x3000, RT::available},
                   {0x3000, 0x4000, RT::nvs},
                   {0x4000, 0x5000, RT::available},
                   {0x5000, 0x6000, RT::reserved},
                   {0x6000, 0x9000, RT::bad},
                   {0x9000, 0x10000, RT::available}});
    EXPECT_EQ(diag.count(), 5u);  // four inside the big one, and the two reserved/bad neighbours
}

TEST(MemoryMap, StricterFirmwareTypesWin) {
    expect_map(sanitized({{0, 0x2000, RT::acpi_reclaimable}, {0x1000, 0x2000, RT::reserved}}),
               {{0, 0x1000, RT::acpi_reclaimable}, {0x1000, 0x3000, RT::reserved}});
    expect_map(sanitized({{0, 0x2000, RT::nvs}, {0x1000, 0x2000, RT::reserved}}),
               {{0, 0x2000, RT::nvs}, {0x2000, 0x3000, RT::reserved}});
    expect_map(sanitized({{0, 0x3000, RT::bad}, {0x1000, 0x1000, RT::nvs}}), {{0, 0x3000, RT::bad}});
}

TEST(MemoryMap, AdjacentRegionsOfOneTypeMerge) {
    kstd::Diagnostics diag;
    MemoryMap m = sanitized({{0x0, 0x1000, RT::available},
                             {0x1000, 0x1000, RT::available},
                             {0x2000, 0x1000, RT::reserved},
                             {0x3000, 0x1000, RT::reserved},
                             {0x4000, 0x1000, RT::available},
                             {0x6000, 0x1000, RT::available}},
                            diag);
    expect_map(m, {{0x0, 0x2000, RT::available},
                   {0x2000, 0x4000, RT::reserved},
                   {0x4000, 0x5000, RT::available},
                   {0x6000, 0x7000, RT::available}});  // not touching: stays apart
    EXPECT_EQ(diag.count(), 0u);
}

TEST(MemoryMap, AvailableRangesShrinkToWholePages) {
    MemoryMap m = sanitized({{0x800, 0x2000, RT::available},       // [0x800, 0x2800): one whole page
                             {0x9fc00, 0x400, RT::reserved},       // reserved keeps exact bytes
                             {0x10000, 0x7ff, RT::available},      // less than a page: gone
                             {0x20000, 0x3800, RT::available}});   // tail cut
    expect_map(m, {{0x1000, 0x2000, RT::available},
                   {0x20000, 0x23000, RT::available},
                   {0x9fc00, 0xa0000, RT::reserved}});
}

TEST(MemoryMap, PartialPagesNextToReservedMemoryAreNotAvailable) {
    // Firmware splits a page between RAM and a reserved area: the page is not usable.
    MemoryMap m = sanitized({{0, 0x9fc00, RT::available}, {0x9fc00, 0x400, RT::reserved}});
    expect_map(m, {{0, 0x9f000, RT::available}, {0x9fc00, 0xa0000, RT::reserved}});
    EXPECT_EQ(type_at(m, 0x9f800), std::nullopt);
}

TEST(MemoryMap, AvailablePiecesJoinAcrossFirmwareRegionsBeforeTrimming) {
    // Two regions meeting mid-page make whole pages together.
    MemoryMap m = sanitized({{0x1000, 0x1800, RT::available}, {0x2800, 0x1800, RT::available}});
    expect_map(m, {{0x1000, 0x4000, RT::available}});
}

MemoryMap three_ranges() {
    // available [1M, 2M), reserved [2M, 2M+64K), available [2M+64K, 4M)
    return sanitized({{0x100000, 0x100000, RT::available},
                      {0x200000, 0x10000, RT::reserved},
                      {0x210000, 0x1f0000, RT::available}});
}

TEST(MemoryMap, ReserveAtTheStartOfARange) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x100000), 0x3000, RT::hypervisor);
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x103000, RT::hypervisor},
                   {0x103000, 0x200000, RT::available},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x400000, RT::available}});
}

TEST(MemoryMap, ReserveAtTheEndOfARange) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x3ff000), 0x1000, RT::module);
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x200000, RT::available},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x3ff000, RT::available},
                   {0x3ff000, 0x400000, RT::module}});
}

TEST(MemoryMap, ReserveInTheMiddleWidensToWholePages) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x150800), 0x1000, RT::module);  // touches two pages
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x150000, RT::available},
                   {0x150000, 0x152000, RT::module},
                   {0x152000, 0x200000, RT::available},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x400000, RT::available}});
}

TEST(MemoryMap, ReserveSpanningSeveralRangesLeavesOtherTypesAlone) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x1f0000), 0x30000, RT::hypervisor);
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x1f0000, RT::available},
                   {0x1f0000, 0x200000, RT::hypervisor},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x220000, RT::hypervisor},
                   {0x220000, 0x400000, RT::available}});
}

TEST(MemoryMap, ReserveEverythingAndNothing) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x200000), 0, RT::module);
    m.reserve(Paddr(0x200000), 0x10000, RT::module);  // over reserved memory only
    expect_map(m, contents(three_ranges()));
    m.reserve(Paddr(0), UINT64_MAX, RT::boot_data);
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x200000, RT::boot_data},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x400000, RT::boot_data}});
    EXPECT_EQ(m.total(RT::available), 0u);
    EXPECT_EQ(m.highest_available_end(), Paddr(0x400000));
}

TEST(MemoryMap, ReservationsOfOneTypeMerge) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x110000), 0x1000, RT::module);
    m.reserve(Paddr(0x112000), 0x1000, RT::module);
    m.reserve(Paddr(0x111000), 0x1000, RT::module);
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x110000, RT::available},
                   {0x110000, 0x113000, RT::module},
                   {0x113000, 0x200000, RT::available},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x400000, RT::available}});
}

TEST(MemoryMap, LimitCutsAvailableMemoryOnly) {
    MemoryMap m = three_ranges();
    m.reserve(Paddr(0x300000), 0x1000, RT::module);
    m.limit(Paddr(0x180800));  // rounded down to a page
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x180000, RT::available},
                   {0x200000, 0x210000, RT::reserved},
                   {0x300000, 0x301000, RT::module}});
    EXPECT_EQ(m.highest_available_end(), Paddr(0x301000));
}

TEST(MemoryMap, LimitAtABoundaryAndBelowEverything) {
    MemoryMap m = three_ranges();
    m.limit(Paddr(0x200000));
    expect_map(m, {{0x100000, 0x200000, RT::available}, {0x200000, 0x210000, RT::reserved}});
    m.limit(Paddr(0x1000));
    expect_map(m, {{0x200000, 0x210000, RT::reserved}});
    EXPECT_EQ(m.highest_available_end(), Paddr(0));
    MemoryMap n = three_ranges();
    n.limit(Paddr(UINT64_MAX));
    expect_map(n, contents(three_ranges()));
}

TEST(MemoryMap, TakePagesUsesTheTopOfTheHighestRange) {
    MemoryMap m = three_ranges();
    Paddr pa;
    ASSERT_TRUE(m.take_pages(2, Paddr(UINT64_MAX), pa));
    EXPECT_EQ(pa, Paddr(0x3fe000));
    ASSERT_TRUE(m.take_pages(1, Paddr(UINT64_MAX), pa));
    EXPECT_EQ(pa, Paddr(0x3fd000));
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x200000, RT::available},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x3fd000, RT::available},
                   {0x3fd000, 0x400000, RT::boot_data}});
    EXPECT_EQ(m.total(RT::boot_data), 3 * P);
}

TEST(MemoryMap, TakePagesBelowALimit) {
    MemoryMap m = three_ranges();
    Paddr pa;
    ASSERT_TRUE(m.take_pages(4, Paddr(0x208000), pa));  // the range above starts too high
    EXPECT_EQ(pa, Paddr(0x1fc000));
    ASSERT_TRUE(m.take_pages(1, Paddr(0x180800), pa));  // limit inside a range, unaligned
    EXPECT_EQ(pa, Paddr(0x17f000));
    expect_invariants(m);
    expect_map(m, {{0x100000, 0x17f000, RT::available},
                   {0x17f000, 0x180000, RT::boot_data},
                   {0x180000, 0x1fc000, RT::available},
                   {0x1fc000, 0x200000, RT::boot_data},
                   {0x200000, 0x210000, RT::reserved},
                   {0x210000, 0x400000, RT::available}});
}

TEST(MemoryMap, TakePagesFailsWithoutChangingAnything) {
    MemoryMap m = three_ranges();
    Paddr pa(0x1234);
    EXPECT_FALSE(m.take_pages(0x200, Paddr(UINT64_MAX), pa));     // 2 MiB: no range that large
    EXPECT_FALSE(m.take_pages(1, Paddr(0x100fff), pa));           // nothing whole below
    EXPECT_FALSE(m.take_pages(0, Paddr(UINT64_MAX), pa));
    EXPECT_FALSE(m.take_pages(SIZE_MAX, Paddr(UINT64_MAX), pa));  // byte count would overflow
    EXPECT_EQ(pa, Paddr(0x1234));
    expect_map(m, contents(three_ranges()));
    ASSERT_TRUE(m.take_pages(0x100, Paddr(UINT64_MAX), pa));      // exactly the first range
    EXPECT_EQ(pa, Paddr(0x300000));
    ASSERT_TRUE(m.take_pages(0x100, Paddr(0x200000), pa));
    EXPECT_EQ(pa, Paddr(0x100000));
    expect_invariants(m);
    EXPECT_EQ(type_at(m, 0x100000), RT::boot_data);
}

TEST(MemoryMap, TypeNames) {
    EXPECT_STREQ(region_type_name(RT::available), "available");
    EXPECT_STREQ(region_type_name(RT::acpi_reclaimable), "ACPI reclaimable");
    EXPECT_STREQ(region_type_name(RT::hypervisor), "hypervisor");
    EXPECT_STREQ(region_type_name(RegionType(200)), "?");
}

// A full map of 256 one-page ranges with one-page gaps, alternating available and reserved.
MemoryMap full_map(kstd::Diagnostics& diag) {
    MemoryMap m;
    for (size_t i = 0; i < MemoryMap::CAPACITY; ++i)
        EXPECT_TRUE(m.add(Paddr(0x100000 + i * 0x4000), 0x2000, i % 2 ? RT::reserved : RT::available, diag));
    m.sanitize(diag);
    EXPECT_EQ(m.count(), MemoryMap::CAPACITY);
    return m;
}

TEST(MemoryMap, AddingBeyondTheCapacityIsReported) {
    kstd::Diagnostics diag;
    MemoryMap m = full_map(diag);
    EXPECT_EQ(diag.count(), 0u);
    EXPECT_FALSE(m.add(Paddr(0x10000000), P, RT::available, diag));
    EXPECT_TRUE(diag.contains("memory map full (256 ranges): [0x10000000, 0x10001000) available dropped"));
    EXPECT_EQ(m.count(), MemoryMap::CAPACITY);
    expect_invariants(m);
}

TEST(MemoryMap, DroppedReservedRegionStillWithdrawsAvailableMemory) {
    kstd::Diagnostics diag;
    MemoryMap m = full_map(diag);
    // Firmware says the middle of the first available range is bad, but there is no room.
    EXPECT_FALSE(m.add(Paddr(0x100800), 0x800, RT::bad, diag));
    expect_invariants(m);
    EXPECT_NE(type_at(m, 0x100800), RT::available);
    EXPECT_EQ(m.count(), MemoryMap::CAPACITY);
    EXPECT_GT(m.lost_bytes(), 0u);
}

TEST(MemoryMap, FullRawMapIsCompactedToMakeRoom) {
    kstd::Diagnostics diag;
    MemoryMap m;
    // 256 touching one-page pieces of RAM, as some firmware reports them.
    for (size_t i = 0; i < MemoryMap::CAPACITY; ++i)
        ASSERT_TRUE(m.add(Paddr(i * P), P, RT::available, diag));
    EXPECT_TRUE(m.add(Paddr(0x1000000), P, RT::reserved, diag));
    m.sanitize(diag);
    expect_map(m, {{0, 256 * P, RT::available}, {0x1000000, 0x1001000, RT::reserved}});
    EXPECT_EQ(diag.count(), 0u);
}

TEST(MemoryMap, SanitizingIntoMoreThanTheCapacityDropsTheTopAndSaysSo) {
    kstd::Diagnostics diag;
    MemoryMap m;
    // One big available range with 255 holes punched in it: 511 pieces.
    ASSERT_TRUE(m.add(Paddr(0), 0x10000000, RT::available, diag));
    for (size_t i = 0; i < MemoryMap::CAPACITY - 1; ++i)
        ASSERT_TRUE(m.add(Paddr(0x1000 + i * 0x2000), P, RT::reserved, diag));
    m.sanitize(diag);
    expect_invariants(m);
    EXPECT_EQ(m.count(), MemoryMap::CAPACITY);
    // Reported first, ahead of the 255 overlaps that fill the diagnostics.
    EXPECT_TRUE(diag.contains("memory map full (256 ranges): 255 pieces from 0x100000 up dropped"));
    EXPECT_GT(diag.dropped(), 0u);
    // What is kept is exact; what is lost is only above it and is not available.
    EXPECT_EQ(type_at(m, 0x1000), RT::reserved);
    EXPECT_EQ(type_at(m, 0x2000), RT::available);
    EXPECT_EQ(type_at(m, 0x0fffffff), std::nullopt);
    EXPECT_GT(m.lost_bytes(), 0u);
}

TEST(MemoryMap, ReserveInAFullMapGivesMemoryUpInsteadOfOverflowing) {
    kstd::Diagnostics diag;
    MemoryMap m = full_map(diag);
    uint64_t before = m.total(RT::available);
    m.reserve(Paddr(0x100000 + 0x4000 * 10 + 0x800), 0x10, RT::module);  // middle of a two-page range
    expect_invariants(m);
    EXPECT_EQ(m.count(), MemoryMap::CAPACITY);
    EXPECT_EQ(type_at(m, 0x100000 + 0x4000 * 10), RT::module);
    EXPECT_EQ(m.lost_bytes(), P);  // the other page of that range
    EXPECT_EQ(m.total(RT::available), before - 2 * P);
    EXPECT_EQ(m.total(RT::module), 2 * P);
}

TEST(MemoryMap, TakePagesInAFullMapStillWorks) {
    kstd::Diagnostics diag;
    MemoryMap m = full_map(diag);
    Paddr pa;
    ASSERT_TRUE(m.take_pages(1, Paddr(UINT64_MAX), pa));
    expect_invariants(m);
    EXPECT_EQ(type_at(m, pa.raw()), RT::boot_data);
    // No room to split: the rest of that range was given up, so the next page comes from below.
    Paddr pb;
    ASSERT_TRUE(m.take_pages(1, Paddr(UINT64_MAX), pb));
    expect_invariants(m);
    EXPECT_EQ(type_at(m, pb.raw()), RT::boot_data);
    EXPECT_NE(pa, pb);
}

// Random firmware maps over 64 pages, checked half-page by half-page against a direct model:
// the strictest type covering a place wins, and an available place survives only if its whole
// page is available.
unsigned model_rank(RegionType t) {
    const RegionType order[] = {RT::available, RT::acpi_reclaimable, RT::reserved, RT::nvs,
                                RT::bad,       RT::boot_data,        RT::module,   RT::hypervisor};
    for (unsigned i = 0; i < 8; ++i)
        if (order[i] == t) return i;
    return 0;
}

TEST(MemoryMap, RandomMapsMatchAModel) {
    constexpr uint64_t UNIT = P / 2, UNITS = 128;
    std::mt19937_64 rng(42);
    for (int round = 0; round < 500; ++round) {
        std::vector<Raw> raw(1 + rng() % 12);
        std::optional<RegionType> model[UNITS];
        for (Raw& r : raw) {
            uint64_t a = rng() % UNITS, len = rng() % 24;
            r = {a * UNIT, kstd::min(len, UNITS - a) * UNIT, rng() % 3 ? RT::available : RegionType(rng() % 8)};
            for (uint64_t u = a; u < a + r.size / UNIT; ++u)
                if (!model[u] || model_rank(r.type) > model_rank(*model[u])) model[u] = r.type;
        }
        kstd::Diagnostics diag;
        MemoryMap m;
        for (const Raw& r : raw) ASSERT_TRUE(m.add(Paddr(r.base), r.size, r.type, diag));
        m.sanitize(diag);
        expect_invariants(m);
        for (uint64_t u = 0; u < UNITS; ++u) {
            auto want = model[u];
            if (want == RT::available && model[u ^ 1] != RT::available) want.reset();
            ASSERT_EQ(type_at(m, u * UNIT), want) << "round " << round << " unit " << u;
        }
    }
}

// Random carve-outs against a page-by-page model.
TEST(MemoryMap, RandomCarveOutsMatchAModel) {
    constexpr uint64_t PAGES = 256;
    std::mt19937_64 rng(7);
    for (int round = 0; round < 200; ++round) {
        kstd::Diagnostics diag;
        MemoryMap m;
        std::optional<RegionType> model[PAGES];
        for (int i = 0; i < 6; ++i) {
            uint64_t a = rng() % PAGES, len = 1 + rng() % 64;
            len = kstd::min(len, PAGES - a);
            RegionType t = i < 3 ? RT::available : RT::reserved;
            ASSERT_TRUE(m.add(Paddr(a * P), len * P, t, diag));
            for (uint64_t p = a; p < a + len; ++p)
                if (!model[p] || model_rank(t) > model_rank(*model[p])) model[p] = t;
        }
        m.sanitize(diag);
        for (int step = 0; step < 20; ++step) {
            uint64_t a = rng() % PAGES, len = 1 + rng() % 16;
            len = kstd::min(len, PAGES - a);
            if (rng() % 2) {
                RegionType t = RegionType(5 + rng() % 3);
                m.reserve(Paddr(a * P), len * P, t);
                for (uint64_t p = a; p < a + len; ++p)
                    if (model[p] == RT::available) model[p] = t;
            } else {
                Paddr pa;
                if (m.take_pages(len, Paddr(PAGES * P), pa)) {
                    ASSERT_EQ(pa.raw() % P, 0u);
                    for (uint64_t p = pa.raw() / P; p < pa.raw() / P + len; ++p) {
                        ASSERT_EQ(model[p], RT::available);
                        model[p] = RT::boot_data;
                    }
                }
            }
            expect_invariants(m);
            for (uint64_t p = 0; p < PAGES; ++p) ASSERT_EQ(type_at(m, p * P), model[p]) << round << " " << p;
        }
    }
}

}  // namespace
