// The PC's CMOS real-time clock (MC146818 and its descendants): what its time registers mean.
// Reading them (the update-in-progress wait, the ports) is the arch layer's; this turns what was
// read into seconds since 1970-01-01 00:00:00, which is UTC when the RTC keeps UTC (QEMU's does
// by default; Xen assumes the same).
//
// The status registers decide the encoding: B.DM (bit 2) set means binary values, clear means
// BCD; B.24/12 (bit 1) clear means 12-hour mode, where bit 7 of the hours register marks PM and
// the hours run 1..12. The year register holds two digits; the century comes from the register
// the FADT names (CENTURY) when there is one, and otherwise from Xen's rule: years 70..99 are
// 19xx, 00..69 are 20xx. Every value is checked (BCD digits, ranges, the day against its month
// in that year): bad data is an error naming the field, never a wrong time.
#pragma once

#include <stdint.h>

#include "kstd/expected.hpp"
#include "kstd/types.hpp"

namespace rtc {

// CMOS register indexes.
constexpr uint8_t REG_SECONDS = 0x00;
constexpr uint8_t REG_MINUTES = 0x02;
constexpr uint8_t REG_HOURS = 0x04;
constexpr uint8_t REG_DAY_OF_MONTH = 0x07;
constexpr uint8_t REG_MONTH = 0x08;
constexpr uint8_t REG_YEAR = 0x09;
constexpr uint8_t REG_STATUS_A = 0x0a;
constexpr uint8_t REG_STATUS_B = 0x0b;

constexpr uint8_t STATUS_A_UIP = kstd::bit(7);     // an update of the time registers is near or under way
constexpr uint8_t STATUS_B_24_HOUR = kstd::bit(1); // 24-hour mode (else 12-hour)
constexpr uint8_t STATUS_B_BINARY = kstd::bit(2);  // DM: binary values (else BCD)
constexpr uint8_t HOURS_PM = kstd::bit(7);         // 12-hour mode: afternoon

// The registers as read, in the RTC's own encoding.
struct Registers {
    uint8_t seconds;
    uint8_t minutes;
    uint8_t hours;
    uint8_t day;
    uint8_t month;
    uint8_t year;
    uint8_t status_b;
    bool has_century;  // the FADT names a century register, read into `century`
    uint8_t century;
};

struct DateTime {
    uint32_t year;  // e.g. 2024
    uint8_t month;  // 1..12
    uint8_t day;    // 1..31
    uint8_t hour;   // 0..23
    uint8_t minute;
    uint8_t second;
};

enum class Error : uint8_t { bad_bcd, bad_second, bad_minute, bad_hour, bad_day, bad_month, bad_year, bad_century };
const char* error_name(Error e);

kstd::Expected<DateTime, Error> decode(const Registers& r);
// Seconds from 1970-01-01 00:00:00 to t (no leap seconds, as POSIX time); t from 1970 on.
uint64_t seconds_since_1970(const DateTime& t);

}  // namespace rtc
