// console_io: CONSOLEIO_write and CONSOLEIO_read as dom0 uses them, and their errors.
#include <climits>

#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

namespace {

long console_io(long cmd, std::uint64_t count, std::uint64_t buffer)
{
    return kt::hypercall(__HYPERVISOR_console_io, static_cast<std::uint64_t>(cmd), count, buffer);
}

} // namespace

TEST(write_returns_zero)
{
    static const char text[] = "console_io: a plain line\n";
    EXPECT_EQ(console_io(CONSOLEIO_write, sizeof text - 1, kt::arg(text)), 0);
}

TEST(write_of_nothing_returns_zero)
{
    EXPECT_EQ(console_io(CONSOLEIO_write, 0, kt::arg("x")), 0);
    // Nothing is read from the buffer when the count is zero, so even a bad one is fine.
    EXPECT_EQ(console_io(CONSOLEIO_write, 0, kt::bad_pointers[0].address), 0);
}

TEST(long_write_returns_zero)
{
    // Longer than any small bounce buffer a hypervisor copies through.
    static char text[700];
    for (std::size_t i = 0; i + 1 < sizeof text; ++i)
        text[i] = static_cast<char>('a' + i % 26);
    text[sizeof text - 1] = '\n';
    EXPECT_EQ(console_io(CONSOLEIO_write, sizeof text, kt::arg(text)), 0);
}

TEST(write_from_bad_buffer_is_efault)
{
    for (const auto& b : kt::bad_pointers) {
        kt::print("buffer: {} {x}\n", b.what, b.address);
        EXPECT_EQ(console_io(CONSOLEIO_write, 16, b.address), -XEN_EFAULT);
    }
}

TEST(read_returns_pending_input_count)
{
    // The harness sends no input, so a read finds nothing to copy.
    char buf[32];
    memset(buf, 0x5a, sizeof buf);
    const long n = console_io(CONSOLEIO_read, sizeof buf, kt::arg(buf));
    EXPECT_GE(n, 0);
    EXPECT_LE(n, static_cast<long>(sizeof buf));
    if (n == 0)
        EXPECT_EQ(buf[0], 0x5a);  // nothing written
}

TEST(read_count_beyond_int_max_is_e2big)
{
    // The result is a count or a negative errno in one int: larger counts cannot be answered.
    char buf[8];
    EXPECT_EQ(console_io(CONSOLEIO_read, static_cast<std::uint64_t>(INT_MAX) + 1, kt::arg(buf)), -XEN_E2BIG);
    EXPECT_EQ(console_io(CONSOLEIO_read, 0xffffffffu, kt::arg(buf)), -XEN_E2BIG);
}

TEST(unknown_commands_are_enosys)
{
    char buf[8] = {};
    EXPECT_EQ(console_io(2, sizeof buf, kt::arg(buf)), -XEN_ENOSYS);
    EXPECT_EQ(console_io(0x7fffffff, sizeof buf, kt::arg(buf)), -XEN_ENOSYS);
}
