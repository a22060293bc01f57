// Domain: creation with its frames accounted (every frame it takes shows in frames_held and
// comes back on destroy, on success and on every failure), configuration checks, vCPUs and
// their vcpu_info slots, and the shutdown rules Xen's domain_shutdown follows (the first
// shutdown counts; a code recorded by SCHEDOP_shutdown_code wins).
#include <thread>

#include <xen/sched.h>
#include <xen/xen.h>

#include "grant_table.hpp"
#include "pv_test_support.hpp"

namespace {

using pv_test::TestMachine;

DomainConfig config(uint64_t pages, unsigned vcpus = 1, bool privileged = false, uint64_t max_pages = 0) {
    return DomainConfig{DomId(privileged ? 0 : 5), pages, max_pages, vcpus, privileged, false};
}

class DomainTest : public ::testing::Test {
protected:
    void SetUp() override { pv_test::reset_fakes(); }
    void TearDown() override { pv_test::reset_fakes(); }
    TestMachine machine{1024};
};

TEST_F(DomainTest, CreateSetsUpMemoryVcpusAndSharedInfo) {
    uint64_t before = machine.mm.free_frames();
    auto r = Domain::create(machine.mm, DomainConfig{DomId(3), 16, 32, 3, false, true});
    ASSERT_TRUE(r.has_value());
    Domain* d = *r;
    EXPECT_EQ(d->id(), DomId(3));
    EXPECT_FALSE(d->privileged());
    EXPECT_TRUE(d->console_access());
    EXPECT_EQ(d->nr_pages(), 16u);
    EXPECT_EQ(d->max_pages(), 32u);
    EXPECT_EQ(d->nr_vcpus(), 3u);
    EXPECT_EQ(d->state(), DomainState::running);
    EXPECT_EQ(d->vm_assist, 0u);
    EXPECT_EQ(before - machine.mm.free_frames(), d->frames_held());
    Domain::destroy(d);
    EXPECT_EQ(machine.mm.free_frames(), before);
}

TEST_F(DomainTest, FramesHeldCountsEveryPart) {
    uint64_t before = machine.mm.free_frames();
    auto r = Domain::create(machine.mm, config(10, 2));
    ASSERT_TRUE(r.has_value());
    unsigned dom = 1u << MachineMemory::order_for(sizeof(Domain));
    unsigned vcpu = 1u << MachineMemory::order_for(sizeof(Vcpu));
    unsigned channels = 2;  // the port directory and the first block of ports
    // The grant table: its object, one shared frame and that frame's two frames of active records.
    unsigned grants = (1u << MachineMemory::order_for(sizeof(GrantTable))) + 1 + 2;
    // Domain object, one-frame p2m table (10 entries), event channels, shared_info, two
    // vCPUs, ten pages, grant table.
    EXPECT_EQ((*r)->frames_held(), dom + 1 + channels + 1 + 2 * vcpu + 10 + grants);
    EXPECT_EQ(before - machine.mm.free_frames(), (*r)->frames_held());
    Domain::destroy(*r);
}

TEST_F(DomainTest, GuestFramesAreDistinctZeroedAndMapped) {
    auto r = Domain::create(machine.mm, config(8));
    ASSERT_TRUE(r.has_value());
    Domain* d = *r;
    for (uint64_t p = 0; p < 8; ++p) {
        EXPECT_TRUE(d->pfn_valid(Pfn(p)));
        auto* page = static_cast<uint8_t*>(d->map_pfn(Pfn(p)));
        EXPECT_TRUE(machine.owns(page));
        for (size_t i = 0; i < PAGE_SIZE; ++i) ASSERT_EQ(page[i], 0) << p;
        for (uint64_t q = 0; q < p; ++q) EXPECT_NE(d->mfn_of(Pfn(p)), d->mfn_of(Pfn(q)));
        EXPECT_NE(d->mfn_of(Pfn(p)), d->shared_info_mfn());
    }
    EXPECT_FALSE(d->pfn_valid(Pfn(8)));
    EXPECT_FALSE(d->pfn_valid(Pfn(~uint64_t{0})));
    Domain::destroy(d);
}

TEST_F(DomainTest, VcpusHaveIdsAndTheirOwnMaskedVcpuInfo) {
    auto r = Domain::create(machine.mm, config(4, 4));
    ASSERT_TRUE(r.has_value());
    Domain* d = *r;
    ASSERT_NE(d->shared(), nullptr);
    EXPECT_EQ(machine.mm.map(d->shared_info_mfn()), static_cast<void*>(d->shared()));
    for (unsigned i = 0; i < 4; ++i) {
        Vcpu* v = d->vcpu(VcpuId(i));
        ASSERT_NE(v, nullptr);
        EXPECT_EQ(v->id(), VcpuId(i));
        EXPECT_EQ(&v->domain(), d);
        EXPECT_EQ(v->info(), &d->shared()->vcpu_info[i]);
        EXPECT_EQ(v->info()->evtchn_upcall_mask, 1) << "events start masked";
        EXPECT_EQ(v->info()->evtchn_upcall_pending, 0);
        EXPECT_EQ(v->state, VcpuState::down);
        EXPECT_TRUE(v->kernel_mode);
        for (const auto& t : v->traps) EXPECT_EQ(t.address, 0u);
    }
    EXPECT_EQ(d->vcpu(VcpuId(4)), nullptr);
    EXPECT_EQ(d->vcpu(VcpuId(1000)), nullptr);
    EXPECT_EQ(d->shared()->vcpu_info[4].evtchn_upcall_mask, 0) << "slots of absent vCPUs untouched";
    Domain::destroy(d);
}

TEST_F(DomainTest, ThirtyTwoVcpusFitInSharedInfo) {
    auto r = Domain::create(machine.mm, config(1, 32));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->nr_vcpus(), 32u);
    EXPECT_EQ((*r)->vcpu(VcpuId(31))->info(), &(*r)->shared()->vcpu_info[31]);
    Domain::destroy(*r);
}

