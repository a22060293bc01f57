#include "frame_allocator.hpp"

#include "kstd/string.hpp"

namespace {

// Metadata byte of a frame.
constexpr uint8_t UNMANAGED = 0xff;  // never added
constexpr uint8_t INSIDE = 0x00;     // in a block, not its first frame
constexpr uint8_t FREE_HEAD = 0x40;  // | order: first frame of a free block
constexpr uint8_t USED_HEAD = 0x80;  // | order: first frame of an allocated block

constexpr uint64_t LOW_ZONE_FRAMES = (4 * kstd::GiB) >> PAGE_SHIFT;
static_assert(LOW_ZONE_FRAMES % (uint64_t{1} << FrameAllocator::MAX_ORDER) == 0,
              "no block may straddle the zone boundary, so buddies always share a zone");

constexpr uint64_t frames(unsigned order) { return uint64_t{1} << order; }

unsigned zone_of(uint64_t mfn) { return mfn < LOW_ZONE_FRAMES ? 0 : 1; }
uint64_t zone_first(unsigned zone) { return zone == 0 ? 0 : LOW_ZONE_FRAMES; }

// The largest order of a block that starts at mfn and ends at or before last.
unsigned largest_block(uint64_t mfn, uint64_t last) {
    unsigned order = mfn ? kstd::min(unsigned(__builtin_ctzll(mfn)), FrameAllocator::MAX_ORDER)
                         : FrameAllocator::MAX_ORDER;
    while (frames(order) > last - mfn) --order;
    return order;
}

}  // namespace

void FrameAllocator::init(uintptr_t direct_map_offset, Mfn max_mfn, uint8_t* metadata) {
    LockGuard g(lock_);
    offset_ = direct_map_offset;
    max_mfn_ = max_mfn.raw();
    meta_ = metadata;
    memset(meta_, UNMANAGED, metadata_bytes(max_mfn));
    for (auto& zone : lists_)
        for (auto& head : zone) head = nullptr;
    free_ = total_ = 0;
}

FrameAllocator::FreeBlock* FrameAllocator::block_at(uint64_t mfn) const {
    return reinterpret_cast<FreeBlock*>(offset_ + mfn_to_paddr(Mfn(mfn)).raw());
}

uint64_t FrameAllocator::mfn_of(const FreeBlock* b) const {
    return paddr_to_mfn(Paddr(reinterpret_cast<uintptr_t>(b) - offset_)).raw();
}

void FrameAllocator::push(uint64_t mfn, unsigned order, TlbTime stamp) {
    FreeBlock*& head = lists_[zone_of(mfn)][order];
    FreeBlock* b = block_at(mfn);
    b->stamp = stamp;
    b->prev = nullptr;
    b->next = head;
    if (head) head->prev = b;
    head = b;
    meta_[mfn] = uint8_t(FREE_HEAD | order);
}

void FrameAllocator::unlink(uint64_t mfn, unsigned order) {
    FreeBlock* b = block_at(mfn);
    if (b->prev) b->prev->next = b->next;
    else lists_[zone_of(mfn)][order] = b->next;
    if (b->next) b->next->prev = b->prev;
    meta_[mfn] = INSIDE;
}

void FrameAllocator::release(uint64_t mfn, unsigned order, TlbTime stamp) {
    while (order < MAX_ORDER) {
        uint64_t buddy = mfn ^ frames(order);
        if (buddy >= max_mfn_ || meta_[buddy] != (FREE_HEAD | order)) break;
        // The merged block is as stale as its most recently freed part.
        stamp = tlb_clock::later(stamp, block_at(buddy)->stamp);
        unlink(buddy, order);
        meta_[mfn] = INSIDE;
        mfn &= ~frames(order);
        ++order;
    }
    push(mfn, order, stamp);
}

void FrameAllocator::add_block(uint64_t mfn, unsigned order) {
    for (uint64_t i = 1; i < frames(order); ++i) meta_[mfn + i] = INSIDE;
    release(mfn, order, tlb_clock::CLEAN);
    free_ += frames(order);
    total_ += frames(order);
}

// How many frames from mfn on, up to limit, were never added.
uint64_t FrameAllocator::unmanaged_run(uint64_t mfn, uint64_t limit) const {
    uint64_t n = 0;
    while (n < limit && meta_[mfn + n] == UNMANAGED) ++n;
    return n;
}

