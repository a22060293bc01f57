// A host stand-in for the machine's interrupt lines (irq_lines.hpp): 24 GSIs and one I/O APIC, with each line's owner, port and wiring kept for tests to check.
// fire() plays an interrupt: the owner's port becomes pending, as the image's handler does.
#pragma once

#include <cstdint>
#include <map>

class Domain;

namespace fake_irq {

constexpr uint64_t IOAPIC_BASE = 0xfec00000;
constexpr uint32_t IOAPIC_VERSION = 0x00170020;  // 24 inputs

struct Line {
    const Domain* owner = nullptr;
    uint32_t port = 0;
    bool level = false, active_low = false, set_up = false;
    unsigned eois = 0;
};

struct State {
    uint32_t count = 24;
    std::map<uint32_t, Line> lines;
};

State& state();
void reset();
// An interrupt on a line: false when no domain has it.
bool fire(uint32_t gsi);

}  // namespace fake_irq
