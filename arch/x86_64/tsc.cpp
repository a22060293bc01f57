#include "tsc.hpp"

#include <arch/cpu.hpp>

#include "log.hpp"

namespace tsc {

namespace {

constexpr uint32_t PIT_HZ = 1193182;
constexpr uint32_t CALIBRATION_MS = 50;
constexpr uint16_t PIT_CH2_DATA = 0x42;
constexpr uint16_t PIT_COMMAND = 0x43;
constexpr uint16_t PORT_B = 0x61;           // bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2
constexpr uint8_t PIT_CH2_MODE0_LOHI = 0xb0;
constexpr uint64_t FALLBACK_HZ = 1'000'000'000;

uint64_t hz;
uint64_t start_tsc;
uint64_t mult_ns_q32;    // ns per tick, 32.32
uint64_t mult_tick_q32;  // ticks per ns, 32.32

uint64_t scale(uint64_t v, uint64_t q32) {
    return uint64_t((static_cast<unsigned __int128>(v) * q32) >> 32);
}

// TSC ticks during a PIT channel-2 countdown of CALIBRATION_MS; 0 if the PIT never finished.
uint64_t measure_with_pit() {
    uint32_t count = PIT_HZ * CALIBRATION_MS / 1000;
    arch::outb(PORT_B, uint8_t((arch::inb(PORT_B) & ~0x02) | 0x01));
    arch::outb(PIT_COMMAND, PIT_CH2_MODE0_LOHI);
    arch::outb(PIT_CH2_DATA, uint8_t(count));
    uint64_t t0 = arch::rdtsc();
    arch::outb(PIT_CH2_DATA, uint8_t(count >> 8));  // the count starts with its high byte
    for (uint64_t spins = 0; !(arch::inb(PORT_B) & 0x20); ++spins)
        if (spins > 200'000'000) return 0;
    return arch::rdtsc() - t0;
}

}  // namespace

void record_boot_tsc() { start_tsc = arch::rdtsc(); }
uint64_t boot_tsc() { return start_tsc; }

void calibrate() {
    uint64_t best = 0;
    // The shortest of three runs is the one least disturbed (by SMIs, or by a busy host
    // under emulation).
    for (int i = 0; i < 3; ++i) {
        uint64_t t = measure_with_pit();
        if (t && (best == 0 || t < best)) best = t;
    }
    if (best == 0) {
        log::warning("PIT did not answer: assuming a {} MHz TSC", FALLBACK_HZ / 1000000);
        hz = FALLBACK_HZ;
    } else {
        hz = best * 1000 / CALIBRATION_MS;
    }
    mult_ns_q32 = (uint64_t{1000000000} << 32) / hz;
    mult_tick_q32 = uint64_t((static_cast<unsigned __int128>(hz) << 32) / 1000000000);
    log::info("TSC: {}.{:03} MHz", hz / 1000000, (hz / 1000) % 1000);
}

uint64_t frequency_hz() { return hz; }
uint64_t ticks_to_ns(uint64_t ticks) { return scale(ticks, mult_ns_q32); }
uint64_t ns_to_ticks(uint64_t ns) { return scale(ns, mult_tick_q32); }
uint64_t now_ns() { return ticks_to_ns(arch::rdtsc() - start_tsc); }
uint64_t deadline_for(uint64_t ns) { return start_tsc + ns_to_ticks(ns); }

}  // namespace tsc
