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
