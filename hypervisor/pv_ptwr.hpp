// Writable page tables (VMASST_TYPE_writable_pagetables, always on for the control domain as
// on Xen): a guest kernel may write its L1
// page-table entries with ordinary instructions although the hypervisor maps those frames
// read-only to it. The write faults; the hypervisor decodes the instruction, validates the new
// entry as mmu_update would, performs the write and moves on, as Xen's ptwr emulation does.
// Emulated: mov (register or immediate), xchg, (lock) cmpxchg, (lock) and/or/xor (register or
// immediate) and (lock) bts/btr/btc, on 8 bytes (or 4 or 1, merged with the rest of the
// entry), with the flags those instructions define. Anything else stays the guest's page
// fault.
#pragma once

#include <arch/frame.hpp>

class Vcpu;

namespace pv_ptwr {

// For a write-protection #PF at address cr2: true if it was such a write and is now done
// (rip advanced); false to deliver the page fault to the guest.
bool emulate(Vcpu& v, arch::ExceptionFrame& f, uint64_t cr2);

}  // namespace pv_ptwr
