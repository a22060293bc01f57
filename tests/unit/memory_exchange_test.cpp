// XENMEM_exchange, as Xen 4.17's memory_exchange (common/memory.c) answers a PV domain: chunk
// by chunk, all of a chunk or nothing of it, nr_exchanged written back, the input frames wholly
// unused ones of the domain, and every early check in Xen's order.
#include "memory_op_fixture.hpp"

namespace {

// --- exchange ---

constexpr uint64_t OUT_LIST = LIST + 0x800;  // the output list, in the same page as the input

class Exchange : public MemoryOp {
protected:
    // Fills the xen_memory_exchange at ARG: inputs at LIST, outputs at OUT_LIST.
    xen_memory_exchange& exch(std::vector<uint64_t> in, uint64_t nr_in, uint32_t in_order, std::vector<uint64_t> out,
                              uint64_t nr_out, uint32_t out_order, domid_t domid = DOMID_SELF) {
        auto& x = arg->at<xen_memory_exchange>(ARG);
        x = {};
        x.in.extent_start.p = reinterpret_cast<xen_pfn_t*>(LIST);
        x.in.nr_extents = nr_in;
        x.in.extent_order = in_order;
        x.in.domid = domid;
        x.out.extent_start.p = reinterpret_cast<xen_pfn_t*>(OUT_LIST);
        x.out.nr_extents = nr_out;
        x.out.extent_order = out_order;
        x.out.domid = domid;
        for (size_t i = 0; i < in.size(); ++i) list->at<uint64_t>(LIST + 8 * i) = in[i];
        for (size_t i = 0; i < out.size(); ++i) list->at<uint64_t>(OUT_LIST + 8 * i) = out[i];
        return x;
    }
    uint64_t out_entry(unsigned i) { return list->u64(OUT_LIST + 8 * i); }
    uint64_t done() { return arg->at<xen_memory_exchange>(ARG).nr_exchanged; }
    uint64_t mfn(unsigned pfn) { return d->mfn_of(Pfn(pfn)).raw(); }
};

TEST_F(Exchange, OneForOneGivesNewFramesAtTheGuestFramesNamed) {
    uint64_t old0 = mfn(0), old1 = mfn(1);
    uint64_t free_before = machine.mm.free_frames();
    exch({old0, old1}, 2, 0, {0, 1}, 2, 0);
    ASSERT_EQ(op(XENMEM_exchange), 0);
    EXPECT_EQ(done(), 2u);
    EXPECT_EQ(d->nr_pages(), 4u);
    // Each chunk's output is allocated before its input goes (a later chunk may reuse it).
    EXPECT_NE(out_entry(0), old0);
    EXPECT_NE(out_entry(1), old1);
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_TRUE(table.owned_by(Mfn(out_entry(i)), d->id()));
        EXPECT_EQ(table.m2p(Mfn(out_entry(i))), i);
        EXPECT_EQ(mfn(i), out_entry(i));
    }
    EXPECT_EQ(machine.mm.free_frames(), free_before);
    // All done already: 0, and nothing is written.
    EXPECT_EQ(op(XENMEM_exchange), 0);
}

