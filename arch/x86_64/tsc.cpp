#include "tsc.hpp"

#include <arch/cpu.hpp>

#include "acpi.hpp"
#include "log.hpp"

namespace tsc {

namespace {

constexpr uint32_t PIT_HZ = 1193182;
constexpr uint32_t PIT_CALIBRATION_MS = 50;
constexpr uint16_t PIT_CH2_DATA = 0x42;
constexpr uint16_t PIT_COMMAND = 0x43;
constexpr uint16_t PORT_B = 0x61;           // bit 0: channel 2 gate, bit 1: speaker, bit 5: OUT2
constexpr uint8_t PIT_CH2_MODE0_LOHI = 0xb0;
constexpr uint64_t FALLBACK_HZ = 1'000'000'000;

constexpr uint64_t PM_TIMER_HZ = 3'579'545;
constexpr uint64_t PM_CALIBRATION_MS = 100;
constexpr unsigned PM_SAMPLES = 64;           // reads at each end, the tightest kept
constexpr uint64_t PM_SPIN_LIMIT = 100'000'000;  // reads before a timer that does not count is given up
constexpr uint8_t ACPI_SPACE_IO = 1;

uint64_t hz;
uint64_t start_tsc;
uint64_t mult_ns_q32;    // ns per tick, 32.32
uint64_t mult_tick_q32;  // ticks per ns, 32.32

uint64_t scale(uint64_t v, uint64_t q32) {
    return uint64_t((static_cast<unsigned __int128>(v) * q32) >> 32);
}

// TSC ticks during a PIT channel-2 countdown of PIT_CALIBRATION_MS; 0 if the PIT never finished.
uint64_t measure_with_pit() {
    uint32_t count = PIT_HZ * PIT_CALIBRATION_MS / 1000;
    arch::outb(PORT_B, uint8_t((arch::inb(PORT_B) & ~0x02) | 0x01));
    arch::outb(PIT_COMMAND, PIT_CH2_MODE0_LOHI);
    arch::outb(PIT_CH2_DATA, uint8_t(count));
    uint64_t t0 = arch::rdtsc();
    arch::outb(PIT_CH2_DATA, uint8_t(count >> 8));  // the count starts with its high byte
    for (uint64_t spins = 0; !(arch::inb(PORT_B) & 0x20); ++spins)
        if (spins > 200'000'000) return 0;
    return arch::rdtsc() - t0;
}

// The PIT's answer: the shortest of three runs is the one least disturbed (by SMIs, or by a
// busy host under emulation); 0 if it never answered.
uint64_t hz_from_pit() {
    uint64_t best = 0;
    for (int i = 0; i < 3; ++i) {
        uint64_t t = measure_with_pit();
        if (t && (best == 0 || t < best)) best = t;
    }
    return best * 1000 / PIT_CALIBRATION_MS;
}

// The ACPI PM timer: a free-running counter at 3.579545 MHz (24 or 32 bits) read with one inl.
class PmTimer {
public:
    PmTimer(uint16_t port, bool bits32) : port_(port), mask_(bits32 ? 0xffffffffu : 0xffffffu) {}

    uint32_t read() const { return arch::inl(port_) & mask_; }
    uint32_t since(uint32_t from, uint32_t to) const { return (to - from) & mask_; }

    // A TSC value and a timer value read together: the TSC halfway between readings taken
    // just before and just after the timer's, and the width between them, which bounds how far
    // apart the two may be. Of many tries the tightest is kept, so that an interruption (an
    // SMI, or the host descheduling an emulated CPU) cannot spoil the pair.
    struct Pair {
        uint64_t tsc;
        uint32_t timer;
        uint64_t width;
    };
    Pair pair() const {
        Pair best{0, 0, ~uint64_t{0}};
        for (unsigned i = 0; i < PM_SAMPLES; ++i) {
            const uint64_t before = arch::rdtsc();
            const uint32_t t = read();
            const uint64_t after = arch::rdtsc();
            if (after - before < best.width) best = Pair{before + (after - before) / 2, t, after - before};
        }
        return best;
    }

    // Spins until `ticks` have passed since `from`; false if the timer does not count.
    bool wait(uint32_t from, uint32_t ticks) const {
        for (uint64_t spins = 0; since(from, read()) < ticks; ++spins)
            if (spins > PM_SPIN_LIMIT) return false;
        return true;
    }

private:
    uint16_t port_;
    uint32_t mask_;
};

// TSC ticks per second against the PM timer over PM_CALIBRATION_MS; 0 if the timer does not
// count. `uncertainty_ppm` is the widest the error can be from the two pairs' widths.
uint64_t hz_from_pm_timer(const PmTimer& pm, uint64_t& uncertainty_ppm) {
    const PmTimer::Pair start = pm.pair();
    if (!pm.wait(start.timer, uint32_t(PM_TIMER_HZ * PM_CALIBRATION_MS / 1000))) return 0;
    const PmTimer::Pair end = pm.pair();
    const uint64_t ticks = end.tsc - start.tsc;
    const uint32_t timer_ticks = pm.since(start.timer, end.timer);
    if (ticks == 0 || timer_ticks == 0) return 0;
    uncertainty_ppm = (start.width + end.width) * 1'000'000 / 2 / ticks + 1;
    return uint64_t(static_cast<unsigned __int128>(ticks) * PM_TIMER_HZ / timer_ticks);
}

}  // namespace

void record_boot_tsc() { start_tsc = arch::rdtsc(); }
uint64_t boot_tsc() { return start_tsc; }

void calibrate(const acpi::Platform& p) {
    const char* source = "PIT";
    uint64_t uncertainty_ppm = 0;
    hz = 0;
    if (p.pm_timer.space_id == ACPI_SPACE_IO && p.pm_timer.address && p.pm_timer.address <= 0xffff) {
        hz = hz_from_pm_timer(PmTimer(uint16_t(p.pm_timer.address), p.pm_timer_32bit), uncertainty_ppm);
        if (hz) source = "ACPI PM timer";
        else log::warning("ACPI PM timer at port {:#x} does not count: calibrating against the PIT", p.pm_timer.address);
    }
    if (!hz) hz = hz_from_pit();
    if (!hz) {
        log::warning("PIT did not answer: assuming a {} MHz TSC", FALLBACK_HZ / 1000000);
        hz = FALLBACK_HZ;
        source = "nothing";
    }
    mult_ns_q32 = (uint64_t{1000000000} << 32) / hz;
    mult_tick_q32 = uint64_t((static_cast<unsigned __int128>(hz) << 32) / 1000000000);
    if (uncertainty_ppm)
        log::info("TSC: {}.{:03} MHz (against the {}, within {} ppm)", hz / 1000000, (hz / 1000) % 1000, source,
                  uncertainty_ppm);
    else
        log::info("TSC: {}.{:03} MHz (against the {})", hz / 1000000, (hz / 1000) % 1000, source);
}

uint64_t frequency_hz() { return hz; }
uint64_t ticks_to_ns(uint64_t ticks) { return scale(ticks, mult_ns_q32); }
uint64_t ns_to_ticks(uint64_t ns) { return scale(ns, mult_tick_q32); }
uint64_t now_ns() { return ticks_to_ns(arch::rdtsc() - start_tsc); }
uint64_t deadline_for(uint64_t ns) { return start_tsc + ns_to_ticks(ns); }

}  // namespace tsc
