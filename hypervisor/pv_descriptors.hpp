// Descriptor tables of PV guests (set_gdt, update_descriptor, the LDT of MMUEXT_SET_LDT):
// the check every descriptor of a page passes before the page may be a GDT or LDT frame.
#pragma once

#include "types.hpp"

class Domain;

namespace pv_descriptors {

// Checks the page's 512 descriptors and applies Xen's fix-ups in place (DPL raised to 3, call
// gates to DPL 0); false, changing nothing, if one must be refused.
bool validate_page(Domain& d, Mfn m);

}  // namespace pv_descriptors
