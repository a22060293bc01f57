// Host stand-ins for what the PV hypercall code asks of the CPU, the scheduler, the console
// and the domain list: each records what it was asked, for tests to check.
#pragma once

#include <string>
#include <vector>

#include "domain.hpp"

namespace fake_pv {

struct Record {
    std::vector<std::string> events;  // "toggle", "fs_base 0x...", "yield", "block", "shutdown d0 0", ...
    std::string console;              // what reached console::write
    std::vector<Domain*> domains;     // what domain_control::lookup finds
    uint64_t fs_base = 0, gs_base_kernel = 0;
    bool fpu_trap = false;
    uint32_t port_value = 0;  // what port_in returns
    uint64_t xstate_mask = 0;  // what xstate_mask returns (0: no XSAVE)
    bool resched = false;      // set by sched::yield, read by sched::resched_pending
    uint64_t now_ns = 1'000'000'000;  // what sched::system_time returns
};

Record& record();
void reset();
bool happened(const std::string& event);

}  // namespace fake_pv
