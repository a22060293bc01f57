#include "smp.hpp"

#include <xen/sched.h>
#include <xen/vcpu.h>

#include "clock.hpp"
#include "hypercall.hpp"
#include "lib.hpp"
#include "runtime.hpp"
#include "traps.hpp"

extern "C" {
[[noreturn]] void kt_secondary_main(unsigned id);
void kt_secondary_entry();
}

namespace kt {
namespace {

constexpr std::size_t stack_size = 16384;
[[gnu::aligned(16)]] unsigned char stacks[max_vcpus][stack_size];
VcpuMain mains[max_vcpus];

} // namespace
} // namespace kt

// The hypervisor enters a secondary here with rdi = its id and rsp at the top of its stack.
asm(R"(
    .text
    .globl kt_secondary_entry
kt_secondary_entry:
    xor %ebp, %ebp
    call kt_secondary_main
    ud2
)");

void kt_secondary_main(unsigned id)
{
    kt::mains[id](id);
    for (;;)
        kt::vcpu_op(VCPUOP_down, id, nullptr);
}

namespace kt {

long vcpu_op(int cmd, unsigned vcpu, void* arg)
{
    return hypercall(__HYPERVISOR_vcpu_op, static_cast<std::uint64_t>(cmd), vcpu, kt::arg(arg));
}

void make_vcpu_context(vcpu_guest_context_t& ctx, unsigned id, VcpuMain fn)
{
    memset(&ctx, 0, sizeof ctx);
    mains[id] = fn;
    ctx.flags = VGCF_in_kernel;
    ctx.user_regs.rip = reinterpret_cast<std::uint64_t>(&kt_secondary_entry);
    ctx.user_regs.rsp = reinterpret_cast<std::uint64_t>(stacks[id] + stack_size);
    ctx.user_regs.rdi = id;
    ctx.user_regs.cs = FLAT_KERNEL_CS;
    ctx.user_regs.ss = FLAT_KERNEL_SS;
    ctx.user_regs.ds = ctx.user_regs.es = FLAT_KERNEL_DS;
    ctx.user_regs.rflags = 0x202;
    ctx.kernel_ss = FLAT_KERNEL_SS;
    ctx.kernel_sp = ctx.user_regs.rsp;
    // default_trap_table lists entries by vector order; the context wants them indexed by vector.
    trap_info listed[256];
    unsigned n = default_trap_table(listed);
    memset(ctx.trap_ctxt, 0, sizeof ctx.trap_ctxt);
    for (unsigned i = 0; i < n; ++i)
        ctx.trap_ctxt[listed[i].vector] = listed[i];
    ctx.ctrlreg[3] = virt_to_mfn(reinterpret_cast<void*>(start_info()->pt_base)) << 12;
}

long start_vcpu(unsigned id, VcpuMain fn)
{
    static vcpu_guest_context_t ctx;
    make_vcpu_context(ctx, id, fn);
    shared_info()->vcpu_info[id].evtchn_upcall_mask = 1;
    long rc = vcpu_op(VCPUOP_initialise, id, &ctx);
    if (rc)
        return rc;
    return vcpu_op(VCPUOP_up, id, nullptr);
}

bool wait_for(const volatile std::uint64_t* flag, std::uint64_t value, std::uint64_t ms)
{
    const std::uint64_t end = rdtsc() + ms * tsc_khz();
    while (*flag != value) {
        if (rdtsc() > end)
            return false;
        sched_op(SCHEDOP_yield, nullptr);
    }
    return true;
}

} // namespace kt
