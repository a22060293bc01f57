// The FIFO event channel ABI on the host, as Xen 4.17's event_fifo.c behaves: init_control
// (checks and their order, the frame taken as writable, 2-level ports carried over),
// expand_array up to 128 pages, the queues (head, tail links, LINKED/PENDING/MASKED bits,
// ready bitmap, one upcall per queue that becomes non-empty), priorities, events waiting for
// their array page, busy ports, set_priority's errors, ports past the 2-level range, and
// EVTCHNOP_reset back to 2-level with every frame reference given back.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include <cstring>
#include <vector>

#include "event_channel.hpp"
#include "event_channel_fifo.hpp"
#include "pv_mm.hpp"
#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80200000;
constexpr uint32_t PENDING = 1u << EVTCHN_FIFO_PENDING;
constexpr uint32_t MASKED = 1u << EVTCHN_FIFO_MASKED;
constexpr uint32_t LINKED = 1u << EVTCHN_FIFO_LINKED;
constexpr uint32_t BUSY = 1u << EVTCHN_FIFO_BUSY;

class Fifo : public PvTest {
protected:
    void SetUp() override {
        uint64_t n = (TestMachine::BASE / PAGE_SIZE) + machine.total_frames();
        info.resize(n);
        m2p.resize(n);
        table.init(info.data(), m2p.data(), n);
        machine.mm.set_table(&table);
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(ARG, 64);
        // Domain 2: sixteen pages, two vCPUs.
        d = make_domain(DomainConfig{DomId(2), 16, 0, 2, false, false});
        a0 = d->vcpu(VcpuId(0));
        a1 = d->vcpu(VcpuId(1));
    }

    template <typename T>
    long op(Vcpu& v, int cmd, T& arg) { return call_struct(v, __HYPERVISOR_event_channel_op, cmd, arg, *buf); }
    template <typename T>
    long op(int cmd, T& arg) { return op(*a0, cmd, arg); }

    uint64_t gfn(unsigned pfn) { return d->mfn_of(Pfn(pfn)).raw(); }
    const PageInfo& frame(unsigned pfn) { return table.info(d->mfn_of(Pfn(pfn))); }

    long init(unsigned vcpu, unsigned pfn, uint32_t offset = 0, Vcpu* caller = nullptr) {
        evtchn_init_control ic{gfn(pfn), offset, vcpu, 0, {}};
        long rc = op(caller ? *caller : *a0, EVTCHNOP_init_control, ic);
        if (rc == 0) {
            EXPECT_EQ(ic.link_bits, EVTCHN_FIFO_LINK_BITS);
        }
        return rc;
    }
    long expand(uint64_t frame) {
        evtchn_expand_array e{frame};
        return op(EVTCHNOP_expand_array, e);
    }
    // vCPU 0's block at page 0, vCPU 1's at page 0 offset 512, one array page (page 1).
    void fifo_on() {
        ASSERT_EQ(init(0, 0), 0);
        ASSERT_EQ(init(1, 0, 512), 0);
        ASSERT_EQ(expand(gfn(1)), 0);
    }
    evtchn_fifo_control_block& block(unsigned vcpu) {
        auto* page = static_cast<uint8_t*>(d->map_pfn(Pfn(0)));
        return *reinterpret_cast<evtchn_fifo_control_block*>(page + (vcpu ? 512 : 0));
    }
    uint32_t& word(uint32_t port) {
        return static_cast<uint32_t*>(d->map_pfn(Pfn(1 + port / 1024)))[port % 1024];
    }
    uint32_t link(uint32_t port) { return word(port) & EVTCHN_FIFO_LINK_MASK; }

