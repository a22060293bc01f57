// demo: what ./tools/demo boots, once as the control domain and once as a second boot-time
// domain. Each says who it is through console_io, from what the hypervisor told it; the
// control domain then waits (yielding) until the domain its kt.await_destroyed=N names has
// come and been destroyed (kt::await_destroyed, 60 s at most), so that it finishes last.
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/toolstack.hpp"

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
    std::uint64_t dom = 0;
    if (kt::cmdline_number(kt::command_line(), "kt.await_destroyed", &dom)) {
        ASSERT_TRUE(dom > 0 && dom < DOMID_FIRST_RESERVED);
        EXPECT_TRUE(kt::await_destroyed(static_cast<domid_t>(dom), 60'000));
    }
    kt::print("control domain: done, powering off\n");
}
