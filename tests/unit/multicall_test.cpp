// multicall, as Xen 4.17's do_multicall (common/multicall.c) and pv_do_multicall_call
// (arch/x86/pv/hypercall.c): every call through the handler table with the entry's args and
// its return value in the entry's result alone; the list's start checked up front (even for
// zero calls), unreadable entries and unwritable results ending the batch with -EFAULT after
// the calls before them; -ENOSYS for ops without a handler (the op is 64 bits wide, the count
// 32), -EINVAL for a nested multicall; iret ending the batch and its result returned as an
// int; a vCPU that must leave its CPU between calls re-issuing the multicall with the rest.
#include <xen/sched.h>
#include <xen/version.h>

#include <cstddef>
#include <cstring>

#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t LIST = 0xffffffff84000000;
constexpr uint64_t ARG = 0xffffffff84100000;
constexpr uint64_t STACK = 0xffffc90000010000;
constexpr uint64_t ENTRY = sizeof(multicall_entry);
constexpr uint64_t UNTOUCHED = 0x5a5a5a5a5a5a5a5a;  // a result slot no call wrote
constexpr long XEN_4_17 = (4 << 16) | 17;

multicall_entry entry(uint64_t op, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
                      uint64_t a4 = 0) {
    multicall_entry e{};
    e.op = op;
    e.result = UNTOUCHED;
    e.args[0] = a0;
    e.args[1] = a1;
    e.args[2] = a2;
    e.args[3] = a3;
    e.args[4] = a4;
    e.args[5] = 0x6666666666666666;
    return e;
}

class Multicall : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();
        v0->state = VcpuState::running;
        v0->info()->evtchn_upcall_mask = 1;
        v0->info()->evtchn_upcall_pending = 0;
        regs.rip = 0xffffffff81000002;  // just after the guest's SYSCALL
    }

    // Writes the entries at va (in a buffer the test owns) and returns their count.
    template <size_t N>
    uint32_t put(GuestBuffer& buf, uint64_t va, const multicall_entry (&es)[N]) {
        buf.put(va, es, sizeof es);
        return N;
    }
    long multicall(uint64_t list, uint64_t count) { return call(*v0, __HYPERVISOR_multicall, list, count); }
    uint64_t result(GuestBuffer& buf, uint64_t va, unsigned i) {
        return buf.u64(va + i * ENTRY + offsetof(multicall_entry, result));
    }
    // A stack_switch entry is a call whose effect is easy to see (the vCPU's kernel_sp).
    static multicall_entry stack_switch(uint64_t sp) { return entry(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, sp); }
};

// ---- the batch ---------------------------------------------------------------------------

TEST_F(Multicall, EachCallRunsWithItsArgsAndReturnsInItsResult) {
    GuestBuffer list(LIST, 4 * ENTRY);
    const multicall_entry es[] = {
        entry(__HYPERVISOR_xen_version, XENVER_version),
        stack_switch(0xffffc90000123450),
        entry(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag),
        entry(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x7f0000001000),
    };
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(XEN_4_17));
    for (unsigned i = 1; i < 4; ++i) EXPECT_EQ(result(list, LIST, i), 0u) << i;
    EXPECT_EQ(v0->kernel_ss, FLAT_KERNEL_SS);
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000123450u);
    EXPECT_NE(dom->vm_assist & (1u << VMASST_TYPE_runstate_update_flag), 0u);
    EXPECT_EQ(fake_pv::record().fs_base, 0x7f0000001000u);
}

TEST_F(Multicall, ThirdArgumentOfAnEntryReachesTheCall) {
    // console_io(write, count, buffer) from the control domain: the buffer is args[2].
    Domain* d0 = make_dom0();
    Vcpu& v = *d0->vcpu(VcpuId(0));
    v.state = VcpuState::running;
    GuestBuffer list(LIST, ENTRY), text(ARG, 16);
    text.put(ARG, "batched", 7);
    const multicall_entry es[] = {entry(__HYPERVISOR_console_io, CONSOLEIO_write, 7, ARG)};
    EXPECT_EQ(call(v, __HYPERVISOR_multicall, LIST, put(list, LIST, es)), 0);
    EXPECT_EQ(result(list, LIST, 0), 0u);
    EXPECT_EQ(fake_pv::record().console, "batched");
}