TEST_F(Exchange, TwoFramesForOneContiguousExtent) {
    exch({mfn(2), mfn(3)}, 2, 0, {6}, 1, 1);  // an order-1 extent at guest frame 6
    ASSERT_EQ(op(XENMEM_exchange), 0);
    EXPECT_EQ(done(), 2u);
    EXPECT_EQ(out_entry(0) % 2, 0u);
    EXPECT_EQ(mfn(6), out_entry(0));
    EXPECT_EQ(mfn(7), out_entry(0) + 1);
    EXPECT_FALSE(d->pfn_valid(Pfn(2)));  // the guest keeps its own p2m; the old frames are gone
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(Exchange, OneExtentForTwoFrames) {
    exch({mfn(0), mfn(1)}, 2, 0, {6}, 1, 1);
    ASSERT_EQ(op(XENMEM_exchange), 0);
    uint64_t block = out_entry(0);
    exch({block}, 1, 1, {6, 7}, 2, 0);
    ASSERT_EQ(op(XENMEM_exchange), 0);
    EXPECT_EQ(done(), 1u);
    EXPECT_FALSE(table.owned_by(Mfn(block), d->id()));
    EXPECT_EQ(mfn(6), out_entry(0));
    EXPECT_EQ(mfn(7), out_entry(1));
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(Exchange, AnInputInUseStopsTheChunkAndLeavesItWhole) {
    uint64_t old0 = mfn(0), old1 = mfn(1), old2 = mfn(2);
    ASSERT_EQ(pv_mm::get_page(*d, Mfn(old1)), 0);  // mapped somewhere
    uint64_t free_before = machine.mm.free_frames();
    exch({old0, old1, old2}, 3, 0, {10, 11, 12}, 3, 0);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);
    EXPECT_EQ(done(), 1u);  // the first one-frame chunk went through
    EXPECT_FALSE(table.owned_by(Mfn(old0), d->id()));
    EXPECT_TRUE(table.owned_by(Mfn(old1), d->id()));
    EXPECT_TRUE(table.owned_by(Mfn(old2), d->id()));
    EXPECT_EQ(table.info(Mfn(old1)).flags, 0u);  // no mark left behind
    EXPECT_EQ(machine.mm.free_frames(), free_before);
    pv_mm::put_page(*d, Mfn(old1));
    // Continuing from nr_exchanged finishes the job.
    EXPECT_EQ(op(XENMEM_exchange), 0);
    EXPECT_EQ(done(), 3u);
}

TEST_F(Exchange, AChunkIsAllOrNothing) {
    // Two inputs for one order-1 extent: the second input is not the domain's.
    uint64_t old0 = mfn(0);
    exch({old0, 0x5}, 2, 0, {6}, 1, 1);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);
    EXPECT_EQ(done(), 0u);
    EXPECT_TRUE(table.owned_by(Mfn(old0), d->id()));
    EXPECT_EQ(table.info(Mfn(old0)).flags, 0u);
    // The same frame twice.
    exch({old0, old0}, 2, 0, {6}, 1, 1);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);
    EXPECT_TRUE(table.owned_by(Mfn(old0), d->id()));
    EXPECT_EQ(d->nr_pages(), 4u);
    // An unreadable second input.
    exch({old0}, 2, 0, {6}, 1, 1);
    auto& x = arg->at<xen_memory_exchange>(ARG);
    x.in.extent_start.p = reinterpret_cast<xen_pfn_t*>(LIST + PAGE_SIZE - 8);  // entry 1 is past the page
    list->at<uint64_t>(LIST + PAGE_SIZE - 8) = old0;
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EFAULT);
    EXPECT_EQ(done(), 0u);
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(Exchange, NoMemoryForTheOutputLeavesTheInput) {
    std::vector<Mfn> hog;
    while (auto m = machine.mm.alloc_zeroed(0)) hog.push_back(*m);
    uint64_t old0 = mfn(0);
    exch({old0}, 1, 0, {0}, 1, 0);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_ENOMEM);
    EXPECT_EQ(done(), 0u);
    EXPECT_TRUE(table.owned_by(Mfn(old0), d->id()));
    EXPECT_EQ(mfn(0), old0);
    for (Mfn m : hog) machine.mm.free(m);
}

TEST_F(Exchange, AnAddressWidthNoFrameMeetsIsENOMEM) {
    uint64_t old0 = mfn(0);
    auto& x = exch({old0}, 1, 0, {0}, 1, 0);
    x.out.mem_flags = XENMEMF_address_bits(PAGE_SHIFT + 4);  // below frame 16: the test machine starts there
    EXPECT_EQ(op(XENMEM_exchange), -XEN_ENOMEM);
    EXPECT_EQ(done(), 0u);
    EXPECT_EQ(mfn(0), old0);
    EXPECT_TRUE(table.owned_by(Mfn(old0), d->id()));
    x.out.mem_flags = XENMEMF_address_bits(52);  // a width every frame meets
    EXPECT_EQ(op(XENMEM_exchange), 0);
    EXPECT_NE(mfn(0), old0);
}

