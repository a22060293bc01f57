// vcpu_op: bringing vCPUs up and down (initialise, up, down, is_up), runstate, vcpu_info
// placement and the vCPU timers (periodic and single-shot), with Xen's error numbers.
#include <xen/errno.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include <xen/callback.h>

#include "pv_test_support.hpp"
#include "pv_time.hpp"
#include "runstate.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80300000;

class VcpuOp : public PvTest {
protected:
    // With a frame table, so that page-table roots and vcpu_info frames can be typed.
    void SetUp() override {
        uint64_t frames = (TestMachine::BASE / PAGE_SIZE) + machine.total_frames();
        info.resize(frames);
        m2p.resize(frames);
        ft.init(info.data(), m2p.data(), frames);
        machine.mm.set_table(&ft);
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(ARG, 4096);
    }
    long op(int cmd, unsigned vcpu, uint64_t arg = ARG) { return call(__HYPERVISOR_vcpu_op, uint64_t(cmd), vcpu, arg); }
    std::unique_ptr<GuestBuffer> buf;
    std::vector<PageInfo> info;
    std::vector<uint64_t> m2p;
    FrameTable ft;
};

TEST_F(VcpuOp, IsUpAndUnknownVcpus) {
    v0->state = VcpuState::running;
    EXPECT_EQ(op(VCPUOP_is_up, 0), 1);
    EXPECT_EQ(op(VCPUOP_is_up, 1), 0);  // never brought up
    EXPECT_EQ(op(VCPUOP_is_up, 2), -XEN_ENOENT);
    EXPECT_EQ(op(VCPUOP_up, 9), -XEN_ENOENT);  // the vCPU is checked before the command
    EXPECT_EQ(op(VCPUOP_up, 1), -XEN_EINVAL);  // no context yet
    EXPECT_EQ(op(VCPUOP_send_nmi, 0), -XEN_ENOSYS);
    EXPECT_EQ(op(VCPUOP_get_physid, 0), -XEN_EINVAL);  // Xen without dom0_vcpus_pin
}

// A context for vCPU 1: kernel mode, the domain's first frame (zeroed, so a valid L4) as its
// page tables, an entry point and a stack.
class VcpuInitialise : public VcpuOp {
protected:
    void SetUp() override {
        VcpuOp::SetUp();
        ctx_buf = std::make_unique<GuestBuffer>(CTX, sizeof(vcpu_guest_context));
        vcpu_guest_context& c = ctx();
        c.flags = VGCF_in_kernel;
        c.user_regs.rip = KERNEL_VA + 0x1000;
        c.user_regs.rsp = KERNEL_VA + 0x8000;
        c.user_regs.rflags = 0x3202;  // IOPL 3: virtual
        c.user_regs.cs = FLAT_KERNEL_CS & ~3;
        c.user_regs.ss = FLAT_KERNEL_SS & ~3;
        c.user_regs.rbx = 0x1234;
        c.kernel_ss = FLAT_KERNEL_SS;
        c.kernel_sp = KERNEL_VA + 0x9000;
        c.ctrlreg[3] = root().raw() << PAGE_SHIFT;
        c.event_callback_eip = KERNEL_VA + 0x2000;
        c.trap_ctxt[14] = trap_info{14, 0, FLAT_KERNEL_CS & ~3, KERNEL_VA + 0x3000};
        // vCPU 0 runs with the context the builder gave it.
        v0->initialised = true;
        v0->state = VcpuState::running;
    }
    static constexpr uint64_t CTX = ARG + 0x10000;
    vcpu_guest_context& ctx() { return ctx_buf->at<vcpu_guest_context>(CTX); }
    Mfn root() const { return dom->mfn_of(Pfn(0)); }
    long init(unsigned vcpu = 1) { return op(VCPUOP_initialise, vcpu, CTX); }
    std::unique_ptr<GuestBuffer> ctx_buf;
};