    uint32_t unbound() {
        evtchn_alloc_unbound a{DOMID_SELF, DOMID_SELF, 0};
        EXPECT_EQ(op(EVTCHNOP_alloc_unbound, a), 0);
        return a.port;
    }
    // A loopback pair: sending on `from` makes `to` pending.
    void pair(uint32_t& to, uint32_t& from) {
        to = unbound();
        evtchn_bind_interdomain b{DOMID_SELF, to, 0};
        ASSERT_EQ(op(EVTCHNOP_bind_interdomain, b), 0);
        from = b.local_port;
    }
    long send(uint32_t port) {
        evtchn_send s{port};
        return op(EVTCHNOP_send, s);
    }
    long set_priority(uint32_t port, uint32_t prio) {
        evtchn_set_priority p{port, prio};
        return op(EVTCHNOP_set_priority, p);
    }
    // What the guest does after an upcall, as Linux's consume_one_event: take the ready bits,
    // walk each ready queue from its head, clearing LINKED and PENDING; returns the ports seen.
    std::vector<uint32_t> consume(unsigned vcpu) {
        std::vector<uint32_t> seen;
        evtchn_fifo_control_block& cb = block(vcpu);
        uint32_t ready = cb.ready;
        cb.ready = 0;
        for (unsigned q = 0; q < EVTCHN_FIFO_MAX_QUEUES; ++q) {
            if (!(ready & (1u << q))) continue;
            for (uint32_t port = cb.head[q]; port;) {
                uint32_t next = link(port);
                seen.push_back(port);
                word(port) &= ~(LINKED | EVTCHN_FIFO_LINK_MASK | PENDING);
                port = next;
            }
        }
        d->vcpu(VcpuId(vcpu))->info()->evtchn_upcall_pending = 0;
        return seen;
    }
    void quiet() {
        for (unsigned i = 0; i < 2; ++i) d->vcpu(VcpuId(i))->info()->evtchn_upcall_pending = 0;
    }

    std::vector<PageInfo> info;
    std::vector<uint64_t> m2p;
    FrameTable table;
    std::unique_ptr<GuestBuffer> buf;
    Domain* d = nullptr;
    Vcpu* a0 = nullptr;
    Vcpu* a1 = nullptr;
};

TEST_F(Fifo, InitControlSwitchesTheDomainAndHoldsTheFrameWritable) {
    EXPECT_EQ(d->events().fifo(), nullptr);
    uint64_t held = d->frames_held();
    ASSERT_EQ(init(0, 0), 0);
    EXPECT_NE(d->events().fifo(), nullptr);
    EXPECT_GT(d->frames_held(), held);
    EXPECT_EQ(frame(0).type, PageType::writable);
    EXPECT_EQ(frame(0).type_count, 1u);
    EXPECT_EQ(frame(0).refs, 1u);
    EXPECT_EQ(init(0, 3), -XEN_EINVAL);  // this vCPU has one already
    // Another vCPU's block may share the page, at any 8-byte aligned offset that fits.
    EXPECT_EQ(init(1, 0, PAGE_SIZE - sizeof(evtchn_fifo_control_block)), 0);
    EXPECT_EQ(frame(0).type_count, 2u);
    // The page can no longer become a page table.
    EXPECT_NE(pv_mm::get_page_and_type(*d, d->mfn_of(Pfn(0)), PageType::l1), 0);
}

TEST_F(Fifo, InitControlErrorsInXensOrderChangeNothing) {
    evtchn_init_control ic{gfn(0), 4, 7, 0, {}};
    EXPECT_EQ(op(EVTCHNOP_init_control, ic), -XEN_ENOENT);  // the vCPU is checked first
    EXPECT_EQ(init(0, 0, PAGE_SIZE - sizeof(evtchn_fifo_control_block) + 8), -XEN_EINVAL);  // crosses the page
    EXPECT_EQ(init(0, 0, 0xfffffff8), -XEN_EINVAL);
    EXPECT_EQ(init(0, 0, 4), -XEN_EINVAL);  // not 8-byte aligned
    ic = evtchn_init_control{uint64_t{1} << 40, 0, 0, 0, {}};
    EXPECT_EQ(op(EVTCHNOP_init_control, ic), -XEN_EINVAL);  // no such frame
    ic.control_gfn = dom->mfn_of(Pfn(0)).raw();
    EXPECT_EQ(op(EVTCHNOP_init_control, ic), -XEN_EINVAL);  // another domain's frame
    Mfn table_frame = d->mfn_of(Pfn(5));
    ASSERT_EQ(pv_mm::get_page_and_type(*d, table_frame, PageType::l1), 0);
    ic.control_gfn = table_frame.raw();
    EXPECT_EQ(op(EVTCHNOP_init_control, ic), -XEN_EINVAL);  // a page table
    EXPECT_EQ(table.info(table_frame).refs, 1u);
    EXPECT_EQ(call(*a0, __HYPERVISOR_event_channel_op, EVTCHNOP_init_control, 0x1000), -XEN_EFAULT);
    EXPECT_EQ(d->events().fifo(), nullptr);  // still 2-level
    EXPECT_EQ(frame(0).type_count, 0u);
    EXPECT_EQ(frame(0).refs, 0u);
    pv_mm::put_page_and_type(*d, table_frame);
}

