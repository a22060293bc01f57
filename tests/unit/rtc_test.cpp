// The CMOS RTC's registers decoded: BCD and binary, 24- and 12-hour mode (12 AM is midnight, 12 PM
// noon), two-digit years with and without a century register, every field range-checked (a
// bad BCD digit, a 13th month, a 30th of February) into an error, and seconds since 1970 as
// POSIX counts them, checked against the host's timegm() day by day over four centuries.
#include <gtest/gtest.h>

#include <time.h>

#include "rtc.hpp"

namespace {

constexpr uint8_t BCD_24H = rtc::STATUS_B_24_HOUR;
constexpr uint8_t BINARY_24H = rtc::STATUS_B_24_HOUR | rtc::STATUS_B_BINARY;
constexpr uint8_t BCD_12H = 0;
constexpr uint8_t BINARY_12H = rtc::STATUS_B_BINARY;

rtc::Registers regs(uint8_t status_b, uint8_t year, uint8_t month, uint8_t day, uint8_t hours, uint8_t minutes,
                    uint8_t seconds) {
    rtc::Registers r{};
    r.status_b = status_b;
    r.year = year;
    r.month = month;
    r.day = day;
    r.hours = hours;
    r.minutes = minutes;
    r.seconds = seconds;
    return r;
}

rtc::Registers with_century(rtc::Registers r, uint8_t century) {
    r.has_century = true;
    r.century = century;
    return r;
}

uint64_t unix_time(const rtc::Registers& r) {
    auto t = rtc::decode(r);
    EXPECT_TRUE(t.has_value()) << (t ? "" : rtc::error_name(t.error()));
    return t ? rtc::seconds_since_1970(*t) : 0;
}

rtc::Error error_of(const rtc::Registers& r) {
    auto t = rtc::decode(r);
    EXPECT_FALSE(t.has_value());
    return t ? rtc::Error::bad_bcd : t.error();
}

uint64_t host_timegm(int year, int month, int day, int hour, int minute, int second) {
    struct tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return uint64_t(timegm(&tm));
}

TEST(Rtc, BcdAndBinaryGiveTheSameTime) {
    // 2024-02-29 13:45:56 UTC is 1709214356.
    EXPECT_EQ(unix_time(regs(BCD_24H, 0x24, 0x02, 0x29, 0x13, 0x45, 0x56)), 1709214356u);
    EXPECT_EQ(unix_time(regs(BINARY_24H, 24, 2, 29, 13, 45, 56)), 1709214356u);
    EXPECT_EQ(unix_time(regs(BCD_24H, 0x70, 0x01, 0x01, 0x00, 0x00, 0x00)), 0u);  // the epoch
    EXPECT_EQ(unix_time(regs(BCD_24H, 0x69, 0x12, 0x31, 0x23, 0x59, 0x59)), 3155759999u);
}

TEST(Rtc, TwelveHourMode) {
    // Midnight is 12 AM, noon 12 PM; PM adds 12 to 1..11.
    const uint64_t day = 1709164800;  // 2024-02-29 00:00:00
    EXPECT_EQ(unix_time(regs(BCD_12H, 0x24, 0x02, 0x29, 0x12, 0x00, 0x00)), day);
    EXPECT_EQ(unix_time(regs(BCD_12H, 0x24, 0x02, 0x29, 0x01, 0x00, 0x00)), day + 3600);
    EXPECT_EQ(unix_time(regs(BCD_12H, 0x24, 0x02, 0x29, 0x11, 0x59, 0x59)), day + 12 * 3600 - 1);
    EXPECT_EQ(unix_time(regs(BCD_12H, 0x24, 0x02, 0x29, 0x80 | 0x12, 0x00, 0x00)), day + 12 * 3600);
    EXPECT_EQ(unix_time(regs(BCD_12H, 0x24, 0x02, 0x29, 0x80 | 0x01, 0x45, 0x56)), 1709214356u);
    EXPECT_EQ(unix_time(regs(BCD_12H, 0x24, 0x02, 0x29, 0x80 | 0x11, 0x59, 0x59)), day + 86399);
    EXPECT_EQ(unix_time(regs(BINARY_12H, 24, 2, 29, 0x80 | 1, 45, 56)), 1709214356u);
    EXPECT_EQ(unix_time(regs(BINARY_12H, 24, 2, 29, 12, 0, 0)), day);
    // Hour 0 and 13 do not exist on a 12-hour clock, AM or PM.
    for (uint8_t h : {0x00, 0x13, 0x80, 0x93})
        EXPECT_EQ(error_of(regs(BCD_12H, 0x24, 0x02, 0x29, h, 0, 0)), rtc::Error::bad_hour) << int(h);
    for (uint8_t h : {0, 13, 0x80, 0x80 | 13})
        EXPECT_EQ(error_of(regs(BINARY_12H, 24, 2, 29, h, 0, 0)), rtc::Error::bad_hour) << int(h);
    // In 24-hour mode bit 7 is no PM flag: 0x81 is hour 129, or 81 in BCD.
    EXPECT_EQ(error_of(regs(BINARY_24H, 24, 2, 29, 0x81, 0, 0)), rtc::Error::bad_hour);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 0x02, 0x29, 0x81, 0, 0)), rtc::Error::bad_hour);
}

TEST(Rtc, TwoDigitYearsWithoutACenturyRegister) {
    // Xen's rule: 70..99 are the 1900s, 00..69 the 2000s.
    auto year = [](uint8_t yy) { return rtc::decode(regs(BCD_24H, yy, 1, 1, 0, 0, 0))->year; };
    EXPECT_EQ(year(0x70), 1970u);
    EXPECT_EQ(year(0x99), 1999u);
    EXPECT_EQ(year(0x00), 2000u);
    EXPECT_EQ(year(0x69), 2069u);
    EXPECT_EQ(rtc::decode(regs(BINARY_24H, 99, 1, 1, 0, 0, 0))->year, 1999u);
    EXPECT_EQ(error_of(regs(BINARY_24H, 100, 1, 1, 0, 0, 0)), rtc::Error::bad_year);
}

