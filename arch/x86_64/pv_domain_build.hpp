// Building a boot-time PV domain from its multiboot2 modules: the portable builder
// (pv_builder) lays out the guest's memory over the domain's frames; this adds what only the
// running hypervisor knows (its own page-table slots in the guest's L4, the shared_info
// frame) and sets up vCPU 0 to enter the kernel.
#pragma once

#include "kstd/string.hpp"
#include "multiboot2.hpp"

class Domain;

namespace pv_domain_build {

// Logs the reason and returns false when the kernel or the memory size is unusable.
bool build(Domain& d, const mb2::Module& kernel, const mb2::Module* initrd, kstd::StringView cmdline);

}  // namespace pv_domain_build
