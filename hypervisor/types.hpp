// The typed numbers of the hypervisor core and the named conversions between them.
#pragma once

#include "kstd/typed_number.hpp"

struct PaddrTag;
struct VaddrTag;
struct MfnTag;
struct CpuIdTag;
struct PfnTag;
struct GvaTag;
struct DomIdTag;
struct VcpuIdTag;

using Paddr = kstd::TypedNumber<PaddrTag>;          // host physical address
using Vaddr = kstd::TypedNumber<VaddrTag>;          // hypervisor virtual address
using Mfn = kstd::TypedNumber<MfnTag>;              // machine frame number (4 KiB frames)
using CpuId = kstd::TypedNumber<CpuIdTag, uint32_t>;  // logical CPU index, 0 is the boot CPU
using Pfn = kstd::TypedNumber<PfnTag>;              // guest pseudo-physical frame number
using Gva = kstd::TypedNumber<GvaTag>;              // guest virtual address
using DomId = kstd::TypedNumber<DomIdTag, uint16_t>;  // domain id as the Xen ABI numbers it
using VcpuId = kstd::TypedNumber<VcpuIdTag, uint32_t>;  // vCPU index within its domain

constexpr unsigned PAGE_SHIFT = 12;
constexpr uint64_t PAGE_SIZE = uint64_t{1} << PAGE_SHIFT;

constexpr Paddr mfn_to_paddr(Mfn m) { return Paddr(m.raw() << PAGE_SHIFT); }
constexpr Mfn paddr_to_mfn(Paddr p) { return Mfn(p.raw() >> PAGE_SHIFT); }
constexpr Mfn paddr_to_mfn_up(Paddr p) { return Mfn((p.raw() + PAGE_SIZE - 1) >> PAGE_SHIFT); }
