// event_channel_op: binding, closing, signalling and querying ports, the FIFO ABI's set-up
// (event_channel_fifo.cpp does the work) and EVTCHNOP_reset, with Xen 4.17's checks and error
// numbers in its order. Every operation acts on the caller's ports, except alloc_unbound,
// status and reset, which the control domain may direct at another domain.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "event_channel.hpp"
#include "event_channel_fifo.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "irq_lines.hpp"
#include "vcpu.hpp"

namespace {

// A bound port's new state. The FIFO queue it was last on (last_vcpu, last_priority) stays:
// it may still be that queue's tail, which the next delivery must know.
void occupy(Domain& d, Channel& c, ChannelState s, uint16_t remote_dom, uint32_t remote_port, uint8_t virq,
            uint16_t vcpu) {
    c.state = s;
    c.remote_dom = remote_dom;
    c.remote_port = remote_port;
    c.virq = virq;
    c.notify_vcpu = vcpu;
    c.fifo_pending = false;
    if (d.events().fifo()) events::fifo::bind(c);
}

// Xen's get_free_port: the lowest free port whose FIFO word is off every queue, adding storage
// as needed, up to the domain's limit and the ABI's. The port is taken as `s` at once, so that
// two vCPUs binding at the same time get different ports. The port, or -XEN_E*; 0 when a new
// block of ports is needed and `spare` is null (the event lock is held: see EventLock).
long take_free_port(Domain& d, ChannelState s, uint16_t remote_dom, uint32_t remote_port, uint8_t virq, uint16_t vcpu,
                    Channel*& spare) {
    EventChannels& ev = d.events();
    if (d.state() == DomainState::dying) return -XEN_EINVAL;
    const events::Fifo* f = ev.fifo();
    for (uint32_t port = 0;; ++port) {
        if (port > ev.max_port() || port >= ev.abi_ports()) return -XEN_ENOSPC;
        if (const Channel* c = d.channel(port)) {
            if (c->state != ChannelState::free || (f && events::fifo::is_busy(*f, port))) continue;
        } else if (!ev.extend(port, spare)) {
            return 0;
        }
        occupy(d, *d.channel(port), s, remote_dom, remote_port, virq, vcpu);
        return long(port);
    }
}

// take_free_port, with a block allocated without the lock whenever one is needed.
long claim_port(Domain& d, ChannelState s, uint16_t remote_dom, uint32_t remote_port, uint8_t virq, uint16_t vcpu) {
    Channel* spare = nullptr;
    long rc;
    for (;;) {
        {
            EventLock lock(d.events());
            rc = take_free_port(d, s, remote_dom, remote_port, virq, vcpu, spare);
        }
        if (rc != 0) break;
        auto m = d.machine().alloc_zeroed();
        if (!m) return -XEN_ENOMEM;
        spare = static_cast<Channel*>(d.machine().map(*m));
    }
    if (spare) d.machine().free(d.machine().mfn_of(spare));  // another vCPU added the block
    return rc;
}

// Xen's evtchn_free: nothing pending carries over to the port's next use.
void free_channel(Domain& d, uint32_t port) {
    events::clear_pending(d, port);
    Channel& c = *d.channel(port);
    c.state = ChannelState::free;
    c.remote_dom = 0;
    c.remote_port = 0;
    c.virq = 0;
    c.notify_vcpu = 0;
    c.fifo_pending = false;
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

Domain* peer_of(Domain& d, const Channel& c) {
    return c.remote_dom == d.id().raw() ? &d : domain_control::lookup(DomId(c.remote_dom));
}

// The line behind a pirq port stops (if the pirq still has one) and the pirq forgets the port.
void unbind_pirq(Domain& d, uint32_t pirq, uint32_t port) {
    PirqEntry* e = d.pirqs().get(pirq);
    if (!e || e->port != port) return;
    if (int32_t gsi = d.pirqs().gsi_of(pirq); gsi >= 0) irq_lines::unbind(uint32_t(gsi), d);
    EventLock lock(d.events());
    e->port = 0;
}

void close_port(Domain& d, uint32_t port) {
    Channel& c = *d.channel(port);
    if (c.state == ChannelState::interdomain) {
        if (Domain* peer = peer_of(d, c))
            if (Channel* r = peer->channel(c.remote_port); r && r->state == ChannelState::interdomain) {
                r->state = ChannelState::unbound;
                r->remote_dom = d.id().raw();
                r->remote_port = 0;
            }
    } else if (c.state == ChannelState::virq) {
        if (Vcpu* v = d.vcpu(VcpuId(c.notify_vcpu)); v && v->virq_port[c.virq] == port) v->virq_port[c.virq] = 0;
    } else if (c.state == ChannelState::pirq) {
        unbind_pirq(d, c.remote_port, port);
    }
    free_channel(d, port);
}

long alloc_unbound(Vcpu& v, evtchn_alloc_unbound& a) {
    Domain* d;
    if (long rc = target_domain(v, a.dom, d)) return rc;
    domid_t remote = a.remote_dom == DOMID_SELF ? v.domain().id().raw() : a.remote_dom;
    long port = claim_port(*d, ChannelState::unbound, remote, 0, 0, 0);
    if (port < 0) return port;
    a.port = uint32_t(port);
    return 0;
}

long bind_interdomain(Vcpu& v, evtchn_bind_interdomain& b) {
    Domain& ld = v.domain();
    Domain* rd = b.remote_dom == DOMID_SELF || b.remote_dom == ld.id().raw() ? &ld : domain_control::lookup(DomId(b.remote_dom));
    if (!rd) return -XEN_ESRCH;
    long lport = claim_port(ld, ChannelState::interdomain, rd->id().raw(), b.remote_port, 0, 0);
    if (lport < 0) return lport;
    Channel* r = rd->channel(b.remote_port);
    if (!r || r->state != ChannelState::unbound || r->remote_dom != ld.id().raw()) {
        free_channel(ld, uint32_t(lport));
        return -XEN_EINVAL;
    }
    r->state = ChannelState::interdomain;
    r->remote_dom = ld.id().raw();
    r->remote_port = uint32_t(lport);
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
    long port = claim_port(v.domain(), ChannelState::virq, 0, 0, uint8_t(b.virq), uint16_t(b.vcpu));
    if (port < 0) return port;
    target->virq_port[b.virq] = uint32_t(port);
    b.port = uint32_t(port);
    return 0;
}

long bind_ipi(Vcpu& v, evtchn_bind_ipi& b) {
    if (!v.domain().vcpu(VcpuId(b.vcpu))) return -XEN_ENOENT;
    long port = claim_port(v.domain(), ChannelState::ipi, 0, 0, 0, uint16_t(b.vcpu));
    if (port < 0) return port;
    b.port = uint32_t(port);
    return 0;
}

// Xen's evtchn_bind_pirq: the pirq must be in range (-EINVAL) and mapped to a line (-EPERM:
// the domain has no access to it), with no port yet (-EEXIST). Notifies vCPU 0.
long bind_pirq(Vcpu& v, evtchn_bind_pirq& b) {
    Domain& d = v.domain();
    if (b.pirq >= d.pirqs().limit()) return -XEN_EINVAL;
    int32_t gsi = d.pirqs().gsi_of(b.pirq);
    if (gsi < 0) return -XEN_EPERM;
    if (d.pirqs().get(b.pirq)->port) return -XEN_EEXIST;
    long port = claim_port(d, ChannelState::pirq, 0, b.pirq, 0, 0);
    if (port < 0) return port;
    bool taken;
    {
        EventLock lock(d.events());
        PirqEntry* e = d.pirqs().get(b.pirq);
        taken = e->port != 0 || d.pirqs().gsi_of(b.pirq) != gsi;  // another vCPU got there first
        if (!taken) e->port = uint32_t(port);
    }
    long rc = taken ? -XEN_EEXIST : irq_lines::bind(uint32_t(gsi), d, uint32_t(port));
    if (rc != 0) {
        if (!taken) {
            EventLock lock(d.events());
            d.pirqs().get(b.pirq)->port = 0;
        }
        free_channel(d, uint32_t(port));
        return rc;
    }
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
    case ChannelState::interdomain:
        if (Domain* peer = peer_of(d, *c)) events::set_pending(*peer, c->remote_port);
        return 0;
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
    case ChannelState::pirq:
        st.status = EVTCHNSTAT_pirq;
        st.u.pirq = c->remote_port;
        break;
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
    case ChannelState::pirq:
        c->notify_vcpu = uint16_t(b.vcpu);
        return 0;
    default: return -XEN_EINVAL;
    }
}

long unmask(Vcpu& v, uint32_t port) {
    if (!v.domain().channel(port)) return -XEN_EINVAL;
    events::unmask(v.domain(), port);  // a port that is not bound: nothing to do
    return 0;
}

// Any valid port, bound or not, takes a priority; 2-level has none (-ENOSYS).
long set_priority(Vcpu& v, const evtchn_set_priority& p) {
    Domain& d = v.domain();
    Channel* c = d.channel(p.port);
    if (!c) return -XEN_EINVAL;
    if (!d.events().fifo()) return -XEN_ENOSYS;
    if (p.priority > EVTCHN_FIFO_PRIORITY_MIN) return -XEN_EINVAL;
    c->priority = uint8_t(p.priority);  // events already queued stay where they are
    return 0;
}

// Closes every port of the domain, then drops the FIFO state (back to 2-level). Another
// domain's ports only while it is paused. `resuming` is EVTCHNOP_reset_cont: it continues a
// reset under way; a reset while one is under way, or a continuation of none, is -EBUSY.
// Kestrel finishes the closes in one go (no continuation is ever needed).
long reset(Vcpu& v, const evtchn_reset& r, bool resuming) {
    Domain* d;
    if (long rc = target_domain(v, r.dom, d)) return rc;
    if (d != &v.domain() && !d->paused()) return -XEN_EINVAL;
    EventChannels& ev = d->events();
    uint32_t port;
    {
        EventLock lock(ev);
        port = resuming ? ev.reset_next : !ev.reset_next;
        if (port > ev.reset_next) ev.reset_next = port;
    }
    if (!port) return -XEN_EBUSY;
    for (; port < ev.valid_ports(); ++port) {
        ChannelState s = d->channel(port)->state;
        if (s != ChannelState::free && s != ChannelState::reserved) close_port(*d, port);
    }
    events::fifo::destroy(*d);
    EventLock lock(ev);
    ev.reset_next = 0;  // the reset is over only now: another one meanwhile is -EBUSY
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
    case EVTCHNOP_bind_pirq: return with_struct<evtchn_bind_pirq>(arg, [&](auto& b) { return bind_pirq(v, b); }, true);
    case EVTCHNOP_bind_ipi: return with_struct<evtchn_bind_ipi>(arg, [&](auto& b) { return bind_ipi(v, b); }, true);
    case EVTCHNOP_close: return with_struct<evtchn_close>(arg, [&](auto& c) { return close(v, c.port); }, false);
    case EVTCHNOP_send: return with_struct<evtchn_send>(arg, [&](auto& s) { return send(v, s.port); }, false);
    case EVTCHNOP_status: return with_struct<evtchn_status>(arg, [&](auto& s) { return status(v, s); }, true);
    case EVTCHNOP_bind_vcpu: return with_struct<evtchn_bind_vcpu>(arg, [&](auto& b) { return bind_vcpu(v, b); }, false);
    case EVTCHNOP_unmask: return with_struct<evtchn_unmask>(arg, [&](auto& u) { return unmask(v, u.port); }, false);
    case EVTCHNOP_reset:
    case EVTCHNOP_reset_cont: {
        bool resuming = int(args.a0) == EVTCHNOP_reset_cont;
        return with_struct<evtchn_reset>(arg, [&](auto& r) { return reset(v, r, resuming); }, false);
    }
    case EVTCHNOP_init_control:
        return with_struct<evtchn_init_control>(arg, [&](auto& ic) { return events::fifo::init_control(v, ic); }, true);
    case EVTCHNOP_expand_array:
        return with_struct<evtchn_expand_array>(arg, [&](auto& e) { return events::fifo::expand_array(v, e.array_gfn); }, false);
    case EVTCHNOP_set_priority:
        return with_struct<evtchn_set_priority>(arg, [&](auto& p) { return set_priority(v, p); }, false);
    default: return -XEN_ENOSYS;
    }
}
