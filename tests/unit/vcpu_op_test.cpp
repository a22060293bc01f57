// vcpu_op: is_up and the vCPU timers (periodic and single-shot), with Xen's error numbers.
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80300000;

class VcpuOp : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(ARG, 32);
    }
    long op(int cmd, unsigned vcpu, uint64_t arg = ARG) { return call(__HYPERVISOR_vcpu_op, uint64_t(cmd), vcpu, arg); }
    std::unique_ptr<GuestBuffer> buf;
};

TEST_F(VcpuOp, IsUpAndUnknownVcpus) {
    v0->state = VcpuState::running;
    EXPECT_EQ(op(VCPUOP_is_up, 0), 1);
    EXPECT_EQ(op(VCPUOP_is_up, 1), 0);  // never brought up
    EXPECT_EQ(op(VCPUOP_is_up, 2), -XEN_ENOENT);
    EXPECT_EQ(op(VCPUOP_up, 9), -XEN_ENOENT);  // the vCPU is checked before the command
    EXPECT_EQ(op(VCPUOP_up, 1), -XEN_ENOSYS);
}

TEST_F(VcpuOp, PeriodicTimer) {
    buf->at<vcpu_set_periodic_timer>(ARG) = {999'999};
    EXPECT_EQ(op(VCPUOP_set_periodic_timer, 0), -XEN_EINVAL);
    buf->at<vcpu_set_periodic_timer>(ARG) = {~uint64_t{0}};
    EXPECT_EQ(op(VCPUOP_set_periodic_timer, 0), -XEN_EINVAL);
    buf->at<vcpu_set_periodic_timer>(ARG) = {20'000'000};
    EXPECT_EQ(op(VCPUOP_set_periodic_timer, 1), 0);  // another vCPU's may be set
    EXPECT_EQ(v1->periodic_ns, 20'000'000u);
    EXPECT_EQ(op(VCPUOP_stop_periodic_timer, 1), 0);
    EXPECT_EQ(v1->periodic_ns, 0u);
    EXPECT_EQ(op(VCPUOP_set_periodic_timer, 0, 0x1000), -XEN_EFAULT);
}

TEST_F(VcpuOp, SingleShotTimer) {
    fake_pv::record().now_ns = 1'000'000;
    buf->at<vcpu_set_singleshot_timer>(ARG) = {5'000'000, 0};
    EXPECT_EQ(op(VCPUOP_set_singleshot_timer, 1), -XEN_EINVAL);  // only one's own
    EXPECT_EQ(op(VCPUOP_set_singleshot_timer, 0), 0);
    EXPECT_TRUE(fake_pv::happened("timer 5000000"));
    EXPECT_EQ(op(VCPUOP_stop_singleshot_timer, 1), -XEN_EINVAL);
    EXPECT_EQ(op(VCPUOP_stop_singleshot_timer, 0), 0);
    EXPECT_TRUE(fake_pv::happened("timer stop"));
    // Already due: VIRQ_TIMER at once (on its bound port).
    v0->virq_port[VIRQ_TIMER] = 9;
    dom->channel(9)->state = ChannelState::virq;
    buf->at<vcpu_set_singleshot_timer>(ARG) = {10, VCPU_SSHOTTMR_future};
    EXPECT_EQ(op(VCPUOP_set_singleshot_timer, 0), 0);
    EXPECT_TRUE(events::is_pending(*dom, 9));
    EXPECT_EQ(op(VCPUOP_set_singleshot_timer, 0, 0x1000), -XEN_EFAULT);
}

}  // namespace