TEST_F(Fifo, ExpandArrayAddsPagesOneByOneUpToTheLimit) {
    EXPECT_EQ(expand(gfn(1)), -XEN_EOPNOTSUPP);  // 2-level
    ASSERT_EQ(init(0, 0), 0);
    events::Fifo& f = *d->events().fifo();
    EXPECT_EQ(f.nr_ports(), 0u);
    EXPECT_EQ(expand(uint64_t{1} << 40), -XEN_EINVAL);
    EXPECT_EQ(expand(dom->mfn_of(Pfn(0)).raw()), -XEN_EINVAL);
    EXPECT_EQ(f.nr_ports(), 0u);
    // 128 pages of 1024 words: 2^17 ports. The same frame may back several (Xen allows it).
    for (unsigned i = 0; i < 128; ++i) ASSERT_EQ(expand(gfn(1)), 0) << i;
    EXPECT_EQ(f.nr_ports(), uint32_t(EVTCHN_FIFO_NR_CHANNELS));
    EXPECT_EQ(frame(1).type_count, 128u);
    EXPECT_EQ(expand(gfn(2)), -XEN_ENOSPC);
    EXPECT_EQ(frame(2).refs, 0u);
    EXPECT_EQ(call(*a0, __HYPERVISOR_event_channel_op, EVTCHNOP_expand_array, 0x1000), -XEN_EFAULT);
}

TEST_F(Fifo, AnEventIsLinkedAtTheTailOfItsQueueAndTheFirstRaisesTheUpcall) {
    fifo_on();
    uint32_t a, b;
    pair(a, b);
    // The new connection starts pending: b is alone on queue 7 (the default priority).
    EXPECT_EQ(word(b), PENDING | LINKED);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    EXPECT_EQ(block(0).ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 1u);
    EXPECT_EQ(a0->info()->evtchn_pending_sel, 0u);  // no 2-level selector bits
    EXPECT_FALSE(events::is_pending(*d, a));
    quiet();
    ASSERT_EQ(send(b), 0);
    // a goes after b; the queue was not empty, so no new upcall.
    EXPECT_EQ(word(a), PENDING | LINKED);
    EXPECT_EQ(link(b), a);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 0u);
    EXPECT_TRUE(events::is_pending(*d, a));
    // Sending again while linked changes nothing.
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(link(a), 0u);
    EXPECT_EQ(consume(0), (std::vector<uint32_t>{b, a}));
    // The queue ran empty: the next event is a new head, and raises the upcall again.
    ASSERT_EQ(send(a), 0);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    EXPECT_EQ(block(0).ready, 1u << EVTCHN_FIFO_PRIORITY_DEFAULT);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 1u);
}

TEST_F(Fifo, EachPriorityHasItsOwnQueue) {
    fifo_on();
    uint32_t a, b, c, e;
    pair(a, b);
    pair(c, e);
    consume(0);
    ASSERT_EQ(set_priority(a, 2), 0);
    ASSERT_EQ(set_priority(c, 12), 0);
    ASSERT_EQ(send(e), 0);
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(block(0).head[2], a);
    EXPECT_EQ(block(0).head[12], c);
    EXPECT_EQ(block(0).ready, (1u << 2) | (1u << 12));
    // The guest serves the highest priority (lowest number) first.
    EXPECT_EQ(consume(0), (std::vector<uint32_t>{a, c}));
    ASSERT_EQ(set_priority(a, EVTCHN_FIFO_PRIORITY_MAX), 0);
    ASSERT_EQ(set_priority(c, EVTCHN_FIFO_PRIORITY_MIN), 0);
    ASSERT_EQ(send(b), 0);
    ASSERT_EQ(send(e), 0);
    EXPECT_EQ(block(0).ready, (1u << 0) | (1u << 15));
}

