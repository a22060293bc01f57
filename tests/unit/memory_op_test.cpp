// memory_op, as Xen 4.17's do_memory_op (common/memory.c), arch_memory_op (arch/x86/mm.c) and
// subarch_memory_op (arch/x86/x86_64/mm.c) answer a 64-bit PV domain:
//   - reservations return the extents done (never an error), stop at the first failure
//     (limit, allocation, unowned or bad frame, fault on the list), start at cmd >> 6;
//   - populate_physmap maps guest frames (M2P and p2m) and writes the machine frames back;
//     increase_reservation writes machine frames in no guest frame; decrease_reservation
//     takes machine frames, clears their p2m and M2P entries and frees them;
//   - the size queries: own domain or DOMID_SELF, others only for the control domain;
//   - the M2P queries, the memory map (-ENOSYS for PV), the physmap family (-EACCES for PV),
//     and every error path in Xen's order.
#include <algorithm>

#include "memory_op_fixture.hpp"
// After the fixture (and the C library headers it brings): Kestrel's own string declarations.
#include "iomem_policy.hpp"
#include "memory_map.hpp"
#include "tlb_clock.hpp"

namespace {

// --- maximum_ram_page and the reservation sizes ---

TEST_F(MemoryOp, MaximumRamPageIsMaxPageAndTakesNoStart) {
    EXPECT_EQ(op(XENMEM_maximum_ram_page, 0), long(MAX_PAGE));
    EXPECT_EQ(op(XENMEM_maximum_ram_page | (1 << 6), 0), -XEN_EINVAL);
}

TEST_F(MemoryOp, ReservationSizesOfSelfByEitherName) {
    EXPECT_EQ(size_query(*v, XENMEM_current_reservation, DOMID_SELF), 4);
    EXPECT_EQ(size_query(*v, XENMEM_current_reservation, 5), 4);
    EXPECT_EQ(size_query(*v, XENMEM_maximum_reservation, DOMID_SELF), 8);
    EXPECT_EQ(size_query(*v, XENMEM_maximum_reservation, 5), 8);
    // Without a limit given, the limit is the initial size.
    EXPECT_EQ(size_query(*v0, XENMEM_maximum_reservation, DOMID_SELF), 4);
}

TEST_F(MemoryOp, ReservationSizesOfOthersNeedPrivilege) {
    Domain* dom0 = make_dom0();
    fake_pv::record().domains = {dom, d, dom0};
    EXPECT_EQ(size_query(*v, XENMEM_current_reservation, 1), -XEN_EPERM);
    EXPECT_EQ(size_query(*v, XENMEM_maximum_reservation, 0), -XEN_EPERM);
    EXPECT_EQ(size_query(*dom0->vcpu(VcpuId(0)), XENMEM_maximum_reservation, 5), 8);
    EXPECT_EQ(size_query(*dom0->vcpu(VcpuId(0)), XENMEM_current_reservation, 1), 4);
}

TEST_F(MemoryOp, ReservationSizeErrorsInXensOrder) {
    // A start is refused before the argument is read; a missing domain before privilege.
    EXPECT_EQ(op(XENMEM_current_reservation | (2 << 6), UNMAPPED), -XEN_EINVAL);
    EXPECT_EQ(op(XENMEM_current_reservation, UNMAPPED), -XEN_EFAULT);
    EXPECT_EQ(op(XENMEM_maximum_reservation, HOLE_START), -XEN_EFAULT);
    EXPECT_EQ(size_query(*v, XENMEM_current_reservation, 77), -XEN_ESRCH);
    EXPECT_EQ(size_query(*v, XENMEM_maximum_reservation, DOMID_IO), -XEN_ESRCH);
}

// --- the M2P ---

TEST_F(MemoryOp, MachphysMappingForADomU) {
    ASSERT_EQ(op(XENMEM_machphys_mapping), 0);
    auto& m = arg->at<xen_machphys_mapping>(ARG);
    EXPECT_EQ(m.v_start, 0xffff800000000000u);
    EXPECT_EQ(m.v_end, 0xffff804000000000u);
    EXPECT_EQ(m.max_mfn, (0x4000000000u >> 3) - 1);
}

TEST_F(MemoryOp, MachphysMappingShowsTheHardwareDomainTheRealEnd) {
    Domain* dom0 = make_dom0();
    ASSERT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_machphys_mapping), 0);
    EXPECT_EQ(arg->at<xen_machphys_mapping>(ARG).max_mfn, MAX_PAGE - 1);
    EXPECT_EQ(op(XENMEM_machphys_mapping, UNMAPPED), -XEN_EFAULT);
    GuestBuffer ro(0xffffffff86000000, PAGE_SIZE, false);
    EXPECT_EQ(op(XENMEM_machphys_mapping, ro.va), -XEN_EFAULT);
}

TEST_F(MemoryOp, MachphysMfnListGivesTheFirstFrameOfEach2MiB) {
    auto& l = arg->at<xen_machphys_mfn_list>(ARG);
    l.max_extents = 10;
    l.extent_start.p = reinterpret_cast<xen_pfn_t*>(LIST);
    list->at<uint64_t>(LIST + 24) = 0x1234;
    ASSERT_EQ(op(XENMEM_machphys_mfn_list), 0);
    EXPECT_EQ(l.nr_extents, 3u);  // 600000 entries of 8 bytes: three 2 MiB chunks
    EXPECT_EQ(l.max_extents, 10u);
    EXPECT_EQ(entry(0), M2P_FIRST);
    EXPECT_EQ(entry(1), M2P_FIRST + 512);
    EXPECT_EQ(entry(2), M2P_FIRST + 1024);
    EXPECT_EQ(entry(3), 0x1234u);
}

