// A PV vCPU's whole context as the guest ABI carries it (vcpu_guest_context): set by
// VCPUOP_initialise and XEN_DOMCTL_setvcpucontext, read by XEN_DOMCTL_getvcpucontext, as Xen
// 4.17's arch_set_info_guest / arch_get_info_guest do for a 64-bit PV guest.
#pragma once

#include <xen/xen.h>

class Vcpu;

namespace vcpu_context {

// Loads c into v (not running: a vCPU being initialised, or one of a paused domain). A vCPU
// not yet initialised takes the page-table roots c names (ctrlreg[3] kernel, ctrlreg[1] user:
// frames of its domain that take an L4 type, validated if they are not yet), its GDT frames and
// LDT, and for vCPU 0 the domain's vm_assist; an initialised one must name the roots, GDT and
// LDT it already has (-EOPNOTSUPP otherwise) and only its registers, trap table, callbacks,
// stack, segment bases, FPU and debug registers change. Selectors get RPL 3. Every check comes
// first: a refused context (-EINVAL, or the validation's error) changes nothing. VGCF_online is
// the caller's.
long set(Vcpu& v, const vcpu_guest_context& c);
// v's context (v not running), with VGCF_online if v is up.
void get(const Vcpu& v, vcpu_guest_context& c);
// Back to a new vCPU's state (Xen's vcpu_reset): down, not initialised, its roots, GDT and
// LDT references dropped, registers and callbacks cleared.
void reset(Vcpu& v);

}  // namespace vcpu_context
