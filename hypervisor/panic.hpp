// The end of the line for the hypervisor: report why, with registers and a symbolized
// backtrace, stop the other CPUs, then halt, reboot or end the test run as configured.
#pragma once

#include "kstd/format.hpp"

namespace arch {
struct ExceptionFrame;
}

// True once any CPU has started a panic report.
bool panic_in_progress();

[[noreturn]] void vpanic(const arch::ExceptionFrame* frame, const char* fmt, const kstd::FormatArg* args,
                         size_t nargs);

template <typename... Args>
[[noreturn]] void panic(kstd::FormatStringFor<Args...> fmt, const Args&... args) {
    const kstd::FormatArg erased[sizeof...(Args) + 1] = {kstd::FormatArg(args)..., kstd::FormatArg(0)};
    vpanic(nullptr, fmt.c_str(), erased, sizeof...(Args));
}

template <typename... Args>
[[noreturn]] void panic_with_frame(const arch::ExceptionFrame& frame, kstd::FormatStringFor<Args...> fmt,
                                   const Args&... args) {
    const kstd::FormatArg erased[sizeof...(Args) + 1] = {kstd::FormatArg(args)..., kstd::FormatArg(0)};
    vpanic(&frame, fmt.c_str(), erased, sizeof...(Args));
}

// Checks an invariant that must hold for the hypervisor to continue.
#define KASSERT(cond)                                                                       \
    do {                                                                                    \
        if (!(cond)) panic("assertion '{}' failed at {}:{}", #cond, __FILE__, __LINE__); \
    } while (0)
