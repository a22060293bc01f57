// Leveled, type-safe logging: log::info("{} CPUs online", n). Each call becomes one line
// with the "(KESTREL)" prefix, written whole to every console.
#pragma once

#include "kstd/format.hpp"
#include "log_level.hpp"

namespace log {

void set_level(LogLevel l);
LogLevel level();
// Installs the clock used for timestamps (nanoseconds since boot); none until time is up.
void set_clock(uint64_t (*now_ns)());

void vwrite(LogLevel l, const char* fmt, const kstd::FormatArg* args, size_t nargs);

template <typename... Args>
void write(LogLevel l, kstd::FormatStringFor<Args...> fmt, const Args&... args) {
    if (l > level()) return;
    const kstd::FormatArg erased[sizeof...(Args) + 1] = {kstd::FormatArg(args)..., kstd::FormatArg(0)};
    vwrite(l, fmt.c_str(), erased, sizeof...(Args));
}

template <typename... Args>
void error(kstd::FormatStringFor<Args...> fmt, const Args&... args) { write<Args...>(LogLevel::error, fmt, args...); }
template <typename... Args>
void warning(kstd::FormatStringFor<Args...> fmt, const Args&... args) { write<Args...>(LogLevel::warning, fmt, args...); }
template <typename... Args>
void info(kstd::FormatStringFor<Args...> fmt, const Args&... args) { write<Args...>(LogLevel::info, fmt, args...); }
template <typename... Args>
void debug(kstd::FormatStringFor<Args...> fmt, const Args&... args) { write<Args...>(LogLevel::debug, fmt, args...); }

}  // namespace log
