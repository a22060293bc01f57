// Domain lifecycle events raised by hypercalls and traps, carried out by the layer that owns
// the domain list and the machine (arch/x86_64/domains.cpp; a recording fake in host tests).
#pragma once

#include "domain.hpp"
#include "kstd/format.hpp"

class Vcpu;

namespace domain_control {

// The guest asked to stop (SCHEDOP_shutdown or remote_shutdown). For the control domain this
// ends the machine as its reason says, as Xen does.
void shutdown(Domain& d, ShutdownReason reason);
// The hypervisor stops a misbehaving domain. Logs "domain N vcpu M crashed: <why>".
void crash(Vcpu& v, const char* why);
// A domain by id, or null. A dying domain whose frames other domains still map through grants
// is found too, until reap() finishes it.
Domain* lookup(DomId id);
// The domain with the lowest id at or above `id` (dying ones included), or null
// (XEN_DOMCTL_getdomaininfo). Callers hold the MMU lock, which keeps it from being freed.
Domain* first_from(DomId id);
// Whether a new domain may take id: below the list's limit (DOMID_FIRST_RESERVED) and unused.
bool id_free(DomId id);
// XEN_DOMCTL_createdomain: a toolstack-built domain (c.toolstack set) with id c.id, its
// vCPUs down in run queues, paused by the toolstack, in the list. id_in_use if the id is
// taken meanwhile; the reasons of Domain::create otherwise.
kstd::Expected<Domain*, DomainError> create(const DomainConfig& c);
// XEN_DOMCTL_destroydomain: d (never the control domain) is paused for good, off every CPU,
// and destroyed: its frames go back once no other domain holds any (until then it stays,
// dying, as for reap()). The caller holds d by one foreign reference (so that d stays while it
// waits for d's vCPUs), which this drops. A domain already dying: nothing more happens.
void destroy(Domain& d);
// Calls fn for every domain in the list, dying ones included, under the list's lock (taken with
// interrupts off): fn must be short and must not look domains up.
void for_each(void (*fn)(Domain&));
// Something that held domain `id` alive after its death has let go (the last reference another
// domain's page tables held on its frames, or the last grant of its mapped by another domain):
// if the domain is dying and nothing else holds it, it is destroyed now. Called without the MMU
// lock or the grant lock (pv_mm::reap_later defers it until the MMU lock is dropped).
void reap(DomId id);

template <typename... Args>
void crash(Vcpu& v, kstd::FormatStringFor<Args...> fmt, const Args&... args) {
    char why[160];
    kstd::format_to<Args...>(why, sizeof why, fmt, args...);
    crash(v, why);
}

}  // namespace domain_control