TEST_F(Multicall, OnlyTheResultFieldIsWritten) {
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_xen_version, XENVER_version, 0, 3, 4, 5),
                                  entry(__HYPERVISOR_vm_assist, 7, 63)};
    put(list, LIST, es);
    EXPECT_EQ(multicall(LIST, 2), 0);
    for (unsigned i = 0; i < 2; ++i) {
        multicall_entry after;
        std::memcpy(&after, list.bytes.data() + i * ENTRY, ENTRY);
        EXPECT_EQ(after.op, es[i].op);
        EXPECT_EQ(std::memcmp(after.args, es[i].args, sizeof after.args), 0) << i;
    }
}

TEST_F(Multicall, ACallsErrorGoesToItsResultAndTheBatchGoesOn) {
    GuestBuffer list(LIST, 3 * ENTRY);
    const multicall_entry es[] = {
        entry(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 63),             // no such type
        entry(__HYPERVISOR_set_segment_base, SEGBASE_FS, NON_CANONICAL),  // refused base
        stack_switch(0xffffc90000777000),
    };
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(-XEN_EINVAL));
    EXPECT_EQ(result(list, LIST, 1), uint64_t(-XEN_EINVAL));
    EXPECT_EQ(result(list, LIST, 2), 0u);
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000777000u);
}

TEST_F(Multicall, OpsWithoutAHandlerAreEnosys) {
    // 11 is a hole in Xen's numbering, 63 is unassigned, 64 and beyond lie past the table; the
    // op is a full 64-bit word, so 2^32 + 17 is not xen_version.
    const uint64_t ops[] = {11, 63, 64, 1000, (uint64_t{1} << 32) + __HYPERVISOR_xen_version, ~uint64_t{0}};
    GuestBuffer list(LIST, 6 * ENTRY);
    for (unsigned i = 0; i < 6; ++i) {
        multicall_entry e = entry(ops[i], XENVER_version);
        list.put(LIST + i * ENTRY, &e, sizeof e);
    }
    EXPECT_EQ(multicall(LIST, 6), 0);
    for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(result(list, LIST, i), uint64_t(-XEN_ENOSYS)) << ops[i];
}

TEST_F(Multicall, NoCallsIsNothingDone) {
    GuestBuffer list(LIST, ENTRY);
    const multicall_entry es[] = {stack_switch(0x1000)};
    put(list, LIST, es);
    EXPECT_EQ(multicall(LIST, 0), 0);
    EXPECT_EQ(result(list, LIST, 0), UNTOUCHED);
    EXPECT_EQ(v0->kernel_sp, 0u);
    EXPECT_EQ(multicall(0, 0), 0);  // a null list of nothing is fine
}

TEST_F(Multicall, TheCountIs32Bits) {
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_xen_version, XENVER_version),
                                  entry(__HYPERVISOR_xen_version, XENVER_version)};
    put(list, LIST, es);
    EXPECT_EQ(multicall(LIST, (uint64_t{1} << 32) | 1), 0);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(XEN_4_17));
    EXPECT_EQ(result(list, LIST, 1), UNTOUCHED);
    EXPECT_EQ(multicall(LIST, uint64_t{1} << 32), 0);  // zero calls
}

TEST_F(Multicall, NestedMulticallIsEinvalAndTheOuterBatchGoesOn) {
    GuestBuffer list(LIST, 2 * ENTRY), inner(ARG, ENTRY);
    const multicall_entry in[] = {stack_switch(0xffffc90000111000)};
    put(inner, ARG, in);
    const multicall_entry es[] = {entry(__HYPERVISOR_multicall, ARG, 1), entry(__HYPERVISOR_xen_version, XENVER_version)};
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(-XEN_EINVAL));
    EXPECT_EQ(result(list, LIST, 1), uint64_t(XEN_4_17));
    EXPECT_EQ(result(inner, ARG, 0), UNTOUCHED);
    EXPECT_EQ(v0->kernel_sp, 0u);
}