TEST_F(MemoryOp, MachphysMfnListStopsAtMaxExtents) {
    auto& l = arg->at<xen_machphys_mfn_list>(ARG);
    l.extent_start.p = reinterpret_cast<xen_pfn_t*>(LIST);
    l.max_extents = 2;
    ASSERT_EQ(op(XENMEM_machphys_mfn_list), 0);
    EXPECT_EQ(l.nr_extents, 2u);
    l.max_extents = 0;
    list->at<uint64_t>(LIST) = 0x99;
    ASSERT_EQ(op(XENMEM_machphys_mfn_list), 0);
    EXPECT_EQ(l.nr_extents, 0u);
    EXPECT_EQ(entry(0), 0x99u);
}

TEST_F(MemoryOp, MachphysMfnListFaults) {
    EXPECT_EQ(op(XENMEM_machphys_mfn_list, UNMAPPED), -XEN_EFAULT);
    auto& l = arg->at<xen_machphys_mfn_list>(ARG);
    l.max_extents = 3;
    l.extent_start.p = reinterpret_cast<xen_pfn_t*>(UNMAPPED);
    l.nr_extents = 77;
    EXPECT_EQ(op(XENMEM_machphys_mfn_list), -XEN_EFAULT);
    EXPECT_EQ(l.nr_extents, 77u);
    // The list ends one entry short: the third entry faults.
    l.extent_start.p = reinterpret_cast<xen_pfn_t*>(LIST + PAGE_SIZE - 16);
    EXPECT_EQ(op(XENMEM_machphys_mfn_list), -XEN_EFAULT);
    EXPECT_EQ(list->u64(LIST + PAGE_SIZE - 8), M2P_FIRST + 512);
}

TEST_F(MemoryOp, SmallMachineHasOneChunk) {
    fake_memory::set(1000, Mfn(M2P_FIRST));
    auto& l = arg->at<xen_machphys_mfn_list>(ARG);
    l.extent_start.p = reinterpret_cast<xen_pfn_t*>(LIST);
    l.max_extents = 5;
    ASSERT_EQ(op(XENMEM_machphys_mfn_list), 0);
    EXPECT_EQ(l.nr_extents, 1u);
}

// --- memory map and physmap: what a PV domain gets ---

TEST_F(MemoryOp, MemoryMapOfAPvDomainWithoutOneIsENOSYS) {
    auto& m = arg->at<xen_memory_map>(ARG);
    m.nr_entries = 8;
    m.buffer.p = reinterpret_cast<void*>(LIST);
    EXPECT_EQ(op(XENMEM_memory_map), -XEN_ENOSYS);
    EXPECT_EQ(m.nr_entries, 8u);
    EXPECT_EQ(op(XENMEM_memory_map, UNMAPPED), -XEN_EFAULT);
    // With a start, the whole cmd matches nothing: unknown before any read.
    EXPECT_EQ(op(XENMEM_memory_map | (1 << 6), UNMAPPED), -XEN_ENOSYS);
    EXPECT_EQ(op(XENMEM_machphys_mapping | (1 << 6), UNMAPPED), -XEN_ENOSYS);
}

