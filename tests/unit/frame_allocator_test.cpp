// FrameAllocator: buddy splitting and merging, limits, refusals, and memory far above 4 GiB.
// Host memory from aligned_alloc stands in for a window of physical memory at a fake address;
// the allocator reaches it through direct_map_offset = host address - fake physical address.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>
#include <vector>

#include "frame_allocator.hpp"

namespace {

constexpr uint64_t P = PAGE_SIZE;
constexpr uint64_t MiB = kstd::MiB, GiB = kstd::GiB, TiB = 1024 * GiB;
using Error = FrameAllocator::Error;

// Physical [base, base + bytes) backed by host memory, and an allocator over it whose
// metadata covers frames [0, max).
class FakeMachine {
public:
    FakeMachine(uint64_t base, uint64_t bytes, uint64_t max_addr = 0)
        : base_(base), bytes_(bytes), host_(static_cast<uint8_t*>(std::aligned_alloc(P, bytes))),
          meta_(FrameAllocator::metadata_bytes(Mfn((max_addr ? max_addr : base + bytes) / P))) {
        EXPECT_NE(host_, nullptr);
        fa.init(reinterpret_cast<uintptr_t>(host_) - base, Mfn(meta_.size()), meta_.data());
    }
    ~FakeMachine() { std::free(host_); }
    FakeMachine(const FakeMachine&) = delete;
    FakeMachine& operator=(const FakeMachine&) = delete;

    void add(uint64_t from, uint64_t to) { fa.add_free_range(Paddr(from), Paddr(to)); }
    uint64_t* word(Mfn m) {
        uint64_t pa = mfn_to_paddr(m).raw();
        EXPECT_TRUE(pa >= base_ && pa + P <= base_ + bytes_) << std::hex << pa;
        return reinterpret_cast<uint64_t*>(host_ + (pa - base_));
    }

