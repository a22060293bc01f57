// Hypercall dispatch: which number reaches which handler, the x86_64 PV argument registers,
// the result in rax (negative errnos sign-extended to 64 bits), and -ENOSYS for every number
// without a handler, in the table's range or beyond it, as Xen answers.
#include <xen/version.h>

#include "pv_test_support.hpp"

namespace {

using pv_test::PvTest;

TEST(HypercallTable, EachImplementedNumberReachesItsHandler) {
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_set_trap_table), &do_set_trap_table);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_stack_switch), &do_stack_switch);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_set_callbacks), &do_set_callbacks);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_fpu_taskswitch), &do_fpu_taskswitch);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_xen_version), &do_xen_version);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_console_io), &do_console_io);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_vm_assist), &do_vm_assist);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_iret), &do_iret);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_set_segment_base), &do_set_segment_base);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_sched_op), &do_sched_op);
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_callback_op), &do_callback_op);
}

TEST(HypercallTable, NumbersXenNeverAssignedHaveNoHandler) {
    // 11 is unused in Xen's numbering, 43..47 lie between hypfs_op and arch_0.
    for (unsigned nr : {11u, 43u, 44u, 45u, 46u, 47u}) EXPECT_EQ(hypercall::handler(nr), nullptr) << nr;
}

TEST(HypercallTable, NumbersAtOrBeyondTheTableHaveNoHandler) {
    EXPECT_EQ(hypercall::handler(hypercall::TABLE_SIZE), nullptr);
    EXPECT_EQ(hypercall::handler(hypercall::TABLE_SIZE + 1), nullptr);
    EXPECT_EQ(hypercall::handler(~0u), nullptr);
}

using HypercallDispatch = PvTest;

TEST_F(HypercallDispatch, ResultGoesToRax) {
    EXPECT_EQ(call(__HYPERVISOR_xen_version, XENVER_version), (4 << 16) | 17);
}

TEST_F(HypercallDispatch, ArgumentsComeFromRdiAndRsi) {
    // stack_switch(ss, sp): ss in rdi, sp in rsi.
    EXPECT_EQ(call(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, 0xffffc90000123450), 0);
    EXPECT_EQ(v0->kernel_ss, FLAT_KERNEL_SS);
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000123450u);
}

TEST_F(HypercallDispatch, ThirdArgumentComesFromRdx) {
    // console_io(cmd, count, buffer): the buffer is the third argument.
    Domain* d0 = make_dom0();
    pv_test::GuestBuffer buf(pv_test::KERNEL_VA, 16);
    buf.put(pv_test::KERNEL_VA, "hey", 3);
    EXPECT_EQ(call(*d0->vcpu(VcpuId(0)), __HYPERVISOR_console_io, CONSOLEIO_write, 3, pv_test::KERNEL_VA), 0);
    EXPECT_EQ(fake_pv::record().console, "hey");
}

TEST_F(HypercallDispatch, OtherRegistersAreLeftAlone) {
    regs.rbx = 0x1111;
    regs.rcx = 0x2222;
    regs.r11 = 0x3333;
    regs.rip = 0xffffffff81000000;
    regs.rsp = 0xffffc90000001000;
    call(__HYPERVISOR_xen_version, XENVER_version, 0x55);
    EXPECT_EQ(regs.rbx, 0x1111u);
    EXPECT_EQ(regs.rcx, 0x2222u);
    EXPECT_EQ(regs.r11, 0x3333u);
    EXPECT_EQ(regs.rip, 0xffffffff81000000u);
    EXPECT_EQ(regs.rsp, 0xffffc90000001000u);
    EXPECT_EQ(regs.rdi, uint64_t(XENVER_version));
    EXPECT_EQ(regs.rsi, 0x55u);
}

TEST_F(HypercallDispatch, NegativeErrnoIsSignExtended) {
    // xen_version with an unknown sub-op: -ENOSYS as a 64-bit value.
    call(__HYPERVISOR_xen_version, 0x7fff);
    EXPECT_EQ(regs.rax, uint64_t(-int64_t(XEN_ENOSYS)));
}

TEST_F(HypercallDispatch, XenpmuOpIsNotSupportedWithoutAVirtualPmu) {
    // Xen without "vpmu" refuses every op before reading its argument.
    EXPECT_EQ(hypercall::handler(__HYPERVISOR_xenpmu_op), &do_xenpmu_op);
    EXPECT_EQ(call(__HYPERVISOR_xenpmu_op, 0 /* XENPMU_mode_get */, 0x1000), -XEN_EOPNOTSUPP);
    EXPECT_EQ(call(__HYPERVISOR_xenpmu_op, 0xffffffff, 0), -XEN_EOPNOTSUPP);
}

TEST_F(HypercallDispatch, UnassignedNumberInTableReturnsEnosys) {
    EXPECT_EQ(call(45), -XEN_ENOSYS);
    EXPECT_EQ(regs.rax, uint64_t(-int64_t(XEN_ENOSYS)));
}

TEST_F(HypercallDispatch, NumbersBeyondTheTableReturnEnosys) {
    for (uint64_t nr : {uint64_t{hypercall::TABLE_SIZE}, uint64_t{1000}, uint64_t{1} << 32, uint64_t{1} << 63,
                        ~uint64_t{0}})
        EXPECT_EQ(call(nr), -XEN_ENOSYS) << nr;
}

TEST_F(HypercallDispatch, HighBitsOfTheNumberAreNotIgnored) {
    // 2^32 + xen_version must not be taken for xen_version.
    EXPECT_EQ(call((uint64_t{1} << 32) | __HYPERVISOR_xen_version, XENVER_version), -XEN_ENOSYS);
}

TEST_F(HypercallDispatch, UnknownNumberIsLoggedOnceWithTheCaller) {
    call(46);
    size_t first = host_log::lines().size();
    EXPECT_TRUE(host_log::contains("d1v0: hypercall 46 not supported"));
    call(46);
    call(*v1, 46);
    EXPECT_EQ(host_log::lines().size(), first);
}

TEST_F(HypercallDispatch, UnknownNumberChangesNoVcpuState) {
    v0->kernel_sp = 0x1234;
    call(47, 0xffffffff81000000, 0xffffffff81000000, 0xffffffff81000000);
    EXPECT_EQ(v0->kernel_sp, 0x1234u);
    for (const auto& t : v0->traps) EXPECT_EQ(t.address, 0u);
    EXPECT_TRUE(fake_pv::record().events.empty());
}

}  // namespace