TEST_F(Multicall, NestedMulticallIsEinvalWhateverItsArguments) {
    // Xen refuses the reentry before looking at the inner list: a bad one is not -EFAULT.
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_multicall, NON_CANONICAL, 1), entry(__HYPERVISOR_multicall, 0, 0)};
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(-XEN_EINVAL));
    EXPECT_EQ(result(list, LIST, 1), uint64_t(-XEN_EINVAL));
}

// ---- bad lists ---------------------------------------------------------------------------

TEST_F(Multicall, AListStartingOutsideGuestSpaceIsEfaultEvenForNoCalls) {
    for (uint64_t start : {NON_CANONICAL, HOLE_START, HOLE_END - ENTRY, HOLE_END - 1, uint64_t{0xffff7fffffffffc0}}) {
        EXPECT_EQ(multicall(start, 0), -XEN_EFAULT) << std::hex << start;
        EXPECT_EQ(multicall(start, 1), -XEN_EFAULT) << std::hex << start;
    }
}

TEST_F(Multicall, OnlyTheStartIsCheckedBeforeTheCalls) {
    // Unmapped memory at a guest address: fine while nothing is read from it.
    EXPECT_EQ(multicall(USER_VA, 0), 0);
    EXPECT_EQ(multicall(HOLE_END, 0), 0);
    EXPECT_EQ(multicall(USER_VA, 1), -XEN_EFAULT);
}

TEST_F(Multicall, AnUnreadableEntryEndsTheBatchAfterTheCallsBeforeIt) {
    GuestBuffer list(LIST, 2 * ENTRY);  // the third entry lies past the mapping
    const multicall_entry es[] = {stack_switch(0xffffc90000222000), entry(__HYPERVISOR_xen_version, XENVER_version)};
    put(list, LIST, es);
    EXPECT_EQ(multicall(LIST, 4), -XEN_EFAULT);
    EXPECT_EQ(result(list, LIST, 0), 0u);
    EXPECT_EQ(result(list, LIST, 1), uint64_t(XEN_4_17));
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000222000u);
}

TEST_F(Multicall, AListRunningIntoNonCanonicalSpaceFailsThere) {
    // The last two entries of the lower half are read and run; the next would be non-canonical.
    const uint64_t start = USER_TOP - 2 * ENTRY;
    GuestBuffer list(start, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_xen_version, XENVER_version), stack_switch(0x10000)};
    put(list, start, es);
    EXPECT_EQ(multicall(start, 3), -XEN_EFAULT);
    EXPECT_EQ(result(list, start, 0), uint64_t(XEN_4_17));
    EXPECT_EQ(result(list, start, 1), 0u);
    EXPECT_EQ(v0->kernel_sp, 0x10000u);
}

TEST_F(Multicall, AnUnwritableResultIsEfaultAfterTheCallTookEffect) {
    GuestBuffer list(LIST, 2 * ENTRY, false);
    const multicall_entry es[] = {stack_switch(0xffffc90000333000), stack_switch(0xffffc90000444000)};
    put(list, LIST, es);
    EXPECT_EQ(multicall(LIST, 2), -XEN_EFAULT);
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000333000u);  // the first ran, the second did not
    EXPECT_EQ(result(list, LIST, 0), UNTOUCHED);
}

// ---- iret --------------------------------------------------------------------------------

class MulticallIret : public Multicall {
protected:
    void SetUp() override {
        Multicall::SetUp();
        stack = std::make_unique<GuestBuffer>(STACK, 0x1000);
        regs.rsp = STACK + 0x800;
        iret_context& c = stack->at<iret_context>(STACK + 0x800);
        c.rax = 0x123456789abcdef0;
        c.r11 = 0x1111;
        c.rcx = 0x2222;
        c.flags = 0;
        c.rip = 0xffffffff81234567;
        c.cs = FLAT_KERNEL_CS & ~3u;  // RPL 0: back to the guest kernel
        c.rflags = 0x202;
        c.rsp = 0xffffc90000020000;
        c.ss = FLAT_KERNEL_SS;
    }
    iret_context& ctx() { return stack->at<iret_context>(STACK + 0x800); }
    std::unique_ptr<GuestBuffer> stack;
};

