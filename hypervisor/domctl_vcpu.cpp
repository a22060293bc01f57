// domctl commands on a domain's vCPUs (see domctl.hpp), as Xen 4.17: setvcpucontext and
// getvcpucontext (arch_set_info_guest / arch_get_info_guest, vcpu_context.hpp), the vCPU
// affinity commands (vcpu_affinity_domctl, with Xen's bitmap conversions), and hypercall_init
// (the hypercall page written into a frame of the domain).
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domctl.hpp"
#include "guest_access.hpp"
#include "hypercall_page.hpp"
#include "pv_mm.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"
#include "vcpu_context.hpp"

namespace domctl {

namespace {

// One context at a time (the domctl lock guards it): too large for a hypervisor stack.
vcpu_guest_context context;

// --- CPU bitmaps (Xen's xenctl_bitmap_to_bitmap, bitmap_to_xenctl_bitmap) ----------------

constexpr unsigned SET_BYTES = CpuSet::MAX_CPUS / 8;

unsigned bytes_for(uint64_t bits) { return unsigned((bits + 7) / 8); }

// The guest's bitmap as a CPU set of nbits CPUs: bits past the guest's nr_bits are clear,
// bytes past ours are not read.
long read_bitmap(const xenctl_bitmap& b, unsigned nbits, CpuSet& out) {
    uint8_t bytes[SET_BYTES]{};
    uint64_t guest_bytes = bytes_for(b.nr_bits);
    unsigned ours = bytes_for(nbits);
    unsigned copy = guest_bytes < ours ? unsigned(guest_bytes) : ours;
    if (copy) {
        if (!guest::copy_from(bytes, guest::address_of(b.bitmap), copy)) return -XEN_EFAULT;
        if ((b.nr_bits & 7) && guest_bytes == copy) bytes[copy - 1] &= uint8_t(~(0xffu << (b.nr_bits & 7)));
    }
    out = CpuSet{};
    for (unsigned i = 0; i < ours * 8; ++i)
        if (bytes[i / 8] >> (i % 8) & 1) out.set(CpuId(i));
    return 0;
}

// The set as the guest's bitmap: nbits bits, the rest of the guest's buffer cleared.
long write_bitmap(const xenctl_bitmap& b, unsigned nbits, const CpuSet& s) {
    uint8_t bytes[SET_BYTES]{};
    for (unsigned i = 0; i < nbits; ++i)
        if (s.test(CpuId(i))) bytes[i / 8] |= uint8_t(1u << (i % 8));
    uint64_t guest_bytes = bytes_for(b.nr_bits);
    unsigned ours = bytes_for(nbits);
    unsigned copy = guest_bytes < ours ? unsigned(guest_bytes) : ours;
    if (copy && !guest::copy_to(guest::address_of(b.bitmap), bytes, copy)) return -XEN_EFAULT;
    static const uint8_t zeros[64] = {};
    for (uint64_t at = copy; at < guest_bytes; at += sizeof zeros) {
        uint64_t n = guest_bytes - at < sizeof zeros ? guest_bytes - at : sizeof zeros;
        if (!guest::copy_to(Gva(guest::address_of(b.bitmap).raw() + at), zeros, n)) return -XEN_EFAULT;
    }
    return 0;
}

bool params_invalid(const xen_domctl_vcpuaffinity& a) {
    return a.flags == 0 || ((a.flags & XEN_VCPUAFFINITY_HARD) && !a.cpumap_hard.bitmap.p) ||
           ((a.flags & XEN_VCPUAFFINITY_SOFT) && !a.cpumap_soft.bitmap.p);
}

// Hard affinity must keep an online CPU; what is written back is the part that is online.
long set_hard(Vcpu& v, xen_domctl_vcpuaffinity& a, unsigned nbits, const CpuSet& online) {
    CpuSet hard;
    if (long rc = read_bitmap(a.cpumap_hard, nbits, hard)) return rc;
    if (!hard.intersects(online)) return -XEN_EINVAL;
    v.hard_affinity = hard;
    sched::set_affinity(v, hard);
    return write_bitmap(a.cpumap_hard, nbits, online & hard);
}

long set_affinity(Vcpu& v, xen_domctl_vcpuaffinity& a) {
    const unsigned nbits = sched::cpu_ids();
    const CpuSet online = sched::online_cpus();
    const CpuSet old_hard = v.hard_affinity;
    long rc = 0;
    if (a.flags & XEN_VCPUAFFINITY_HARD)
        if ((rc = set_hard(v, a, nbits, online))) return rc;
    if (a.flags & XEN_VCPUAFFINITY_SOFT) {
        CpuSet soft;
        if ((rc = read_bitmap(a.cpumap_soft, nbits, soft))) {
            // The caller expects nothing to have changed: the hard affinity goes back.
            if (a.flags & XEN_VCPUAFFINITY_HARD) {
                v.hard_affinity = old_hard;
                sched::set_affinity(v, old_hard);
            }
            return rc;
        }
        v.soft_affinity = soft;
        rc = write_bitmap(a.cpumap_soft, nbits, soft & online & v.hard_affinity);
    }
    return rc;
}

long get_affinity(const Vcpu& v, xen_domctl_vcpuaffinity& a) {
    const unsigned nbits = sched::cpu_ids();
    long rc = 0;
    if (a.flags & XEN_VCPUAFFINITY_HARD) rc = write_bitmap(a.cpumap_hard, nbits, v.hard_affinity);
    if (a.flags & XEN_VCPUAFFINITY_SOFT) rc = write_bitmap(a.cpumap_soft, nbits, v.soft_affinity);
    return rc;
}

// The context goes in while the domain is paused (its vCPUs off every CPU); VGCF_online then
// brings the vCPU up (it runs once the domain is unpaused) and its absence takes it down, as
// Xen's VPF_down.
long load_context(Vcpu& v) {
    Domain& d = v.domain();
    sched::pause(d);
    long rc;
    {
        pv_mm::MmGuard mm;
        rc = vcpu_context::set(v, context);
    }
    if (rc == 0) {
        if (context.flags & VGCF_online) sched::bring_up(v);
        else sched::take_down(v);
    }
    sched::unpause(d);
    return rc;
}

long reset_vcpu(Vcpu& v) {
    Domain& d = v.domain();
    sched::pause(d);
    {
        pv_mm::MmGuard mm;
        vcpu_context::reset(v);
    }
    sched::unpause(d);
    return 0;
}

}  // namespace

Vcpu* made_vcpu(Domain& d, uint32_t id) {
    return d.vcpus_made() && id < d.nr_vcpus() ? d.vcpu(VcpuId(id)) : nullptr;
}

// Xen's XEN_DOMCTL_max_vcpus: max must be createdomain's max_vcpus (-EINVAL otherwise, and for
// the caller's own domain); the vCPUs exist from then on (again: nothing more to do).
long max_vcpus(Command& c) {
    Domain& d = *c.target;
    if (&d == &c.caller.domain() || c.op.u.max_vcpus.max != d.nr_vcpus()) return -XEN_EINVAL;
    d.make_vcpus();
    return 0;
}

long setvcpucontext(Command& c) {
    Domain& d = *c.target;
    const xen_domctl_vcpucontext& vc = c.op.u.vcpucontext;
    if (&d == &c.caller.domain()) return -XEN_EINVAL;  // no pause of one's own domain
    Vcpu* v = made_vcpu(d, vc.vcpu);
    if (!v) return -XEN_EINVAL;
    if (!vc.ctxt.p) return reset_vcpu(*v);
    if (!guest::read(guest::address_of(vc.ctxt), context)) return -XEN_EFAULT;
    return load_context(*v);
}

// Xen pauses just that vCPU; Kestrel pauses its domain, except for another vCPU of the caller's
// own domain, which is read as last saved.
long getvcpucontext(Command& c) {
    Domain& d = *c.target;
    const xen_domctl_vcpucontext& vc = c.op.u.vcpucontext;
    Vcpu* v = made_vcpu(d, vc.vcpu);
    if (!v || v == &c.caller) return -XEN_EINVAL;
    if (!v->initialised) return -XEN_ENODATA;
    bool pause = &d != &c.caller.domain();
    if (pause) sched::pause(d);
    vcpu_context::get(*v, context);
    if (pause) sched::unpause(d);
    c.copyback = true;
    return guest::write(guest::address_of(vc.ctxt), context) ? 0 : -XEN_EFAULT;
}

long vcpuaffinity(Command& c) {
    xen_domctl_vcpuaffinity& a = c.op.u.vcpuaffinity;
    Domain& d = *c.target;
    if (a.vcpu >= d.nr_vcpus()) return -XEN_EINVAL;
    Vcpu* v = made_vcpu(d, a.vcpu);
    if (!v) return -XEN_ESRCH;
    if (params_invalid(a)) return -XEN_EINVAL;
    // XEN_VCPUAFFINITY_FORCE undoes a SCHEDOP_pin_override, which Kestrel does not have.
    return c.op.cmd == XEN_DOMCTL_setvcpuaffinity ? set_affinity(*v, a) : get_affinity(*v, a);
}

// The frame (a machine frame for PV) must be the domain's (-EINVAL) and able to take a
// writable type (-EPERM: a page table, descriptors).
long hypercall_init(Command& c) {
    Domain& d = *c.target;
    Mfn m(c.op.u.hypercall_init.gmfn);
    pv_mm::MmGuard mm;
    FrameTable* ft = d.machine().table();
    if (!ft || !ft->owned_by(m, d.id())) return -XEN_EINVAL;
    if (pv_mm::get_page_type(d, m, PageType::writable)) return -XEN_EPERM;
    hypercall_page::fill_pv64(std::span<uint8_t, PAGE_SIZE>(static_cast<uint8_t*>(d.machine().map(m)), PAGE_SIZE));
    pv_mm::put_page_type(d, m);
    return 0;
}

}  // namespace domctl