TEST_F(DomainTest, MaxPagesDefaultsToNrPages) {
    auto r = Domain::create(machine.mm, config(6));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ((*r)->max_pages(), 6u);
    Domain::destroy(*r);
}

// dom0 on Xen 4.17 without dom0_mem=max: has a limit of UINT_MAX pages. Kestrel keeps the
// limit and sizes the p2m (and the page list) by what the machine can ever give.
TEST_F(DomainTest, ALimitBeyondTheMachineIsKeptAndThePageListStopsAtTheMachine) {
    auto r = Domain::create(machine.mm, DomainConfig{DomId(0), 6, 0xffffffff, 1, true, false});
    ASSERT_TRUE(r.has_value());
    Domain* d = *r;
    EXPECT_EQ(d->max_pages(), 0xffffffffu);
    EXPECT_EQ(d->p2m_size(), machine.total_frames());
    // It may grow until the machine runs out, never past the p2m.
    unsigned added = 0;
    while (d->add_page(6 + added)) ++added;
    EXPECT_GT(added, 0u);
    EXPECT_LE(d->nr_pages(), d->p2m_size());
    Domain::destroy(d);
}

TEST_F(DomainTest, PrivilegedDomainAlwaysHasConsoleAccess) {
    auto r = Domain::create(machine.mm, config(1, 1, true));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE((*r)->privileged());
    EXPECT_TRUE((*r)->console_access());
    Domain::destroy(*r);
    auto u = Domain::create(machine.mm, config(1));
    ASSERT_TRUE(u.has_value());
    EXPECT_FALSE((*u)->console_access());
    Domain::destroy(*u);
}

TEST_F(DomainTest, BadVcpuCountsAreRefusedWithoutTakingMemory) {
    uint64_t before = machine.mm.free_frames();
    for (unsigned n : {0u, 33u, 1000u}) {
        auto r = Domain::create(machine.mm, config(4, n));
        ASSERT_FALSE(r.has_value()) << n;
        EXPECT_EQ(r.error(), DomainError::too_many_vcpus) << n;
    }
    EXPECT_EQ(machine.mm.free_frames(), before);
}

TEST_F(DomainTest, BadSizesAreRefusedWithoutTakingMemory) {
    uint64_t before = machine.mm.free_frames();
    uint64_t too_many = (PAGE_SIZE << FrameAllocator::MAX_ORDER) / sizeof(Mfn) + 1;
    for (auto c : {config(0), config(too_many), config(~uint64_t{0}), config(8, 1, false, 7)}) {
        auto r = Domain::create(machine.mm, c);
        ASSERT_FALSE(r.has_value()) << c.nr_pages << " " << c.max_pages;
        EXPECT_EQ(r.error(), DomainError::bad_size);
    }
    EXPECT_EQ(machine.mm.free_frames(), before);
}

