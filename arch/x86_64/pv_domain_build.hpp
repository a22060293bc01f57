// Building a boot-time PV domain from its kernel's ELF image (already unpacked from its
// module, see kernel_image.hpp) and its initrd module: the portable builder (pv_builder) lays
// out the guest's memory over the domain's frames; this adds what only the running hypervisor
// knows (its own page-table slots in the guest's L4, the shared_info frame) and sets up vCPU 0
// to enter the kernel.
#pragma once

#include <span>

#include "kstd/string.hpp"
#include "multiboot2.hpp"

class Domain;

namespace pv_domain_build {

// The bytes of a module, through the direct map.
std::span<const uint8_t> bytes_of(const mb2::Module& m);

// Logs the reason and returns false when the kernel or the memory size is unusable. The ELF
// image must stay in place until build() returns.
bool build(Domain& d, std::span<const uint8_t> kernel_elf, const mb2::Module* initrd, kstd::StringView cmdline);

}  // namespace pv_domain_build
