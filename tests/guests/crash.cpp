// crash: an exception with no handler registered cannot be bounced, so the hypervisor crashes
// the domain; for dom0 that takes the machine down. The kernel clears its trap table and runs
// ud2; the harness expects the hypervisor's report and its dom0-crash line instead of a result
// line (see CMakeLists.txt for the exact patterns on Xen).
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

TEST(unhandled_invalid_opcode_crashes_the_domain)
{
    // A NULL table clears every entry.
    ASSERT_EQ(kt::set_trap_table(nullptr), 0);
    kt::print("crash: executing ud2 with no #UD handler\n");
    asm volatile("ud2");
    kt::print("crash: still running after an unhandled #UD\n");
}