TEST_F(MemoryOp, AddToPhysmapIsRefusedForPv) {
    auto& x = arg->at<xen_add_to_physmap>(ARG);
    x.domid = DOMID_SELF;
    x.space = XENMAPSPACE_shared_info;
    x.gpfn = 3;
    EXPECT_EQ(op(XENMEM_add_to_physmap), -XEN_EACCES);
    x.space = XENMAPSPACE_gmfn;
    EXPECT_EQ(op(XENMEM_add_to_physmap), -XEN_EACCES);
    x.space = XENMAPSPACE_gmfn_foreign;
    EXPECT_EQ(op(XENMEM_add_to_physmap), -XEN_ENOSYS);
    x.space = XENMAPSPACE_shared_info;
    x.domid = 99;
    EXPECT_EQ(op(XENMEM_add_to_physmap), -XEN_ESRCH);
    EXPECT_EQ(op(XENMEM_add_to_physmap, UNMAPPED), -XEN_EFAULT);
    EXPECT_EQ(op(XENMEM_add_to_physmap | (uint64_t{0x10000} << 6), UNMAPPED), -XEN_EDOM);
    x.domid = DOMID_SELF;
    EXPECT_EQ(op(XENMEM_add_to_physmap | (uint64_t{0xffff} << 6)), -XEN_EACCES);
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(MemoryOp, PhysmapBatchAndRemoveAreRefusedForPv) {
    auto& b = arg->at<xen_add_to_physmap_batch>(ARG);
    b.domid = DOMID_SELF;
    b.space = XENMAPSPACE_gmfn;
    EXPECT_EQ(op(XENMEM_add_to_physmap_batch), -XEN_EACCES);
    b.space = XENMAPSPACE_gmfn_range;
    EXPECT_EQ(op(XENMEM_add_to_physmap_batch), -XEN_EOPNOTSUPP);
    b.space = XENMAPSPACE_gmfn;
    b.domid = 99;
    EXPECT_EQ(op(XENMEM_add_to_physmap_batch), -XEN_ESRCH);
    EXPECT_EQ(op(XENMEM_add_to_physmap_batch, UNMAPPED), -XEN_EFAULT);
    EXPECT_EQ(op(XENMEM_add_to_physmap_batch | (uint64_t{0x10000} << 6)), -XEN_EDOM);

    auto& r = arg->at<xen_remove_from_physmap>(ARG);
    r.domid = DOMID_SELF;
    r.gpfn = 1;
    EXPECT_EQ(op(XENMEM_remove_from_physmap), -XEN_EACCES);
    r.domid = 99;
    EXPECT_EQ(op(XENMEM_remove_from_physmap), -XEN_ESRCH);
    EXPECT_EQ(op(XENMEM_remove_from_physmap, UNMAPPED), -XEN_EFAULT);
    EXPECT_EQ(op(XENMEM_remove_from_physmap | (1 << 6)), -XEN_EINVAL);
    EXPECT_TRUE(d->pfn_valid(Pfn(1)));
}

TEST_F(MemoryOp, UnimplementedSubOpsAreENOSYS) {
    for (uint64_t cmd : std::vector<uint64_t>{XENMEM_set_memory_map,
                         XENMEM_machphys_compat_mfn_list, 8, 63})
        EXPECT_EQ(op(cmd), -XEN_ENOSYS) << cmd;
}

// --- populate_physmap ---

TEST_F(MemoryOp, PopulateMapsGuestFramesAndReturnsTheirMachineFrames) {
    uint64_t before = machine.mm.free_frames();
    reserve({4, 6}, 2);
    ASSERT_EQ(op(XENMEM_populate_physmap), 2);
    EXPECT_EQ(d->nr_pages(), 6u);
    EXPECT_EQ(size_query(*v, XENMEM_current_reservation, DOMID_SELF), 6);
    for (unsigned i = 0; i < 2; ++i) {
        Mfn m(entry(i));
        uint64_t pfn = i ? 6 : 4;
        EXPECT_TRUE(table.owned_by(m, DomId(5)));
        EXPECT_EQ(table.m2p(m), pfn);
        ASSERT_TRUE(d->pfn_valid(Pfn(pfn)));
        EXPECT_EQ(d->mfn_of(Pfn(pfn)), m);
    }
    EXPECT_FALSE(d->pfn_valid(Pfn(5)));
    EXPECT_EQ(before - machine.mm.free_frames(), 2u);
}

TEST_F(MemoryOp, PopulateStopsAtTheLimit) {
    reserve({4, 5, 6, 7, 8, 9}, 6);
    EXPECT_EQ(op(XENMEM_populate_physmap), 4);
    EXPECT_EQ(d->nr_pages(), 8u);
    EXPECT_EQ(entry(4), 8u);  // untouched
    reserve({9}, 1);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
}

TEST_F(MemoryOp, PopulateAtAnOccupiedOrDistantFrameKeepsEveryFrame) {
    // As on Xen, the PV guest owns its p2m: the new frame takes guest frame 1 in the
    // hypervisor's p2m, the old one stays the domain's (and keeps its M2P entry); a guest
    // frame beyond the p2m only gets the M2P entry.
    Mfn old = d->mfn_of(Pfn(1));
    reserve({1, 1000}, 2);
    ASSERT_EQ(op(XENMEM_populate_physmap), 2);
    EXPECT_EQ(d->mfn_of(Pfn(1)), Mfn(entry(0)));
    EXPECT_TRUE(table.owned_by(old, DomId(5)));
    EXPECT_EQ(table.m2p(old), 1u);
    EXPECT_EQ(table.m2p(Mfn(entry(1))), 1000u);
    EXPECT_EQ(d->nr_pages(), 6u);
    // Every frame, mapped or not, can be given back.
    reserve({old.raw(), entry(1)}, 2);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 2);
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(MemoryOp, PopulateStopsAtAnUnreadableEntry) {
    reserve({4, 5}, 3, 0, 0, DOMID_SELF, LIST + PAGE_SIZE - 16);
    list->at<uint64_t>(LIST + PAGE_SIZE - 16) = 4;
    list->at<uint64_t>(LIST + PAGE_SIZE - 8) = 5;
    EXPECT_EQ(op(XENMEM_populate_physmap), 2);
    EXPECT_EQ(d->nr_pages(), 6u);
}

TEST_F(MemoryOp, PopulateWithAListInTheHypervisorHoleDoesNothing) {
    reserve({}, 2, 0, 0, DOMID_SELF, HOLE_START);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    reserve({}, 2, 0, 0, DOMID_SELF, NON_CANONICAL - 8);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(MemoryOp, PopulateWhoseWriteBackFaultsKeepsTheFrame) {
    GuestBuffer ro(0xffffffff86000000, PAGE_SIZE, false);
    uint64_t pfn = 5;
    ro.put(ro.va, &pfn, 8);
    reserve({}, 1, 0, 0, DOMID_SELF, ro.va);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    EXPECT_EQ(d->nr_pages(), 5u);  // allocated and mapped, as on Xen
    EXPECT_TRUE(d->pfn_valid(Pfn(5)));
}

TEST_F(MemoryOp, PopulateExtentOrders) {
    reserve({4}, 1, 10);  // beyond a domU's 9
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    reserve({4}, 1, 3);  // 8 more frames: beyond the limit of 8
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    EXPECT_EQ(d->nr_pages(), 4u);
    // Two extents of two frames: machine-contiguous, the first frame written back, the M2P
    // and p2m covering both.
    reserve({4, 6}, 2, 1);
    ASSERT_EQ(op(XENMEM_populate_physmap), 2);
    EXPECT_EQ(d->nr_pages(), 8u);
    for (unsigned i = 0; i < 2; ++i)
        for (unsigned j = 0; j < 2; ++j) {
            Mfn m(entry(i) + j);
            EXPECT_EQ(table.m2p(m), 4 + 2 * i + j);
            EXPECT_EQ(d->mfn_of(Pfn(4 + 2 * i + j)), m);
            EXPECT_TRUE(table.owned_by(m, DomId(5)));
        }
}

TEST_F(MemoryOp, AControlDomainExtentOfOrder18IsAllowedAnd19IsNot) {
    Domain* dom0 = make_domain(DomainConfig{DomId(0), 4, 8, 1, true, false});
    reserve({4}, 1, 19);
    EXPECT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_populate_physmap), 0);
    EXPECT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_decrease_reservation), 0);
    reserve({4}, 1, 18);  // allowed, but far beyond the limit
    EXPECT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_populate_physmap), 0);
    reserve({4}, 1, 2);
    EXPECT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_populate_physmap), 1);
    EXPECT_EQ(dom0->nr_pages(), 8u);
}