void FrameAllocator::add_free_range(Paddr base, Paddr end) {
    if (base.raw() > kstd::align_down(UINT64_MAX, PAGE_SIZE)) return;  // rounding up would wrap
    LockGuard g(lock_);
    uint64_t mfn = paddr_to_mfn_up(base).raw();
    uint64_t last = kstd::min(paddr_to_mfn(end).raw(), max_mfn_);
    while (mfn < last) {
        unsigned order = largest_block(mfn, last);
        uint64_t fresh = unmanaged_run(mfn, frames(order));
        if (fresh == 0) {
            ++mfn;  // added before
            continue;
        }
        order = kstd::min(order, kstd::log2_floor(fresh));
        add_block(mfn, order);
        mfn += frames(order);
    }
}

// First fit, high zone first, smallest order first: a block whose lowest 2^order frames end
// at or below limit_mfn (the block is split down to those). A zone that lies entirely below
// the limit answers from the head of a list; otherwise its lists are searched.
bool FrameAllocator::find_block(unsigned order, uint64_t limit_mfn, uint64_t& mfn, unsigned& found) const {
    for (unsigned zone = ZONES; zone-- > 0;) {
        if (zone_first(zone) + frames(order) > limit_mfn) continue;
        for (unsigned o = order; o <= MAX_ORDER; ++o)
            for (const FreeBlock* b = lists_[zone][o]; b; b = b->next) {
                if (mfn_of(b) + frames(order) > limit_mfn) continue;
                mfn = mfn_of(b);
                found = o;
                return true;
            }
    }
    return false;
}

kstd::Expected<Mfn, FrameAllocator::Error> FrameAllocator::take(unsigned order, Paddr below, TlbTime& stamp) {
    LockGuard g(lock_);
    uint64_t mfn;
    unsigned o;
    if (!find_block(order, below.raw() >> PAGE_SHIFT, mfn, o)) return kstd::unexpected(Error::out_of_memory);
    stamp = block_at(mfn)->stamp;
    unlink(mfn, o);
    // Keep the lowest part, give the upper halves back (each as stale as the whole was).
    while (o > order) {
        --o;
        push(mfn + frames(o), o, stamp);
    }
    meta_[mfn] = uint8_t(USED_HEAD | order);
    free_ -= frames(order);
    return Mfn(mfn);
}

kstd::Expected<Mfn, FrameAllocator::Error> FrameAllocator::alloc(unsigned order, Paddr below) {
    if (order > MAX_ORDER) return kstd::unexpected(Error::bad_order);
    TlbTime stamp = tlb_clock::CLEAN;
    auto m = take(order, below, stamp);
    // Before the caller (a domain, or the hypervisor itself) uses the frames, and outside the
    // lock: no CPU may still reach them through an entry a guest dropped without a flush.
    if (m && stamp != tlb_clock::CLEAN && stale_tlb_flush_) stale_tlb_flush_(stamp);
    return m;
}

kstd::Expected<bool, FrameAllocator::Error> FrameAllocator::free(Mfn first, unsigned order, TlbTime stamp) {
    if (order > MAX_ORDER) return kstd::unexpected(Error::bad_order);
    LockGuard g(lock_);
    uint64_t mfn = first.raw();
    if (mfn >= max_mfn_ || meta_[mfn] != (USED_HEAD | order)) return kstd::unexpected(Error::not_allocated);
    meta_[mfn] = INSIDE;
    release(mfn, order, stamp);
    free_ += frames(order);
    return true;
}

uint64_t FrameAllocator::free_frames() const {
    LockGuard g(lock_);
    return free_;
}

uint64_t FrameAllocator::total_frames() const {
    LockGuard g(lock_);
    return total_;
}

bool FrameAllocator::check_list(unsigned zone, unsigned order, uint64_t& counted) const {
    const FreeBlock* prev = nullptr;
    for (const FreeBlock* b = lists_[zone][order]; b; prev = b, b = b->next) {
        uint64_t mfn = mfn_of(b);
        bool ok = b->prev == prev && mfn % frames(order) == 0 && zone_of(mfn) == zone &&
                  mfn + frames(order) <= max_mfn_ && meta_[mfn] == (FREE_HEAD | order);
        // A cycle would count past free_: stop there.
        counted += frames(order);
        if (!ok || counted > free_) return false;
    }
    return true;
}

bool FrameAllocator::check_consistency() const {
    LockGuard g(lock_);
    uint64_t counted = 0;
    for (unsigned zone = 0; zone < ZONES; ++zone)
        for (unsigned order = 0; order <= MAX_ORDER; ++order)
            if (!check_list(zone, order, counted)) return false;
    return counted == free_ && free_ <= total_;
}
