#include "rtc.hpp"

namespace rtc {

namespace {

constexpr uint32_t SECONDS_PER_DAY = 86400;

bool bcd_ok(uint8_t v) { return (v & 0x0f) <= 9 && (v >> 4) <= 9; }

// One register's value in binary, or an error for a byte that is no BCD number.
kstd::Expected<uint8_t, Error> value_of(uint8_t raw, bool binary) {
    if (binary) return raw;
    if (!bcd_ok(raw)) return kstd::unexpected(Error::bad_bcd);
    return uint8_t((raw >> 4) * 10 + (raw & 0x0f));
}

bool leap(uint32_t year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

uint8_t days_in_month(uint32_t year, uint8_t month) {
    constexpr uint8_t DAYS[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && leap(year) ? 29 : DAYS[month - 1];
}

// Leap years in [1, year]: every fourth, less the centuries, plus every fourth century.
uint64_t leap_years_through(uint32_t year) { return year / 4 - year / 100 + year / 400; }

// 12-hour mode: 12 AM is midnight, 12 PM noon.
kstd::Expected<uint8_t, Error> hour_of(uint8_t raw, const Registers& r) {
    const bool binary = r.status_b & STATUS_B_BINARY;
    if (r.status_b & STATUS_B_24_HOUR) {
        auto h = value_of(raw, binary);
        if (!h) return h;
        if (*h > 23) return kstd::unexpected(Error::bad_hour);
        return *h;
    }
    auto h = value_of(uint8_t(raw & ~HOURS_PM), binary);
    if (!h) return h;
    if (*h < 1 || *h > 12) return kstd::unexpected(Error::bad_hour);
    return uint8_t(*h % 12 + ((raw & HOURS_PM) ? 12 : 0));
}

kstd::Expected<uint32_t, Error> year_of(const Registers& r) {
    const bool binary = r.status_b & STATUS_B_BINARY;
    auto yy = value_of(r.year, binary);
    if (!yy) return kstd::unexpected(yy.error());
    if (*yy > 99) return kstd::unexpected(Error::bad_year);
    if (!r.has_century) return uint32_t(*yy < 70 ? 2000 + *yy : 1900 + *yy);
    auto cc = value_of(r.century, binary);
    if (!cc || *cc < 19 || *cc > 99) return kstd::unexpected(Error::bad_century);
    const uint32_t year = uint32_t(*cc) * 100 + *yy;
    if (year < 1970) return kstd::unexpected(Error::bad_century);
    return year;
}

}  // namespace

const char* error_name(Error e) {
    switch (e) {
    case Error::bad_bcd: return "a register is not a BCD number";
    case Error::bad_second: return "seconds out of range";
    case Error::bad_minute: return "minutes out of range";
    case Error::bad_hour: return "hours out of range";
    case Error::bad_day: return "day of month out of range";
    case Error::bad_month: return "month out of range";
    case Error::bad_year: return "year out of range";
    case Error::bad_century: return "century register out of range";
    }
    return "unknown";
}

kstd::Expected<DateTime, Error> decode(const Registers& r) {
    const bool binary = r.status_b & STATUS_B_BINARY;
    DateTime t{};
    auto year = year_of(r);
    if (!year) return kstd::unexpected(year.error());
    t.year = *year;
    auto month = value_of(r.month, binary);
    if (!month) return kstd::unexpected(month.error());
    if (*month < 1 || *month > 12) return kstd::unexpected(Error::bad_month);
    t.month = *month;
    auto day = value_of(r.day, binary);
    if (!day) return kstd::unexpected(day.error());
    if (*day < 1 || *day > days_in_month(t.year, t.month)) return kstd::unexpected(Error::bad_day);
    t.day = *day;
    auto hour = hour_of(r.hours, r);
    if (!hour) return kstd::unexpected(hour.error());
    t.hour = *hour;
    auto minute = value_of(r.minutes, binary);
    if (!minute) return kstd::unexpected(minute.error());
    if (*minute > 59) return kstd::unexpected(Error::bad_minute);
    t.minute = *minute;
    auto second = value_of(r.seconds, binary);
    if (!second) return kstd::unexpected(second.error());
    if (*second > 59) return kstd::unexpected(Error::bad_second);
    t.second = *second;
    return t;
}

uint64_t seconds_since_1970(const DateTime& t) {
    uint64_t days = uint64_t(t.year - 1970) * 365 + leap_years_through(t.year - 1) - leap_years_through(1969);
    for (uint8_t m = 1; m < t.month; ++m) days += days_in_month(t.year, m);
    days += t.day - 1u;
    return days * SECONDS_PER_DAY + t.hour * 3600u + t.minute * 60u + t.second;
}

}  // namespace rtc