TEST_F(MemoryOp, ABlockGoesBackToTheAllocatorWithItsLastFrame) {
    uint64_t before = machine.mm.free_frames();
    reserve({}, 1, 2);
    ASSERT_EQ(op(XENMEM_increase_reservation), 1);
    const uint64_t first = entry(0);
    EXPECT_EQ(first % 4, 0u);
    EXPECT_EQ(before - machine.mm.free_frames(), 4u);
    for (uint64_t j = 0; j < 4; ++j) EXPECT_EQ(table.m2p(Mfn(first + j)), INVALID);
    // Three frames given back: they leave the domain, the block stays allocated.
    reserve({first + 2, first, first + 3}, 3);
    ASSERT_EQ(op(XENMEM_decrease_reservation), 3);
    EXPECT_EQ(d->nr_pages(), 5u);
    EXPECT_FALSE(table.owned_by(Mfn(first), DomId(5)));
    EXPECT_EQ(before - machine.mm.free_frames(), 4u);
    reserve({first + 1}, 1);
    ASSERT_EQ(op(XENMEM_decrease_reservation), 1);
    EXPECT_EQ(machine.mm.free_frames(), before);
    EXPECT_EQ(d->nr_pages(), 4u);
    EXPECT_TRUE(machine.frames().check_consistency());
}

TEST_F(MemoryOp, DestroyFreesBlocksPartlyGivenBack) {
    uint64_t before = machine.mm.free_frames();
    auto r = Domain::create(machine.mm, DomainConfig{DomId(6), 4, 40, 1, false, false});
    ASSERT_TRUE(r.has_value());
    Domain* e = *r;
    reserve({8, 16}, 2, 3);
    ASSERT_EQ(op(*e->vcpu(VcpuId(0)), XENMEM_populate_physmap), 2);
    reserve({entry(0) + 5}, 1);
    ASSERT_EQ(op(*e->vcpu(VcpuId(0)), XENMEM_decrease_reservation), 1);
    EXPECT_EQ(e->nr_pages(), 19u);
    EXPECT_EQ(before - machine.mm.free_frames(), e->frames_held());
    Domain::destroy(e);
    EXPECT_EQ(machine.mm.free_frames(), before);
    EXPECT_TRUE(machine.frames().check_consistency());
}

TEST_F(MemoryOp, MaximumGpfnIsOneBelowTheP2mSizeTheGuestStates) {
    d->shared()->arch.max_pfn = 0;
    EXPECT_EQ(size_query(*v, XENMEM_maximum_gpfn, DOMID_SELF), 0);
    d->shared()->arch.max_pfn = 1;
    EXPECT_EQ(size_query(*v, XENMEM_maximum_gpfn, DOMID_SELF), 0);
    d->shared()->arch.max_pfn = 0x12345;
    EXPECT_EQ(size_query(*v, XENMEM_maximum_gpfn, 5), 0x12344);
    EXPECT_EQ(size_query(*v, XENMEM_maximum_gpfn, 1), -XEN_ESRCH);  // not in the domain list yet
    fake_pv::record().domains = {dom, d};
    EXPECT_EQ(size_query(*v, XENMEM_maximum_gpfn, 1), -XEN_EPERM);
    EXPECT_EQ(size_query(*v, XENMEM_maximum_gpfn, 77), -XEN_ESRCH);
    EXPECT_EQ(op(XENMEM_maximum_gpfn, UNMAPPED), -XEN_EFAULT);
    EXPECT_EQ(op(XENMEM_maximum_gpfn | (1 << 6)), -XEN_EINVAL);
}

TEST_F(MemoryOp, PopulateFromAStartExtent) {
    reserve({4, 5, 6}, 3);
    EXPECT_EQ(op(XENMEM_populate_physmap | (1 << 6)), 3);
    EXPECT_FALSE(d->pfn_valid(Pfn(4)));
    EXPECT_TRUE(d->pfn_valid(Pfn(5)));
    EXPECT_TRUE(d->pfn_valid(Pfn(6)));
    EXPECT_EQ(entry(0), 4u);
    // A start at or past the end returns the start, doing nothing.
    EXPECT_EQ(op(XENMEM_populate_physmap | (3 << 6)), 3);
    EXPECT_EQ(op(XENMEM_populate_physmap | (9 << 6)), 9);
    EXPECT_EQ(d->nr_pages(), 6u);
}

