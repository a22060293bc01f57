#include "tlb_clock.hpp"

#include "kstd/atomic.hpp"

namespace tlb_clock {

namespace {

// Starts above CLEAN, so that a CPU that has never flushed (0) is stale for any real stamp.
kstd::Atomic<uint64_t> clock{1};

}  // namespace

// Seq_cst: the tick is ordered after the page-table write that dropped the last entry (which
// precedes it in this CPU's program order) and before any CPU's later now().
TlbTime tick() { return TlbTime(clock.fetch_add(1)); }

TlbTime now() { return TlbTime(clock.load()); }

}  // namespace tlb_clock