TEST_F(VcpuInitialise, SetsTheWholeContext) {
    ASSERT_EQ(init(), 0);
    EXPECT_TRUE(v1->initialised);
    EXPECT_EQ(v1->state, VcpuState::down);  // initialised, not yet up
    EXPECT_EQ(v1->regs.rip, KERNEL_VA + 0x1000);
    EXPECT_EQ(v1->regs.rbx, 0x1234u);
    EXPECT_EQ(v1->regs.cs & 3, 3u);  // guest privilege forced
    EXPECT_EQ(v1->regs.rflags & (3u << 12), 0u);
    EXPECT_EQ(v1->iopl, 3u);
    EXPECT_TRUE(v1->regs.rflags & (1u << 9));
    EXPECT_EQ(v1->cr3_kernel, root());
    EXPECT_EQ(machine.mm.table()->info(root()).type, PageType::l4);
    EXPECT_EQ(v1->traps[14].address, KERNEL_VA + 0x3000);
    EXPECT_EQ(v1->callbacks[CALLBACKTYPE_event].address, KERNEL_VA + 0x2000);
    EXPECT_EQ(v1->kernel_sp, KERNEL_VA + 0x9000);
    EXPECT_TRUE(v1->kernel_mode);
    EXPECT_EQ(init(), -XEN_EEXIST);
    EXPECT_EQ(init(0), -XEN_EEXIST);  // vCPU 0 was built with its context
}

TEST_F(VcpuInitialise, UpAndDown) {
    ASSERT_EQ(init(), 0);
    EXPECT_EQ(op(VCPUOP_up, 1), 0);
    EXPECT_TRUE(fake_pv::happened("up 1"));
    EXPECT_EQ(op(VCPUOP_is_up, 1), 1);
    EXPECT_EQ(op(VCPUOP_down, 1), 0);
    EXPECT_TRUE(fake_pv::happened("down 1"));
    EXPECT_EQ(op(VCPUOP_is_up, 1), 0);
    EXPECT_EQ(dom->state(), DomainState::running);
    // The last vCPU going down powers the domain off, as on Xen.
    EXPECT_EQ(op(VCPUOP_down, 0), 0);
    EXPECT_EQ(dom->state(), DomainState::shutdown);
    EXPECT_EQ(dom->shutdown_reason(), shutdown::poweroff);
}

TEST_F(VcpuInitialise, OnlineFlagBringsItUp) {
    ctx().flags |= VGCF_online;
    ASSERT_EQ(init(), 0);
    EXPECT_TRUE(fake_pv::happened("up 1"));
}

TEST_F(VcpuInitialise, RefusedContextsChangeNothing) {
    EXPECT_EQ(op(VCPUOP_initialise, 1, 0x1000), -XEN_EFAULT);
    auto refused = [&](auto&& spoil, long err) {
        vcpu_guest_context saved = ctx();
        spoil(ctx());
        EXPECT_EQ(init(), err);
        ctx() = saved;
        EXPECT_FALSE(v1->initialised);
        EXPECT_EQ(v1->cr3_kernel, Mfn(0));
        EXPECT_EQ(machine.mm.table()->info(root()).type_count, 0u);
    };
    refused([](auto& c) { c.user_regs.rip = NON_CANONICAL; }, -XEN_EINVAL);
    refused([](auto& c) { c.kernel_sp = NON_CANONICAL; }, -XEN_EINVAL);
    refused([](auto& c) { c.syscall_callback_eip = NON_CANONICAL; }, -XEN_EINVAL);
    refused([](auto& c) { c.trap_ctxt[3].address = NON_CANONICAL; }, -XEN_EINVAL);
    refused([](auto& c) { c.ldt_ents = 1, c.ldt_base = KERNEL_VA + 8; }, -XEN_EINVAL);   // not page aligned
    refused([](auto& c) { c.ldt_ents = 8193, c.ldt_base = KERNEL_VA; }, -XEN_EINVAL);
    refused([](auto& c) { c.ldt_ents = 1, c.ldt_base = HOLE_START; }, -XEN_EINVAL);     // hypervisor's area
    refused([](auto& c) { c.gdt_ents = 15 * 512; }, -XEN_EINVAL);
    refused([](auto& c) { c.flags = 0; }, -XEN_EINVAL);  // user mode without user page tables
    refused([](auto& c) { c.ctrlreg[3] = 0x7fff000; }, -XEN_EINVAL);  // not the domain's frame
    refused([&](auto& c) { c.ctrlreg[1] = 0x7fff000; }, -XEN_EINVAL);  // nor the user root
    // A root that does not validate as an L4: a frame mapped writable elsewhere.
    Mfn busy = dom->mfn_of(Pfn(1));
    ASSERT_TRUE(machine.mm.table()->get_type(busy, PageType::writable));
    refused([&](auto& c) { c.ctrlreg[3] = busy.raw() << PAGE_SHIFT; }, -XEN_EINVAL);
    machine.mm.table()->put_type(busy);
}

