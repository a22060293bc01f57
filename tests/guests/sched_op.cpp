// sched_op: the sub-ops a test can survive (yield, shutdown_code, poll with bad arguments,
// shutdown with a bad argument) and the errors of the rest. SCHEDOP_shutdown itself ends
// every test kernel; SCHEDOP_block would wait forever with no event source.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

TEST(yield_returns_zero)
{
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(kt::sched_op(SCHEDOP_yield, nullptr), 0);
}

TEST(shutdown_code_is_accepted)
{
    // Only recorded for a later shutdown; we shut down with SHUTDOWN_poweroff at the end, which
    // is what the hypervisor must then report.
    sched_shutdown_t s{};
    s.reason = SHUTDOWN_poweroff;
    EXPECT_EQ(kt::sched_op(SCHEDOP_shutdown_code, &s), 0);
}

TEST(bad_arguments_are_efault)
{
    for (const auto& b : kt::bad_pointers) {
        kt::print("argument: {} {x}\n", b.what, b.address);
        EXPECT_EQ(kt::sched_op(SCHEDOP_shutdown, kt::bad<void>(b)), -XEN_EFAULT);  // and we live on
        EXPECT_EQ(kt::sched_op(SCHEDOP_shutdown_code, kt::bad<void>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::sched_op(SCHEDOP_poll, kt::bad<void>(b)), -XEN_EFAULT);
    }
}

TEST(poll_checks_its_port_list)
{
    evtchn_port_t ports[1] = {0};
    sched_poll_t p{};
    set_xen_guest_handle(p.ports, ports);
    p.nr_ports = 129;  // more ports than one poll may wait on
    p.timeout = 0;
    EXPECT_EQ(kt::sched_op(SCHEDOP_poll, &p), -XEN_EINVAL);
    p.nr_ports = 4;
    set_xen_guest_handle(p.ports, reinterpret_cast<evtchn_port_t*>(kt::bad_pointers[1].address));
    EXPECT_EQ(kt::sched_op(SCHEDOP_poll, &p), -XEN_EFAULT);
}

TEST(unknown_subops_are_enosys)
{
    std::uint64_t buf[4] = {};
    EXPECT_EQ(kt::sched_op(8, buf), -XEN_ENOSYS);  // one past SCHEDOP_pin_override
    EXPECT_EQ(kt::sched_op(0x7fffffff, buf), -XEN_ENOSYS);
    EXPECT_EQ(kt::sched_op(-1, buf), -XEN_ENOSYS);
}
