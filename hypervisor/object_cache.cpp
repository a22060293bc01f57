#include "object_cache.hpp"

SlabCache::SlabCache(const char* name, size_t object_size, size_t align, PageSource& pages)
    : name_(name), source_(pages) {
    if (align < alignof(void*)) align = alignof(void*);
    size_ = kstd::align_up(kstd::max(object_size, MIN_OBJECT_SIZE), align);
    first_offset_ = kstd::align_up(sizeof(Slab), align);
    per_page_ = size_ > MAX_OBJECT_SIZE ? 0 : (PAGE_SIZE - first_offset_) / size_;
}

SlabCache::SlabList& SlabCache::list(uint32_t which) {
    return which == ON_PARTIAL ? partial_ : which == ON_FULL ? full_ : empty_;
}

void SlabCache::move(Slab& s, uint32_t to) {
    if (s.which == to) return;
    list(s.which).remove(&s);
    if (s.which == ON_EMPTY) --empty_count_;
    s.which = to;
    list(to).push_front(&s);
    if (to == ON_EMPTY) ++empty_count_;
}

SlabCache::Slab* SlabCache::new_slab() {
    void* page = source_.alloc_page();
    if (!page) return nullptr;
    auto* s = new (page) Slab{this, {}, nullptr, 0, ON_EMPTY, {}};
    auto* base = static_cast<char*>(page) + first_offset_;
    // Thread the free list in address order.
    for (size_t i = per_page_; i-- > 0;) {
        void* slot = base + i * size_;
        *static_cast<void**>(slot) = s->free_list;
        s->free_list = slot;
    }
    empty_.push_front(s);
    ++empty_count_;
    ++pages_;
    return s;
}

void* SlabCache::alloc() {
    if (per_page_ == 0) return nullptr;
    LockGuard g(lock_);
    Slab* s = partial_.front();
    if (!s) s = empty_.front();
    if (!s) s = new_slab();
    if (!s) return nullptr;
    void* p = s->free_list;
    s->free_list = *static_cast<void**>(p);
    size_t i = slot_index(*s, p);
    s->used_bits[i / 64] |= uint64_t{1} << (i % 64);
    ++s->in_use;
    ++in_use_;
    move(*s, s->in_use == per_page_ ? ON_FULL : ON_PARTIAL);
    return p;
}

SlabCache::Slab* SlabCache::slab_of(void* p) const {
    auto* s = reinterpret_cast<Slab*>(kstd::align_down(reinterpret_cast<uintptr_t>(p), PAGE_SIZE));
    return s->cache == this ? s : nullptr;
}

size_t SlabCache::slot_index(const Slab& s, void* p) const {
    auto off = reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(&s) - first_offset_;
    return size_t(off / size_);
}

bool SlabCache::free(void* p) {
    if (!p) return false;
    LockGuard g(lock_);
    Slab* s = slab_of(p);
    if (!s) return false;
    auto off = reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(s);
    if (off < first_offset_ || (off - first_offset_) % size_ || slot_index(*s, p) >= per_page_) return false;
    size_t i = slot_index(*s, p);
    uint64_t bit = uint64_t{1} << (i % 64);
    if (!(s->used_bits[i / 64] & bit)) return false;  // already free
    s->used_bits[i / 64] &= ~bit;
    *static_cast<void**>(p) = s->free_list;
    s->free_list = p;
    --s->in_use;
    --in_use_;
    if (s->in_use) {
        move(*s, ON_PARTIAL);
        return true;
    }
    move(*s, ON_EMPTY);
    // Keep one empty page for the next allocation; give any other back.
    if (empty_count_ > 1) {
        empty_.remove(s);
        --empty_count_;
        --pages_;
        s->cache = nullptr;
        source_.free_page(s);
    }
    return true;
}