TEST_F(Fifo, SetPriorityErrors) {
    uint32_t p = unbound();
    EXPECT_EQ(set_priority(p, 3), -XEN_ENOSYS);  // 2-level has no priorities
    EXPECT_EQ(set_priority(100000, 3), -XEN_EINVAL);  // not a port: checked first
    fifo_on();
    EXPECT_EQ(set_priority(p, 16), -XEN_EINVAL);
    EXPECT_EQ(set_priority(100000, 3), -XEN_EINVAL);
    EXPECT_EQ(set_priority(p, 15), 0);
    EXPECT_EQ(d->channel(p)->priority, 15u);
    EXPECT_EQ(set_priority(40, 1), 0);  // a valid port that is not bound takes one too
    EXPECT_EQ(call(*a0, __HYPERVISOR_event_channel_op, EVTCHNOP_set_priority, 0x1000), -XEN_EFAULT);
}

TEST_F(Fifo, AMaskedPortIsLinkedOnlyWhenUnmasked) {
    fifo_on();
    uint32_t a, b;
    pair(a, b);
    consume(0);
    word(a) |= MASKED;
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(word(a), MASKED | PENDING);
    EXPECT_EQ(block(0).ready, 0u);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 0u);
    evtchn_unmask u{a};
    ASSERT_EQ(op(EVTCHNOP_unmask, u), 0);
    EXPECT_EQ(word(a), PENDING | LINKED);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], a);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 1u);
    // Unmasking a port that is not pending only clears the mask.
    consume(0);
    word(a) |= MASKED;
    ASSERT_EQ(op(EVTCHNOP_unmask, u), 0);
    EXPECT_EQ(word(a), 0u);
    EXPECT_EQ(block(0).ready, 0u);
}

TEST_F(Fifo, EventsWaitForTheirArrayPage) {
    ASSERT_EQ(init(0, 0), 0);
    uint32_t a, b;
    pair(a, b);  // b pending, with no word yet
    ASSERT_EQ(send(b), 0);
    EXPECT_FALSE(events::is_pending(*d, a));
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 0u);
    ASSERT_EQ(expand(gfn(1)), 0);
    // Raised again in port order.
    EXPECT_EQ(word(a), PENDING | LINKED | b);
    EXPECT_EQ(word(b), PENDING | LINKED);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], a);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 1u);
}

TEST_F(Fifo, AnEventForAVcpuWithoutAControlBlockIsDropped) {
    ASSERT_EQ(init(0, 0), 0);
    ASSERT_EQ(expand(gfn(1)), 0);
    evtchn_bind_ipi ipi{1, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_ipi, ipi), 0);
    ASSERT_EQ(send(ipi.port), 0);
    EXPECT_EQ(word(ipi.port), 0u);
    EXPECT_EQ(a1->info()->evtchn_upcall_pending, 0u);
}

TEST_F(Fifo, PortsBoundUnder2LevelKeepWorking) {
    uint32_t a, b;
    pair(a, b);  // b pending in shared_info
    ASSERT_EQ(set_priority(a, 1), -XEN_ENOSYS);
    ASSERT_TRUE(events::is_pending(*d, b));
    fifo_on();
    // b's 2-level pending bit came over, at the default priority.
    EXPECT_EQ(word(b), PENDING | LINKED);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    EXPECT_EQ(d->channel(a)->priority, EVTCHN_FIFO_PRIORITY_DEFAULT);
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(link(b), a);
}