TEST_F(MulticallIret, IretEndsTheBatchAndItsRaxComesBackAsAnInt) {
    GuestBuffer list(LIST, 3 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_xen_version, XENVER_version), entry(__HYPERVISOR_iret),
                                  stack_switch(0xffffc90000555000)};
    // Bit 31 of 0x9abcdef0 is set: the upper half becomes all ones.
    EXPECT_EQ(uint64_t(multicall(LIST, put(list, LIST, es))), 0xffffffff9abcdef0u);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(XEN_4_17));
    EXPECT_EQ(result(list, LIST, 1), 0x123456789abcdef0u);  // the entry gets all 64 bits
    EXPECT_EQ(result(list, LIST, 2), UNTOUCHED);
    EXPECT_EQ(v0->kernel_sp, 0u);
    // The guest resumes where the iret frame says.
    EXPECT_EQ(regs.rip, 0xffffffff81234567u);
    EXPECT_EQ(regs.rsp, 0xffffc90000020000u);
    EXPECT_EQ(regs.rcx, 0x2222u);
    EXPECT_EQ(regs.r11, 0x1111u);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0);
}

TEST_F(MulticallIret, ARaxWithBit31ClearLosesItsUpperHalf) {
    ctx().rax = 0xfedcba9812345678;
    GuestBuffer list(LIST, ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_iret)};
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0x12345678);
}

TEST_F(MulticallIret, IretIsNotEfaultWhenItsResultCannotBeWritten) {
    GuestBuffer list(LIST, 2 * ENTRY, false);
    const multicall_entry es[] = {entry(__HYPERVISOR_iret), stack_switch(0x1000)};
    put(list, LIST, es);
    EXPECT_EQ(uint64_t(multicall(LIST, 2)), 0xffffffff9abcdef0u);
    EXPECT_EQ(regs.rip, 0xffffffff81234567u);
    EXPECT_EQ(v0->kernel_sp, 0u);
}

TEST_F(MulticallIret, AnIretThatCrashesTheDomainEndsTheBatch) {
    regs.rsp = USER_VA;  // nothing mapped there: the frame cannot be read
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_iret), stack_switch(0x1000)};
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0);
    EXPECT_TRUE(crashed());
    EXPECT_EQ(result(list, LIST, 0), 0u);
    EXPECT_EQ(v0->kernel_sp, 0u);
}

// ---- leaving the CPU between calls --------------------------------------------------------

TEST_F(Multicall, BlockingStopsTheBatchAndTheRestRunsWhenTheVcpuRunsAgain) {
    GuestBuffer list(LIST, 3 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_sched_op, SCHEDOP_block),
                                  entry(__HYPERVISOR_xen_version, XENVER_version), stack_switch(0xffffc90000666000)};
    put(list, LIST, es);
    const uint64_t rip = regs.rip;
    // The continuation: the same hypercall again, from the second entry, for two calls.
    EXPECT_EQ(multicall(LIST, 3), __HYPERVISOR_multicall);
    EXPECT_EQ(regs.rip, rip - 2);
    EXPECT_EQ(regs.rdi, LIST + ENTRY);
    EXPECT_EQ(regs.rsi, 2u);
    EXPECT_EQ(result(list, LIST, 0), 0u);
    EXPECT_EQ(result(list, LIST, 1), UNTOUCHED);
    EXPECT_EQ(v0->kernel_sp, 0u);

    // Woken, the guest executes the SYSCALL again with what the continuation left.
    v0->state = VcpuState::running;
    regs.rip = rip;
    hypercall::dispatch(*v0, regs);
    EXPECT_EQ(regs.rax, 0u);
    EXPECT_EQ(regs.rip, rip);
    EXPECT_EQ(result(list, LIST, 1), uint64_t(XEN_4_17));
    EXPECT_EQ(result(list, LIST, 2), 0u);
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000666000u);
}