    FrameAllocator fa;

private:
    uint64_t base_, bytes_;
    uint8_t* host_;
    std::vector<uint8_t> meta_;
};

uint64_t pa_of(Mfn m) { return mfn_to_paddr(m).raw(); }

// Takes every block of one order until none is left.
std::vector<Mfn> drain(FrameAllocator& fa, unsigned order, Paddr below = FrameAllocator::NO_LIMIT) {
    std::vector<Mfn> v;
    for (auto m = fa.alloc(order, below); m; m = fa.alloc(order, below)) v.push_back(*m);
    return v;
}

TEST(FrameAllocator, RangeIsCutIntoMaximalAlignedBlocks) {
    FakeMachine mc(0, 2 * MiB);
    mc.add(P, P + MiB);  // frames 1..256: blocks of order 0,1,...,7 and one more of order 0
    EXPECT_EQ(mc.fa.total_frames(), 256u);
    EXPECT_EQ(mc.fa.free_frames(), 256u);
    EXPECT_TRUE(mc.fa.check_consistency());
    EXPECT_FALSE(mc.fa.alloc(8).has_value());
    auto b7 = mc.fa.alloc(7);
    ASSERT_TRUE(b7.has_value());
    EXPECT_EQ(*b7, Mfn(128));
    for (unsigned order = 6; order >= 1; --order) {
        auto b = mc.fa.alloc(order);
        ASSERT_TRUE(b.has_value()) << order;
        EXPECT_EQ(*b, Mfn(uint64_t{1} << order)) << order;
    }
    EXPECT_EQ(drain(mc.fa, 0).size(), 2u);  // frames 1 and 256
    EXPECT_EQ(mc.fa.free_frames(), 0u);
}

TEST(FrameAllocator, RangeIsPageAlignedInward) {
    FakeMachine mc(0, MiB);
    mc.add(0x1800, 0x5800);  // whole frames 2, 3, 4
    EXPECT_EQ(mc.fa.total_frames(), 3u);
    mc.add(0x9000, 0x9fff);  // no whole frame
    mc.add(0xa000, 0xa000);
    mc.add(0xc000, 0xb000);
    EXPECT_EQ(mc.fa.total_frames(), 3u);
    auto pair = mc.fa.alloc(1);
    ASSERT_TRUE(pair.has_value());
    EXPECT_EQ(*pair, Mfn(2));
}

TEST(FrameAllocator, RangesBeyondMaxMfnAreClipped) {
    FakeMachine mc(0, MiB);
    mc.add(0, 2 * MiB);
    EXPECT_EQ(mc.fa.total_frames(), 256u);
    mc.add(UINT64_MAX - 10, UINT64_MAX);  // rounding up must not wrap to frame 0
    EXPECT_EQ(mc.fa.total_frames(), 256u);
}

TEST(FrameAllocator, OverlappingRangesAreAddedOnce) {
    FakeMachine mc(0, 4 * MiB);
    mc.add(0, MiB);
    mc.add(0, MiB);
    EXPECT_EQ(mc.fa.total_frames(), 256u);
    mc.add(8 * P, 2 * MiB + 3 * P);  // half old, half new
    EXPECT_EQ(mc.fa.total_frames(), 512u + 3u);
    EXPECT_EQ(mc.fa.free_frames(), 515u);
    EXPECT_TRUE(mc.fa.check_consistency());
    // The new half merged with its buddy from the first range: one 2 MiB block exists.
    auto two = mc.fa.alloc(9);
    ASSERT_TRUE(two.has_value());
    EXPECT_EQ(*two, Mfn(0));
}

TEST(FrameAllocator, EveryOrderIsAlignedToItsSize) {
    // 1 GiB + 1 MiB above 4 GiB: room for a 1 GiB block only at 5 GiB.
    FakeMachine mc(5 * GiB - MiB, GiB + MiB);
    mc.add(5 * GiB - MiB + 3 * P, 6 * GiB);  // a ragged start: small blocks, then one huge
    for (unsigned order = 0; order <= FrameAllocator::MAX_ORDER; ++order) {
        auto m = mc.fa.alloc(order);
        ASSERT_TRUE(m.has_value()) << order;
        EXPECT_EQ(m->raw() % (uint64_t{1} << order), 0u) << order;
        EXPECT_GE(pa_of(*m), 4 * GiB);
        EXPECT_LE(pa_of(*m) + (P << order), 6 * GiB);
        *mc.word(*m) = order;  // the block is ours to write
        EXPECT_TRUE(mc.fa.free(*m, order).has_value());
    }
    EXPECT_EQ(mc.fa.alloc(FrameAllocator::MAX_ORDER + 1).error(), Error::bad_order);
    EXPECT_TRUE(mc.fa.check_consistency());
}

TEST(FrameAllocator, FreeingEverythingCoalescesBackToTheOriginalBlocks) {
    FakeMachine mc(0, 8 * MiB);
    mc.add(0, 8 * MiB);
    uint64_t before = mc.fa.free_frames();
    auto frames = drain(mc.fa, 0);
    EXPECT_EQ(frames.size(), before);
    EXPECT_EQ(mc.fa.alloc(0).error(), Error::out_of_memory);
    std::shuffle(frames.begin(), frames.end(), std::mt19937_64(3));
    for (Mfn m : frames) ASSERT_TRUE(mc.fa.free(m, 0).has_value());
    EXPECT_EQ(mc.fa.free_frames(), before);
    EXPECT_TRUE(mc.fa.check_consistency());
    // All 2048 frames are one 8 MiB block again.
    auto all = mc.fa.alloc(11);
    ASSERT_TRUE(all.has_value());
    EXPECT_EQ(*all, Mfn(0));
    EXPECT_EQ(mc.fa.free_frames(), 0u);
}

TEST(FrameAllocator, SplitHalvesMergeWhenReturned) {
    FakeMachine mc(0, 4 * MiB);
    mc.add(0, 4 * MiB);  // one order-10 block
    auto a = mc.fa.alloc(0), b = mc.fa.alloc(3), c = mc.fa.alloc(9);
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(*a, Mfn(0));
    EXPECT_EQ(*b, Mfn(8));
    EXPECT_EQ(*c, Mfn(512));
    EXPECT_FALSE(mc.fa.alloc(10).has_value());
    EXPECT_TRUE(mc.fa.free(*b, 3).has_value());
    EXPECT_TRUE(mc.fa.free(*c, 9).has_value());
    EXPECT_FALSE(mc.fa.alloc(10).has_value());  // frame 0 still holds the low half apart
    EXPECT_TRUE(mc.fa.free(*a, 0).has_value());
    EXPECT_TRUE(mc.fa.alloc(10).has_value());
}

TEST(FrameAllocator, ExhaustionAndRecovery) {
    FakeMachine mc(0, MiB);
    mc.add(0, 64 * P);
    EXPECT_EQ(drain(mc.fa, 4).size(), 4u);
    EXPECT_EQ(mc.fa.alloc(0).error(), Error::out_of_memory);
    EXPECT_TRUE(mc.fa.free(Mfn(16), 4).has_value());
    EXPECT_FALSE(mc.fa.alloc(5).has_value());
    EXPECT_EQ(drain(mc.fa, 2).size(), 4u);
    EXPECT_EQ(mc.fa.free_frames(), 0u);
}

TEST(FrameAllocator, EmptyAllocatorRefusesEverything) {
    FrameAllocator fa;
    EXPECT_EQ(fa.alloc(0).error(), Error::out_of_memory);
    EXPECT_EQ(fa.free(Mfn(0), 0).error(), Error::not_allocated);
    EXPECT_EQ(fa.free_frames(), 0u);
    EXPECT_TRUE(fa.check_consistency());
}

TEST(FrameAllocator, BelowLimitsForTrampolinesAndLowTables) {
    FakeMachine mc(0, 8 * MiB);
    mc.add(P, 0x9f000);           // conventional memory, without page 0
    mc.add(MiB, 8 * MiB);
    auto low = mc.fa.alloc(0, Paddr(MiB));
    ASSERT_TRUE(low.has_value());
    EXPECT_LT(pa_of(*low), MiB);
    // A block must lie entirely below the limit; the limit itself may be its end.
    auto b = mc.fa.alloc(2, Paddr(0x8000));
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(*b, Mfn(4));
    EXPECT_FALSE(mc.fa.alloc(3, Paddr(0xf000)).has_value());
    auto c = mc.fa.alloc(3, Paddr(0x10000));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(*c, Mfn(8));
    // Everything below 1 MiB, then nothing more there while high memory remains.
    auto rest = drain(mc.fa, 0, Paddr(MiB));
    for (Mfn m : rest) EXPECT_LT(pa_of(m), MiB);
    EXPECT_EQ(rest.size() + 1 + 4 + 8, 0x9eu);
    EXPECT_EQ(mc.fa.alloc(0, Paddr(MiB)).error(), Error::out_of_memory);
    EXPECT_TRUE(mc.fa.alloc(0).has_value());
    EXPECT_FALSE(mc.fa.alloc(0, Paddr(0)).has_value());
    EXPECT_TRUE(mc.fa.check_consistency());
}

TEST(FrameAllocator, HighMemoryIsUsedFirstSoLowMemoryLasts) {
    // One window straddling 4 GiB: 16 MiB on each side.
    FakeMachine mc(4 * GiB - 16 * MiB, 32 * MiB);
    mc.add(4 * GiB - 16 * MiB, 4 * GiB + 16 * MiB);
    for (int i = 0; i < 4096; ++i) {
        auto m = mc.fa.alloc(0);
        ASSERT_TRUE(m.has_value());
        ASSERT_GE(pa_of(*m), 4 * GiB) << i;
    }
    auto low = mc.fa.alloc(0);
    ASSERT_TRUE(low.has_value());
    EXPECT_LT(pa_of(*low), 4 * GiB);
    auto table = mc.fa.alloc(0, Paddr(4 * GiB));
    ASSERT_TRUE(table.has_value());
    EXPECT_LT(pa_of(*table), 4 * GiB);
}

TEST(FrameAllocator, RefusalsChangeNothing) {
    FakeMachine mc(0, 4 * MiB);
    mc.add(0, MiB);  // frames 0..255; frames 256.. are never added
    auto a = mc.fa.alloc(2);
    ASSERT_TRUE(a.has_value());
    uint64_t free_before = mc.fa.free_frames();
    EXPECT_EQ(mc.fa.free(*a, 1).error(), Error::not_allocated);      // wrong order
    EXPECT_EQ(mc.fa.free(*a + 1, 0).error(), Error::not_allocated);  // inside the block
    EXPECT_EQ(mc.fa.free(Mfn(300), 0).error(), Error::not_allocated);  // never added
    EXPECT_EQ(mc.fa.free(Mfn(1) + 1000000, 0).error(), Error::not_allocated);  // beyond max_mfn
    EXPECT_EQ(mc.fa.free(*a, FrameAllocator::MAX_ORDER + 1).error(), Error::bad_order);
    EXPECT_EQ(mc.fa.free_frames(), free_before);
    EXPECT_TRUE(mc.fa.free(*a, 2).has_value());
    EXPECT_EQ(mc.fa.free(*a, 2).error(), Error::not_allocated);  // double free
    EXPECT_EQ(mc.fa.free(*a, 0).error(), Error::not_allocated);  // now inside a free block
    EXPECT_EQ(mc.fa.free_frames(), 256u);
    EXPECT_TRUE(mc.fa.check_consistency());
}

TEST(FrameAllocator, DoubleFreeOfAFrameThatHeadsAFreeBlock) {
    FakeMachine mc(0, MiB);
    mc.add(0, 2 * P);
    auto a = mc.fa.alloc(0), b = mc.fa.alloc(0);
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(mc.fa.free(*b, 0).has_value());  // b heads a free order-0 block
    EXPECT_EQ(mc.fa.free(*b, 0).error(), Error::not_allocated);
    EXPECT_TRUE(mc.fa.free(*a, 0).has_value());
    EXPECT_EQ(mc.fa.free_frames(), 2u);
    EXPECT_TRUE(mc.fa.check_consistency());
}

// Sparse memory above 4 GiB: three ranges with holes between and a ragged edge.
struct Sparse {
    uint64_t from, to;
};
constexpr uint64_t HIGH = 0x100000000;  // 4 GiB
constexpr Sparse SPARSE[] = {
    {HIGH + 3 * P, HIGH + 5 * MiB + 7 * P},
    {HIGH + 8 * MiB + P, HIGH + 20 * MiB},
    {HIGH + 32 * MiB, HIGH + 64 * MiB},
};

bool in_sparse(uint64_t pa, uint64_t len) {
    for (const Sparse& s : SPARSE)
        if (pa >= s.from && pa + len <= s.to) return true;
    return false;
}

TEST(FrameAllocator, RandomStressAboveFourGigabytesWithHoles) {
    FakeMachine mc(HIGH, 64 * MiB);
    for (const Sparse& s : SPARSE) mc.add(s.from, s.to);
    const uint64_t start = mc.fa.free_frames();
    EXPECT_EQ(mc.fa.total_frames(), start);
    std::map<uint64_t, unsigned> live;  // first frame -> order
    std::vector<uint8_t> owned(64 * MiB / P);
    std::mt19937_64 rng(1234);
    auto release = [&](std::map<uint64_t, unsigned>::iterator it) {
        ASSERT_EQ(*mc.word(Mfn(it->first)), it->first);
        ASSERT_TRUE(mc.fa.free(Mfn(it->first), it->second).has_value());
        for (uint64_t f = 0; f < (uint64_t{1} << it->second); ++f) owned[it->first - HIGH / P + f] = 0;
        live.erase(it);
    };
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || rng() % 100 < 55) {
            unsigned order = unsigned(rng() % 100 < 80 ? rng() % 3 : rng() % 11);
            Paddr below = rng() % 8 ? FrameAllocator::NO_LIMIT : Paddr(HIGH + rng() % (64 * MiB));
            auto m = mc.fa.alloc(order, below);
            if (!m) continue;
            uint64_t pa = pa_of(*m), len = P << order;
            ASSERT_EQ(m->raw() % (uint64_t{1} << order), 0u);
            ASSERT_TRUE(in_sparse(pa, len)) << std::hex << pa;
            ASSERT_LE(pa + len, below.raw());
            for (uint64_t f = 0; f < (uint64_t{1} << order); ++f) {
                ASSERT_EQ(owned[m->raw() - HIGH / P + f], 0) << "two live blocks overlap";
                owned[m->raw() - HIGH / P + f] = 1;
            }
            *mc.word(*m) = m->raw();
            live[m->raw()] = order;
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            release(it);
        }
        if (step % 1000 == 0) {
            ASSERT_TRUE(mc.fa.check_consistency()) << step;
        }
    }
    while (!live.empty()) release(live.begin());
    EXPECT_EQ(mc.fa.free_frames(), start);
    EXPECT_EQ(mc.fa.total_frames(), start);
    EXPECT_TRUE(mc.fa.check_consistency());
    // Fully merged again: the 32 MiB range is one run of 1 GiB-limited maximal blocks.
    EXPECT_EQ(drain(mc.fa, 13).size(), 1u);
}