TEST_F(DomainTest, MaxPagesEqualToNrPagesIsFine) {
    auto r = Domain::create(machine.mm, config(8, 1, false, 8));
    ASSERT_TRUE(r.has_value());
    Domain::destroy(*r);
}

TEST(DomainOutOfMemory, EveryShortfallFailsCleanly) {
    // Machines of every size up to what the domain needs: creation fails with out_of_memory
    // at each step (domain object, p2m table, shared_info, each vCPU, each page) and gives
    // every frame back; at the full size it succeeds.
    pv_test::reset_fakes();
    const DomainConfig c{DomId(9), 6, 0, 3, false, false};
    uint64_t needed = 0;
    {
        TestMachine m(256);
        auto r = Domain::create(m.mm, c);
        ASSERT_TRUE(r.has_value());
        needed = (*r)->frames_held();
        Domain::destroy(*r);
    }
    unsigned failures = 0;
    for (uint64_t frames = 0; frames <= needed + 8; ++frames) {
        TestMachine m(frames);
        uint64_t before = m.mm.free_frames();
        auto r = Domain::create(m.mm, c);
        if (r) {
            EXPECT_EQ(before - m.mm.free_frames(), (*r)->frames_held()) << frames;
            Domain::destroy(*r);
        } else {
            ++failures;
            EXPECT_EQ(r.error(), DomainError::out_of_memory) << frames;
        }
        EXPECT_EQ(m.mm.free_frames(), before) << frames;
        EXPECT_TRUE(m.frames().check_consistency()) << frames;
    }
    EXPECT_GE(failures, needed) << "every machine smaller than the domain fails";
    TestMachine exact(needed + 8);
    auto r = Domain::create(exact.mm, c);
    EXPECT_TRUE(r.has_value());
    if (r) Domain::destroy(*r);
}

TEST_F(DomainTest, ManyDomainsComeAndGo) {
    uint64_t before = machine.mm.free_frames();
    std::vector<Domain*> ds;
    for (unsigned i = 0; i < 6; ++i) {
        auto r = Domain::create(machine.mm, DomainConfig{DomId(uint16_t(i + 1)), 3 + i, 0, 1 + i % 3, false, false});
        ASSERT_TRUE(r.has_value());
        ds.push_back(*r);
    }
    Domain::destroy(ds[2]);
    Domain::destroy(ds[0]);
    Domain::destroy(ds[5]);
    Domain::destroy(ds[1]);
    Domain::destroy(ds[4]);
    Domain::destroy(ds[3]);
    EXPECT_EQ(machine.mm.free_frames(), before);
    EXPECT_TRUE(machine.frames().check_consistency());
}

class DomainShutdown : public DomainTest {
protected:
    void SetUp() override {
        DomainTest::SetUp();
        auto r = Domain::create(machine.mm, config(2, 2));
        ASSERT_TRUE(r.has_value());
        d = *r;
        d->vcpu(VcpuId(0))->state = VcpuState::running;
        d->vcpu(VcpuId(1))->state = VcpuState::blocked;
    }
    void TearDown() override {
        Domain::destroy(d);
        DomainTest::TearDown();
    }
    Domain* d = nullptr;
};

TEST_F(DomainShutdown, FirstShutdownStopsEveryVcpu) {
    EXPECT_TRUE(d->shut_down(shutdown::reboot));
    EXPECT_EQ(d->state(), DomainState::shutdown);
    EXPECT_EQ(d->shutdown_reason(), shutdown::reboot);
    EXPECT_EQ(d->vcpu(VcpuId(0))->state, VcpuState::dead);
    EXPECT_EQ(d->vcpu(VcpuId(1))->state, VcpuState::dead);
}

TEST_F(DomainShutdown, LaterShutdownsChangeNothing) {
    EXPECT_TRUE(d->shut_down(shutdown::suspend));
    EXPECT_FALSE(d->shut_down(shutdown::crash));
    EXPECT_EQ(d->shutdown_reason(), shutdown::suspend);
}