TEST_F(MemoryOp, ReservationArgumentFailuresReturnTheStart) {
    EXPECT_EQ(op(XENMEM_populate_physmap, UNMAPPED), 0);
    EXPECT_EQ(op(XENMEM_increase_reservation | (5 << 6), UNMAPPED), 5);
    reserve({4}, (uint64_t{0xffffffff} >> 6) + 1);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    reserve({4}, 0);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    reserve({4}, 1, 0, 0, 99);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(MemoryOp, AddressWidthAndNodeFlags) {
    reserve({4}, 1, 0, XENMEMF_address_bits(12));
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    // 16 + 512 frames: every frame lies above 2^13 bytes, none can be had below.
    reserve({4}, 1, 0, XENMEMF_address_bits(13));
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    EXPECT_EQ(d->nr_pages(), 4u);
    // A width the machine does not reach is no limit.
    reserve({4}, 1, 0, XENMEMF_address_bits(40));
    EXPECT_EQ(op(XENMEM_populate_physmap), 1);
    // A domU may name a node but not insist on one; vnode requests are not checked.
    reserve({5}, 1, 0, XENMEMF_node(3));
    EXPECT_EQ(op(XENMEM_populate_physmap), 1);
    reserve({6}, 1, 0, XENMEMF_exact_node(0));
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    reserve({6}, 1, 0, XENMEMF_exact_node(200) | XENMEMF_vnode);
    EXPECT_EQ(op(XENMEM_populate_physmap), 1);
}

TEST_F(MemoryOp, TheControlDomainNamesNodesBelow64) {
    Domain* dom0 = make_domain(DomainConfig{DomId(0), 4, 8, 1, true, false});
    Vcpu& c = *dom0->vcpu(VcpuId(0));
    reserve({4}, 1, 0, XENMEMF_exact_node(63));
    EXPECT_EQ(op(c, XENMEM_populate_physmap), 1);
    reserve({5}, 1, 0, XENMEMF_node(64));
    EXPECT_EQ(op(c, XENMEM_populate_physmap), 0);
    EXPECT_EQ(dom0->nr_pages(), 5u);
}

TEST_F(MemoryOp, PopulateOnDemand) {
    reserve({4}, 1, 0, XENMEMF_populate_on_demand);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);  // never on oneself
    Domain* dom0 = make_domain(DomainConfig{DomId(0), 4, 8, 1, true, false});
    fake_pv::record().domains = {d, dom0};
    reserve({4, 5}, 2, 0, XENMEMF_populate_on_demand, 5);
    // A PV target: Xen counts the extents done and allocates nothing.
    EXPECT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_populate_physmap), 2);
    EXPECT_EQ(d->nr_pages(), 4u);
    EXPECT_EQ(entry(0), 4u);
}

TEST_F(MemoryOp, OnlyTheControlDomainReservesForOthers) {
    Domain* dom0 = make_domain(DomainConfig{DomId(0), 4, 8, 1, true, false});
    fake_pv::record().domains = {d, dom0};
    reserve({4}, 1, 0, 0, 0);
    EXPECT_EQ(op(XENMEM_populate_physmap), 0);
    EXPECT_EQ(dom0->nr_pages(), 4u);
    reserve({4}, 1, 0, 0, 5);
    EXPECT_EQ(op(*dom0->vcpu(VcpuId(0)), XENMEM_populate_physmap), 1);
    EXPECT_EQ(d->nr_pages(), 5u);
    EXPECT_TRUE(table.owned_by(Mfn(entry(0)), DomId(5)));
}

TEST_F(MemoryOp, PopulateWhenTheMachineIsFull) {
    TestMachine small(64);
    std::vector<PageInfo> i2((TestMachine::BASE / PAGE_SIZE) + 64);
    std::vector<uint64_t> m2(i2.size());
    FrameTable t2;
    t2.init(i2.data(), m2.data(), i2.size());
    small.mm.set_table(&t2);
    auto r = Domain::create(small.mm, DomainConfig{DomId(7), 4, 200, 1, false, false});
    ASSERT_TRUE(r.has_value());
    Domain* big = *r;
    uint64_t room = small.mm.free_frames();
    std::vector<uint64_t> pfns;
    for (uint64_t p = 0; p < room + 3; ++p) pfns.push_back(4 + p);
    GuestBuffer many(0xffffffff87000000, pfns.size() * 8);
    many.put(many.va, pfns.data(), pfns.size() * 8);
    reserve({}, pfns.size(), 0, 0, DOMID_SELF, many.va);
    EXPECT_EQ(op(*big->vcpu(VcpuId(0)), XENMEM_populate_physmap), long(room));
    EXPECT_EQ(small.mm.free_frames(), 0u);
    Domain::destroy(big);
    EXPECT_TRUE(small.frames().check_consistency());
    EXPECT_EQ(small.frames().free_frames(), small.total_frames());
}

// --- increase_reservation ---