TEST(FrameAllocator, MemoryNearOneTerabyteWithAHugeMaxMfn) {
    // Only 16 MiB straddling the 1 TiB mark exist; the metadata covers all frames below it.
    const uint64_t base = TiB - 8 * MiB, top = TiB + 8 * MiB;
    FakeMachine mc(base, 16 * MiB, top);
    mc.add(base, top);
    EXPECT_EQ(mc.fa.total_frames(), 4096u);
    std::vector<std::pair<Mfn, unsigned>> got;
    auto under = mc.fa.alloc(11, Paddr(TiB));  // an 8 MiB block entirely below 1 TiB
    ASSERT_TRUE(under.has_value());
    EXPECT_EQ(pa_of(*under), base);
    got.push_back({*under, 11});
    EXPECT_FALSE(mc.fa.alloc(0, Paddr(TiB)).has_value());
    for (unsigned order : {0u, 3u, 10u, 0u, 9u}) {
        auto m = mc.fa.alloc(order);
        ASSERT_TRUE(m.has_value()) << order;
        EXPECT_GE(pa_of(*m), TiB);
        EXPECT_LE(pa_of(*m) + (P << order), top);
        *mc.word(*m) = 1;
        got.push_back({*m, order});
    }
    EXPECT_FALSE(mc.fa.alloc(11).has_value());
    for (auto [m, order] : got) EXPECT_TRUE(mc.fa.free(m, order).has_value());
    EXPECT_EQ(mc.fa.free_frames(), 4096u);
    EXPECT_TRUE(mc.fa.check_consistency());
    // Merged back into the two 8 MiB blocks either side of 1 TiB (they are not buddies).
    EXPECT_EQ(drain(mc.fa, 11).size(), 2u);
    EXPECT_FALSE(mc.fa.alloc(12).has_value());
}

