// Binary buddy allocator of 4 KiB machine frames, for physical memory anywhere below max_mfn
// (terabytes, with holes).
//
// A block of order k is 2^k frames aligned to 2^k frames; its buddy is the block whose first
// frame differs in bit k, and two free buddies always merge into one block of order k+1, up
// to MAX_ORDER.
//
// State:
//   - one metadata byte per frame below max_mfn, in an array the caller provides, so that no
//     state lives in the memory being managed: UNMANAGED (never added), the first frame of a
//     free or of an allocated block (with its order), or INSIDE a block;
//   - free lists, one per order and zone, doubly linked through the first bytes of the free
//     blocks themselves, which the allocator reaches through the direct map. The low zone is
//     memory below 4 GiB; allocations without a limit take high memory first, so that the
//     few callers that need low frames (AP trampoline, 32-bit tables) still find them;
//   - beside the links, each free block's TLB stamp (tlb_clock.hpp): the newest stamp of the
//     frames freed into it from guests (CLEAN if none), kept by the larger block when buddies
//     merge and by both halves when a block splits. Handing out a stamped block first asks
//     the CPUs that may still reach it through a stale TLB entry to flush (the stale-TLB hook,
//     called after the lock is released: the flush waits for other CPUs, which may be waiting
//     for this lock).
// Counted: total_frames(), every frame ever added; free_frames(), those now free.
// Invariant: a frame is in exactly one block; the blocks on the free lists are exactly those
// whose first frame is marked free, and their sizes add up to free_frames().
// One spinlock guards all of it; init() runs before anyone else can call in.
#pragma once

#include "kstd/expected.hpp"
#include "spinlock.hpp"
#include "tlb_clock.hpp"
#include "types.hpp"

class FrameAllocator final {
public:
    static constexpr unsigned MAX_ORDER = 18;  // 1 GiB blocks
    static constexpr Paddr NO_LIMIT{~uint64_t{0}};

    enum class Error : uint8_t { out_of_memory, bad_order, not_allocated };

    constexpr FrameAllocator() = default;
    FrameAllocator(const FrameAllocator&) = delete;
    FrameAllocator& operator=(const FrameAllocator&) = delete;

    // Size of the metadata array for frames [0, max_mfn).
    static size_t metadata_bytes(Mfn max_mfn) { return size_t(max_mfn.raw()); }

    // direct_map_offset: virtual address = physical address + offset. Frames at or above
    // max_mfn are never managed. Forgets any earlier state.
    void init(uintptr_t direct_map_offset, Mfn max_mfn, uint8_t* metadata);
    // Adds every whole frame in [base, end) as free memory. Frames already added are skipped,
    // so overlapping ranges are harmless.
    void add_free_range(Paddr base, Paddr end);

    // Called with the stamp of a block about to be handed out: returns once every CPU that
    // may still reach its frames through a stale TLB entry has flushed.
    using StaleTlbFlush = void (*)(TlbTime stamp);
    void set_stale_tlb_flush(StaleTlbFlush f) { stale_tlb_flush_ = f; }

    // A block of 2^order frames, aligned to its size, lying entirely below `below`. If any of
    // its frames was freed with a stamp, the stale-TLB hook has run by the time it returns.
    kstd::Expected<Mfn, Error> alloc(unsigned order, Paddr below = NO_LIMIT);
    // Returns a block (the value is always true). Refuses, changing nothing, unless first
    // heads an allocated block of exactly that order: this catches double frees, frames never
    // added, addresses inside a block and a wrong order. The kernel panics on a refusal.
    // stamp: CLEAN for frames no guest could map, else tlb_clock::tick() taken after the
    // last guest mapping went.
    kstd::Expected<bool, Error> free(Mfn first, unsigned order, TlbTime stamp = tlb_clock::CLEAN);

    uint64_t free_frames() const;
    uint64_t total_frames() const;
    // Frames at or above this are never managed.
    Mfn max_mfn() const { return Mfn(max_mfn_); }
    // Walks the free lists and checks them against the metadata and the count; for tests
    // and self-tests. Linear in the number of free blocks.
    bool check_consistency() const;

private:
    struct FreeBlock {
        FreeBlock* next;
        FreeBlock* prev;
        TlbTime stamp;
    };
    static constexpr unsigned ZONES = 2;  // 0: below 4 GiB, 1: the rest

    FreeBlock* block_at(uint64_t mfn) const;
    uint64_t mfn_of(const FreeBlock* b) const;
    void push(uint64_t mfn, unsigned order, TlbTime stamp);
    void unlink(uint64_t mfn, unsigned order);
    // Marks a block free and merges it with its buddies as far as possible.
    void release(uint64_t mfn, unsigned order, TlbTime stamp);
    // alloc's work under the lock: the block taken and its stamp.
    kstd::Expected<Mfn, Error> take(unsigned order, Paddr below, TlbTime& stamp);
    void add_block(uint64_t mfn, unsigned order);
    uint64_t unmanaged_run(uint64_t mfn, uint64_t limit) const;
    bool find_block(unsigned order, uint64_t limit_mfn, uint64_t& mfn, unsigned& found) const;
    bool check_list(unsigned zone, unsigned order, uint64_t& frames) const;

    mutable Spinlock lock_;
    uintptr_t offset_ = 0;
    uint64_t max_mfn_ = 0;
    uint8_t* meta_ = nullptr;
    FreeBlock* lists_[ZONES][MAX_ORDER + 1] = {};
    uint64_t free_ = 0;
    uint64_t total_ = 0;
    StaleTlbFlush stale_tlb_flush_ = nullptr;
};
