// console_input: CONSOLEIO_read hands the control domain what is typed on the hypervisor's
// serial console. The kernel prints a prompt; the harness types a line after it; the kernel
// polls (yielding in between) until the whole line has arrived or about five seconds of TSC
// time have passed.
#include <xen/arch-x86/cpuid.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

namespace {

std::uint64_t rdtsc()
{
    std::uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

std::uint32_t tsc_khz()
{
    std::uint32_t a, b, c, d;
    // Leaf 3 subleaf 2: the physical TSC rate in kHz (subleaf 0's domain TSC rate may be 0).
    asm volatile(XEN_CPUID : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(XEN_CPUID_LEAF(3)), "c"(2));
    return a;
}

long console_read(char* buf, unsigned n) { return kt::hypercall(__HYPERVISOR_console_io, CONSOLEIO_read, n, kt::arg(buf)); }

} // namespace

TEST(typed_line_arrives)
{
    char line[64] = {};
    unsigned got = 0;
    kt::print("console_input: type a line now\n");
    const std::uint64_t end = rdtsc() + std::uint64_t{tsc_khz()} * 5000;
    while (rdtsc() < end && (got == 0 || line[got - 1] != '\n') && got < sizeof line - 1) {
        const long n = console_read(line + got, sizeof line - 1 - got);
        ASSERT_GE(n, 0);
        got += static_cast<unsigned>(n);
        if (n == 0)
            kt::sched_op(SCHEDOP_yield, nullptr);
    }
    line[got] = 0;
    // A serial line may carry a CR as well; the text itself must be exact.
    kt::print("console_input: read {} characters\n", got);
    EXPECT_TRUE(kt::starts_with(line, "kestrel says hi"));
    EXPECT_EQ(line[got - 1], '\n');
}