TEST(Rtc, CenturyRegister) {
    EXPECT_EQ(rtc::decode(with_century(regs(BCD_24H, 0x24, 1, 1, 0, 0, 0), 0x20))->year, 2024u);
    EXPECT_EQ(rtc::decode(with_century(regs(BCD_24H, 0x99, 1, 1, 0, 0, 0), 0x19))->year, 1999u);
    // The century decides past Xen's 2069 horizon.
    EXPECT_EQ(rtc::decode(with_century(regs(BCD_24H, 0x71, 1, 1, 0, 0, 0), 0x20))->year, 2071u);
    EXPECT_EQ(rtc::decode(with_century(regs(BCD_24H, 0x05, 1, 1, 0, 0, 0), 0x21))->year, 2105u);
    EXPECT_EQ(rtc::decode(with_century(regs(BINARY_24H, 24, 1, 1, 0, 0, 0), 20))->year, 2024u);
    EXPECT_EQ(unix_time(with_century(regs(BCD_24H, 0x24, 0x02, 0x29, 0x13, 0x45, 0x56), 0x20)), 1709214356u);
    // A century that is no BCD number, or before 1970, or an absent register's 0xff: refused.
    for (uint8_t cc : {0x1a, 0xff, 0x00, 0x18})
        EXPECT_EQ(error_of(with_century(regs(BCD_24H, 0x24, 1, 1, 0, 0, 0), cc)), rtc::Error::bad_century) << int(cc);
    EXPECT_EQ(error_of(with_century(regs(BCD_24H, 0x69, 1, 1, 0, 0, 0), 0x19)), rtc::Error::bad_century);  // 1969
    EXPECT_EQ(error_of(with_century(regs(BINARY_24H, 24, 1, 1, 0, 0, 0), 100)), rtc::Error::bad_century);
}

TEST(Rtc, InvalidDataIsAnErrorNamingTheField) {
    // BCD digits above 9 in any register.
    EXPECT_EQ(error_of(regs(BCD_24H, 0x2a, 1, 1, 0, 0, 0)), rtc::Error::bad_bcd);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 0x0a, 1, 0, 0, 0)), rtc::Error::bad_bcd);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 0x1f, 0, 0, 0)), rtc::Error::bad_bcd);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 1, 0xa0, 0, 0)), rtc::Error::bad_bcd);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 1, 0, 0x5b, 0)), rtc::Error::bad_bcd);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 1, 0, 0, 0xf0)), rtc::Error::bad_bcd);
    // Ranges.
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 0x00, 1, 0, 0, 0)), rtc::Error::bad_month);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 0x13, 1, 0, 0, 0)), rtc::Error::bad_month);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 0x00, 0, 0, 0)), rtc::Error::bad_day);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 0x32, 0, 0, 0)), rtc::Error::bad_day);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 0x04, 0x31, 0, 0, 0)), rtc::Error::bad_day);  // April has 30
    EXPECT_EQ(error_of(regs(BCD_24H, 0x23, 0x02, 0x29, 0, 0, 0)), rtc::Error::bad_day);  // 2023 is no leap year
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 0x02, 0x30, 0, 0, 0)), rtc::Error::bad_day);
    EXPECT_EQ(error_of(with_century(regs(BCD_24H, 0x00, 0x02, 0x29, 0, 0, 0), 0x21)), rtc::Error::bad_day);  // 2100
    EXPECT_TRUE(rtc::decode(regs(BCD_24H, 0x00, 0x02, 0x29, 0, 0, 0)));  // 2000 is one
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 1, 0x24, 0, 0)), rtc::Error::bad_hour);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 1, 0, 0x60, 0)), rtc::Error::bad_minute);
    EXPECT_EQ(error_of(regs(BCD_24H, 0x24, 1, 1, 0, 0, 0x60)), rtc::Error::bad_second);
    EXPECT_EQ(error_of(regs(BINARY_24H, 24, 1, 1, 0, 0, 60)), rtc::Error::bad_second);
    // What an absent RTC reads: every register 0xff.
    EXPECT_FALSE(rtc::decode(regs(BCD_24H, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)));
    EXPECT_FALSE(rtc::decode(regs(BINARY_24H, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)));
    for (auto e : {rtc::Error::bad_bcd, rtc::Error::bad_second, rtc::Error::bad_minute, rtc::Error::bad_hour,
                   rtc::Error::bad_day, rtc::Error::bad_month, rtc::Error::bad_year, rtc::Error::bad_century})
        EXPECT_STRNE(rtc::error_name(e), "unknown");
}

TEST(Rtc, SecondsSince1970MatchTimegmEveryDayFor400Years) {
    for (uint32_t year = 1970; year < 2370; ++year) {
        for (uint8_t month = 1; month <= 12; ++month) {
            for (uint8_t day = 1; day <= 31; ++day) {
                const rtc::DateTime t{year, month, day, 23, 59, 58};
                const uint64_t host = host_timegm(int(year), month, day, 23, 59, 58);
                struct tm back{};
                const time_t ht = time_t(host);
                gmtime_r(&ht, &back);
                if (back.tm_mday != day) continue;  // no such day: timegm rolled it over
                ASSERT_EQ(rtc::seconds_since_1970(t), host) << year << "-" << int(month) << "-" << int(day);
            }
        }
    }
}

}  // namespace
