// A toolstack in miniature: the control domain builds and starts a PV domain from an ELF
// image through the hypercalls a real toolstack uses (XEN_DOMCTL_createdomain, max_mem,
// XENMEM_populate_physmap, update_va_mapping_otherdomain to fill its frames, a foreign
// MMUEXT_PIN_L4_TABLE, hypercall_init, setvcpucontext, unpausedomain), so that a test kernel
// can run a second domain on Xen 4.17 as well as on Kestrel. The domain it builds has the
// documented PV start-of-day layout, as Xen's own builders give it: the image from
// pseudo-physical frame 0 at the image's virtual base, then the p2m list, start_info, the page
// tables and a one-page stack, all of the domain's memory mapped from the virtual base on.
#pragma once

#include <cstddef>
#include <cstdint>

#include <xen/domctl.h>
#include <xen/event_channel.h>
#include <xen/xen.h>

namespace kt {

long domctl(xen_domctl& op);
// A domctl for domain `dom` with the interface version filled in; the rest zero.
xen_domctl domctl_for(std::uint32_t cmd, domid_t dom);

struct DomainSpec {
    const void* elf = nullptr;  // a 64-bit PV kernel linked as the test kernels are
    std::size_t elf_size = 0;
    std::uint64_t pages = 0;    // its memory, all of it mapped at the start of day
    const char* cmdline = "";   // start_info.cmd_line
    int cpu = -1;               // the CPU its vCPU 0 is pinned to (hard affinity), or -1
    unsigned vcpus = 1;         // vCPU 0 starts; the others stay down
};

struct BuiltDomain {
    domid_t id = DOMID_INVALID;
    std::uint64_t start_info_mfn = 0;
    std::uint64_t l4_mfn = 0;
};

// Creates and builds the domain and leaves it paused: 0, or the first failing call's error
// (printed with the step's name). A domain created before a failure is destroyed again.
long build_domain(const DomainSpec& spec, BuiltDomain& out);
long unpause_domain(domid_t id);
long destroy_domain(domid_t id);
// Pins vCPU `vcpu` of domain `dom` to one CPU.
long pin_vcpu(domid_t dom, unsigned vcpu, unsigned cpu);
long domain_info(domid_t dom, xen_domctl_getdomaininfo& info);

// For the control domain (domain 0) beside a boot-time domain `dom` on Kestrel: waits, yielding,
// until `dom` has been destroyed; false if `timeout_ms` of TSC time pass first. Kestrel makes
// the boot-time domains on the boot CPU before that CPU runs any guest, and another CPU may
// run dom0 meanwhile: so dom0's vCPU 0 first runs on every online CPU in turn (pinned to
// each), after which `dom` exists unless it has been destroyed. Then it waits until `dom` is no
// longer listed. That is not yet the end: Kestrel takes a domain off its list when its last
// vCPU leaves its CPU, then gives its frames back and logs "domain N destroyed", all on that
// CPU before it runs a guest again. So vCPU 0 runs on every CPU once more (after which it may
// run anywhere again): on the CPU of the teardown, that is after it.
bool await_destroyed(domid_t dom, std::uint64_t timeout_ms);

// Copies `len` bytes at start-of-day virtual address `va` of the domain built last (while it
// lives), for a toolstack that reads what the domain wrote; false if out of its memory.
bool peek_built_domain(std::uint64_t va, void* out, std::size_t len);

// This kernel's own initrd (start_info's mod_start/mod_len, a virtual address for the control
// domain) as the image of a domain of `pages` pages with that command line.
DomainSpec spec_from_initrd(std::uint64_t pages, const char* cmdline);

// A port of ours that domain `peer` may bind to (EVTCHNOP_alloc_unbound), or 0.
evtchn_port_t offer_port(domid_t peer);

// For the domain built: the port domain `dom` offers it (EVTCHNOP_alloc_unbound for this
// domain), found by trying each of dom's ports in turn; bound here, its local port returned,
// or 0 if none is offered.
evtchn_port_t bind_offered_port(domid_t dom);

} // namespace kt
