// Binary buddy allocator of 4 KiB machine frames.
//
// State: one metadata byte per frame up to max_mfn, kept outside the managed memory (the
// caller provides it), saying whether the frame heads a free block, heads an allocated block,
// or was never given to the allocator; plus one free list per order, linked through the free
// blocks themselves, which the allocator reaches through the direct map. A free block of
// order k is 2^k frames aligned to its size; its buddy is the block that differs in bit k.
// Counted: frames ever added (total) and frames currently free. One lock guards everything.
#pragma once

#include "kstd/expected.hpp"
#include "spinlock.hpp"
#include "types.hpp"

class FrameAllocator final {
public:
    static constexpr unsigned MAX_ORDER = 18;  // 1 GiB blocks

    enum class Error : uint8_t { out_of_memory, bad_order, not_allocated };

    constexpr FrameAllocator() = default;
    FrameAllocator(const FrameAllocator&) = delete;
    FrameAllocator& operator=(const FrameAllocator&) = delete;

    static size_t metadata_bytes(Mfn max_mfn) { return size_t(max_mfn.raw()); }

    // direct_map_offset: the virtual address of physical 0. Frames at or above max_mfn are
    // never managed.
    void init(uintptr_t direct_map_offset, Mfn max_mfn, uint8_t* metadata);
    // Frees every whole frame in [base, end) into the allocator (page-aligned inward).
    void add_free_range(Paddr base, Paddr end);

    // A block of 2^order frames lying entirely below `below`.
    kstd::Expected<Mfn, Error> alloc(unsigned order, Paddr below = Paddr(~uint64_t{0}));
    // Returns a block; refuses (and changes nothing) if it is not an allocated block of that
    // order: a double free or a wrong address.
    kstd::Expected<bool, Error> free(Mfn first, unsigned order);

    uint64_t free_frames() const { return free_; }
    uint64_t total_frames() const { return total_; }

private:
    struct FreeBlock {
        FreeBlock* next;
        FreeBlock* prev;
    };

    FreeBlock* block_at(Mfn m) const;
    Mfn mfn_of(const FreeBlock* b) const;
    void push(Mfn m, unsigned order);
    void unlink(Mfn m, unsigned order);
    // Inserts a free block and merges it with its buddies as far as possible.
    void release(Mfn m, unsigned order);
    bool find_below(unsigned order, uint64_t limit_mfn, Mfn& out, unsigned& found_order);

    mutable Spinlock lock_;
    uintptr_t offset_ = 0;
    uint64_t max_mfn_ = 0;
    uint8_t* meta_ = nullptr;
    FreeBlock* lists_[MAX_ORDER + 1] = {};
    uint64_t free_ = 0;
    uint64_t total_ = 0;
};
