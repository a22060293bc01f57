// hello: the smallest useful guest. Console output through console_io(CONSOLEIO_write) and the
// hypervisor's version through xen_version(XENVER_version), and the start-up the runtime does
// (entry, shared_info mapping, trap table), which every other test kernel relies on.
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

TEST(console_write_answers_zero)
{
    static const char text[] = "hello from a PV test kernel\n";
    EXPECT_EQ(kt::console_write(text, sizeof text - 1), 0);
}

TEST(xen_version_is_major_minor)
{
    const long v = kt::xen_version(XENVER_version, nullptr);
    // Major in bits 16-31, minor in bits 0-15; a 64-bit PV ABI only exists from 3.0 on.
    EXPECT_GE(v, 3L << 16);
    EXPECT_EQ(v >> 32, 0);
    kt::print("hypervisor version {}.{}\n", v >> 16, v & 0xffff);
}

TEST(started_in_bootstrap_area)
{
    // rsi pointed at start_info, inside the area that begins at the virtual base we declared.
    EXPECT_EQ(reinterpret_cast<std::uint64_t>(kt::start_info()), kt_entry_rsi);
    EXPECT_GT(kt_entry_rsi, kt::virt_base);
    EXPECT_TRUE(kt::starts_with(kt::start_info()->magic, "xen-3.0-x86_64"));
}
