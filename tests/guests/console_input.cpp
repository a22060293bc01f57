// console_input: CONSOLEIO_read hands the control domain what is typed on the hypervisor's
// serial console. The kernel prints a prompt; the harness types a line after it; the kernel
// polls (yielding in between) until the whole line has arrived or about five seconds of TSC
// time have passed.
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

long console_read(char* buf, unsigned n) { return kt::hypercall(__HYPERVISOR_console_io, CONSOLEIO_read, n, kt::arg(buf)); }

} // namespace

TEST(typed_line_arrives)
{
    // Input also raises VIRQ_CONSOLE for the control domain.
    evtchn_bind_virq_t virq{};
    virq.virq = VIRQ_CONSOLE;
    virq.vcpu = 0;
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, kt::arg(&virq)), 0);
    const evtchn_port_t port = virq.port;
    char line[64] = {};
    unsigned got = 0;
    kt::print("console_input: type a line now\n");
    const std::uint64_t end = kt::rdtsc() + std::uint64_t{kt::tsc_khz()} * 5000;
    while (kt::rdtsc() < end && (got == 0 || line[got - 1] != '\n') && got < sizeof line - 1) {
        const long n = console_read(line + got, sizeof line - 1 - got);
        ASSERT_GE(n, 0);
        got += static_cast<unsigned>(n);
        if (n == 0)
            kt::sched_op(SCHEDOP_yield, nullptr);
    }
    line[got] = 0;
    kt::print("console_input: read {} characters\n", got);
    EXPECT_TRUE(kt::starts_with(line, "kestrel says hi"));
    EXPECT_NE((kt::shared_info()->evtchn_pending[port / 64] >> (port % 64)) & 1, 0u);
    EXPECT_EQ(line[got - 1], '\n');
}