TEST_F(Multicall, BlockingInTheLastCallEndsTheBatchNormally) {
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_xen_version, XENVER_version),
                                  entry(__HYPERVISOR_sched_op, SCHEDOP_block)};
    const uint64_t rip = regs.rip;
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), 0);
    EXPECT_EQ(regs.rip, rip);
    EXPECT_EQ(result(list, LIST, 1), 0u);
    EXPECT_EQ(v0->state, VcpuState::blocked);
}

TEST_F(Multicall, AVcpuWokenDuringTheBatchStillLeavesTheCpu) {
    // A block with a timeout already due can be ended by the timer before the next call: the
    // vCPU is then runnable, not running, and must still go through the scheduler.
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_xen_version, XENVER_version),
                                  entry(__HYPERVISOR_xen_version, XENVER_version)};
    put(list, LIST, es);
    v0->state = VcpuState::runnable;
    EXPECT_EQ(multicall(LIST, 2), __HYPERVISOR_multicall);
    EXPECT_EQ(result(list, LIST, 0), uint64_t(XEN_4_17));  // the first call always runs
    EXPECT_EQ(result(list, LIST, 1), UNTOUCHED);
}

TEST_F(Multicall, ShutdownStopsTheBatch) {
    GuestBuffer list(LIST, 2 * ENTRY), arg(ARG, sizeof(sched_shutdown));
    arg.at<sched_shutdown>(ARG).reason = SHUTDOWN_poweroff;
    const multicall_entry es[] = {entry(__HYPERVISOR_sched_op, SCHEDOP_shutdown, ARG), stack_switch(0x1000)};
    EXPECT_EQ(multicall(LIST, put(list, LIST, es)), __HYPERVISOR_multicall);
    EXPECT_EQ(dom->state(), DomainState::shutdown);
    EXPECT_EQ(result(list, LIST, 0), 0u);
    EXPECT_EQ(v0->kernel_sp, 0u);
}

TEST_F(Multicall, APausedDomainStopsTheBatch) {
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {stack_switch(0x1000), stack_switch(0x2000)};
    put(list, LIST, es);
    dom->pause();
    EXPECT_EQ(multicall(LIST, 2), __HYPERVISOR_multicall);
    EXPECT_EQ(v0->kernel_sp, 0x1000u);
    EXPECT_TRUE(dom->unpause());
}

TEST_F(Multicall, AnEventToDeliverStopsTheBatchUnlessMasked) {
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {stack_switch(0x1000), stack_switch(0x2000)};
    put(list, LIST, es);
    v0->info()->evtchn_upcall_pending = 1;
    EXPECT_EQ(multicall(LIST, 2), 0);  // masked: nothing to deliver
    EXPECT_EQ(v0->kernel_sp, 0x2000u);

    v0->info()->evtchn_upcall_mask = 0;
    EXPECT_EQ(multicall(LIST, 2), __HYPERVISOR_multicall);
    EXPECT_EQ(v0->kernel_sp, 0x1000u);
    EXPECT_EQ(regs.rdi, LIST + ENTRY);
    EXPECT_EQ(regs.rsi, 1u);
    // Re-issued, the first call of the rest always runs: every round makes progress.
    EXPECT_EQ(multicall(regs.rdi, regs.rsi), 0);
    EXPECT_EQ(v0->kernel_sp, 0x2000u);
}

}  // namespace

namespace {

TEST_F(Multicall, AYieldStopsTheBatchAsOnXen) {
    GuestBuffer list(LIST, 2 * ENTRY);
    const multicall_entry es[] = {entry(__HYPERVISOR_sched_op, SCHEDOP_yield),
                                  entry(__HYPERVISOR_xen_version, XENVER_version)};
    put(list, LIST, es);
    EXPECT_EQ(multicall(LIST, 2), __HYPERVISOR_multicall);
    EXPECT_EQ(regs.rdi, LIST + ENTRY);
    EXPECT_EQ(regs.rsi, 1u);
    EXPECT_EQ(result(list, LIST, 0), 0u);
    EXPECT_EQ(result(list, LIST, 1), UNTOUCHED);
}

}  // namespace