TEST_F(Fifo, VirqsAndIpisGoToTheQueuesOfTheirVcpu) {
    fifo_on();
    evtchn_bind_virq vq{VIRQ_TIMER, 1, 0};
    ASSERT_EQ(op(EVTCHNOP_bind_virq, vq), 0);
    events::send_virq(*d, VIRQ_TIMER, 1);
    EXPECT_EQ(block(1).head[EVTCHN_FIFO_PRIORITY_DEFAULT], vq.port);
    EXPECT_EQ(block(0).ready, 0u);
    EXPECT_EQ(a1->info()->evtchn_upcall_pending, 1u);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 0u);
    EXPECT_EQ(consume(1), std::vector<uint32_t>{vq.port});
}

TEST_F(Fifo, APortMovedToAnotherVcpuLeavesItsOldQueueEmpty) {
    fifo_on();
    uint32_t a, b;
    pair(a, b);
    ASSERT_EQ(send(b), 0);  // b then a on vCPU 0's queue 7
    consume(0);
    evtchn_bind_vcpu bv{a, 1};
    ASSERT_EQ(op(EVTCHNOP_bind_vcpu, bv), 0);
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(block(1).head[EVTCHN_FIFO_PRIORITY_DEFAULT], a);
    // a was vCPU 0's tail; a new event there must start a new queue, not link after a.
    ASSERT_EQ(send(a), 0);
    EXPECT_EQ(block(0).head[EVTCHN_FIFO_PRIORITY_DEFAULT], b);
    EXPECT_EQ(link(a), 0u);
}

TEST_F(Fifo, AMaskedTailStillTakesTheLink) {
    fifo_on();
    uint32_t a, b;
    pair(a, b);  // b linked, the tail
    word(b) |= MASKED;  // the guest masks a linked port: allowed
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(link(b), a);
    EXPECT_EQ(word(b) & BUSY, 0u);
}

TEST_F(Fifo, APortStillOnAQueueIsNotReused) {
    fifo_on();
    uint32_t a, b;
    pair(a, b);  // b linked
    evtchn_close c{b};
    ASSERT_EQ(op(EVTCHNOP_close, c), 0);
    EXPECT_EQ(word(b), LINKED);  // pending cleared, still linked until the guest unlinks it
    EXPECT_NE(unbound(), b);
    consume(0);
    EXPECT_EQ(unbound(), b);
}

TEST_F(Fifo, FifoOpensThePortsPast2LevelUpToTheLimits) {
    // The control domain: no limit of its own, so the ABI's 2^17.
    Domain* d0 = make_domain(DomainConfig{DomId(0), 4, 0, 1, true, false});
    Vcpu& v = *d0->vcpu(VcpuId(0));
    evtchn_init_control ic{d0->mfn_of(Pfn(0)).raw(), 0, 0, 0, {}};
    ASSERT_EQ(op(v, EVTCHNOP_init_control, ic), 0);
    evtchn_alloc_unbound a{DOMID_SELF, DOMID_SELF, 0};
    for (uint32_t i = 1; i <= events::TWO_LEVEL_PORTS; ++i) {
        a = evtchn_alloc_unbound{DOMID_SELF, DOMID_SELF, 0};
        ASSERT_EQ(op(v, EVTCHNOP_alloc_unbound, a), 0);
    }
    EXPECT_EQ(a.port, events::TWO_LEVEL_PORTS);
    evtchn_status st{DOMID_SELF, a.port, 0, 0, {}};
    ASSERT_EQ(op(v, EVTCHNOP_status, st), 0);
    EXPECT_EQ(st.status, uint32_t(EVTCHNSTAT_unbound));
    // A domain with xl's limit stops at port 1023 under FIFO too.
    fifo_on();
    for (uint32_t i = 1; i <= events::DOMU_MAX_PORT; ++i) unbound();
    a = evtchn_alloc_unbound{DOMID_SELF, DOMID_SELF, 0};
    EXPECT_EQ(op(EVTCHNOP_alloc_unbound, a), -XEN_ENOSPC);
}

