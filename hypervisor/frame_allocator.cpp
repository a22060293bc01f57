#include "frame_allocator.hpp"

#include "kstd/string.hpp"

namespace {

// Metadata byte per frame.
constexpr uint8_t UNMANAGED = 0xff;  // never added
constexpr uint8_t INSIDE = 0x00;     // part of a block, not its first frame
constexpr uint8_t FREE_HEAD = 0x40;  // | order: first frame of a free block
constexpr uint8_t USED_HEAD = 0x80;  // | order: first frame of an allocated block

}  // namespace

void FrameAllocator::init(uintptr_t direct_map_offset, Mfn max_mfn, uint8_t* metadata) {
    offset_ = direct_map_offset;
    max_mfn_ = max_mfn.raw();
    meta_ = metadata;
    memset(meta_, UNMANAGED, metadata_bytes(max_mfn));
    for (auto& l : lists_) l = nullptr;
    free_ = total_ = 0;
}

FrameAllocator::FreeBlock* FrameAllocator::block_at(Mfn m) const {
    return reinterpret_cast<FreeBlock*>(offset_ + mfn_to_paddr(m).raw());
}

Mfn FrameAllocator::mfn_of(const FreeBlock* b) const {
    return paddr_to_mfn(Paddr(reinterpret_cast<uintptr_t>(b) - offset_));
}

void FrameAllocator::push(Mfn m, unsigned order) {
    FreeBlock* b = block_at(m);
    b->prev = nullptr;
    b->next = lists_[order];
    if (b->next) b->next->prev = b;
    lists_[order] = b;
    meta_[m.raw()] = uint8_t(FREE_HEAD | order);
}

void FrameAllocator::unlink(Mfn m, unsigned order) {
    FreeBlock* b = block_at(m);
    if (b->prev) b->prev->next = b->next;
    else lists_[order] = b->next;
    if (b->next) b->next->prev = b->prev;
    meta_[m.raw()] = INSIDE;
}

void FrameAllocator::release(Mfn m, unsigned order) {
    uint64_t mfn = m.raw();
    while (order < MAX_ORDER) {
        uint64_t buddy = mfn ^ (uint64_t{1} << order);
        if (buddy >= max_mfn_ || meta_[buddy] != (FREE_HEAD | order)) break;
        unlink(Mfn(buddy), order);
        meta_[mfn] = INSIDE;
        mfn &= ~(uint64_t{1} << order);
        ++order;
    }
    push(Mfn(mfn), order);
}

void FrameAllocator::add_free_range(Paddr base, Paddr end) {
    LockGuard g(lock_);
    uint64_t first = paddr_to_mfn_up(base).raw();
    uint64_t last = kstd::min(paddr_to_mfn(end).raw(), max_mfn_);
    while (first < last) {
        unsigned order = first ? kstd::min(unsigned(__builtin_ctzll(first)), MAX_ORDER) : MAX_ORDER;
        while ((uint64_t{1} << order) > last - first) --order;
        // Frames already managed (an overlapping range added twice) are skipped, not doubled.
        bool fresh = true;
        for (uint64_t i = 0; i < (uint64_t{1} << order) && fresh; ++i) fresh = meta_[first + i] == UNMANAGED;
        if (!fresh) {
            ++first;
            continue;
        }
        for (uint64_t i = 1; i < (uint64_t{1} << order); ++i) meta_[first + i] = INSIDE;
        release(Mfn(first), order);
        free_ += uint64_t{1} << order;
        total_ += uint64_t{1} << order;
        first += uint64_t{1} << order;
    }
}

bool FrameAllocator::find_below(unsigned order, uint64_t limit_mfn, Mfn& out, unsigned& found_order) {
    for (unsigned o = order; o <= MAX_ORDER; ++o)
        for (FreeBlock* b = lists_[o]; b; b = b->next) {
            uint64_t m = mfn_of(b).raw();
            // The block is split down to its lowest part, which is what must fit.
            if (m + (uint64_t{1} << order) <= limit_mfn) {
                out = Mfn(m);
                found_order = o;
                return true;
            }
        }
    return false;
}

kstd::Expected<Mfn, FrameAllocator::Error> FrameAllocator::alloc(unsigned order, Paddr below) {
    if (order > MAX_ORDER) return kstd::unexpected(Error::bad_order);
    LockGuard g(lock_);
    Mfn m;
    unsigned o;
    if (!find_below(order, below.raw() >> PAGE_SHIFT, m, o)) return kstd::unexpected(Error::out_of_memory);
    unlink(m, o);
    // Split: keep the lower half, give the upper halves back.
    while (o > order) {
        --o;
        push(Mfn(m.raw() + (uint64_t{1} << o)), o);
    }
    meta_[m.raw()] = uint8_t(USED_HEAD | order);
    free_ -= uint64_t{1} << order;
    return m;
}

kstd::Expected<bool, FrameAllocator::Error> FrameAllocator::free(Mfn first, unsigned order) {
    if (order > MAX_ORDER) return kstd::unexpected(Error::bad_order);
    LockGuard g(lock_);
    if (first.raw() >= max_mfn_ || meta_[first.raw()] != (USED_HEAD | order))
        return kstd::unexpected(Error::not_allocated);
    meta_[first.raw()] = INSIDE;
    release(first, order);
    free_ += uint64_t{1} << order;
    return true;
}
