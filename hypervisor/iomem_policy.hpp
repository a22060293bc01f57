// Which machine frames outside RAM a domain may map (Xen's iomem capabilities). The control
// domain may map any frame below the machine's physical address width except those the
// hypervisor drives itself: the local APIC, the I/O APICs and the MSI window (where a device
// write is an interrupt, not memory), and unusable ranges above 1 MiB. Other domains may map
// none (device pass-through would grant them ranges; Kestrel has none yet).
//
// What counts as "outside RAM" is the frame table's business: frames beyond it, and frames it
// gives to DOMID_IO (the first MiB and every hole or non-RAM range of the memory map, as Xen's
// arch_init_memory does).
#pragma once

#include "types.hpp"

class Domain;

namespace iomem_policy {

// The machine's physical address width (CPUID 0x80000008), at boot.
void set_address_bits(unsigned bits);
// Keeps [first, first + count) from every domain (boot time, before domains run).
void deny(Mfn first, uint64_t count);
bool permitted(const Domain& d, Mfn m);
// The first run of frames in [from, to) the control domain may not map: true with the run as
// [start, end) (denied ranges that overlap or touch are one run), false if there is none.
bool first_denied_run(uint64_t from, uint64_t to, uint64_t& start, uint64_t& end);
// One past the highest frame a domain could ever map (the physical address width).
uint64_t frame_limit();
// Back to the state before boot (host tests).
void reset();

}  // namespace iomem_policy
