#include "host_platform_fake.hpp"

namespace fake_platform {

State& state() {
    static State s;
    return s;
}

void reset() { state() = State{}; }

}  // namespace fake_platform

namespace host_platform {

Cpu cpu(uint32_t index) {
    const auto& cpus = fake_platform::state().cpus;
    return index < cpus.size() ? cpus[index] : Cpu{false, false, 0, 0};
}

uint32_t max_present() { return uint32_t(fake_platform::state().cpus.size() - 1); }

CpuVersion cpu_version() { return fake_platform::state().version; }

bool acpi_pm1a_present() { return fake_platform::state().pm1a; }

bool kbd_shift_flags(uint8_t& flags) {
    flags = fake_platform::state().kbd_flags;
    return fake_platform::state().bios;
}

}  // namespace host_platform
