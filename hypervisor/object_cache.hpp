// Typed object caches (slab allocation) for hypervisor objects.
//
// A cache carves 4 KiB pages from a PageSource into equal slots. Each page starts with a
// header (owning cache, free-slot list, count in use); its slots follow. Pages sit on one of
// three lists, partial, full or empty; allocation prefers partial pages; at most one empty
// page is kept, the rest go back to the source. Counted: objects in use and pages held.
// free() checks that the pointer is a slot of one of this cache's pages and not already free,
// and refuses otherwise. One lock per cache.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

#include "kstd/list.hpp"
#include "spinlock.hpp"
#include "types.hpp"

class PageSource {
public:
    // One page-aligned 4 KiB page, or null.
    virtual void* alloc_page() = 0;
    virtual void free_page(void* page) = 0;

protected:
    ~PageSource() = default;
};

class SlabCache {
public:
    static constexpr size_t MAX_OBJECT_SIZE = 2048;
    static constexpr size_t MIN_OBJECT_SIZE = 16;

    SlabCache(const char* name, size_t object_size, size_t align, PageSource& pages);
    SlabCache(const SlabCache&) = delete;
    SlabCache& operator=(const SlabCache&) = delete;

    void* alloc();
    // False (and nothing changes) for a pointer this cache did not hand out, or a double free.
    bool free(void* p);

    const char* name() const { return name_; }
    size_t object_size() const { return size_; }
    size_t objects_per_page() const { return per_page_; }
    size_t objects_in_use() const { return in_use_; }
    size_t pages() const { return pages_; }

private:
    // Lives at the start of each page; the slots follow at first_offset_.
    struct Slab {
        const SlabCache* cache;
        kstd::ListNode node;
        void* free_list;  // singly linked through free slots
        uint32_t in_use;
        uint32_t which;   // the list it is on
        uint64_t used_bits[PAGE_SIZE / MIN_OBJECT_SIZE / 64];  // slot i in use: bit i
    };
    using SlabList = kstd::List<Slab, &Slab::node>;
    enum : uint32_t { ON_PARTIAL, ON_FULL, ON_EMPTY };

    Slab* new_slab();
    Slab* slab_of(void* p) const;
    size_t slot_index(const Slab& s, void* p) const;
    void move(Slab& s, uint32_t to);
    SlabList& list(uint32_t which);

    const char* name_;
    size_t size_;
    size_t first_offset_;
    size_t per_page_;
    PageSource& source_;
    Spinlock lock_;
    SlabList partial_, full_, empty_;
    size_t empty_count_ = 0;
    size_t in_use_ = 0;
    size_t pages_ = 0;
};

template <typename T>
class ObjectCache final {
    static_assert(sizeof(T) <= SlabCache::MAX_OBJECT_SIZE, "object too large for a slab cache");

public:
    ObjectCache(const char* name, PageSource& pages) : slab_(name, sizeof(T), alignof(T), pages) {}

    template <typename... Args>
    T* create(Args&&... args) {
        void* p = slab_.alloc();
        return p ? new (p) T(std::forward<Args>(args)...) : nullptr;
    }

    bool destroy(T* obj) {
        if (!obj) return false;
        obj->~T();
        return slab_.free(obj);
    }

    const SlabCache& stats() const { return slab_; }

private:
    SlabCache slab_;
};