TEST_F(VcpuInitialise, FpuImageAndDebugRegisters) {
    ctx().flags |= VGCF_I387_VALID;
    ctx().fpu_ctxt.x[0] = 0x7f;  // FCW low byte
    ctx().debugreg[0] = KERNEL_VA;
    ctx().debugreg[1] = HOLE_START;  // refused quietly, as on Xen
    ASSERT_EQ(init(), 0);
    EXPECT_TRUE(v1->fpu_initialised);
    EXPECT_EQ(v1->fpu_state[0], 0x7f);
    EXPECT_EQ(v1->debugreg[0], KERNEL_VA);
    EXPECT_EQ(v1->debugreg[1], 0u);
}

TEST_F(VcpuOp, RunstateInfo) {
    fake_pv::record().now_ns = 5000;
    v1->runstate = RUNSTATE_blocked;
    v1->runstate_entry = 1000;
    v1->runstate_time[RUNSTATE_running] = 700;
    ASSERT_EQ(op(VCPUOP_get_runstate_info, 1), 0);
    auto& info = buf->at<vcpu_runstate_info>(ARG);
    EXPECT_EQ(info.state, RUNSTATE_blocked);
    EXPECT_EQ(info.state_entry_time, 1000u);
    EXPECT_EQ(info.time[RUNSTATE_running], 700u);
    EXPECT_EQ(info.time[RUNSTATE_blocked], 4000u);  // the current state's time so far
    EXPECT_EQ(op(VCPUOP_get_runstate_info, 1, 0x1000), -XEN_EFAULT);
}

TEST_F(VcpuOp, RunstateAreaIsWrittenAtOnceAndOnChanges) {
    constexpr uint64_t AREA = ARG + 64;
    buf->at<uint64_t>(ARG) = AREA;
    v0->runstate = RUNSTATE_running;
    ASSERT_EQ(op(VCPUOP_register_runstate_memory_area, 0), 0);
    EXPECT_EQ(v0->runstate_area, AREA);
    EXPECT_EQ(buf->at<vcpu_runstate_info>(AREA).state, RUNSTATE_running);
    runstate::change(*v0, RUNSTATE_blocked, 100);
    EXPECT_TRUE(runstate::publish(*v0));
    EXPECT_EQ(buf->at<vcpu_runstate_info>(AREA).state, RUNSTATE_blocked);
    EXPECT_EQ(buf->at<vcpu_runstate_info>(AREA).state_entry_time, 100u);  // update flag cleared again
    dom->vm_assist |= 1u << VMASST_TYPE_runstate_update_flag;
    runstate::change(*v0, RUNSTATE_running, 200);
    EXPECT_TRUE(runstate::publish(*v0));
    EXPECT_EQ(buf->at<vcpu_runstate_info>(AREA).state_entry_time, 200u);
    // An area the guest cannot write, or no handle to read.
    buf->at<uint64_t>(ARG) = HOLE_START;
    EXPECT_EQ(op(VCPUOP_register_runstate_memory_area, 0), -XEN_EFAULT);
    EXPECT_EQ(op(VCPUOP_register_runstate_memory_area, 0, 0x1000), -XEN_EFAULT);
    EXPECT_EQ(v0->runstate_area, AREA);
}