TEST_F(MemoryOp, IncreaseHandsOverFramesInNoGuestFrame) {
    list->at<uint64_t>(LIST + 16) = 0x77;
    reserve({}, 2);
    ASSERT_EQ(op(XENMEM_increase_reservation), 2);
    EXPECT_EQ(d->nr_pages(), 6u);
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_TRUE(table.owned_by(Mfn(entry(i)), DomId(5)));
        EXPECT_EQ(table.m2p(Mfn(entry(i))), INVALID);
    }
    EXPECT_EQ(entry(2), 0x77u);
    for (uint64_t p = 4; p < d->p2m_size(); ++p) EXPECT_FALSE(d->pfn_valid(Pfn(p)));
}

TEST_F(MemoryOp, IncreaseWithANullListOnlyCounts) {
    reserve({}, 3, 0, 0, DOMID_SELF, 0);
    EXPECT_EQ(op(XENMEM_increase_reservation), 3);
    EXPECT_EQ(d->nr_pages(), 7u);
    reserve({}, 3, 0, 0, DOMID_SELF, 0);
    EXPECT_EQ(op(XENMEM_increase_reservation), 1);  // the limit
    EXPECT_EQ(d->nr_pages(), 8u);
}

TEST_F(MemoryOp, IncreaseErrors) {
    reserve({}, 2, 0, 0, DOMID_SELF, HOLE_START);
    EXPECT_EQ(op(XENMEM_increase_reservation), 0);
    reserve({}, 2, 10);
    EXPECT_EQ(op(XENMEM_increase_reservation), 0);
    reserve({}, 2, 2);  // the second extent of 4 frames passes the limit
    EXPECT_EQ(op(XENMEM_increase_reservation), 1);
    reserve({entry(0), entry(0) + 1, entry(0) + 2, entry(0) + 3}, 4);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 4);
    GuestBuffer ro(0xffffffff86000000, PAGE_SIZE, false);
    reserve({}, 2, 0, 0, DOMID_SELF, ro.va);
    EXPECT_EQ(op(XENMEM_increase_reservation), 0);
    EXPECT_EQ(d->nr_pages(), 5u);  // the frame whose MFN could not be written stays
}

// --- decrease_reservation ---

TEST_F(MemoryOp, DecreaseFreesTheFrameAndClearsP2mAndM2p) {
    uint64_t before = machine.mm.free_frames();
    Mfn m = d->mfn_of(Pfn(3));
    reserve({m.raw()}, 1);
    ASSERT_EQ(op(XENMEM_decrease_reservation), 1);
    EXPECT_FALSE(d->pfn_valid(Pfn(3)));
    EXPECT_EQ(table.m2p(m), INVALID);
    EXPECT_FALSE(table.owned_by(m, DomId(5)));
    EXPECT_EQ(d->nr_pages(), 3u);
    EXPECT_EQ(machine.mm.free_frames(), before + 1);
    // The guest frame can be populated again.
    reserve({3}, 1);
    ASSERT_EQ(op(XENMEM_populate_physmap), 1);
    EXPECT_TRUE(d->pfn_valid(Pfn(3)));
    EXPECT_EQ(d->nr_pages(), 4u);
}

// The guest may still reach a frame it gave back through a TLB entry it never flushed: the
// frame goes back to the allocator stamped with the TLB clock, and before it serves again the
// allocator has the CPUs that have not flushed since flush (tlb_clock.hpp).
TEST_F(MemoryOp, AFrameGivenBackIsFlushedForBeforeItServesAgain) {
    Mfn m = d->mfn_of(Pfn(3));
    const TlbTime before = tlb_clock::now();
    reserve({m.raw()}, 1);
    ASSERT_EQ(op(XENMEM_decrease_reservation), 1);
    EXPECT_TRUE(fake_pv::record().allocator_flushes.empty());  // giving back flushes nothing
    EXPECT_FALSE(fake_pv::happened("flush tlb"));
    reserve({3}, 1);
    ASSERT_EQ(op(XENMEM_populate_physmap), 1);
    EXPECT_EQ(d->mfn_of(Pfn(3)), m);  // the same frame, handed out again
    ASSERT_EQ(fake_pv::record().allocator_flushes.size(), 1u);
    const TlbTime stamp = fake_pv::record().allocator_flushes[0];
    EXPECT_GE(stamp, before);                 // taken when it was given back
    EXPECT_LT(stamp, tlb_clock::now());       // so CPUs flushing from now on are past it
    // Handed out again with no give-back in between: no flush.
    reserve({2}, 1);
    ASSERT_EQ(op(XENMEM_populate_physmap), 1);  // p2m 2 was mapped: a fresh frame replaces it
    EXPECT_EQ(fake_pv::record().allocator_flushes.size(), 1u);
}

TEST_F(MemoryOp, AFrameFreedWithItsLastReferenceIsFlushedForAtReuseNotAtTheFree) {
    Mfn m = d->mfn_of(Pfn(2));
    ASSERT_EQ(pv_mm::get_page(*d, m), 0);  // a mapping the guest then drops without a flush
    reserve({m.raw()}, 1);
    ASSERT_EQ(op(XENMEM_decrease_reservation), 1);
    pv_mm::put_page(*d, m);  // freed now
    EXPECT_FALSE(table.owned_by(m, d->id()));
    EXPECT_FALSE(fake_pv::happened("flush guest tlbs"));  // no flush of every CPU here any more
    EXPECT_TRUE(fake_pv::record().allocator_flushes.empty());
    auto again = machine.mm.alloc_zeroed();
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, m);
    EXPECT_EQ(fake_pv::record().allocator_flushes.size(), 1u);
    machine.mm.free(*again);
}

