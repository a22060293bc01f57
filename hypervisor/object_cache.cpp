#include "object_cache.hpp"

namespace {

void* next_of(void* slot) { return *static_cast<void**>(slot); }
void set_next(void* slot, void* next) { *static_cast<void**>(slot) = next; }

}  // namespace

SlabCache::SlabList& SlabCache::list_for(const Slab& s) {
    if (s.in_use == 0) return empty_;
    return s.in_use == per_page_ ? full_ : partial_;
}

// A fresh page with every slot free, on no list yet.
SlabCache::Slab* SlabCache::new_slab() {
    void* page = source_.alloc_page();
    if (!page) return nullptr;
    auto* s = ::new (page) Slab{this, {}, nullptr, 0, {}};
    auto* slots = static_cast<char*>(page) + first_;
    // Linked from the top down, so that slots are handed out in address order.
    for (size_t i = per_page_; i-- > 0;) {
        set_next(slots + i * size_, s->free_list);
        s->free_list = slots + i * size_;
    }
    ++pages_;
    return s;
}

// Gives a page that is on no list back to the source.
void SlabCache::retire(Slab* s) {
    s->cache = nullptr;
    --pages_;
    source_.free_page(s);
}

void* SlabCache::alloc() {
    if (!valid()) return nullptr;
    LockGuard g(lock_);
    Slab* s = partial_.front();
    if (!s) s = empty_.front();
    if (s) list_for(*s).remove(s);
    else if (!(s = new_slab())) return nullptr;
    void* p = s->free_list;
    s->free_list = next_of(p);
    size_t i = (static_cast<char*>(p) - reinterpret_cast<char*>(s) - first_) / size_;
    s->used[i / 64] |= kstd::bit(i % 64);
    ++s->in_use;
    ++in_use_;
    list_for(*s).push_front(s);
    return p;
}

// The page of p if p is a slot of this cache in use now, and its index there.
SlabCache::Slab* SlabCache::lookup(const void* p, size_t& index) const {
    if (!p || !valid()) return nullptr;
    auto addr = reinterpret_cast<uintptr_t>(p);
    auto* s = reinterpret_cast<Slab*>(kstd::align_down(addr, PAGE_SIZE));
    if (s->cache != this) return nullptr;
    uintptr_t off = addr - reinterpret_cast<uintptr_t>(s);
    if (off < first_ || (off - first_) % size_ != 0) return nullptr;
    index = (off - first_) / size_;
    if (index >= per_page_ || !(s->used[index / 64] & kstd::bit(index % 64))) return nullptr;
    return s;
}

bool SlabCache::owns(const void* p) const {
    LockGuard g(lock_);
    size_t i;
    return lookup(p, i) != nullptr;
}

bool SlabCache::free(void* p) {
    LockGuard g(lock_);
    size_t i;
    Slab* s = lookup(p, i);
    if (!s) return false;
    list_for(*s).remove(s);
    s->used[i / 64] &= ~kstd::bit(i % 64);
    set_next(p, s->free_list);
    s->free_list = p;
    --s->in_use;
    --in_use_;
    // One empty page is kept for the next allocation; a second goes back at once.
    if (s->in_use == 0 && !empty_.empty()) retire(s);
    else list_for(*s).push_front(s);
    return true;
}

void SlabCache::trim() {
    LockGuard g(lock_);
    if (Slab* s = empty_.pop_front()) retire(s);
}

size_t SlabCache::objects_in_use() const {
    LockGuard g(lock_);
    return in_use_;
}

size_t SlabCache::pages() const {
    LockGuard g(lock_);
    return pages_;
}
