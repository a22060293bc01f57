// TLB flushes across CPUs for guests' address spaces. Guest page-table entries are never
// global (pv_mm strips the bit), so a CR3 load drops every guest translation: a CPU that has
// loaded another address space since it ran a domain holds nothing of that domain's. Each CPU
// records which domain's tables it has loaded (Domain::dirty_cpus, and the set of CPUs with
// any guest's tables), and flushes go to those CPUs only.
//
// Every CR3 load and flush of this CPU goes through here (load_root, flush_local), so that it
// records the TLB clock's reading before it (PerCpu::tlb_flushed, tlb_clock.hpp): the
// allocator and the type-change flush then ask only the CPUs that have not flushed since a
// frame was let go (flush_stale).
#pragma once

#include "cpu_mask.hpp"
#include "tlb_clock.hpp"
#include "types.hpp"

class Domain;

namespace tlb {

// Registers the flush IPI (once, on the boot CPU).
void init();
// This CPU is about to load d's page tables (null: the hypervisor's own). Called before the
// CR3 load, so that a flush of d from then on reaches this CPU.
void switch_address_space(Domain* d);
// Loads a page-table root on this CPU (dropping every guest entry) and records when.
void load_root(Paddr root);
// Flushes this CPU's TLB (guest entries, and the hypervisor's non-global ones) and records when.
void flush_local();
// Every CPU in `cpus` (this one included, if it is in the set) flushes its TLB; returns when
// all have.
void flush(const CpuMask& cpus);
// The same for every CPU that has some guest's tables loaded.
void flush_guest_cpus();
// The same for those of them whose last flush is not newer than `stamp`: after it returns, no
// CPU reaches a frame stamped `stamp` (or earlier) through an entry dropped before the stamp.
// A CPU with the hypervisor's own tables loaded holds no guest entry and is left alone.
void flush_stale(TlbTime stamp);
// Performs a flush requested of this CPU, if one is pending.
void service();

}  // namespace tlb
