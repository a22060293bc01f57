// vm_assist: enabling and disabling the assists a 64-bit PV guest may ask for; other types are
// -EINVAL (checked before the command), unknown commands -ENOSYS.
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

namespace {

// Every type Xen accepts from a 64-bit PV guest, 32-bit-only ones included (they were
// accepted once and must keep being accepted).
constexpr unsigned valid_types[] = {
    VMASST_TYPE_4gb_segments, VMASST_TYPE_4gb_segments_notify, VMASST_TYPE_writable_pagetables,
    VMASST_TYPE_pae_extended_cr3, VMASST_TYPE_architectural_iopl, VMASST_TYPE_runstate_update_flag,
    VMASST_TYPE_m2p_strict,
};

bool is_valid(unsigned t)
{
    for (unsigned v : valid_types)
        if (v == t)
            return true;
    return false;
}

} // namespace

TEST(valid_types_enable_and_disable)
{
    for (unsigned t : valid_types) {
        EXPECT_EQ(kt::vm_assist(VMASST_CMD_enable, t), 0);
        EXPECT_EQ(kt::vm_assist(VMASST_CMD_disable, t), 0);
        EXPECT_EQ(kt::vm_assist(VMASST_CMD_disable, t), 0);  // idempotent
    }
}

TEST(other_types_are_einval)
{
    unsigned checked = 0;
    for (unsigned t = 0; t < 70; ++t) {
        if (is_valid(t))
            continue;
        ++checked;
        EXPECT_EQ(kt::vm_assist(VMASST_CMD_enable, t), -XEN_EINVAL);
        EXPECT_EQ(kt::vm_assist(VMASST_CMD_disable, t), -XEN_EINVAL);
    }
    EXPECT_EQ(checked, 70u - sizeof valid_types / sizeof valid_types[0]);
    EXPECT_EQ(kt::vm_assist(VMASST_CMD_enable, 0xffffffffu), -XEN_EINVAL);
}

TEST(unknown_command_is_enosys)
{
    EXPECT_EQ(kt::vm_assist(2, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    EXPECT_EQ(kt::vm_assist(0xffffffffu, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    // The type is checked first.
    EXPECT_EQ(kt::vm_assist(2, 63), -XEN_EINVAL);
}
