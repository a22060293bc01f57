// A PV vCPU's debug registers, as set_debugreg sets them (see pv_debugreg.cpp).
#pragma once

#include "types.hpp"

class Vcpu;

namespace pv_debugreg {

// Checks and stores one debug register of v; live: v is on this CPU, so the hardware register
// is written too. 0 or the -XEN_E* of set_debugreg.
long set(Vcpu& v, int reg, uint64_t value, bool live);

}  // namespace pv_debugreg
