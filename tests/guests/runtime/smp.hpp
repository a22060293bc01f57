// Secondary vCPUs of a test kernel. A secondary starts, through VCPUOP_initialise and
// VCPUOP_up, in kernel mode on the boot vCPU's page tables and trap table, with a stack of
// its own and its id in rdi, and runs the function given for it; when that returns it takes
// itself down (VCPUOP_down). Its events stay masked, as the boot vCPU's do.
#pragma once

#include <cstdint>

#include <xen/xen.h>

namespace kt {

inline constexpr unsigned max_vcpus = 8;

using VcpuMain = void (*)(unsigned id);

// A context that starts vCPU `id` in fn (filled in, not yet given to the hypervisor), for
// tests that want to change it before VCPUOP_initialise.
void make_vcpu_context(vcpu_guest_context_t& ctx, unsigned id, VcpuMain fn);
// VCPUOP_initialise with that context, then VCPUOP_up; the first error, or 0.
long start_vcpu(unsigned id, VcpuMain fn);
long vcpu_op(int cmd, unsigned vcpu, void* arg);
// Spins (yielding) until *flag == value or ms milliseconds pass; whether it got there.
bool wait_for(const volatile std::uint64_t* flag, std::uint64_t value, std::uint64_t ms);

} // namespace kt
