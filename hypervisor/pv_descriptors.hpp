// Descriptor tables of PV guests (set_gdt, update_descriptor, the LDT of MMUEXT_SET_LDT):
// the check every descriptor of a page passes before the page may be a GDT or LDT frame.
#pragma once

#include "types.hpp"

class Domain;
class Vcpu;

namespace pv_descriptors {

// Checks the page's 512 descriptors and applies Xen's fix-ups in place (DPL raised to 3, call
// gates to DPL 0); false, changing nothing, if one must be refused.
bool validate_page(Domain& d, Mfn m);
// Makes frames[0..] (machine frames, (entries + 511) / 512 of them) v's GDT: each is checked
// and typed as a descriptor page, the old ones released. Does not show it to the CPU (the
// caller does for the running vCPU). 0 or -XEN_EINVAL, with nothing changed.
long set_gdt(Vcpu& v, const uint64_t* frames, uint32_t entries);

}  // namespace pv_descriptors