TEST(FrameAllocator, ConcurrentCpusNeverShareABlock) {
    FakeMachine mc(HIGH, 32 * MiB);
    mc.add(HIGH, HIGH + 32 * MiB);
    const uint64_t start = mc.fa.free_frames();
    // Few threads: a ticket lock whose next holder is preempted stalls everyone, and the host
    // may have only two CPUs.
    auto worker = [&](unsigned seed) {
        std::mt19937_64 rng(seed);
        std::vector<std::pair<Mfn, unsigned>> mine;
        for (int i = 0; i < 3000; ++i) {
            if (mine.empty() || rng() % 2) {
                unsigned order = unsigned(rng() % 4);
                auto m = mc.fa.alloc(order);
                if (!m) continue;
                for (uint64_t f = 0; f < (uint64_t{1} << order); ++f) *mc.word(*m + f) = seed;
                mine.push_back({*m, order});
            } else {
                auto [m, order] = mine.back();
                mine.pop_back();
                for (uint64_t f = 0; f < (uint64_t{1} << order); ++f) EXPECT_EQ(*mc.word(m + f), seed);
                EXPECT_TRUE(mc.fa.free(m, order).has_value());
            }
        }
        for (auto [m, order] : mine) EXPECT_TRUE(mc.fa.free(m, order).has_value());
    };
    std::vector<std::thread> cpus;
    for (unsigned i = 1; i <= 2; ++i) cpus.emplace_back(worker, i);
    for (auto& t : cpus) t.join();
    EXPECT_EQ(mc.fa.free_frames(), start);
    EXPECT_TRUE(mc.fa.check_consistency());
}

}  // namespace

