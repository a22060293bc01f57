// Host stand-ins for the image-only parts of the core (log, panic), so that code which logs
// or panics runs under GoogleTest: log lines are kept for tests to inspect, and a panic
// throws HostPanic (host tests only: the hypervisor itself has no exceptions).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

struct HostPanic : std::runtime_error {
    using std::runtime_error::runtime_error;
};

namespace host_log {
// Every line logged since the last clear(), without the "(KESTREL)" prefix.
const std::vector<std::string>& lines();
void clear();
// True if some logged line contains text.
bool contains(const std::string& text);
}  // namespace host_log
