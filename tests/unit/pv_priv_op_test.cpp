// pv_priv_op: the privileged instructions emulated for a 64-bit PV guest's kernel (Xen's
// rules): port I/O and cli/sti at the virtual IOPL, clts, mov from and to control registers,
// xsetbv; everything else is left to the caller's #GP.
#include "pv_priv_op.hpp"

#include <memory>

#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t CODE_VA = 0xffffffff81000000;  // apart from what the fixture maps

class PrivOp : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();  // clears the fake guest memory: map the code page after it
        text = std::make_unique<GuestBuffer>(CODE_VA, 64, false);
    }
    // Places an instruction at the guest's rip.
    void code(std::initializer_list<uint8_t> bytes) {
        text->put(CODE_VA, std::data(bytes), bytes.size());
        frame.rip = CODE_VA;
    }
    bool run(Vcpu& v) { return pv_priv_op::emulate(v, frame); }

    std::unique_ptr<GuestBuffer> text;
    arch::ExceptionFrame frame{};
};

TEST_F(PrivOp, PortIoNeedsTheVirtualIopl) {
    Domain* d0 = make_dom0();
    Vcpu& v = *d0->vcpu(VcpuId(0));
    code({0xe4, 0x80});  // in al, 0x80
    EXPECT_FALSE(run(v));
    EXPECT_EQ(frame.rip, CODE_VA);
    v.iopl = 1;
    fake_pv::record().port_value = 0x5a;
    frame.rax = 0x1234567812345678;
    EXPECT_TRUE(run(v));
    EXPECT_EQ(frame.rip, CODE_VA + 2);
    EXPECT_EQ(frame.rax, 0x12345678123456'5aull);
    EXPECT_TRUE(fake_pv::happened("in 0x80/1"));
}

TEST_F(PrivOp, UserModeNeedsIopl3) {
    Domain* d0 = make_dom0();
    Vcpu& v = *d0->vcpu(VcpuId(0));
    v.kernel_mode = false;
    v.iopl = 1;
    code({0xee});  // out dx, al
    EXPECT_FALSE(run(v));
    v.iopl = 3;
    EXPECT_TRUE(run(v));
}

TEST_F(PrivOp, PortsADomainMayNotUseReadAllOnesAndIgnoreWrites) {
    v0->iopl = 1;  // an unprivileged domain has no ports at all
    code({0x66, 0xed});  // in ax, dx
    frame.rdx = 0x3f8;
    frame.rax = 0;
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(frame.rax, 0xffffu);
    EXPECT_EQ(frame.rip, CODE_VA + 2);
    code({0xef});  // out dx, eax
    EXPECT_TRUE(run(*v0));
    EXPECT_TRUE(fake_pv::record().events.empty());  // nothing reached a port
}

TEST_F(PrivOp, CliStiAreIgnoredAtIopl) {
    code({0xfa});
    EXPECT_FALSE(run(*v0));
    v0->iopl = 1;
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(frame.rip, CODE_VA + 1);
}

TEST_F(PrivOp, MovFromCr0ShowsTheVirtualTs) {
    code({0x0f, 0x20, 0xc3});  // mov rbx, cr0
    v0->virtual_ts = true;
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(frame.rbx, 0x80050033u | 8u);
    code({0x41, 0x0f, 0x20, 0xc7});  // mov r15, cr0 (REX.B)
    v0->virtual_ts = false;
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(frame.r15, 0x80050033u & ~8u);
    v0->kernel_mode = false;
    EXPECT_FALSE(run(*v0));
}

TEST_F(PrivOp, ClearingTsByClts) {
    code({0x0f, 0x06});
    v0->virtual_ts = true;
    EXPECT_TRUE(run(*v0));
    EXPECT_FALSE(v0->virtual_ts);
    EXPECT_TRUE(fake_pv::happened("ts off"));
}

TEST_F(PrivOp, MovToCr0MayOnlyFlipTs) {
    code({0x0f, 0x22, 0xc0});  // mov cr0, rax
    frame.rax = 0x80050033u | 8u;
    EXPECT_TRUE(run(*v0));
    EXPECT_TRUE(v0->virtual_ts);
    frame.rax = 0x80050033u & ~1u;  // clearing PE
    EXPECT_FALSE(run(*v0));
}

TEST_F(PrivOp, MovToCr3IsNotEmulated) {
    code({0x0f, 0x22, 0xd8});  // mov cr3, rax
    EXPECT_FALSE(run(*v0));
}

TEST_F(PrivOp, XsetbvFollowsTheGuestsOsxsave) {
    fake_pv::record().xstate_mask = 0x7;
    code({0x0f, 0x01, 0xd1});
    frame.rax = 7;
    frame.rcx = 0;
    // Without OSXSAVE in the guest's CR4: #UD queued, instruction not completed.
    v0->traps[6] = GuestTrap{CODE_VA + 32, 0xe033, 0};
    EXPECT_TRUE(run(*v0));
    EXPECT_TRUE(v0->bounce.pending);
    EXPECT_EQ(v0->bounce.vector, 6);
    EXPECT_EQ(frame.rip, CODE_VA);
    v0->bounce = PendingBounce{};
    code({0x0f, 0x22, 0xe0});  // mov cr4, rax: OSXSAVE
    frame.rax = 1u << 18;
    EXPECT_TRUE(run(*v0));
    code({0x0f, 0x01, 0xd1});
    frame.rax = 7;
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(v0->xcr0, 7u);
    frame.rax = 5;  // AVX without SSE
    EXPECT_FALSE(run(*v0));
    frame.rax = 3;
    frame.rcx = 1;  // no such register
    EXPECT_FALSE(run(*v0));
    EXPECT_EQ(v0->xcr0, 7u);
}

TEST_F(PrivOp, OtherInstructionsAreLeftToTheCaller) {
    for (auto insn : {std::initializer_list<uint8_t>{0xf4},                // hlt
                      std::initializer_list<uint8_t>{0x6c}}) {             // insb
        code(insn);
        v0->iopl = 3;
        EXPECT_FALSE(run(*v0));
        EXPECT_EQ(frame.rip, CODE_VA);
    }
}

TEST_F(PrivOp, RdmsrAndWrmsrInKernelModeOnly) {
    fake_pv::record().cpuid[uint64_t{0x80000001} << 32] = CpuidRegs{0, 0, 0, 1u << 29};  // long mode
    code({0x0f, 0x32});  // rdmsr
    frame.rcx = 0x277;   // PAT
    frame.rax = frame.rdx = ~0ull;
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(frame.rax, 0x00070406u);  // both halves zero-extended
    EXPECT_EQ(frame.rdx, 0x0501u);
    EXPECT_EQ(frame.rip, CODE_VA + 2);
    code({0x0f, 0x30});  // wrmsr
    frame.rcx = 0xc0000100;
    frame.rdx = 0x1234;
    frame.rax = 0xffffffff00005000;  // only EAX's 32 bits count
    EXPECT_TRUE(run(*v0));
    EXPECT_EQ(v0->fs_base, 0x0000123400005000u);
    v0->kernel_mode = false;
    frame.rip = CODE_VA;
    EXPECT_FALSE(run(*v0));
    code({0x0f, 0x32});
    EXPECT_FALSE(run(*v0));
}

TEST_F(PrivOp, UnreadableCodeIsNotEmulated) {
    frame.rip = 0x0000100000000000;  // nothing mapped there
    v0->iopl = 3;
    EXPECT_FALSE(run(*v0));
}

}  // namespace