TEST_F(DomainShutdown, RecordedCodeWinsOverTheShutdownsReason) {
    d->set_shutdown_code(shutdown::watchdog);
    EXPECT_TRUE(d->has_shutdown_code());
    EXPECT_EQ(d->shutdown_code(), shutdown::watchdog);
    EXPECT_EQ(d->state(), DomainState::running);
    EXPECT_TRUE(d->shut_down(shutdown::poweroff));
    EXPECT_EQ(d->shutdown_reason(), shutdown::watchdog);
}

TEST_F(DomainShutdown, FirstRecordedCodeSticks) {
    d->set_shutdown_code(shutdown::soft_reset);
    d->set_shutdown_code(shutdown::crash);
    EXPECT_EQ(d->shutdown_code(), shutdown::soft_reset);
    EXPECT_TRUE(d->shut_down(shutdown::poweroff));
    EXPECT_EQ(d->shutdown_reason(), shutdown::soft_reset);
}

TEST_F(DomainShutdown, DyingDomainCannotShutDown) {
    d->set_dying();
    EXPECT_EQ(d->state(), DomainState::dying);
    EXPECT_FALSE(d->shut_down(shutdown::poweroff));
    EXPECT_EQ(d->state(), DomainState::dying);
}

TEST(DomainNames, ShutdownReasons) {
    EXPECT_STREQ(shutdown_reason_name(SHUTDOWN_poweroff), "poweroff");
    EXPECT_STREQ(shutdown_reason_name(SHUTDOWN_reboot), "reboot");
    EXPECT_STREQ(shutdown_reason_name(SHUTDOWN_suspend), "suspend");
    EXPECT_STREQ(shutdown_reason_name(SHUTDOWN_crash), "crash");
    EXPECT_STREQ(shutdown_reason_name(SHUTDOWN_watchdog), "watchdog");
    EXPECT_STREQ(shutdown_reason_name(SHUTDOWN_soft_reset), "soft_reset");
    EXPECT_STREQ(shutdown_reason_name(6), "unknown reason");
    EXPECT_STREQ(shutdown_reason_name(255), "unknown reason");
}

TEST(DomainNames, ShutdownCodesMatchTheAbi) {
    EXPECT_EQ(shutdown::poweroff, SHUTDOWN_poweroff);
    EXPECT_EQ(shutdown::reboot, SHUTDOWN_reboot);
    EXPECT_EQ(shutdown::suspend, SHUTDOWN_suspend);
    EXPECT_EQ(shutdown::crash, SHUTDOWN_crash);
    EXPECT_EQ(shutdown::watchdog, SHUTDOWN_watchdog);
    EXPECT_EQ(shutdown::soft_reset, SHUTDOWN_soft_reset);
}

TEST(DomainNames, Errors) {
    EXPECT_STREQ(domain_error_name(DomainError::out_of_memory), "out of memory");
    EXPECT_STREQ(domain_error_name(DomainError::too_many_vcpus), "too many vCPUs");
    EXPECT_STREQ(domain_error_name(DomainError::bad_size), "bad memory size");
    EXPECT_STREQ(domain_error_name(DomainError::id_in_use), "domain id in use");
    EXPECT_STREQ(domain_error_name(DomainError(99)), "unknown");
}

}  // namespace

namespace {

TEST_F(DomainTest, PausesNestAndUnpauseNeedsAPause) {
    auto r = Domain::create(machine.mm, config(8));
    ASSERT_TRUE(r.has_value());
    Domain* d = *r;
    EXPECT_FALSE(d->paused());
    EXPECT_FALSE(d->unpause());  // nothing to undo: nothing changes
    EXPECT_FALSE(d->paused());
    d->pause();
    d->pause();
    EXPECT_TRUE(d->paused());
    EXPECT_TRUE(d->unpause());
    EXPECT_TRUE(d->paused());  // one pause is still outstanding
    EXPECT_TRUE(d->unpause());
    EXPECT_FALSE(d->paused());
    EXPECT_FALSE(d->unpause());
    Domain::destroy(d);
}

TEST_F(DomainTest, ConcurrentPausesAndUnpausesBalance) {
    auto r = Domain::create(machine.mm, config(8));
    ASSERT_TRUE(r.has_value());
    Domain* d = *r;
    auto work = [d] {
        for (int i = 0; i < 10000; ++i) {
            d->pause();
            EXPECT_TRUE(d->unpause());
        }
    };
    std::thread a(work), b(work);
    a.join();
    b.join();
    EXPECT_FALSE(d->paused());
    Domain::destroy(d);
}

}  // namespace
