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
//     few callers that need low frames (AP trampoline, 32-bit tables) still find them.
// Counted: total_frames(), every frame ever added; free_frames(), those now free.
// Invariant: a frame is in exactly one block; the blocks on the free lists are exactly those
// whose first frame is marked free, and their sizes add up to free_frames().
// One spinlock guards all of it; init() runs before anyone else can call in.
#pragma once

#include "kstd/expected.hpp"
#include "spinlock.hpp"
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

    // A block of 2^order frames, aligned to its size, lying entirely below `below`.
    kstd::Expected<Mfn, Error> alloc(unsigned order, Paddr below = NO_LIMIT);
    // Returns a block (the value is always true). Refuses, changing nothing, unless first
    // heads an allocated block of exactly that order: this catches double frees, frames never
    // added, addresses inside a block and a wrong order. The kernel panics on a refusal.
    kstd::Expected<bool, Error> free(Mfn first, unsigned order);

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
    };
    static constexpr unsigned ZONES = 2;  // 0: below 4 GiB, 1: the rest

    FreeBlock* block_at(uint64_t mfn) const;
    uint64_t mfn_of(const FreeBlock* b) const;
    void push(uint64_t mfn, unsigned order);
    void unlink(uint64_t mfn, unsigned order);
    // Marks a block free and merges it with its buddies as far as possible.
    void release(uint64_t mfn, unsigned order);
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
};