TEST_F(Exchange, AnOutputEntryThatCannotBeWrittenIsEfaultWithTheChunkDone) {
    uint64_t old0 = mfn(0);
    exch({old0}, 1, 0, {}, 1, 0);
    constexpr uint64_t RO_LIST = 0xffffffff84200000;
    GuestBuffer ro(RO_LIST, PAGE_SIZE, false);  // an output list that can be read, not written
    ro.at<uint64_t>(RO_LIST) = 3;
    arg->at<xen_memory_exchange>(ARG).out.extent_start.p = reinterpret_cast<xen_pfn_t*>(RO_LIST);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EFAULT);
    EXPECT_EQ(done(), 0u);  // Xen does not count the chunk, though it was exchanged
    EXPECT_FALSE(table.owned_by(Mfn(old0), d->id()));
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(Exchange, ChecksInXensOrder) {
    EXPECT_EQ(op(XENMEM_exchange | (1 << 6)), -XEN_EINVAL);  // no start
    EXPECT_EQ(op(XENMEM_exchange, UNMAPPED), -XEN_EFAULT);
    exch({mfn(0)}, 1, 10, {0}, 1, 0);  // beyond a domU's order 9
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EPERM);
    exch({mfn(0)}, 1, 0, {0}, 1, 0);
    arg->at<xen_memory_exchange>(ARG).nr_exchanged = 2;
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);  // more done than asked
    EXPECT_EQ(done(), 2u);                        // written back as it was
    exch({mfn(0)}, 1, 0, {0}, 1, 0);
    arg->at<xen_memory_exchange>(ARG).out.domid = 5;
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);  // the two domids differ
    exch({mfn(0)}, 2, 0, {0}, 1, 0);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);  // sizes differ
    exch({mfn(0)}, 1, 0, {0}, 1, 0);
    arg->at<xen_memory_exchange>(ARG).in.extent_start.p = reinterpret_cast<xen_pfn_t*>(UNMAPPED + 0x7fff00000000);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EFAULT);  // input list outside guest space
    exch({mfn(0)}, 1, 0, {0}, 1, 0);
    arg->at<xen_memory_exchange>(ARG).out.mem_flags = XENMEMF_node(3) | XENMEMF_exact_node_request;
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EINVAL);  // an exact node, unprivileged
    exch({mfn(0)}, 1, 0, {0}, 1, 0, 77);
    EXPECT_EQ(op(XENMEM_exchange), -XEN_ESRCH);
    exch({mfn(0)}, 1, 0, {0}, 1, 0, 1);
    fake_pv::record().domains = {dom, d};
    EXPECT_EQ(op(XENMEM_exchange), -XEN_EPERM);  // another domain, unprivileged
    EXPECT_EQ(d->nr_pages(), 4u);
    EXPECT_TRUE(table.owned_by(d->mfn_of(Pfn(0)), d->id()));
}

TEST_F(Exchange, DestroyAfterExchangesReturnsEveryFrame) {
    uint64_t before = machine.mm.free_frames();
    auto r = Domain::create(machine.mm, DomainConfig{DomId(6), 8, 8, 1, false, false});
    ASSERT_TRUE(r.has_value());
    Domain* e = *r;
    Vcpu& ev = *e->vcpu(VcpuId(0));
    for (int round = 0; round < 20; ++round) {
        exch({e->mfn_of(Pfn(0)).raw(), e->mfn_of(Pfn(1)).raw()}, 2, 0, {0}, 1, 1);
        ASSERT_EQ(op(ev, XENMEM_exchange), 0) << round;
        exch({e->mfn_of(Pfn(0)).raw()}, 1, 1, {0, 1}, 2, 0);
        ASSERT_EQ(op(ev, XENMEM_exchange), 0) << round;
    }
    EXPECT_EQ(e->nr_pages(), 8u);
    EXPECT_EQ(before - machine.mm.free_frames(), e->frames_held());
    Domain::destroy(e);
    EXPECT_EQ(machine.mm.free_frames(), before);
    EXPECT_TRUE(machine.frames().check_consistency());
}

}  // namespace
