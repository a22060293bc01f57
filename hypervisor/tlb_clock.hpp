// The TLB flush clock (Xen's tlbflush_clock, in Kestrel's own shape): when a frame leaves
// every guest page table (given back to the allocator) or a frame's type is dropped, some
// CPU may still reach it through a TLB entry the guest never flushed (PV guests drop
// mappings without flushing: update_va_mapping with no flags, mmu_update of an L1 entry, a
// writable-page-table store). Before such a frame is used again (handed out by the
// allocator, or given a type a stale entry could subvert), the CPUs that may still hold one
// flush; the clock tells which:
//
//   - the clock ticks (tick()) each time a frame or type is let go, after its last entry left
//     the page tables, and that reading is the stamp the frame carries;
//   - a CPU reads the clock (now()) just before it drops every guest TLB entry (a CR3 load:
//     guest entries are never global; a flush), and records that reading once it has;
//   - a CPU whose record is newer than a stamp read the clock after that tick, so flushed after
//     the entry had left the tables: it holds nothing of that frame. One whose record is not
//     newer must flush (must_flush).
//
// Unlike Xen's, the clock does not tick at each flush (a CR3 load only reads it, so a guest's
// many kernel/user switches touch no shared line) and it is 64 bits: it ticks once per frame
// block or type let go, so even at one tick per nanosecond it would take 584 years to wrap.
// Xen's 32-bit clock wraps and flushes every CPU when it does; without a wrap, stamps compare
// as plain numbers and a merged free block may keep the newer of two (FrameAllocator).
#pragma once

#include "cpu_mask.hpp"
#include "types.hpp"

struct TlbTimeTag;
using TlbTime = kstd::TypedNumber<TlbTimeTag>;  // a reading of the TLB flush clock

namespace tlb_clock {

// A stamp that asks no flush: frames never mapped by a guest (the clock starts above it).
constexpr TlbTime CLEAN{0};

// Ticks the clock; returns the stamp for what was let go just before (the reading before the
// tick, so that every CPU reading the clock from now on reads a newer one).
TlbTime tick();
// The clock as a CPU about to flush reads it.
TlbTime now();

// Whether a CPU whose last recorded flush read `flushed` may still hold an entry dropped
// before `stamp` was taken.
constexpr bool must_flush(TlbTime flushed, TlbTime stamp) { return stamp != CLEAN && flushed <= stamp; }

// The later of two stamps (the one that asks more CPUs to flush).
constexpr TlbTime later(TlbTime a, TlbTime b) { return a < b ? b : a; }

// The CPUs of `candidates` that must flush for `stamp`, added to `out`; flushed_at(CpuId) gives
// a CPU's recorded time. Returns how many.
template <typename F>
unsigned stale_cpus(const CpuMask& candidates, TlbTime stamp, F&& flushed_at, CpuMask& out) {
    unsigned n = 0;
    if (stamp == CLEAN) return 0;
    candidates.for_each([&](CpuId c) {
        if (!must_flush(flushed_at(c), stamp)) return;
        out.set(c);
        ++n;
    });
    return n;
}

}  // namespace tlb_clock
