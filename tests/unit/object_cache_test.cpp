// SlabCache and ObjectCache over a host page source that counts its pages.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "object_cache.hpp"

namespace {

class HostPages final : public PageSource {
public:
    ~HostPages() {
        for (void* p : live_) std::free(p);
    }
    void* alloc_page() override {
        if (limit_ && live_.size() >= limit_) return nullptr;
        void* p = std::aligned_alloc(PAGE_SIZE, PAGE_SIZE);
        std::memset(p, 0xa5, PAGE_SIZE);  // caches must not rely on zeroed pages
        live_.insert(p);
        ++allocs_;
        return p;
    }
    void free_page(void* p) override {
        EXPECT_EQ(live_.erase(p), 1u) << "a page this source never handed out came back";
        std::free(p);
        ++frees_;
    }
    size_t live() const { return live_.size(); }
    size_t allocs() const { return allocs_; }
    size_t frees() const { return frees_; }
    void limit(size_t pages) { limit_ = pages; }

private:
    std::set<void*> live_;
    size_t allocs_ = 0, frees_ = 0, limit_ = 0;
};

bool disjoint(std::vector<std::pair<uintptr_t, size_t>> spans) {
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
        if (spans[i - 1].first + spans[i - 1].second > spans[i].first) return false;
    return true;
}

TEST(SlabCache, ShapeOfSlotsAndPages) {
    HostPages src;
    SlabCache tiny("tiny", 1, 1, src);
    EXPECT_EQ(tiny.slot_bytes(), SlabCache::MIN_OBJECT_SIZE);
    EXPECT_GE(tiny.objects_per_page(), 240u);
    SlabCache odd("odd", 100, 8, src);
    EXPECT_EQ(odd.slot_bytes(), 104u);
    EXPECT_GE(odd.objects_per_page(), 38u);
    SlabCache big("big", 2048, 8, src);
    EXPECT_EQ(big.objects_per_page(), 1u);
    SlabCache aligned("aligned", 64, 64, src);
    EXPECT_EQ(aligned.objects_per_page(), 62u);  // the header takes the first 128 bytes
    EXPECT_STREQ(aligned.name(), "aligned");
    EXPECT_EQ(src.allocs(), 0u);  // pages come on demand
}

TEST(SlabCache, InvalidShapesRefuseEveryAllocation) {
    HostPages src;
    SlabCache too_big("too big", 2049, 8, src);
    SlabCache bad_align("bad align", 32, 24, src);
    SlabCache huge_align("huge align", 32, 512, src);
    for (SlabCache* c : {&too_big, &bad_align, &huge_align}) {
        EXPECT_FALSE(c->valid()) << c->name();
        EXPECT_EQ(c->alloc(), nullptr) << c->name();
    }
    EXPECT_EQ(src.allocs(), 0u);
}

TEST(SlabCache, CountsObjectsAndPages) {
    HostPages src;
    SlabCache c("counted", 200, 8, src);
    const size_t per = c.objects_per_page();
    std::vector<void*> objs;
    for (size_t i = 0; i < 3 * per; ++i) objs.push_back(c.alloc());
    EXPECT_EQ(c.objects_in_use(), 3 * per);
    EXPECT_EQ(c.pages(), 3u);
    EXPECT_EQ(src.live(), 3u);
    objs.push_back(c.alloc());
    EXPECT_EQ(c.pages(), 4u);
    std::vector<std::pair<uintptr_t, size_t>> spans;
    for (void* p : objs) {
        ASSERT_NE(p, nullptr);
        std::memset(p, 0x5a, 200);  // each object is fully writable
        spans.push_back({reinterpret_cast<uintptr_t>(p), 200});
    }
    EXPECT_TRUE(disjoint(spans));
    for (void* p : objs) EXPECT_TRUE(c.free(p));
    EXPECT_EQ(c.objects_in_use(), 0u);
    EXPECT_EQ(c.pages(), 1u);  // one empty page kept
    EXPECT_EQ(src.live(), 1u);
    EXPECT_EQ(src.frees(), 3u);
    c.trim();
    EXPECT_EQ(c.pages(), 0u);
    EXPECT_EQ(src.live(), 0u);
}

TEST(SlabCache, CachedEmptyPageIsReused) {
    HostPages src;
    SlabCache c("reuse", 64, 8, src);
    void* a = c.alloc();
    EXPECT_TRUE(c.free(a));
    EXPECT_EQ(src.live(), 1u);
    void* b = c.alloc();
    EXPECT_EQ(src.allocs(), 1u);  // no new page
    EXPECT_EQ(a, b);              // lowest slot first
    EXPECT_TRUE(c.free(b));
}

TEST(SlabCache, AtMostOneEmptyPageIsKept) {
    HostPages src;
    SlabCache c("churn", 512, 8, src);
    const size_t per = c.objects_per_page();
    std::vector<void*> first, second;
    for (size_t i = 0; i < per; ++i) first.push_back(c.alloc());
    for (size_t i = 0; i < per; ++i) second.push_back(c.alloc());
    EXPECT_EQ(src.live(), 2u);
    for (void* p : first) EXPECT_TRUE(c.free(p));
    EXPECT_EQ(src.live(), 2u);  // the first page is now the cached empty one
    for (void* p : second) EXPECT_TRUE(c.free(p));
    EXPECT_EQ(src.live(), 1u);
    EXPECT_EQ(c.pages(), 1u);
}

TEST(SlabCache, PartialPagesAreFilledBeforeNewOnes) {
    HostPages src;
    SlabCache c("partial", 1024, 8, src);
    const size_t per = c.objects_per_page();
    std::vector<void*> objs;
    for (size_t i = 0; i < 3 * per; ++i) objs.push_back(c.alloc());
    EXPECT_TRUE(c.free(objs[per]));  // one hole in the second page
    void* again = c.alloc();
    EXPECT_EQ(again, objs[per]);
    EXPECT_EQ(src.allocs(), 3u);
    for (void* p : objs) EXPECT_TRUE(c.free(p));
}

TEST(SlabCache, AlignmentIsHonoured) {
    HostPages src;
    for (size_t align : {8u, 16u, 32u, 64u, 128u, 256u}) {
        SlabCache c("aligned", 40, align, src);
        std::vector<void*> objs;
        for (size_t i = 0; i < 2 * c.objects_per_page() + 1; ++i) {
            void* p = c.alloc();
            ASSERT_NE(p, nullptr);
            EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u) << align;
            objs.push_back(p);
        }
        for (void* p : objs) EXPECT_TRUE(c.free(p));
        c.trim();
    }
    EXPECT_EQ(src.live(), 0u);
}

