// TLB flushes across CPUs for guests' address spaces. Guest page-table entries are never
// global (pv_mm strips the bit), so a CR3 load drops every guest translation: a CPU that has
// loaded another address space since it ran a domain holds nothing of that domain's. Each CPU
// records which domain's tables it has loaded (Domain::dirty_cpus, and the set of CPUs with
// any guest's tables), and flushes go to those CPUs only.
#pragma once

#include "cpu_mask.hpp"

class Domain;

namespace tlb {

// Registers the flush IPI (once, on the boot CPU).
void init();
// This CPU is about to load d's page tables (null: the hypervisor's own). Called before the
// CR3 load, so that a flush of d from then on reaches this CPU.
void switch_address_space(Domain* d);
// Every CPU in `cpus` (this one included, if it is in the set) flushes its TLB; returns when
// all have.
void flush(const CpuMask& cpus);
// The same for every CPU that has some guest's tables loaded.
void flush_guest_cpus();
// Performs a flush requested of this CPU, if one is pending.
void service();

}  // namespace tlb
