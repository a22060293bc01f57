// demo: what ./tools/demo boots, once as the control domain and once as a second boot-time
// domain. Each says who it is through console_io, from what the hypervisor told it; the
// control domain then waits a second (yielding) so that the other one finishes first.
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

bool is_control_domain() { return (kt::start_info()->flags & SIF_INITDOMAIN) != 0; }

} // namespace

TEST(introduce_ourselves)
{
    const start_info_t* si = kt::start_info();
    const long version = kt::xen_version(XENVER_version, nullptr);
    xen_extraversion_t extra{};
    EXPECT_EQ(kt::xen_version(XENVER_extraversion, extra), 0);
    kt::print("Hello from a PV guest, {}: Xen ABI {}.{}{}, {} MiB, command line \"{}\"\n",
              is_control_domain() ? "the control domain" : "an unprivileged domain", version >> 16,
              version & 0xffff, static_cast<const char*>(extra), si->nr_pages / 256,
              reinterpret_cast<const char*>(si->cmd_line));
    EXPECT_GE(version, 3L << 16);
}

TEST(control_domain_outlives_the_others)
{
    if (!is_control_domain())
        return;
    EXPECT_GT(kt::yield_for_ms(1000), 0u);
    kt::print("control domain: done, powering off\n");
}