TEST_F(VcpuOp, TimeAreaGetsEveryPublishedTime) {
    constexpr uint64_t AREA = ARG + 256;
    buf->at<uint64_t>(ARG) = AREA;
    ASSERT_EQ(op(VCPUOP_register_vcpu_time_memory_area, 0), 0);
    EXPECT_EQ(v0->time_area, AREA);
    EXPECT_EQ(buf->at<vcpu_time_info>(AREA).version % 2, 0u);  // a first copy, complete
    pv_time::publish(*v0, 1000, 5000, pv_time::Scale{0x80000000, 1}, true);
    const vcpu_time_info& copy = buf->at<vcpu_time_info>(AREA);
    EXPECT_EQ(copy.system_time, 5000u);
    EXPECT_EQ(copy.tsc_timestamp, 1000u);
    EXPECT_EQ(copy.tsc_to_system_mul, 0x80000000u);
    EXPECT_EQ(copy.flags, XEN_PVCLOCK_TSC_STABLE_BIT);
    EXPECT_EQ(copy.version % 2, 0u);
    // Not writable now: kept for the next kernel entry if the guest is in user mode.
    buf->at<uint64_t>(ARG) = HOLE_START;
    EXPECT_EQ(op(VCPUOP_register_vcpu_time_memory_area, 0), -XEN_EFAULT);
    EXPECT_EQ(op(VCPUOP_register_vcpu_time_memory_area, 0, 0x1000), -XEN_EFAULT);
    EXPECT_EQ(v0->time_area, AREA);
    v0->time_area = 0x0000100000000000;  // unmapped
    v0->kernel_mode = false;
    pv_time::publish(*v0, 2000, 6000, pv_time::Scale{0x80000000, 1}, true);
    EXPECT_EQ(v0->pending_time.system_time, 6000u);
    EXPECT_NE(v0->pending_time.version, 0u);
    v0->time_area = AREA;
    v0->kernel_mode = true;
    pv_time::flush_pending(*v0);
    EXPECT_EQ(v0->pending_time.version, 0u);
    EXPECT_EQ(buf->at<vcpu_time_info>(AREA).system_time, 6000u);
    EXPECT_EQ(buf->at<vcpu_time_info>(AREA).version % 2, 0u);
    buf->at<uint64_t>(ARG) = 0;  // 0 stops the copies
    EXPECT_EQ(op(VCPUOP_register_vcpu_time_memory_area, 0), 0);
    pv_time::publish(*v0, 3000, 7000, pv_time::Scale{0x80000000, 1}, true);
    EXPECT_EQ(buf->at<vcpu_time_info>(AREA).system_time, 6000u);
}

TEST_F(VcpuOp, RegisterVcpuInfo) {
    Mfn frame = dom->mfn_of(Pfn(2));
    v0->state = VcpuState::running;
    v0->info()->evtchn_upcall_mask = 1;
    auto reg = [&](uint64_t mfn, uint32_t offset, unsigned vcpu = 0) {
        buf->at<vcpu_register_vcpu_info>(ARG) = {mfn, offset, 0};
        return op(VCPUOP_register_vcpu_info, vcpu);
    };
    EXPECT_EQ(reg(frame.raw(), PAGE_SIZE - sizeof(vcpu_info) + 8), -XEN_ENXIO);
    EXPECT_EQ(reg(frame.raw(), 4), -XEN_ENXIO);  // misaligned
    EXPECT_EQ(reg(0x7fff, 0), -XEN_EINVAL);      // not the domain's frame
    EXPECT_EQ(op(VCPUOP_register_vcpu_info, 0, 0x1000), -XEN_EFAULT);
    v1->state = VcpuState::runnable;
    EXPECT_EQ(reg(frame.raw(), 0, 1), -XEN_EINVAL);  // another vCPU that is up
    EXPECT_EQ(v0->info(), &dom->shared()->vcpu_info[0]);
    ASSERT_EQ(reg(frame.raw(), 128), 0);
    auto* moved = reinterpret_cast<vcpu_info*>(static_cast<uint8_t*>(machine.mm.map(frame)) + 128);
    EXPECT_EQ(v0->info(), moved);
    EXPECT_EQ(moved->evtchn_upcall_mask, 1);  // the old contents came along
    EXPECT_EQ(moved->evtchn_upcall_pending, 1);  // and everything is rescanned
    EXPECT_EQ(moved->evtchn_pending_sel, ~xen_ulong_t{0});
    EXPECT_EQ(machine.mm.table()->info(frame).type, PageType::writable);
    EXPECT_EQ(reg(frame.raw(), 0), -XEN_EINVAL);  // once only
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
