#include "cmos_rtc.hpp"

#include <arch/cpu.hpp>

#include "log.hpp"
#include "rtc.hpp"
#include "tsc.hpp"
#include "wallclock.hpp"

namespace cmos_rtc {

namespace {

constexpr uint16_t CMOS_INDEX = 0x70;  // bit 7 of the index masks NMIs: left clear
constexpr uint16_t CMOS_DATA = 0x71;
constexpr uint64_t SECOND_WAIT_NS = 1'100'000'000;  // a second, and the length of an update
constexpr uint64_t UPDATE_LENGTH_NS = 3'000'000;    // an update lasts under 2 ms (Xen allows 3)
constexpr int MAX_READS = 5;

uint8_t read(uint8_t reg) {
    arch::outb(CMOS_INDEX, reg);
    return arch::inb(CMOS_DATA);
}

bool updating() { return read(rtc::REG_STATUS_A) & rtc::STATUS_A_UIP; }

// Spins while an update is near or under way, up to limit_ns; false if it timed out.
bool wait_for_no_update(uint64_t limit_ns) {
    const uint64_t end = tsc::now_ns() + limit_ns;
    while (updating())
        if (tsc::now_ns() > end) return false;
    return true;
}

// Spins until the seconds register changes, up to limit_ns; false if it did not. It is read
// only while the update flag is clear, which promises no change for the next 244 us: the
// value read is whole, and the change is seen as soon as an update has ended.
bool wait_for_next_second(uint64_t limit_ns) {
    const uint64_t end = tsc::now_ns() + limit_ns;
    int first = -1;
    while (tsc::now_ns() <= end) {
        if (updating()) continue;
        const uint8_t s = read(rtc::REG_SECONDS);
        if (first < 0)
            first = s;
        else if (s != first)
            return true;
    }
    return false;
}

rtc::Registers read_registers(uint8_t century_index) {
    rtc::Registers r{};
    r.seconds = read(rtc::REG_SECONDS);
    r.minutes = read(rtc::REG_MINUTES);
    r.hours = read(rtc::REG_HOURS);
    r.day = read(rtc::REG_DAY_OF_MONTH);
    r.month = read(rtc::REG_MONTH);
    r.year = read(rtc::REG_YEAR);
    r.status_b = read(rtc::REG_STATUS_B);
    r.has_century = century_index != 0;
    r.century = century_index ? read(century_index) : 0;
    return r;
}

bool same(const rtc::Registers& a, const rtc::Registers& b) {
    return a.seconds == b.seconds && a.minutes == b.minutes && a.hours == b.hours && a.day == b.day &&
           a.month == b.month && a.year == b.year && a.status_b == b.status_b && a.century == b.century;
}

// The registers, read twice alike (outside an update), so that no field comes from either
// side of a change.
rtc::Registers stable_registers(uint8_t century_index) {
    rtc::Registers r = read_registers(century_index);
    for (int i = 0; i < MAX_READS; ++i) {
        wait_for_no_update(UPDATE_LENGTH_NS);
        rtc::Registers again = read_registers(century_index);
        if (same(r, again)) break;
        r = again;
    }
    return r;
}

}  // namespace

void set_wallclock(const acpi::Platform& p) {
    if (p.iapc_boot_arch & acpi::BOOT_ARCH_NO_CMOS_RTC) {
        log::warning("wall clock: the FADT says there is no CMOS RTC; it starts at 1970");
        return;
    }
    // Right after the seconds change the registers hold a second that has just begun.
    const bool edge = wait_for_next_second(SECOND_WAIT_NS);
    const uint64_t system_ns = tsc::now_ns();
    const rtc::Registers r = stable_registers(p.rtc_century_index);
    auto t = rtc::decode(r);
    if (!t) {
        log::error("wall clock: the RTC reads {:02x}-{:02x}-{:02x} {:02x}:{:02x}:{:02x} (status B {:#x}): {}; "
                   "it starts at 1970", r.year, r.month, r.day, r.hours, r.minutes, r.seconds, r.status_b,
                   rtc::error_name(t.error()));
        return;
    }
    if (!edge) log::warning("wall clock: the RTC's seconds did not change in a second: read to the second only");
    wallclock::set(wallclock::Time{rtc::seconds_since_1970(*t), 0}, system_ns);
    log::info("wall clock: {}-{:02}-{:02} {:02}:{:02}:{:02} UTC from the RTC ({}, {}-hour)", t->year, t->month, t->day,
              t->hour, t->minute, t->second, (r.status_b & rtc::STATUS_B_BINARY) ? "binary" : "BCD",
              (r.status_b & rtc::STATUS_B_24_HOUR) ? 24 : 12);
}

}  // namespace cmos_rtc