TEST_F(Fifo, ResetReturnsTo2LevelAndGivesTheFramesBack) {
    uint64_t held = d->frames_held();
    fifo_on();
    uint32_t a, b;
    pair(a, b);
    evtchn_reset r{DOMID_SELF};
    ASSERT_EQ(op(EVTCHNOP_reset, r), 0);
    EXPECT_EQ(d->events().fifo(), nullptr);
    EXPECT_EQ(d->frames_held(), held);
    for (unsigned pfn : {0u, 1u}) {
        EXPECT_EQ(frame(pfn).type_count, 0u) << pfn;
        EXPECT_EQ(frame(pfn).refs, 0u) << pfn;
    }
    EXPECT_EQ(d->channel(a)->state, ChannelState::free);
    EXPECT_EQ(expand(gfn(1)), -XEN_EOPNOTSUPP);
    EXPECT_EQ(set_priority(a, 1), -XEN_ENOSYS);
    // 2-level delivery again; and FIFO can be set up anew.
    pair(a, b);
    EXPECT_TRUE(events::is_pending(*d, b));
    EXPECT_EQ(a0->info()->evtchn_pending_sel, 1ull);
    EXPECT_EQ(init(0, 2), 0);
}

TEST_F(Fifo, DestroyingADomainInFifoModeReturnsEveryFrame) {
    uint64_t before = machine.mm.free_frames();
    Domain* x = make_domain(DomainConfig{DomId(3), 4, 0, 1, false, false});
    Vcpu& v = *x->vcpu(VcpuId(0));
    evtchn_init_control ic{x->mfn_of(Pfn(0)).raw(), 0, 0, 0, {}};
    ASSERT_EQ(op(v, EVTCHNOP_init_control, ic), 0);
    evtchn_expand_array e{x->mfn_of(Pfn(1)).raw()};
    ASSERT_EQ(op(v, EVTCHNOP_expand_array, e), 0);
    EXPECT_EQ(before - machine.mm.free_frames(), x->frames_held());
}

TEST_F(Fifo, AMaskedPortThatBecomesPendingWakesItsPoller) {
    fifo_on();
    uint32_t a, b;
    pair(a, b);
    consume(0);
    word(a) |= MASKED;
    GuestBuffer list(0xffffffff80300000, 8);
    list.at<uint32_t>(0xffffffff80300000) = a;
    sched_poll sp{};
    uint64_t at = 0xffffffff80300000;
    std::memcpy(&sp.ports, &at, sizeof at);
    sp.nr_ports = 1;
    buf->put(ARG, &sp, sizeof sp);
    a0->state = VcpuState::running;
    ASSERT_EQ(call(*a0, __HYPERVISOR_sched_op, SCHEDOP_poll, ARG), 0);
    EXPECT_EQ(a0->state, VcpuState::blocked);
    ASSERT_EQ(send(b), 0);
    EXPECT_EQ(word(a), MASKED | PENDING);
    EXPECT_EQ(a0->info()->evtchn_upcall_pending, 0u);
    EXPECT_EQ(a0->state, VcpuState::runnable);
}

// Holds every free frame of the machine until it goes out of scope.
struct MemoryHog {
    explicit MemoryHog(MachineMemory& m) : mm(m) {
        while (auto f = mm.alloc_zeroed()) held.push_back(*f);
    }
    ~MemoryHog() {
        for (Mfn f : held) mm.free(f);
    }
    MachineMemory& mm;
    std::vector<Mfn> held;
};

TEST_F(Fifo, OutOfMemoryChangesNothing) {
    {
        MemoryHog hog(machine.mm);
        EXPECT_EQ(init(0, 0), -XEN_ENOMEM);  // no frame for the FIFO state
        EXPECT_EQ(d->events().fifo(), nullptr);
        EXPECT_EQ(frame(0).refs, 0u);
    }
    fifo_on();
    // Ports 1-255 are in the first block; port 256 needs a new one.
    MemoryHog hog(machine.mm);
    for (uint32_t i = 1; i < EventChannels::PER_BLOCK; ++i) ASSERT_EQ(unbound(), i);
    evtchn_alloc_unbound a{DOMID_SELF, DOMID_SELF, 0};
    EXPECT_EQ(op(EVTCHNOP_alloc_unbound, a), -XEN_ENOMEM);
    EXPECT_EQ(d->events().valid_ports(), EventChannels::PER_BLOCK);
}

}  // namespace
