// Typed object caches (slab allocation) for hypervisor objects.
//
// A SlabCache cuts 4 KiB pages from a PageSource into equal slots. Each page starts with a
// header, its Slab: the owning cache, the free slots linked through their first word, how
// many slots are in use and a bitmap of which. Every page is on exactly one of three lists,
// by its count: partial (some slots used), full (all), empty (none). Allocation takes from a
// partial page, else from the empty one, else from a new page. At most one empty page is
// kept; the others go back to the source at once.
// Counted: objects in use and pages held (including the cached empty one).
// free() checks that a pointer is a slot of a page this cache holds and is in use, and
// refuses otherwise; the check reads the header of the page the pointer falls in, so the
// pointer must at least point into mapped memory.
// One lock per cache guards its lists, pages and counts. It is held while the page source is
// called, so a source must never allocate from an object cache.
//
// Caches have constexpr constructors and trivial destructors, so they can be constinit
// globals; a cache is never torn down while the hypervisor runs.
#pragma once

#include <new>

#include "kstd/list.hpp"
#include "spinlock.hpp"
#include "types.hpp"

// Where caches get pages: one page-aligned 4 KiB page per call.
class PageSource {
public:
    // A page, or null when memory is exhausted.
    virtual void* alloc_page() = 0;
    virtual void free_page(void* page) = 0;

protected:
    ~PageSource() = default;
};

class SlabCache final {
public:
    static constexpr size_t MIN_OBJECT_SIZE = 16;
    static constexpr size_t MAX_OBJECT_SIZE = 2048;
    static constexpr size_t MAX_ALIGN = 256;

    // A size above MAX_OBJECT_SIZE, or an alignment that is not a power of two or exceeds
    // MAX_ALIGN, makes a cache whose every allocation fails (valid() is false).
    constexpr SlabCache(const char* name, size_t object_size, size_t align, PageSource& pages)
        : name_(name), size_(slot_size(object_size, align)), first_(first_slot(align)),
          per_page_(valid_shape(object_size, align) ? (PAGE_SIZE - first_) / size_ : 0), source_(pages) {}
    SlabCache(const SlabCache&) = delete;
    SlabCache& operator=(const SlabCache&) = delete;

    // An uninitialized slot aligned as asked, or null when the page source is exhausted.
    void* alloc();
    // False, changing nothing, for null, a pointer this cache did not hand out or a slot
    // that is already free.
    bool free(void* p);
    // Whether p is a slot of this cache that is in use now.
    bool owns(const void* p) const;
    // Returns the cached empty page, if any, to the source.
    void trim();

    bool valid() const { return per_page_ != 0; }
    const char* name() const { return name_; }
    size_t slot_bytes() const { return size_; }
    size_t objects_per_page() const { return per_page_; }
    size_t objects_in_use() const;
    size_t pages() const;

private:
    static constexpr size_t MAX_SLOTS = PAGE_SIZE / MIN_OBJECT_SIZE;

    struct Slab {
        const SlabCache* cache;  // null once the page is back with the source
        kstd::ListNode node;     // on partial_, full_ or empty_
        void* free_list;
        uint32_t in_use;
        uint64_t used[(MAX_SLOTS + 63) / 64];  // bit i: slot i is handed out
    };
    static_assert(PAGE_SIZE - kstd::align_up(sizeof(Slab), MAX_ALIGN) >= MAX_OBJECT_SIZE,
                  "a page holds its header and at least one slot of any allowed shape");
    using SlabList = kstd::List<Slab, &Slab::node>;

    static constexpr size_t effective_align(size_t align) { return align < alignof(void*) ? alignof(void*) : align; }
    static constexpr bool valid_shape(size_t size, size_t align) {
        return kstd::is_power_of_two(align) && align <= MAX_ALIGN && size <= MAX_OBJECT_SIZE;
    }
    static constexpr size_t slot_size(size_t size, size_t align) {
        return kstd::align_up(size < MIN_OBJECT_SIZE ? MIN_OBJECT_SIZE : size, effective_align(align));
    }
    static constexpr size_t first_slot(size_t align) { return kstd::align_up(sizeof(Slab), effective_align(align)); }

    Slab* new_slab();
    void retire(Slab* s);
    SlabList& list_for(const Slab& s);
    Slab* lookup(const void* p, size_t& index) const;

    const char* name_;
    size_t size_;      // slot size: object size rounded up to the alignment
    size_t first_;     // offset of slot 0 in a page
    size_t per_page_;  // slots per page; 0 for an invalid shape
    PageSource& source_;
    mutable Spinlock lock_;
    SlabList partial_, full_, empty_;
    size_t in_use_ = 0;
    size_t pages_ = 0;
};

// A SlabCache for one type: create() constructs in a slot, destroy() destructs and frees.
template <typename T>
class ObjectCache final {
    static_assert(sizeof(T) <= SlabCache::MAX_OBJECT_SIZE, "object too large for a slab cache");
    static_assert(alignof(T) <= SlabCache::MAX_ALIGN, "object alignment too large for a slab cache");

public:
    constexpr ObjectCache(const char* name, PageSource& pages) : slab_(name, sizeof(T), alignof(T), pages) {}

    // The new object, or null when out of memory.
    template <typename... Args>
    T* create(Args&&... args) {
        void* p = slab_.alloc();
        return p ? ::new (p) T(static_cast<Args&&>(args)...) : nullptr;
    }

    // False, without running the destructor, for an object this cache does not hold live.
    bool destroy(T* obj) {
        if (!slab_.owns(obj)) return false;
        obj->~T();
        return slab_.free(obj);
    }

    void trim() { slab_.trim(); }
    const SlabCache& stats() const { return slab_; }

private:
    SlabCache slab_;
};