TEST(SlabCache, RefusesDoubleFreesAndForeignPointers) {
    HostPages src;
    SlabCache c("mine", 48, 8, src), other("other", 48, 8, src);
    void* a = c.alloc();
    void* b = c.alloc();
    void* o = other.alloc();
    EXPECT_FALSE(c.free(nullptr));
    EXPECT_FALSE(c.free(o));                            // another cache's object
    EXPECT_FALSE(c.free(static_cast<char*>(a) + 8));    // inside an object
    EXPECT_FALSE(c.free(reinterpret_cast<void*>(kstd::align_down(reinterpret_cast<uintptr_t>(a), PAGE_SIZE))));
    EXPECT_FALSE(c.free(static_cast<char*>(b) + 48 * 5));  // a slot never handed out
    EXPECT_EQ(c.objects_in_use(), 2u);
    EXPECT_TRUE(c.free(a));
    EXPECT_FALSE(c.free(a));                            // double free
    EXPECT_FALSE(c.owns(a));
    EXPECT_TRUE(c.owns(b));
    EXPECT_EQ(c.objects_in_use(), 1u);
    EXPECT_TRUE(c.free(b));
    EXPECT_TRUE(other.free(o));
    EXPECT_FALSE(other.owns(o));
    EXPECT_FALSE(other.free(o));
}

TEST(SlabCache, ExhaustedSourceGivesNull) {
    HostPages src;
    src.limit(1);
    SlabCache c("small", 1024, 8, src);
    std::vector<void*> objs;
    for (void* p = c.alloc(); p; p = c.alloc()) objs.push_back(p);
    EXPECT_EQ(objs.size(), c.objects_per_page());
    EXPECT_EQ(c.objects_in_use(), objs.size());
    EXPECT_TRUE(c.free(objs.back()));
    objs.pop_back();
    EXPECT_NE(c.alloc(), nullptr);  // a freed slot is usable again
    EXPECT_EQ(c.objects_in_use(), c.objects_per_page());
}

struct Tracked {
    static inline int constructed = 0, destroyed = 0;
    int a;
    const char* b;
    uint64_t payload[6];
    Tracked(int x, const char* y) : a(x), b(y), payload{} { ++constructed; }
    ~Tracked() { ++destroyed; }
};

TEST(ObjectCache, ConstructsAndDestroys) {
    HostPages src;
    ObjectCache<Tracked> cache("tracked", src);
    Tracked::constructed = Tracked::destroyed = 0;
    Tracked* t = cache.create(7, "seven");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->a, 7);
    EXPECT_STREQ(t->b, "seven");
    EXPECT_EQ(t->payload[5], 0u);
    EXPECT_EQ(Tracked::constructed, 1);
    EXPECT_EQ(cache.stats().objects_in_use(), 1u);
    EXPECT_TRUE(cache.destroy(t));
    EXPECT_EQ(Tracked::destroyed, 1);
    EXPECT_FALSE(cache.destroy(t));  // refused before the destructor runs twice
    EXPECT_EQ(Tracked::destroyed, 1);
    EXPECT_FALSE(cache.destroy(nullptr));
    EXPECT_EQ(cache.stats().objects_in_use(), 0u);
    EXPECT_STREQ(cache.stats().name(), "tracked");
}