// TLB stamps (tlb_clock.hpp): frames freed from guests carry one, and handing them out again
// first calls the stale-TLB hook with the newest stamp among them.
namespace stamps {

std::vector<uint64_t> asked;            // the stamps the hook was called with
FrameAllocator* reentered = nullptr;    // an allocator the hook calls into (its lock is free)
uint64_t free_seen_by_hook = 0;

void hook(TlbTime stamp) {
    asked.push_back(stamp.raw());
    if (reentered) free_seen_by_hook = reentered->free_frames();
}

struct Stamped : FakeMachine {
    Stamped() : FakeMachine(0, MiB) {
        asked.clear();
        reentered = nullptr;
        fa.set_stale_tlb_flush(hook);
        add(0, 4 * P);  // frames 0-3: one block of order 2
    }
};

}  // namespace stamps

TEST(FrameAllocator, AFrameFreedCleanIsHandedOutWithoutAFlush) {
    stamps::Stamped mc;
    auto m = mc.fa.alloc(0);
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(mc.fa.free(*m, 0).has_value());
    ASSERT_TRUE(mc.fa.alloc(2).has_value());
    EXPECT_TRUE(stamps::asked.empty());
}

TEST(FrameAllocator, AStampedFrameIsFlushedForBeforeItIsHandedOutAgain) {
    stamps::Stamped mc;
    auto m = mc.fa.alloc(0);
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(mc.fa.free(*m, 0, TlbTime(41)).has_value());
    EXPECT_TRUE(stamps::asked.empty());  // freeing asks nothing
    auto again = mc.fa.alloc(2);         // the whole block, the stamped frame merged in
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(stamps::asked, std::vector<uint64_t>{41});
    ASSERT_TRUE(mc.fa.free(*again, 2).has_value());
    ASSERT_TRUE(mc.fa.alloc(2).has_value());  // freed clean this time
    EXPECT_EQ(stamps::asked.size(), 1u);
}

