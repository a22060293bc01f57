#include "event_channel.hpp"

#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_traps.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

static_assert(events::VIRQ_COUNT == NR_VIRQS);

namespace events {

namespace {

constexpr unsigned BITS = 64;

bool test_and_set(xen_ulong_t* words, uint32_t bit) {
    xen_ulong_t mask = xen_ulong_t{1} << (bit % BITS);
    return __atomic_fetch_or(&words[bit / BITS], mask, __ATOMIC_SEQ_CST) & mask;
}

bool test(const xen_ulong_t* words, uint32_t bit) {
    return __atomic_load_n(&words[bit / BITS], __ATOMIC_SEQ_CST) & (xen_ulong_t{1} << (bit % BITS));
}


// The upcall of v: its selector bit for the port's word and its upcall-pending flag, then a
// wake-up if it sleeps.
void raise_upcall(Vcpu& v, uint32_t port) {
    vcpu_info* info = v.info();
    xen_ulong_t sel = xen_ulong_t{1} << (port / BITS);
    if (__atomic_fetch_or(&info->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel) return;
    __atomic_store_n(&info->evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
    sched::wake(v);
}

Vcpu* notified(Domain& d, const Channel& c) {
    Vcpu* v = d.vcpu(VcpuId(c.notify_vcpu));
    return v ? v : d.vcpu(VcpuId(0));
}

}  // namespace

bool virq_is_per_vcpu(uint32_t virq) {
    return virq == VIRQ_TIMER || virq == VIRQ_DEBUG || virq == VIRQ_XENOPROF || virq == VIRQ_XENPMU;
}

void set_pending(Domain& d, uint32_t port) {
    Channel* c = d.channel(port);
    if (!c) return;
    shared_info* s = d.shared();
    if (test_and_set(s->evtchn_pending, port)) return;
    if (!test(s->evtchn_mask, port))
        if (Vcpu* v = notified(d, *c)) raise_upcall(*v, port);
    wake_pollers(d, port);
}

void wake_pollers(Domain& d, uint32_t port) {
    for (unsigned i = 0; i < d.nr_vcpus(); ++i) {
        Vcpu* v = d.vcpu(VcpuId(i));
        if (!__atomic_load_n(&v->polling, __ATOMIC_SEQ_CST)) continue;
        if (v->poll_port != Vcpu::POLL_ANY && v->poll_port != port) continue;
        __atomic_store_n(&v->polling, false, __ATOMIC_SEQ_CST);
        sched::wake(*v);
    }
}

void send_virq(Domain& d, uint32_t virq, uint32_t vcpu) {
    if (virq >= VIRQ_COUNT) return;
    Vcpu* v = d.vcpu(VcpuId(virq_is_per_vcpu(virq) ? vcpu : 0));
    if (v && v->virq_port[virq]) set_pending(d, v->virq_port[virq]);
}

void clear_pending(Domain& d, uint32_t port) {
    if (port < MAX_PORTS)
        __atomic_fetch_and(&d.shared()->evtchn_pending[port / BITS], ~(xen_ulong_t{1} << (port % BITS)), __ATOMIC_SEQ_CST);
}

bool is_pending(const Domain& d, uint32_t port) { return port < MAX_PORTS && test(d.shared()->evtchn_pending, port); }

bool queue_upcall(Vcpu& v) {
    vcpu_info* info = v.info();
    if (!info || !info->evtchn_upcall_pending || info->evtchn_upcall_mask || v.bounce.pending) return false;
    return pv::queue_callback(v, CALLBACKTYPE_event);
}

}  // namespace events

namespace {

using events::MAX_PORTS;

long free_port(Domain& d) {
    for (uint32_t p = 1; p < MAX_PORTS; ++p)
        if (d.channel(p)->state == ChannelState::free) return long(p);
    return -XEN_ENOSPC;
}

// The domain an operation names: the caller's own, or (for the control domain) another.
long target_domain(Vcpu& v, domid_t dom, Domain*& out) {
    if (dom == DOMID_SELF || dom == v.domain().id().raw()) {
        out = &v.domain();
        return 0;
    }
    out = domain_control::lookup(DomId(dom));
    if (!out) return -XEN_ESRCH;
    return v.domain().privileged() ? 0 : -XEN_EPERM;
}

void close_port(Domain& d, uint32_t port) {
    Channel& c = *d.channel(port);
    if (c.state == ChannelState::interdomain) {
        Domain* peer = domain_control::lookup(DomId(c.remote_dom));
        if (!peer && c.remote_dom == d.id().raw()) peer = &d;
        if (peer)
            if (Channel* r = peer->channel(c.remote_port); r && r->state == ChannelState::interdomain)
                *r = Channel{ChannelState::unbound, d.id().raw(), 0, 0, r->notify_vcpu};
    } else if (c.state == ChannelState::virq) {
        if (Vcpu* v = d.vcpu(VcpuId(c.notify_vcpu)); v && v->virq_port[c.virq] == port) v->virq_port[c.virq] = 0;
    }
    c = Channel{};
    events::clear_pending(d, port);  // a free port carries nothing over to its next use
}

long alloc_unbound(Vcpu& v, evtchn_alloc_unbound& a) {
    Domain* d;
    if (long rc = target_domain(v, a.dom, d)) return rc;
    long port = free_port(*d);
    if (port < 0) return port;
    domid_t remote = a.remote_dom == DOMID_SELF ? v.domain().id().raw() : a.remote_dom;
    *d->channel(uint32_t(port)) = Channel{ChannelState::unbound, remote, 0, 0, 0};
    a.port = uint32_t(port);
    return 0;
}

long bind_interdomain(Vcpu& v, evtchn_bind_interdomain& b) {
    Domain& ld = v.domain();
    Domain* rd = b.remote_dom == DOMID_SELF || b.remote_dom == ld.id().raw() ? &ld : domain_control::lookup(DomId(b.remote_dom));
    if (!rd) return -XEN_ESRCH;
    long lport = free_port(ld);
    if (lport < 0) return lport;
    Channel* r = rd->channel(b.remote_port);
    if (!r || r->state != ChannelState::unbound || r->remote_dom != ld.id().raw()) return -XEN_EINVAL;
    *ld.channel(uint32_t(lport)) = Channel{ChannelState::interdomain, rd->id().raw(), b.remote_port, 0, 0};
    *r = Channel{ChannelState::interdomain, ld.id().raw(), uint32_t(lport), 0, r->notify_vcpu};
    b.local_port = uint32_t(lport);
    // Notifications sent before the connection were dropped: the new port starts pending.
    events::set_pending(ld, uint32_t(lport));
    return 0;
}

long bind_virq(Vcpu& v, evtchn_bind_virq& b) {
    if (b.virq >= events::VIRQ_COUNT) return -XEN_EINVAL;
    if (!events::virq_is_per_vcpu(b.virq) && b.vcpu != 0) return -XEN_EINVAL;
    Vcpu* target = v.domain().vcpu(VcpuId(b.vcpu));
    if (!target) return -XEN_ENOENT;
    if (target->virq_port[b.virq]) return -XEN_EEXIST;
    long port = free_port(v.domain());
    if (port < 0) return port;
    *v.domain().channel(uint32_t(port)) = Channel{ChannelState::virq, 0, 0, b.virq, b.vcpu};
    target->virq_port[b.virq] = uint32_t(port);
    b.port = uint32_t(port);
    return 0;
}

long bind_ipi(Vcpu& v, evtchn_bind_ipi& b) {
    if (!v.domain().vcpu(VcpuId(b.vcpu))) return -XEN_ENOENT;
    long port = free_port(v.domain());
    if (port < 0) return port;
    *v.domain().channel(uint32_t(port)) = Channel{ChannelState::ipi, 0, 0, 0, b.vcpu};
    b.port = uint32_t(port);
    return 0;
}

long close(Vcpu& v, uint32_t port) {
    Channel* c = v.domain().channel(port);
    if (!c || c->state == ChannelState::free || c->state == ChannelState::reserved) return -XEN_EINVAL;
    close_port(v.domain(), port);
    return 0;
}

long send(Vcpu& v, uint32_t port) {
    Domain& d = v.domain();
    Channel* c = d.channel(port);
    if (!c) return -XEN_EINVAL;
    switch (c->state) {
    case ChannelState::interdomain: {
        Domain* peer = c->remote_dom == d.id().raw() ? &d : domain_control::lookup(DomId(c->remote_dom));
        if (peer) events::set_pending(*peer, c->remote_port);
        return 0;
    }
    case ChannelState::ipi: events::set_pending(d, port); return 0;
    case ChannelState::unbound: return 0;  // nobody to tell yet: dropped, as on Xen
    default: return -XEN_EINVAL;
    }
}

long status(Vcpu& v, evtchn_status& st) {
    Domain* d;
    if (long rc = target_domain(v, st.dom, d)) return rc;
    Channel* c = d->channel(st.port);
    if (!c) return -XEN_EINVAL;
    st.vcpu = c->notify_vcpu;
    switch (c->state) {
    case ChannelState::free:
    case ChannelState::reserved: st.status = EVTCHNSTAT_closed; break;
    case ChannelState::unbound:
        st.status = EVTCHNSTAT_unbound;
        st.u.unbound.dom = c->remote_dom;
        break;
    case ChannelState::interdomain:
        st.status = EVTCHNSTAT_interdomain;
        st.u.interdomain.dom = c->remote_dom;
        st.u.interdomain.port = c->remote_port;
        break;
    case ChannelState::virq:
        st.status = EVTCHNSTAT_virq;
        st.u.virq = c->virq;
        break;
    case ChannelState::ipi: st.status = EVTCHNSTAT_ipi; break;
    }
    return 0;
}

long bind_vcpu(Vcpu& v, const evtchn_bind_vcpu& b) {
    Domain& d = v.domain();
    if (!d.vcpu(VcpuId(b.vcpu))) return -XEN_ENOENT;
    Channel* c = d.channel(b.port);
    if (!c) return -XEN_EINVAL;
    switch (c->state) {
    case ChannelState::virq:
        if (events::virq_is_per_vcpu(c->virq)) return -XEN_EINVAL;
        [[fallthrough]];
    case ChannelState::unbound:
    case ChannelState::interdomain:
        c->notify_vcpu = b.vcpu;
        return 0;
    default: return -XEN_EINVAL;
    }
}

long unmask(Vcpu& v, uint32_t port) {
    Domain& d = v.domain();
    Channel* c = d.channel(port);
    if (!c) return -XEN_EINVAL;
    shared_info* s = d.shared();
    __atomic_fetch_and(&s->evtchn_mask[port / 64], ~(xen_ulong_t{1} << (port % 64)), __ATOMIC_SEQ_CST);
    // A port that became pending while masked raises its upcall now.
    if (events::is_pending(d, port)) {
        Vcpu* target = d.vcpu(VcpuId(c->notify_vcpu));
        if (!target) target = &v;
        vcpu_info* info = target->info();
        xen_ulong_t sel = xen_ulong_t{1} << (port / 64);
        if (!(__atomic_fetch_or(&info->evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel)) {
            __atomic_store_n(&info->evtchn_upcall_pending, uint8_t{1}, __ATOMIC_SEQ_CST);
            sched::wake(*target);
        }
    }
    return 0;
}

template <typename T, typename F>
long with_struct(Gva arg, F f, bool write_back) {
    T op;
    if (!guest::read(arg, op)) return -XEN_EFAULT;
    long rc = f(op);
    if (rc == 0 && write_back && !guest::write(arg, op)) return -XEN_EFAULT;
    return rc;
}

}  // namespace

long do_event_channel_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    Gva arg(args.a1);
    switch (int(args.a0)) {
    case EVTCHNOP_alloc_unbound:
        return with_struct<evtchn_alloc_unbound>(arg, [&](auto& a) { return alloc_unbound(v, a); }, true);
    case EVTCHNOP_bind_interdomain:
        return with_struct<evtchn_bind_interdomain>(arg, [&](auto& b) { return bind_interdomain(v, b); }, true);
    case EVTCHNOP_bind_virq: return with_struct<evtchn_bind_virq>(arg, [&](auto& b) { return bind_virq(v, b); }, true);
    case EVTCHNOP_bind_ipi: return with_struct<evtchn_bind_ipi>(arg, [&](auto& b) { return bind_ipi(v, b); }, true);
    case EVTCHNOP_close: return with_struct<evtchn_close>(arg, [&](auto& c) { return close(v, c.port); }, false);
    case EVTCHNOP_send: return with_struct<evtchn_send>(arg, [&](auto& s) { return send(v, s.port); }, false);
    case EVTCHNOP_status: return with_struct<evtchn_status>(arg, [&](auto& s) { return status(v, s); }, true);
    case EVTCHNOP_bind_vcpu: return with_struct<evtchn_bind_vcpu>(arg, [&](auto& b) { return bind_vcpu(v, b); }, false);
    case EVTCHNOP_unmask: return with_struct<evtchn_unmask>(arg, [&](auto& u) { return unmask(v, u.port); }, false);
    // bind_pirq comes with dom0's interrupts; reset and the FIFO ABI are not offered.
    default: return -XEN_ENOSYS;
    }
}