TEST_F(MemoryOp, ADestroyedDomainsFramesAreFlushedForBeforeTheyServeAgain) {
    auto r = Domain::create(machine.mm, DomainConfig{DomId(6), 4, 4, 1, false, false});
    ASSERT_TRUE(r.has_value());
    Mfn m = (*r)->mfn_of(Pfn(0));
    EXPECT_TRUE(fake_pv::record().allocator_flushes.empty());  // a fresh machine: nothing stamped
    Domain::destroy(*r);
    std::vector<Mfn> taken;
    for (auto f = machine.mm.alloc_zeroed(); f; f = machine.mm.alloc_zeroed()) taken.push_back(*f);
    EXPECT_NE(std::find(taken.begin(), taken.end(), m), taken.end());
    EXPECT_FALSE(fake_pv::record().allocator_flushes.empty());
    for (Mfn f : taken) machine.mm.free(f);
}

TEST_F(MemoryOp, DecreaseStopsAtAFrameNotTheDomains) {
    Mfn mine = d->mfn_of(Pfn(0));
    Mfn theirs = dom->mfn_of(Pfn(0));
    reserve({mine.raw(), theirs.raw(), d->mfn_of(Pfn(1)).raw()}, 3);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 1);
    EXPECT_TRUE(table.owned_by(theirs, DomId(1)));
    EXPECT_TRUE(d->pfn_valid(Pfn(1)));
    reserve({d->shared_info_mfn().raw()}, 1);  // not memory of the domain
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    reserve({0xfffffffffull}, 1);  // no such frame
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    reserve({mine.raw()}, 1);  // already given back
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    EXPECT_EQ(d->nr_pages(), 3u);
}

TEST_F(MemoryOp, AReferencedFrameLeavesAtOnceAndIsFreedWithItsLastReference) {
    Mfn m = d->mfn_of(Pfn(2));
    ASSERT_EQ(pv_mm::get_page(*d, m), 0);  // mapped somewhere, say
    uint64_t free_before = machine.mm.free_frames();
    reserve({m.raw()}, 1);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 1);  // as on Xen: the guest's memory shrinks now
    EXPECT_FALSE(d->pfn_valid(Pfn(2)) && d->mfn_of(Pfn(2)) == m);
    EXPECT_EQ(table.m2p(m), 2u);     // the M2P entry stays until the frame is freed (as Xen)
    EXPECT_EQ(d->nr_pages(), 4u);    // and so does its place in the reservation
    EXPECT_TRUE(table.owned_by(m, d->id()));        // still held: the reference is live
    EXPECT_EQ(op(XENMEM_decrease_reservation), 1);  // giving it back again is a no-op, counted as on Xen
    pv_mm::put_page(*d, m);                         // the last reference goes: now it is freed
    EXPECT_FALSE(table.owned_by(m, d->id()));
    EXPECT_EQ(table.m2p(m), FrameTable::M2P_INVALID);
    EXPECT_EQ(d->nr_pages(), 3u);
    EXPECT_GE(machine.mm.free_frames(), free_before);
}

TEST_F(MemoryOp, DecreaseOfAnExtentStopsInsideIt) {
    // An order-1 extent whose second frame is not the domain's: the first frame is gone,
    // the extent is not counted (as on Xen). The domain's highest frame is such a frame.
    uint64_t pfn = 0;
    for (uint64_t p = 1; p < 4; ++p)
        if (d->mfn_of(Pfn(p)).raw() > d->mfn_of(Pfn(pfn)).raw()) pfn = p;
    Mfn m = d->mfn_of(Pfn(pfn));
    for (uint64_t p = 0; p < 4; ++p) ASSERT_NE(d->mfn_of(Pfn(p)).raw(), m.raw() + 1);
    reserve({m.raw()}, 1, 1);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    EXPECT_FALSE(d->pfn_valid(Pfn(pfn)));
    EXPECT_EQ(d->nr_pages(), 3u);
}

TEST_F(MemoryOp, DecreaseOfAWholeExtent) {
    // Two frames that are adjacent, given to the domain by populate_physmap one by one.
    reserve({4, 5, 6, 7}, 4);
    ASSERT_EQ(op(XENMEM_populate_physmap), 4);
    uint64_t first = 0;
    for (unsigned i = 0; i < 4 && !first; ++i)
        for (unsigned j = 0; j < 4; ++j)
            if (entry(j) == entry(i) + 1 && entry(i) % 2 == 0) first = entry(i);
    ASSERT_NE(first, 0u) << "the allocator hands out neighbours";
    reserve({first}, 1, 1);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 1);
    EXPECT_EQ(d->nr_pages(), 6u);
    reserve({first}, 1, 10);  // beyond a domU's order
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
}

TEST_F(MemoryOp, DecreaseErrorsOnTheList) {
    reserve({}, 1, 0, 0, DOMID_SELF, UNMAPPED);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    reserve({}, 1, 0, 0, DOMID_SELF, HOLE_START + 8);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    reserve({d->mfn_of(Pfn(0)).raw()}, 1, 0, 0, 42);
    EXPECT_EQ(op(XENMEM_decrease_reservation), 0);
    EXPECT_EQ(d->nr_pages(), 4u);
}