TEST(FrameAllocator, MergedBuddiesKeepTheNewerStampAndSplitHalvesInheritIt) {
    stamps::Stamped mc;
    std::vector<Mfn> f = drain(mc.fa, 0);
    ASSERT_EQ(f.size(), 4u);
    std::sort(f.begin(), f.end());
    ASSERT_TRUE(mc.fa.free(f[0], 0, TlbTime(9)).has_value());
    ASSERT_TRUE(mc.fa.free(f[1], 0, TlbTime(30)).has_value());
    ASSERT_TRUE(mc.fa.free(f[2], 0, TlbTime(12)).has_value());
    ASSERT_TRUE(mc.fa.free(f[3], 0).has_value());
    EXPECT_TRUE(mc.fa.check_consistency());
    // One block of order 2 now, as stale as its newest frame; split again, each part is.
    for (unsigned i = 0; i < 4; ++i) ASSERT_TRUE(mc.fa.alloc(0).has_value());
    EXPECT_EQ(stamps::asked, (std::vector<uint64_t>{30, 30, 30, 30}));
}

TEST(FrameAllocator, TheStaleTlbHookRunsOutsideTheAllocatorLock) {
    // The flush waits for other CPUs, which may be waiting for the allocator: the hook must be
    // able to take the lock itself (here: free_frames()) without deadlocking.
    stamps::Stamped mc;
    stamps::reentered = &mc.fa;
    auto m = mc.fa.alloc(1);
    ASSERT_TRUE(m.has_value());
    ASSERT_TRUE(mc.fa.free(*m, 1, TlbTime(5)).has_value());
    ASSERT_TRUE(mc.fa.alloc(1).has_value());
    EXPECT_EQ(stamps::asked.size(), 1u);
    EXPECT_EQ(stamps::free_seen_by_hook, 2u);  // already taken when the hook ran
}
