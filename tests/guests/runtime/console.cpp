#include "console.hpp"

#include "hypercall.hpp"

namespace kt {

void write(const char* text, std::size_t length)
{
    // console_io writes all of it (a long write is continued inside the hypervisor) and answers
    // 0, or a negative errno that a console has no way left to report.
    (void)console_write(text, length);
}

void print_args(const char* fmt, const FmtArg* args, std::size_t count)
{
    char buf[512];
    const std::size_t len = format_into(buf, sizeof buf, fmt, args, count);
    write(buf, len);
}

} // namespace kt
