#include "hypercall.hpp"

#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "log.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

namespace hypercall {

namespace {

constexpr HypercallHandler make_entry(unsigned nr) {
    switch (nr) {
    case __HYPERVISOR_set_trap_table: return do_set_trap_table;
    case __HYPERVISOR_stack_switch: return do_stack_switch;
    case __HYPERVISOR_set_callbacks: return do_set_callbacks;
    case __HYPERVISOR_fpu_taskswitch: return do_fpu_taskswitch;
    case __HYPERVISOR_xen_version: return do_xen_version;
    case __HYPERVISOR_console_io: return do_console_io;
    case __HYPERVISOR_vm_assist: return do_vm_assist;
    case __HYPERVISOR_iret: return do_iret;
    case __HYPERVISOR_set_segment_base: return do_set_segment_base;
    case __HYPERVISOR_sched_op: return do_sched_op;
    case __HYPERVISOR_set_timer_op: return do_set_timer_op;
    case __HYPERVISOR_vcpu_op: return do_vcpu_op;
    case __HYPERVISOR_callback_op: return do_callback_op;
    case __HYPERVISOR_set_debugreg: return do_set_debugreg;
    case __HYPERVISOR_update_va_mapping: return do_update_va_mapping;
    case __HYPERVISOR_update_va_mapping_otherdomain: return do_update_va_mapping_otherdomain;
    case __HYPERVISOR_mmuext_op: return do_mmuext_op;
    case __HYPERVISOR_mmu_update: return do_mmu_update;
    case __HYPERVISOR_event_channel_op: return do_event_channel_op;
    case __HYPERVISOR_physdev_op: return do_physdev_op;
    case __HYPERVISOR_set_gdt: return do_set_gdt;
    case __HYPERVISOR_update_descriptor: return do_update_descriptor;
    case __HYPERVISOR_get_debugreg: return do_get_debugreg;
    case __HYPERVISOR_memory_op: return do_memory_op;
    case __HYPERVISOR_grant_table_op: return do_grant_table_op;
    case __HYPERVISOR_multicall: return do_multicall;
    case __HYPERVISOR_xenpmu_op: return do_xenpmu_op;
    case __HYPERVISOR_domctl: return do_domctl;
    case __HYPERVISOR_platform_op: return do_platform_op;
    default: return nullptr;
    }
}

// Hypercalls that change frame types, counts or page tables (directly, or through the ops
// they batch) run under the MMU lock (pv_mm::MmGuard). domctl does not: it may wait for
// another domain's vCPUs to leave their CPUs, so it takes the lock itself where it needs it.
constexpr bool takes_mm_lock(uint64_t nr) {
    switch (nr) {
    case __HYPERVISOR_mmu_update:
    case __HYPERVISOR_set_gdt:
    case __HYPERVISOR_update_descriptor:
    case __HYPERVISOR_memory_op:
    case __HYPERVISOR_multicall:
    case __HYPERVISOR_update_va_mapping:
    case __HYPERVISOR_grant_table_op:
    case __HYPERVISOR_update_va_mapping_otherdomain:
    case __HYPERVISOR_vcpu_op:
    case __HYPERVISOR_mmuext_op: return true;
    default: return false;
    }
}

struct Table {
    HypercallHandler entries[TABLE_SIZE];
    constexpr Table() : entries() {
        for (unsigned i = 0; i < TABLE_SIZE; ++i) entries[i] = make_entry(i);
    }
};
constexpr Table table;

// One bit per hypercall number already reported as unsupported, so a guest that probes in a
// loop does not flood the log.
uint64_t reported_unknown;

// Per hypercall, one bit per op number below 64 already reported (higher ones share the last).
uint64_t reported_ops[TABLE_SIZE];

}  // namespace

long unsupported_op(Vcpu& v, unsigned nr, uint64_t op) {
    uint64_t bit = uint64_t{1} << (op < 63 ? op : 63);
    if (nr < TABLE_SIZE && !(__atomic_fetch_or(&reported_ops[nr], bit, __ATOMIC_RELAXED) & bit))
        log::warning("d{}v{}: hypercall {} op {} not supported: -ENOSYS", v.domain().id(), v.id(), nr, op);
    return -XEN_ENOSYS;
}

HypercallHandler handler(unsigned nr) { return nr < TABLE_SIZE ? table.entries[nr] : nullptr; }

namespace {

// The frame's first five quadwords are the argument registers in argument order.
static_assert(offsetof(arch::ExceptionFrame, rdi) == 0 * sizeof(uint64_t));
static_assert(offsetof(arch::ExceptionFrame, rsi) == 1 * sizeof(uint64_t));
static_assert(offsetof(arch::ExceptionFrame, rdx) == 2 * sizeof(uint64_t));
static_assert(offsetof(arch::ExceptionFrame, r10) == 3 * sizeof(uint64_t));
static_assert(offsetof(arch::ExceptionFrame, r8) == 4 * sizeof(uint64_t));
static_assert(sizeof(HypercallArgs) == 5 * sizeof(uint64_t));

const HypercallArgs& arguments(const arch::ExceptionFrame& regs) {
    return *reinterpret_cast<const HypercallArgs*>(&regs.rdi);
}

[[gnu::noinline, gnu::cold]] long unknown(Vcpu& v, uint64_t nr) {
    uint64_t bit = uint64_t{1} << (nr < TABLE_SIZE ? nr : TABLE_SIZE - 1);
    if (!(__atomic_fetch_or(&reported_unknown, bit, __ATOMIC_RELAXED) & bit))
        log::warning("d{}v{}: hypercall {} not supported: -ENOSYS", v.domain().id(), v.id(), nr);
    return -XEN_ENOSYS;
}

}  // namespace

long call(Vcpu& v, arch::ExceptionFrame& regs) {
    uint64_t nr = regs.rax;
    HypercallHandler h = nr < TABLE_SIZE ? table.entries[nr] : nullptr;
    if (!h) [[unlikely]] return unknown(v, nr);
    if (takes_mm_lock(nr)) return pv_mm::call_locked(h, v, regs, arguments(regs));
    return h(v, regs, arguments(regs));
}

}  // namespace hypercall
