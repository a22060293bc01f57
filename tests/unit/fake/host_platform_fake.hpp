// A host stand-in for the machine platform_op reports (host_platform.hpp): two CPUs (the
// second offline), an Intel identity, a PM1a block and BIOS keyboard flags, all adjustable.
#pragma once

#include <vector>

#include "host_platform.hpp"

namespace fake_platform {

struct State {
    std::vector<host_platform::Cpu> cpus{{true, true, 0, 1}, {true, false, 2, 3}};
    host_platform::CpuVersion version{{'G', 'e', 'n', 'u', 'i', 'n', 'e', 'I', 'n', 't', 'e', 'l'}, 6, 0x55, 4};
    bool pm1a = true;
    bool bios = true;
    uint8_t kbd_flags = 0x20;
};

State& state();
void reset();

}  // namespace fake_platform
