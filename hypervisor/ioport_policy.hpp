// Which I/O ports a domain may use. The control domain gets every port except those the
// hypervisor drives itself (its serial consoles, the interrupt controllers and timer it owns,
// and the test-exit device); other domains get none. As on Xen, an emulated access to a port
// the domain may not use reads all ones and writes nothing, rather than faulting.
#pragma once

#include <stdint.h>

class Domain;

namespace ioport_policy {

// Keeps [first, first + count) for the hypervisor (boot time, before domains run).
void reserve(uint16_t first, uint16_t count);
bool allowed(const Domain& d, uint16_t port, unsigned bytes);

}  // namespace ioport_policy