TEST_F(MemoryOp, DestroyReturnsEveryFrameAfterReservations) {
    uint64_t before = machine.mm.free_frames();
    auto r = Domain::create(machine.mm, DomainConfig{DomId(6), 4, 12, 1, false, false});
    ASSERT_TRUE(r.has_value());
    Domain* e = *r;
    Vcpu& ev = *e->vcpu(VcpuId(0));
    reserve({}, 3);
    ASSERT_EQ(op(ev, XENMEM_increase_reservation), 3);
    reserve({2, 9, 10}, 3);
    ASSERT_EQ(op(ev, XENMEM_populate_physmap), 3);
    reserve({e->mfn_of(Pfn(0)).raw()}, 1);
    ASSERT_EQ(op(ev, XENMEM_decrease_reservation), 1);
    EXPECT_EQ(e->nr_pages(), 9u);
    EXPECT_EQ(before - machine.mm.free_frames(), e->frames_held());
    Domain::destroy(e);
    EXPECT_EQ(machine.mm.free_frames(), before);
    EXPECT_TRUE(machine.frames().check_consistency());
}

}  // namespace

namespace {

// XENMEM_machine_memory_map: the machine's E820 map for the control domain, with the ranges it
// may not map (an I/O APIC, the MSI window) between the entries shown as reserved, and
// Xen's rules for the room the caller gives.
class MachineMemoryMap : public MemoryOp {
protected:
    void SetUp() override {
        MemoryOp::SetUp();
        iomem_policy::reset();
        MemoryMap& map = fake_memory::host_map();
        map = MemoryMap{};
        kstd::Diagnostics diag;
        map.add(Paddr(0), 0x9fc00, RegionType::available, diag);
        map.add(Paddr(0x9fc00), 0x400, RegionType::reserved, diag);
        map.add(Paddr(0xf0000), 0x10000, RegionType::reserved, diag);
        map.add(Paddr(0x100000), 0x7f00000, RegionType::available, diag);
        map.add(Paddr(0xfffc0000), 0x40000, RegionType::reserved, diag);
        map.sanitize(diag);
        map.reserve(Paddr(0x200000), 0x100000, RegionType::hypervisor);  // still RAM to dom0
        iomem_policy::deny(Mfn(0xfec00), 1);
        iomem_policy::deny(Mfn(0xfee00), 0x100);
        dom0 = make_domain(DomainConfig{DomId(0), 4, 8, 1, true, false});
    }
    void TearDown() override {
        iomem_policy::reset();
        fake_memory::host_map() = MemoryMap{};
        MemoryOp::TearDown();
    }
    long query(Vcpu& who, uint32_t room, uint64_t buffer = LIST) {
        auto& m = arg->at<xen_memory_map>(ARG);
        m.nr_entries = room;
        m.buffer.p = reinterpret_cast<void*>(buffer);
        return op(who, XENMEM_machine_memory_map);
    }
    xen_e820_entry at(unsigned i) { return list->at<xen_e820_entry>(LIST + i * sizeof(xen_e820_entry)); }
    Domain* dom0 = nullptr;
};

TEST_F(MachineMemoryMap, ShowsTheMachineMapAndWhatDom0MayNotMap) {
    Vcpu& v0 = *dom0->vcpu(VcpuId(0));
    ASSERT_EQ(query(v0, 8), 0);
    EXPECT_EQ(arg->at<xen_memory_map>(ARG).nr_entries, 7u);
    const xen_e820_entry want[] = {
        {0, 0x9f000, XEN_E820_RAM},  // Kestrel's map keeps whole pages of RAM (Xen: the firmware's 0x9fc00)
        {0x9fc00, 0x400, XEN_E820_RESERVED},
        {0xf0000, 0x10000, XEN_E820_RESERVED},
        {0x100000, 0x7f00000, XEN_E820_RAM},  // the hypervisor's part included
        {0xfec00000, 0x1000, XEN_E820_RESERVED},
        {0xfee00000, 0x100000, XEN_E820_RESERVED},
        {0xfffc0000, 0x40000, XEN_E820_RESERVED},
    };
    for (unsigned i = 0; i < 7; ++i) {
        xen_e820_entry e = at(i);
        EXPECT_EQ(e.addr, want[i].addr) << i;
        EXPECT_EQ(e.size, want[i].size) << i;
        EXPECT_EQ(e.type, want[i].type) << i;
    }
}

TEST_F(MachineMemoryMap, CountsWithoutABufferAndNeedsASpareEntry) {
    Vcpu& v0 = *dom0->vcpu(VcpuId(0));
    ASSERT_EQ(query(v0, 0, 0), 0);
    EXPECT_EQ(arg->at<xen_memory_map>(ARG).nr_entries, 7u);
    EXPECT_EQ(query(v0, 5), -XEN_EINVAL);  // fewer than the firmware entries plus one
    EXPECT_EQ(query(v0, 7), -XEN_EINVAL);  // Xen keeps one entry spare
    EXPECT_EQ(arg->at<xen_memory_map>(ARG).nr_entries, 7u);  // left as given
    EXPECT_EQ(query(v0, 8, UNMAPPED), -XEN_EFAULT);
    EXPECT_EQ(op(v0, XENMEM_machine_memory_map, UNMAPPED), -XEN_EFAULT);
}

TEST_F(MachineMemoryMap, IsForTheControlDomain) {
    EXPECT_EQ(query(*v, 8), -XEN_EPERM);
    EXPECT_EQ(at(0).size, 0u);
}

}  // namespace
