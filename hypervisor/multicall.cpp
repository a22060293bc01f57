// multicall: several hypercalls in one trap, as Xen 4.17's do_multicall (common/multicall.c)
// with the x86 PV step (pv_do_multicall_call).
//
// The guest passes a list of multicall_entry and a count. Each entry's op goes through the
// same handler table as a trapped hypercall, with the entry's first five args standing in
// for the argument registers (the sixth is unused on x86_64); its return value goes to the
// entry's result field, the only field written. The multicall's own return value says
// whether the list could be walked, never how a call fared: 0, or -EFAULT for an entry that
// cannot be read or a result that cannot be written, with the calls before it done.
//
// Where Xen's behaviour is particular, Kestrel follows it:
// - Only the list's start is checked before the first call (Xen's access_ok for a PV handle):
//   a start that is not canonical or lies in the hypervisor area fails with -EFAULT even for
//   zero calls; a list running into unreadable memory fails at that entry.
// - The count is 32 bits wide; an op beyond the table or without a handler gets -ENOSYS.
// - A multicall inside a multicall gets -EINVAL. Xen refuses the reentry with a per-vCPU
//   flag; the only way in is an entry naming multicall, so that entry is refused here.
// - iret does not return to the batch: the calls after it are dropped, its result is written
//   if it can be, and the multicall returns it as an int (Xen's rc is an int), so the rax the
//   iret frame restores arrives with its upper half replaced by the sign of bit 31. (Xen also
//   ends a batch whose call left the guest in user mode; on x86_64 only iret does that.)
// - Between calls (not after the last), a vCPU that must leave its CPU (it blocked, its
//   domain shut down or was paused, or an event waits for delivery) stops the batch. The
//   multicall is then re-issued with the entries not yet run when the vCPU next runs, as
//   Xen's continuation does: rip back over the SYSCALL, rax the hypercall number, rdi and rsi
//   the rest of the list and its count.
#include <stddef.h>

#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace {

constexpr uint64_t SYSCALL_LENGTH = 2;

// Xen's hypercall_preempt_check, as far as this vCPU is concerned: it is no longer the one
// that should run here, or an event is pending and unmasked.
bool must_leave_cpu(const Vcpu& v) {
    if (v.state != VcpuState::running || sched::resched_pending()) return true;
    const Domain& d = v.domain();
    if (d.state() != DomainState::running || d.paused()) return true;
    const vcpu_info* info = v.info();
    return info && info->evtchn_upcall_pending && !info->evtchn_upcall_mask;
}

long run_entry(Vcpu& v, arch::ExceptionFrame& regs, const multicall_entry& e) {
    if (e.op == __HYPERVISOR_multicall) return -XEN_EINVAL;
    HypercallHandler h = e.op < hypercall::TABLE_SIZE ? hypercall::handler(unsigned(e.op)) : nullptr;
    if (!h) return -XEN_ENOSYS;
    HypercallArgs args{e.args[0], e.args[1], e.args[2], e.args[3], e.args[4]};
    return h(v, regs, args);
}

// Makes the guest issue the multicall again for `count` entries from `list` when it next runs.
long continue_later(arch::ExceptionFrame& regs, uint64_t list, uint32_t count) {
    regs.rip -= SYSCALL_LENGTH;
    regs.rdi = list;
    regs.rsi = count;
    return __HYPERVISOR_multicall;
}

}  // namespace

long do_multicall(Vcpu& v, arch::ExceptionFrame& regs, const HypercallArgs& args) {
    uint64_t list = args.a0;
    uint32_t count = uint32_t(args.a1);
    if (!guest::range_ok(Gva(list), 1)) return -XEN_EFAULT;
    for (uint32_t i = 0; i < count; ++i, list += sizeof(multicall_entry)) {
        if (i && must_leave_cpu(v)) return continue_later(regs, list, count - i);
        multicall_entry e;
        if (!guest::read(Gva(list), e)) return -XEN_EFAULT;
        long result = run_entry(v, regs, e);
        bool written = guest::write(Gva(list + offsetof(multicall_entry, result)), uint64_t(result));
        if (e.op == __HYPERVISOR_iret) return int(result);
        if (!written) return -XEN_EFAULT;
    }
    return 0;
}
