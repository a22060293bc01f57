// Deliberate hypervisor faults, chosen with `crashtest=` on the command line, so that the
// boot tests can prove every fault ends in a full report rather than a silent reset.
#pragma once

#include "kstd/string.hpp"

namespace crashtest {

// Returns (with a warning) only if the name is not a known crash.
void run(kstd::StringView name);

}  // namespace crashtest