struct MoveOnly {
    std::unique_ptr<int> p;
    explicit MoveOnly(std::unique_ptr<int> q) : p(std::move(q)) {}
};

TEST(ObjectCache, ForwardsArguments) {
    HostPages src;
    ObjectCache<MoveOnly> cache("move-only", src);
    MoveOnly* m = cache.create(std::make_unique<int>(42));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(*m->p, 42);
    EXPECT_TRUE(cache.destroy(m));  // the destructor frees the int: leak checking would see it
}

struct alignas(64) Line {
    uint8_t bytes[64];
};
struct Big {
    uint8_t bytes[2048];
};

TEST(ObjectCache, AlignedAndLargeTypes) {
    HostPages src;
    ObjectCache<Line> lines("lines", src);
    ObjectCache<Big> bigs("bigs", src);
    std::vector<Line*> ls;
    std::vector<Big*> bs;
    for (int i = 0; i < 200; ++i) {
        Line* l = lines.create();
        Big* b = bigs.create();
        ASSERT_TRUE(l && b);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(l) % 64, 0u);
        std::memset(b->bytes, i, sizeof b->bytes);
        ls.push_back(l);
        bs.push_back(b);
    }
    EXPECT_EQ(bigs.stats().pages(), 200u);
    for (int i = 0; i < 200; ++i) {
        EXPECT_EQ(bs[i]->bytes[0], uint8_t(i));
        EXPECT_EQ(bs[i]->bytes[2047], uint8_t(i));
        EXPECT_TRUE(bigs.destroy(bs[i]));
        EXPECT_TRUE(lines.destroy(ls[i]));
    }
    EXPECT_EQ(bigs.stats().pages(), 1u);
    bigs.trim();
    lines.trim();
    EXPECT_EQ(src.live(), 0u);
}

struct Node {
    uint64_t id;
    uint64_t check;
    char name[40];
};

TEST(ObjectCache, ManyObjectsInRandomOrder) {
    HostPages src;
    ObjectCache<Node> cache("nodes", src);
    std::mt19937_64 rng(99);
    std::vector<Node*> live;
    uint64_t next_id = 0;
    size_t peak_pages = 0;
    for (int step = 0; step < 50000; ++step) {
        if (live.empty() || rng() % 100 < 60) {
            Node* n = cache.create();
            ASSERT_NE(n, nullptr);
            n->id = next_id++;
            n->check = ~n->id;
            live.push_back(n);
        } else {
            size_t i = rng() % live.size();
            Node* n = live[i];
            ASSERT_EQ(n->check, ~n->id) << "object overwritten";
            live[i] = live.back();
            live.pop_back();
            ASSERT_TRUE(cache.destroy(n));
        }
        ASSERT_EQ(cache.stats().objects_in_use(), live.size());
        peak_pages = std::max(peak_pages, cache.stats().pages());
    }
    EXPECT_EQ(src.live(), cache.stats().pages());
    for (Node* n : live) EXPECT_TRUE(cache.destroy(n));
    EXPECT_EQ(cache.stats().objects_in_use(), 0u);
    EXPECT_EQ(cache.stats().pages(), 1u);
    EXPECT_EQ(src.allocs() - src.frees(), 1u);
    EXPECT_GT(peak_pages, 10u);
}

TEST(ObjectCache, ConcurrentCreateAndDestroy) {
    HostPages src;  // only called under the cache's lock
    ObjectCache<Node> cache("shared", src);
    auto worker = [&](uint64_t seed) {
        std::mt19937_64 rng(seed);
        std::vector<Node*> mine;
        for (int i = 0; i < 5000; ++i) {
            if (mine.empty() || rng() % 2) {
                Node* n = cache.create();
                ASSERT_NE(n, nullptr);
                n->id = seed;
                n->check = i;
                mine.push_back(n);
            } else {
                Node* n = mine.back();
                mine.pop_back();
                ASSERT_EQ(n->id, seed);
                ASSERT_TRUE(cache.destroy(n));
            }
        }
        for (Node* n : mine) ASSERT_TRUE(cache.destroy(n));
    };
    std::thread a(worker, 1), b(worker, 2);
    a.join();
    b.join();
    EXPECT_EQ(cache.stats().objects_in_use(), 0u);
    EXPECT_EQ(cache.stats().pages(), 1u);
}

// A cache can be a constant-initialized global: no constructor runs at startup.
HostPages global_pages_storage;
constinit ObjectCache<Node> global_nodes("global nodes", global_pages_storage);

TEST(ObjectCache, ConstinitGlobal) {
    Node* n = global_nodes.create();
    ASSERT_NE(n, nullptr);
    EXPECT_TRUE(global_nodes.destroy(n));
    global_nodes.trim();
    EXPECT_EQ(global_pages_storage.live(), 0u);
}

}  // namespace
