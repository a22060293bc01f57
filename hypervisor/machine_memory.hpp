// The hypervisor's handle on machine memory: frames from the buddy allocator, reached through
// the direct map. The core takes it as a parameter (never a global), so that host tests run
// it over a plain buffer.
#pragma once

#include <new>

#include "frame_allocator.hpp"
#include "frame_table.hpp"
#include "kstd/expected.hpp"
#include "types.hpp"

class MachineMemory {
public:
    MachineMemory(FrameAllocator& frames, uintptr_t direct_map_offset) : frames_(frames), offset_(direct_map_offset) {}

    // A zeroed block of 2^order frames, or out_of_memory.
    kstd::Expected<Mfn, FrameAllocator::Error> alloc_zeroed(unsigned order = 0);
    // Returns a block handed out by alloc_zeroed; a refusal is a hypervisor bug and panics.
    // For blocks no guest could map (the hypervisor's own records).
    void free(Mfn first, unsigned order = 0);
    // The same for a block a guest could have mapped (its memory, shared_info, grant table
    // frames), once no page table maps it any more: stamped with the TLB clock, so that the
    // allocator has every CPU that may still reach it through a stale entry flush before the
    // block serves anyone again.
    void free_guest_frames(Mfn first, unsigned order = 0);

    void* map(Mfn m) const { return reinterpret_cast<void*>(offset_ + (m.raw() << PAGE_SHIFT)); }
    Mfn mfn_of(const void* p) const { return Mfn((reinterpret_cast<uintptr_t>(p) - offset_) >> PAGE_SHIFT); }

    // An object of its own in 2^order_for(sizeof(T)) zeroed frames: for objects too large for
    // a slab cache (vCPUs carry a 256-entry trap table).
    template <typename T, typename... Args>
    T* create(Args&&... args) {
        auto m = alloc_zeroed(order_for(sizeof(T)));
        return m ? ::new (map(*m)) T(static_cast<Args&&>(args)...) : nullptr;
    }
    template <typename T>
    void destroy(T* obj) {
        obj->~T();
        free(mfn_of(obj), order_for(sizeof(T)));
    }

    uint64_t free_frames() const { return frames_.free_frames(); }
    uint64_t total_frames() const { return frames_.total_frames(); }

    // Ownership and types of frames, when the hypervisor keeps them (host tests may not).
    FrameTable* table() const { return table_; }
    void set_table(FrameTable* t) { table_ = t; }

    static constexpr unsigned order_for(uint64_t bytes) {
        unsigned order = 0;
        while ((PAGE_SIZE << order) < bytes) ++order;
        return order;
    }

private:
    FrameAllocator& frames_;
    uintptr_t offset_;
    FrameTable* table_ = nullptr;
};
