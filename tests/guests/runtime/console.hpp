// Console output of a test kernel through console_io(CONSOLEIO_write), with a tiny type-safe
// formatter: "{}" prints the next argument in decimal (strings as text, bools as true/false)
// and "{x}" in hexadecimal with a 0x prefix. Output is buffered per print() call so that one
// line reaches the hypervisor in one hypercall and lines of the log are never interleaved.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/format.hpp"

namespace kt {

void print_args(const char* fmt, const FmtArg* args, std::size_t count);
void write(const char* text, std::size_t length);

template <typename... Args> void print(const char* fmt, Args... args)
{
    if constexpr (sizeof...(Args) == 0) {
        print_args(fmt, nullptr, 0);
    } else {
        const FmtArg list[] = {fmt_arg(args)...};
        print_args(fmt, list, sizeof...(Args));
    }
}

} // namespace kt
