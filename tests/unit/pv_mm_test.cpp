// The PV MMU's rules on the host: reference and type counting, recursive validation of page
// tables and its undoing, the refused shapes (writable mapping of a table, superpages, a table
// containing itself, foreign frames, overflowing counts), and the hypercalls built on them
// (mmu_update, pins, new base pointers) leaving every count where it was when they fail.
#include <algorithm>
#include <memory>
#include <utility>

#include <xen/errno.h>
#include <xen/xen.h>

#include "hypercall.hpp"
#include "iomem_policy.hpp"
#include "pv_mm.hpp"
#include "pv_test_support.hpp"
#include "tlb_clock.hpp"

namespace {

using namespace pv_test;
using pv_mm::PTE_P;
using pv_mm::PTE_PS;
using pv_mm::PTE_RW;

class PvMm : public ::testing::Test {
protected:
    void SetUp() override {
        reset_fakes();
        uint64_t frames = (TestMachine::BASE / PAGE_SIZE) + machine.total_frames();
        info.resize(frames);
        m2p.resize(frames);
        ft.init(info.data(), m2p.data(), frames);
        machine.mm.set_table(&ft);
        auto r = Domain::create(machine.mm, DomainConfig{DomId(1), 16, 0, 1, false, false});
        ASSERT_TRUE(r.has_value());
        d = *r;
        auto r2 = Domain::create(machine.mm, DomainConfig{DomId(2), 4, 0, 1, false, false});
        ASSERT_TRUE(r2.has_value());
        other = *r2;
    }
    void TearDown() override {
        Domain::destroy(d);
        Domain::destroy(other);
        reset_fakes();
    }

    Mfn mfn(unsigned pfn) { return d->mfn_of(Pfn(pfn)); }
    uint64_t* entries(unsigned pfn) { return static_cast<uint64_t*>(d->map_pfn(Pfn(pfn))); }
    uint64_t pte(unsigned pfn, uint64_t flags) { return (mfn(pfn).raw() << PAGE_SHIFT) | flags; }
    const PageInfo& pi(unsigned pfn) { return ft.info(mfn(pfn)); }
    bool untouched(unsigned pfn) { return pi(pfn).refs == 0 && pi(pfn).type_count == 0 && pi(pfn).type == PageType::none; }

    TestMachine machine{256};
    std::vector<PageInfo> info;
    std::vector<uint64_t> m2p;
    FrameTable ft;
    Domain* d = nullptr;
    Domain* other = nullptr;
};

TEST_F(PvMm, L1EntriesTakeReferencesAndWritableTypes) {
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P)), 0);
    EXPECT_EQ(pi(3).refs, 1u);
    EXPECT_EQ(pi(3).type_count, 0u);
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P | PTE_RW)), 0);
    EXPECT_EQ(pi(3).refs, 2u);
    EXPECT_EQ(pi(3).type, PageType::writable);
    pv_mm::put_l1e(*d, pte(3, PTE_P | PTE_RW));
    pv_mm::put_l1e(*d, pte(3, PTE_P));
    EXPECT_TRUE(untouched(3));
    EXPECT_EQ(pv_mm::get_l1e(*d, 0), 0);  // not present: nothing to check
}

TEST_F(PvMm, ForeignAndBadFlaggedEntriesAreRefused) {
    uint64_t foreign = (other->mfn_of(Pfn(0)).raw() << PAGE_SHIFT) | PTE_P;
    EXPECT_EQ(pv_mm::get_l1e(*d, foreign), -XEN_EBUSY);  // Xen's "could not pin"
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P | pv_mm::PTE_PCD)), -XEN_EINVAL);  // cache attributes: no I/O rights
    EXPECT_EQ(pv_mm::get_l1e(*d, (uint64_t{0xfffff} << PAGE_SHIFT) | PTE_P), -XEN_EPERM);  // I/O memory: no rights
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P), nullptr), -XEN_EBUSY);  // DOMID_IO/XEN own no RAM
    EXPECT_EQ(other->foreign_refs(), 0u);
    EXPECT_TRUE(untouched(3));
}

TEST_F(PvMm, TableValidationChecksEveryEntryAndUndoesOnFailure) {
    // L1 at pfn 5 maps pfns 6 (rw) and 7 (ro); then a bad entry makes the whole table fail.
    entries(5)[0] = pte(6, PTE_P | PTE_RW);
    entries(5)[1] = pte(7, PTE_P);
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    EXPECT_EQ(pi(5).type, PageType::l1);
    EXPECT_EQ(pi(6).type, PageType::writable);
    EXPECT_EQ(pi(7).refs, 1u);
    pv_mm::put_page_and_type(*d, mfn(5));
    EXPECT_TRUE(untouched(5));
    EXPECT_TRUE(untouched(6));
    EXPECT_TRUE(untouched(7));

    entries(5)[2] = pte(5, PTE_P | PTE_RW);  // maps itself writable: a table must not be
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), -XEN_EBUSY);
    EXPECT_TRUE(untouched(5));
    EXPECT_TRUE(untouched(6));
    EXPECT_TRUE(untouched(7));
}

TEST_F(PvMm, ATableThatContainsItselfWritableIsRefused) {
    entries(8)[0] = pte(8, PTE_P | PTE_RW);  // an L2 whose entry is the L2 itself, writable
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l2), -XEN_EINVAL);
    EXPECT_TRUE(untouched(8));
}

// Linear page tables, as Xen 4.17 allows them by default (pv-linear-pt): read-only entries
// pointing at a table of the same level, which must already be validated.
TEST_F(PvMm, ATableMayMapItselfReadOnlyWithoutAReference) {
    entries(8)[3] = pte(8, PTE_P);  // an L2 whose entry 3 is the L2 itself
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l2), 0);
    EXPECT_EQ(pi(8).refs, 1u);
    EXPECT_EQ(pi(8).type_count, 1u);
    EXPECT_EQ(pi(8).linear, 0);
    pv_mm::put_page_and_type(*d, mfn(8));
    EXPECT_TRUE(untouched(8));
    entries(1)[7] = pte(1, PTE_P);  // the same in an L4
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(1), PageType::l4), 0);
    pv_mm::put_page_and_type(*d, mfn(1));
    EXPECT_TRUE(untouched(1));
}

TEST_F(PvMm, ALinearEntryToAnotherValidatedTableCountsBothWays) {
    entries(9)[0] = 0;
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(9), PageType::l2), 0);  // a validated L2
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l2), 0);  // and another, empty
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(8), 4, pte(9, PTE_P | PTE_RW), false), -XEN_EINVAL);  // writable: no
    ASSERT_EQ(pv_mm::update_entry(*d, mfn(8), 4, pte(9, PTE_P), false), 0);
    EXPECT_EQ(pi(9).type_count, 2u);
    EXPECT_EQ(pi(9).refs, 2u);
    EXPECT_EQ(pi(8).linear, 1);
    EXPECT_EQ(pi(9).linear, -1);
    // No chains: a table used linearly takes no linear entries, one with them is not a target.
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(9), 1, pte(8, PTE_P), false), -XEN_EINVAL);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(10), PageType::l2), 0);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(10), 1, pte(8, PTE_P), false), -XEN_EINVAL);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(10), 1, pte(9, PTE_P), false), 0);  // two users of one target
    EXPECT_EQ(pi(9).linear, -2);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(10), 1, 0, false), 0);
    pv_mm::put_page_and_type(*d, mfn(10));
    // The target's own last reference may be the linear one: its release devalidates it.
    pv_mm::put_page_and_type(*d, mfn(9));
    EXPECT_EQ(pi(9).type, PageType::l2);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(8), 4, 0, false), 0);
    EXPECT_TRUE(untouched(9));
    EXPECT_EQ(pi(8).linear, 0);
    pv_mm::put_page_and_type(*d, mfn(8));
    for (unsigned p : {8u, 9u, 10u}) EXPECT_TRUE(untouched(p)) << p;
}

TEST_F(PvMm, LinearEntriesAtTheWrongLevelOrToUnvalidatedTablesAreRefused) {
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(9), PageType::l2), 0);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l3), 0);
    // An L3 entry must name an L2 (normal) or an L3 (linear); an L4 is neither.
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(1), PageType::l4), 0);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(8), 0, pte(1, PTE_P), false), -XEN_EINVAL);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(8), 0, pte(9, PTE_P), false), 0);  // an L2 under an L3: normal
    EXPECT_EQ(pi(8).linear, 0);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(8), 0, 0, false), 0);
    // An L4 entry naming an L2 is refused.
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(1), 0, pte(9, PTE_P), false), -XEN_EINVAL);
    // Another domain's table is never a linear target.
    auto* oe = static_cast<uint64_t*>(other->map_pfn(Pfn(1)));
    oe[0] = 0;
    ASSERT_EQ(pv_mm::get_page_and_type(*other, other->mfn_of(Pfn(1)), PageType::l3), 0);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(8), 0, (other->mfn_of(Pfn(1)).raw() << PAGE_SHIFT) | PTE_P, false), -XEN_EINVAL);
    pv_mm::put_page_and_type(*other, other->mfn_of(Pfn(1)));
    pv_mm::put_page_and_type(*d, mfn(1));
    pv_mm::put_page_and_type(*d, mfn(8));
    pv_mm::put_page_and_type(*d, mfn(9));
    for (unsigned p : {1u, 8u, 9u}) EXPECT_TRUE(untouched(p)) << p;
}

TEST_F(PvMm, SuperpagesAreRefused) {
    entries(9)[0] = pte(10, PTE_P | PTE_RW | PTE_PS);
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(9), PageType::l2), -XEN_EINVAL);
    EXPECT_TRUE(untouched(9));
    EXPECT_TRUE(untouched(10));
}

TEST_F(PvMm, FourLevelTreeValidatesAndReleasesRecursively) {
    entries(1)[0] = pte(2, PTE_P | PTE_RW);  // L4 -> L3 -> L2 -> L1 -> data
    entries(2)[0] = pte(3, PTE_P | PTE_RW);
    entries(3)[0] = pte(4, PTE_P | PTE_RW);
    entries(4)[0] = pte(11, PTE_P | PTE_RW);
    entries(1)[260] = 0x1234567;  // a hypervisor slot: replaced, never validated
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(1), PageType::l4), 0);
    EXPECT_EQ(pi(2).type, PageType::l3);
    EXPECT_EQ(pi(3).type, PageType::l2);
    EXPECT_EQ(pi(4).type, PageType::l1);
    EXPECT_EQ(pi(11).type, PageType::writable);
    EXPECT_EQ(entries(1)[260], 0x1000u * 260 | 1);  // the fake's hypervisor entry
    EXPECT_NE(entries(1)[0] & pv_mm::PTE_US, 0u);    // user bit forced on upper levels
    pv_mm::put_page_and_type(*d, mfn(1));
    for (unsigned p : {1u, 2u, 3u, 4u, 11u}) EXPECT_TRUE(untouched(p)) << p;
}

TEST_F(PvMm, ATableInUseCannotBeMappedWritableNorAWritableFrameBecomeATable) {
    entries(5)[0] = pte(6, PTE_P);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(5, PTE_P | PTE_RW)), -XEN_EBUSY);
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(5, PTE_P)), 0);  // read-only is fine
    pv_mm::put_l1e(*d, pte(5, PTE_P));
    pv_mm::put_page_and_type(*d, mfn(5));
    ASSERT_EQ(pv_mm::get_l1e(*d, pte(5, PTE_P | PTE_RW)), 0);
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), -XEN_EINVAL);
    pv_mm::put_l1e(*d, pte(5, PTE_P | PTE_RW));
    EXPECT_TRUE(untouched(5));
}

TEST_F(PvMm, ReferenceCountsDoNotWrap) {
    ft.info(mfn(3)).refs = UINT32_MAX;
    EXPECT_EQ(pv_mm::get_page(*d, mfn(3)), -XEN_EINVAL);
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P)), -XEN_EBUSY);  // as Xen, when no reference can be had
    ft.info(mfn(3)).refs = 0;
    ft.info(mfn(3)).type = PageType::writable;
    ft.info(mfn(3)).type_count = UINT32_MAX;
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P | PTE_RW)), -XEN_EBUSY);
    EXPECT_EQ(pi(3).refs, 0u);
    ft.info(mfn(3)).type_count = 0;
    ft.info(mfn(3)).type = PageType::none;
}

TEST_F(PvMm, AFrameBeingExchangedTakesNoReference) {
    ft.info(mfn(3)).flags |= PAGE_EXCHANGING;  // as XENMEM_exchange marks its inputs
    EXPECT_EQ(pv_mm::get_page(*d, mfn(3)), -XEN_EINVAL);
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P)), -XEN_EBUSY);
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(3), PageType::l1), -XEN_EINVAL);
    ft.info(mfn(3)).flags &= ~PAGE_EXCHANGING;
    EXPECT_TRUE(untouched(3));
}

TEST_F(PvMm, UpdateEntryReplacesAndDropsTheOldReferences) {
    entries(5)[0] = pte(6, PTE_P | PTE_RW);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(5), 0, pte(7, PTE_P), false), 0);
    EXPECT_TRUE(untouched(6));
    EXPECT_EQ(pi(7).refs, 1u);
    // A refused value leaves the entry and every count as they were.
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(5), 0, pte(5, PTE_P | PTE_RW), false), -XEN_EBUSY);
    EXPECT_EQ(entries(5)[0] & pv_mm::PTE_ADDR, mfn(7).raw() << PAGE_SHIFT);
    EXPECT_EQ(pi(7).refs, 1u);
    // Preserve A/D keeps the hardware's bits.
    entries(5)[0] |= pv_mm::PTE_A | pv_mm::PTE_D;
    EXPECT_EQ(pv_mm::update_entry(*d, mfn(5), 0, pte(7, PTE_P), true), 0);
    EXPECT_NE(entries(5)[0] & pv_mm::PTE_D, 0u);
    pv_mm::put_page_and_type(*d, mfn(5));
    EXPECT_TRUE(untouched(7));
}

// A frame whose type was dropped may still be reached through a stale TLB entry of that
// type: before it (or any frame) takes a type that entry could subvert, the CPUs that have not
// flushed since the latest such drop flush, once (tlb_clock.hpp).
TEST_F(PvMm, ATypeChangeFlushesForTheLatestDroppedTypeOnce) {
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(11), PageType::l1), 0);  // clears what earlier tests left
    fake_pv::reset();
    ASSERT_EQ(pv_mm::get_l1e(*d, pte(6, PTE_P | PTE_RW)), 0);
    EXPECT_TRUE(fake_pv::record().events.empty());
    const TlbTime before = tlb_clock::now();
    pv_mm::put_l1e(*d, pte(6, PTE_P | PTE_RW));  // a writable mapping gone, without a flush
    // Another writable frame needs no flush for it: only a table's stale walk would matter.
    ASSERT_EQ(pv_mm::get_l1e(*d, pte(7, PTE_P | PTE_RW)), 0);
    EXPECT_TRUE(fake_pv::record().events.empty());
    pv_mm::put_l1e(*d, pte(7, PTE_P | PTE_RW));
    const TlbTime latest = tlb_clock::now();
    // A table now: the CPUs not flushed since the latest drop flush.
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(6), PageType::l1), 0);
    EXPECT_TRUE(fake_pv::happened("flush stale tlbs"));
    EXPECT_GT(fake_pv::record().stale_flush, before);
    EXPECT_LT(fake_pv::record().stale_flush, latest);
    fake_pv::reset();
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l1), 0);  // nothing dropped since
    EXPECT_TRUE(fake_pv::record().events.empty());
    // A dropped table makes even a writable mapping wait for the flush.
    pv_mm::put_page_and_type(*d, mfn(8));
    ASSERT_EQ(pv_mm::get_l1e(*d, pte(9, PTE_P | PTE_RW)), 0);
    EXPECT_TRUE(fake_pv::happened("flush stale tlbs"));
    pv_mm::put_l1e(*d, pte(9, PTE_P | PTE_RW));
    pv_mm::put_page_and_type(*d, mfn(6));
    pv_mm::put_page_and_type(*d, mfn(11));
    for (unsigned p : {6u, 7u, 8u, 9u, 11u}) EXPECT_TRUE(untouched(p)) << p;
}

class PvMmHypercalls : public PvMm {
protected:
    long call(uint64_t nr, uint64_t a0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
        arch::ExceptionFrame regs{};
        regs.rax = nr;
        regs.rdi = a0;
        regs.rsi = a1;
        regs.rdx = a2;
        regs.r10 = a3;
        hypercall::dispatch(*d->vcpu(VcpuId(0)), regs);
        return long(regs.rax);
    }
    static constexpr uint64_t REQS = 0xffffffff80100000;
};

TEST_F(PvMmHypercalls, MmuUpdateStopsAtTheFirstFailureAndCountsWhatWasDone) {
    entries(5)[0] = 0;
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    GuestBuffer reqs(REQS, 4 * sizeof(mmu_update));
    mmu_update* r = &reqs.at<mmu_update>(REQS);
    uint64_t slot = mfn(5).raw() << PAGE_SHIFT;
    r[0] = {slot | MMU_NORMAL_PT_UPDATE, pte(6, PTE_P)};
    r[1] = {(slot + 8) | MMU_NORMAL_PT_UPDATE, pte(5, PTE_P | PTE_RW)};  // refused
    r[2] = {(slot + 16) | MMU_NORMAL_PT_UPDATE, pte(7, PTE_P)};
    EXPECT_EQ(call(__HYPERVISOR_mmu_update, REQS, 3, REQS + 3 * sizeof(mmu_update), DOMID_SELF), -XEN_EBUSY);
    EXPECT_EQ(reqs.at<uint32_t>(REQS + 3 * sizeof(mmu_update)), 1u);
    EXPECT_EQ(pi(6).refs, 1u);
    EXPECT_TRUE(untouched(7));
    pv_mm::put_page_and_type(*d, mfn(5));
    EXPECT_TRUE(untouched(6));
}

// As Xen: L1 changes leave TLB maintenance to the guest; a changed L2, L3 or L4 entry
// flushes the domain's CPUs before mmu_update returns (even when a later request fails).
TEST_F(PvMmHypercalls, MmuUpdateFlushesForUpperLevelEntriesOnly) {
    for (unsigned p : {1u, 5u, 8u, 9u}) std::fill(entries(p), entries(p) + 512, 0);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l2), 0);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(9), PageType::l3), 0);
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(1), PageType::l4), 0);
    GuestBuffer reqs(REQS, 2 * sizeof(mmu_update));
    mmu_update* r = &reqs.at<mmu_update>(REQS);
    auto slot = [&](unsigned pfn, unsigned i) { return (mfn(pfn).raw() << PAGE_SHIFT) + 8 * i; };
    auto flushes_after = [&](uint32_t count, long want) {
        fake_pv::reset();
        EXPECT_EQ(call(__HYPERVISOR_mmu_update, REQS, count, 0, DOMID_SELF), want);
        return fake_pv::happened("flush tlb");
    };
    r[0] = {slot(5, 0), pte(6, PTE_P | PTE_RW)};
    EXPECT_FALSE(flushes_after(1, 0));  // an L1 entry made
    r[0] = {slot(5, 0), 0};
    EXPECT_FALSE(flushes_after(1, 0));  // and dropped: the guest flushes if it wants to
    EXPECT_TRUE(untouched(6));
    r[0] = {slot(8, 0), pte(5, PTE_P)};
    EXPECT_TRUE(flushes_after(1, 0));  // L2
    r[0] = {slot(9, 0), pte(8, PTE_P)};
    EXPECT_TRUE(flushes_after(1, 0));  // L3
    r[0] = {slot(1, 0), pte(9, PTE_P)};
    EXPECT_TRUE(flushes_after(1, 0));  // L4
    r[0] = {slot(1, 0), 0};
    r[1] = {slot(5, 1), pte(5, PTE_P | PTE_RW)};  // refused: a table mapped writable
    EXPECT_TRUE(flushes_after(2, -XEN_EBUSY));   // the L4 entry changed all the same
    r[0] = {slot(5, 0), pte(6, PTE_P)};
    EXPECT_FALSE(flushes_after(2, -XEN_EBUSY));  // only an L1 entry changed
    r[0] = {slot(5, 0), 0};
    EXPECT_FALSE(flushes_after(1, 0));
    r[0] = {slot(9, 0), 0};
    EXPECT_TRUE(flushes_after(1, 0));  // upper entries dropped flush too
    r[0] = {slot(8, 0), 0};
    EXPECT_TRUE(flushes_after(1, 0));
    for (unsigned p : {1u, 9u, 8u, 5u}) pv_mm::put_page_and_type(*d, mfn(p));
    for (unsigned p : {1u, 5u, 6u, 8u, 9u}) EXPECT_TRUE(untouched(p)) << p;
}

TEST_F(PvMmHypercalls, MmuUpdateOfAnOrdinaryFrameIsAPlainWriteAndMachphysSetsTheM2p) {
    GuestBuffer reqs(REQS, 2 * sizeof(mmu_update));
    mmu_update* r = &reqs.at<mmu_update>(REQS);
    r[0] = {(mfn(9).raw() << PAGE_SHIFT) + 24, 0x5555};
    r[1] = {(mfn(9).raw() << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 77};
    EXPECT_EQ(call(__HYPERVISOR_mmu_update, REQS, 2, 0, DOMID_SELF), 0);
    EXPECT_EQ(entries(9)[3], 0x5555u);
    EXPECT_EQ(ft.m2p(mfn(9)), 77u);
    EXPECT_TRUE(untouched(9));
}

TEST_F(PvMmHypercalls, MmuUpdateErrors) {
    EXPECT_EQ(call(__HYPERVISOR_mmu_update, 0x1000, 1, 0, DOMID_SELF), -XEN_EFAULT);  // unmapped list
    EXPECT_EQ(call(__HYPERVISOR_mmu_update, HOLE_START, 1, 0, DOMID_SELF), -XEN_EFAULT);
    GuestBuffer reqs(REQS, sizeof(mmu_update));
    reqs.at<mmu_update>(REQS) = {other->mfn_of(Pfn(0)).raw() << PAGE_SHIFT, 0};
    EXPECT_EQ(call(__HYPERVISOR_mmu_update, REQS, 1, 0, DOMID_SELF), -XEN_EINVAL);  // another domain's frame
    EXPECT_EQ(call(__HYPERVISOR_mmu_update, REQS, 1, 0, 0x1234), -XEN_ESRCH);      // no such domain
}

TEST_F(PvMmHypercalls, PinValidatesAndUnpinReleases) {
    entries(5)[0] = pte(6, PTE_P | PTE_RW);
    GuestBuffer ops(REQS, sizeof(mmuext_op));
    auto& op = ops.at<mmuext_op>(REQS);
    op.cmd = MMUEXT_PIN_L1_TABLE;
    op.arg1.mfn = mfn(5).raw();
    EXPECT_EQ(call(__HYPERVISOR_mmuext_op, REQS, 1, 0, DOMID_SELF), 0);
    EXPECT_EQ(pi(6).type, PageType::writable);
    EXPECT_EQ(call(__HYPERVISOR_mmuext_op, REQS, 1, 0, DOMID_SELF), -XEN_EINVAL);  // already pinned
    op.cmd = MMUEXT_UNPIN_TABLE;
    EXPECT_EQ(call(__HYPERVISOR_mmuext_op, REQS, 1, 0, DOMID_SELF), 0);
    EXPECT_TRUE(untouched(5));
    EXPECT_TRUE(untouched(6));
    EXPECT_EQ(call(__HYPERVISOR_mmuext_op, REQS, 1, 0, DOMID_SELF), -XEN_EINVAL);  // not pinned
}

}  // namespace

#include "pv_ptwr.hpp"

namespace {

// Writable page tables: a tree whose L1 (pfn 4) maps itself read-only at virtual address 0,
// so a write to address 8*k is a write to the L1's entry k.
class Ptwr : public PvMm {
protected:
    void SetUp() override {
        PvMm::SetUp();
        code_page = std::make_unique<GuestBuffer>(CODE, 64, false);
        entries(1)[0] = pte(2, PTE_P);
        entries(2)[0] = pte(3, PTE_P);
        entries(3)[0] = pte(4, PTE_P);
        entries(4)[0] = pte(4, PTE_P);  // the L1 itself, read-only
        ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(1), PageType::l4), 0);
        v = d->vcpu(VcpuId(0));
        v->cr3_kernel = mfn(1);
        frame.rip = CODE;
    }
    void TearDown() override {
        pv_mm::put_page_and_type(*d, mfn(1));
        PvMm::TearDown();
    }
    void code(std::initializer_list<uint8_t> bytes) { code_page->put(CODE, std::data(bytes), bytes.size()); }
    bool run(uint64_t cr2) { return pv_ptwr::emulate(*v, frame, cr2); }

    static constexpr uint64_t CODE = 0xffffffff81000000;
    std::unique_ptr<GuestBuffer> code_page;
    Vcpu* v = nullptr;
    arch::ExceptionFrame frame{};
};

TEST_F(Ptwr, OnlyWithTheAssistForAnUnprivilegedDomain) {
    code({0x48, 0x89, 0x07});  // mov [rdi], rax
    frame.rax = pte(6, PTE_P);
    EXPECT_FALSE(run(8));
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    EXPECT_TRUE(run(8));
    EXPECT_EQ(frame.rip, CODE + 3);
    EXPECT_EQ(entries(4)[1] & pv_mm::PTE_ADDR, mfn(6).raw() << PAGE_SHIFT);
    EXPECT_EQ(pi(6).refs, 1u);
}

TEST_F(Ptwr, InvalidEntriesStayPageFaults) {
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    code({0x48, 0x89, 0x47, 0x10});  // mov [rdi+0x10], rax
    frame.rax = pte(4, PTE_P | PTE_RW);  // the table itself, writable
    EXPECT_FALSE(run(16));
    EXPECT_EQ(entries(4)[2], 0u);
    EXPECT_EQ(frame.rip, CODE);
    EXPECT_FALSE(run(0x400000));  // not an address the L1 is mapped at
}

TEST_F(Ptwr, XchgAndCmpxchgGiveTheOldValueBack) {
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    code({0xf0, 0x48, 0x0f, 0xb1, 0x0f});  // lock cmpxchg [rdi], rcx
    frame.rax = 999;  // not the entry's value: no write
    frame.rcx = pte(6, PTE_P);
    EXPECT_TRUE(run(24));
    EXPECT_EQ(frame.rax, 0u);
    EXPECT_EQ(frame.rflags & 0x40, 0u);
    EXPECT_EQ(entries(4)[3], 0u);
    frame.rip = CODE;
    EXPECT_TRUE(run(24));  // rax now holds the entry's value (0)
    EXPECT_NE(frame.rflags & 0x40, 0u);
    EXPECT_EQ(entries(4)[3] & pv_mm::PTE_ADDR, mfn(6).raw() << PAGE_SHIFT);
    code({0x48, 0x87, 0x17});  // xchg [rdi], rdx
    frame.rip = CODE;
    frame.rdx = 0;
    EXPECT_TRUE(run(24));
    EXPECT_EQ(frame.rdx & pv_mm::PTE_ADDR, mfn(6).raw() << PAGE_SHIFT);
    EXPECT_EQ(entries(4)[3], 0u);
    EXPECT_TRUE(untouched(6));
}

TEST_F(Ptwr, FourByteWritesMergeWithTheOtherHalf) {
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    code({0xc7, 0x07, 0x00, 0x00, 0x00, 0x00});  // mov dword [rdi], 0: clears the low half
    entries(4)[5] = 0;
    ASSERT_EQ(pv_mm::update_entry(*d, mfn(4), 5, pte(6, PTE_P), false), 0);
    EXPECT_TRUE(run(40));
    EXPECT_EQ(frame.rip, CODE + 6);
    EXPECT_EQ(entries(4)[5] & PTE_P, 0u);
    EXPECT_TRUE(untouched(6));
}

TEST_F(Ptwr, UnsupportedInstructionsAreNotEmulated) {
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    code({0x48, 0x01, 0x07});  // add [rdi], rax
    frame.rax = 1;
    EXPECT_FALSE(run(8));
    code({0x66, 0x89, 0x07});  // 16-bit store
    EXPECT_FALSE(run(8));
    code({0x0f, 0xba, 0x27, 0x01});  // bt [rdi], 1: only reads
    EXPECT_FALSE(run(8));
    EXPECT_EQ(frame.rip, CODE);
}

// Linux write-protects an entry on fork with "lock andb $~RW, (pte)", and ages it with
// "lock btr $ACCESSED, (pte)" (testing the carry).
TEST_F(Ptwr, ReadModifyWriteOperations) {
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    // The entry as the guest wrote it (the hypervisor adds its own bits for guest kernels).
    auto guest_bits = [&] { return entries(4)[6] & (pv_mm::PTE_ADDR | PTE_P | PTE_RW | 0x20); };
    ASSERT_EQ(pv_mm::update_entry(*d, mfn(4), 6, pte(6, PTE_P | PTE_RW | 0x20), false), 0);
    code({0xf0, 0x80, 0x27, 0xfd});  // lock and byte [rdi], 0xfd
    EXPECT_TRUE(run(48));
    EXPECT_EQ(frame.rip, CODE + 4);
    EXPECT_EQ(guest_bits(), pte(6, PTE_P | 0x20));
    EXPECT_EQ(pi(6).type, PageType::none);  // no longer mapped writable
    EXPECT_EQ(pi(6).refs, 1u);
    code({0xf0, 0x48, 0x0f, 0xba, 0x37, 0x05});  // lock btr qword [rdi], 5
    frame.rip = CODE;
    EXPECT_TRUE(run(48));
    EXPECT_EQ(frame.rip, CODE + 6);
    EXPECT_NE(frame.rflags & 1, 0u);  // the bit was set
    EXPECT_EQ(guest_bits(), pte(6, PTE_P));
    frame.rip = CODE;
    EXPECT_TRUE(run(48));
    EXPECT_EQ(frame.rflags & 1, 0u);
    code({0xf0, 0x48, 0x09, 0x07});  // lock or [rdi], rax
    frame.rip = CODE;
    frame.rax = PTE_RW;
    EXPECT_TRUE(run(48));
    EXPECT_EQ(guest_bits(), pte(6, PTE_P | PTE_RW));
    EXPECT_EQ(frame.rflags & 0x40, 0u);  // ZF clear: a non-zero result
    code({0x48, 0x83, 0x37, 0x01});  // xor qword [rdi], 1: clears present
    frame.rip = CODE;
    EXPECT_TRUE(run(48));
    EXPECT_EQ(entries(4)[6] & PTE_P, 0u);
    EXPECT_TRUE(untouched(6));
}

TEST_F(Ptwr, ReadModifyWriteResultsAreValidated) {
    d->vm_assist |= 1u << VMASST_TYPE_writable_pagetables;
    code({0x48, 0x0b, 0x07});  // or rax, [rdi]: a read, never a write fault
    EXPECT_FALSE(run(56));
    code({0x48, 0x09, 0x07});  // or [rdi], rax with the L1 itself, writable
    frame.rax = pte(4, PTE_P | PTE_RW);
    frame.rflags = 0x40;
    EXPECT_FALSE(run(56));
    EXPECT_EQ(entries(4)[7], 0u);
    EXPECT_EQ(frame.rflags, 0x40u);  // nothing changed
    code({0x48, 0x0f, 0xab, 0x07});  // bts [rdi], rax with a bit beyond the entry
    frame.rax = 64;
    EXPECT_FALSE(run(56));
}

}  // namespace

namespace {

TEST_F(PvMm, DestroyingDomainsWithLiveTablesReturnsEveryFrame) {
    const uint64_t free_before = machine.mm.free_frames();
    for (int round = 0; round < 50; ++round) {
        auto r = Domain::create(machine.mm, DomainConfig{DomId(uint16_t(10 + round % 5)), 12, 0, 2, false, false});
        ASSERT_TRUE(r.has_value());
        Domain* x = *r;
        auto e = [&](unsigned pfn) { return static_cast<uint64_t*>(x->map_pfn(Pfn(pfn))); };
        auto p = [&](unsigned pfn, uint64_t f) { return (x->mfn_of(Pfn(pfn)).raw() << PAGE_SHIFT) | f; };
        e(0)[1] = p(1, PTE_P);
        e(1)[2] = p(2, PTE_P);
        e(2)[3] = p(3, PTE_P);
        e(3)[4] = p(5, PTE_P | PTE_RW);
        e(3)[5] = p(3, PTE_P);  // the L1 maps itself read-only
        ASSERT_EQ(pv_mm::get_page_and_type(*x, x->mfn_of(Pfn(0)), PageType::l4), 0);
        Domain::destroy(x);  // with its tables still validated and referenced
        EXPECT_EQ(machine.mm.free_frames(), free_before) << "round " << round;
    }
    for (uint64_t m = 0; m < ft.nr_frames(); ++m) {
        uint16_t owner = ft.info(Mfn(m)).owner;
        EXPECT_TRUE(owner == FrameTable::NO_OWNER || owner == 1 || owner == 2) << m;
    }
}

}  // namespace

namespace {

TEST_F(PvMmHypercalls, CacheFlushesAreForTheControlDomain) {
    GuestBuffer ops(REQS, sizeof(mmuext_op));
    auto& op = ops.at<mmuext_op>(REQS);
    op.cmd = MMUEXT_FLUSH_CACHE;
    EXPECT_EQ(call(__HYPERVISOR_mmuext_op, REQS, 1, 0, DOMID_SELF), -XEN_EACCES);
    op.cmd = MMUEXT_FLUSH_CACHE_GLOBAL;
    EXPECT_EQ(call(__HYPERVISOR_mmuext_op, REQS, 1, 0, DOMID_SELF), -XEN_EINVAL);
    EXPECT_FALSE(fake_pv::happened("wbinvd"));
}

}  // namespace

namespace {

// A control domain (dom0) beside d (d1) and other (d2), for the foreign forms: mmu_update's
// and mmuext_op's foreigndom and update_va_mapping_otherdomain.
class PvMmForeign : public PvMmHypercalls {
protected:
    void SetUp() override {
        PvMmHypercalls::SetUp();
        auto r = Domain::create(machine.mm, DomainConfig{DomId(0), 16, 0, 1, true, false});
        ASSERT_TRUE(r.has_value());
        dom0 = *r;
        fake_pv::record().domains = {dom0, d, other};
        // One guest page for request lists and masks (the fake keeps every mapping it is given,
        // so buffers are not made per call).
        buf = std::make_unique<GuestBuffer>(REQS, PAGE_SIZE);
        // dom0's tables: L4 (pfn 1) -> L3 (2) -> L2 (3) -> L1 (4), the L1 mapping nothing yet;
        // VA 0 is what its L1 entry 0 maps.
        e0(1)[0] = p0(2, PTE_P);
        e0(2)[0] = p0(3, PTE_P);
        e0(3)[0] = p0(4, PTE_P);
        ASSERT_EQ(pv_mm::get_page_and_type(*dom0, m0(1), PageType::l4), 0);
        dom0->vcpu(VcpuId(0))->cr3_kernel = m0(1);
        dom0->vcpu(VcpuId(0))->kernel_mode = true;
    }
    void TearDown() override {
        for (unsigned i = 0; i < 512; ++i) {
            if (e0(4)[i]) {
                EXPECT_EQ(pv_mm::update_entry(*dom0, m0(4), i, 0, false), 0);
            }
        }
        pv_mm::put_page_and_type(*dom0, m0(1));
        dom0->vcpu(VcpuId(0))->cr3_kernel = Mfn(0);
        Domain::destroy(dom0);
        PvMmHypercalls::TearDown();
    }
    Mfn m0(unsigned pfn) { return dom0->mfn_of(Pfn(pfn)); }
    uint64_t* e0(unsigned pfn) { return static_cast<uint64_t*>(dom0->map_pfn(Pfn(pfn))); }
    uint64_t p0(unsigned pfn, uint64_t f) { return (m0(pfn).raw() << PAGE_SHIFT) | f; }
    uint64_t po(unsigned pfn, uint64_t f) { return (other->mfn_of(Pfn(pfn)).raw() << PAGE_SHIFT) | f; }
    const PageInfo& pio(unsigned pfn) { return ft.info(other->mfn_of(Pfn(pfn))); }

    long call_as(Domain* who, uint64_t nr, uint64_t a0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0) {
        arch::ExceptionFrame regs{};
        regs.rax = nr;
        regs.rdi = a0;
        regs.rsi = a1;
        regs.rdx = a2;
        regs.r10 = a3;
        hypercall::dispatch(*who->vcpu(VcpuId(0)), regs);
        return long(regs.rax);
    }
    long update_one(Domain* who, uint64_t ptr, uint64_t val, uint32_t foreigndom) {
        buf->at<mmu_update>(REQS) = {ptr, val};
        return call_as(who, __HYPERVISOR_mmu_update, REQS, 1, 0, foreigndom);
    }
    long ext_one(Domain* who, unsigned cmd, uint64_t mfn, uint16_t foreigndom, uint64_t arg2 = 0) {
        auto& op = buf->at<mmuext_op>(REQS);
        op = {};
        op.cmd = cmd;
        op.arg1.mfn = mfn;
        op.arg2.src_mfn = arg2;
        return call_as(who, __HYPERVISOR_mmuext_op, REQS, 1, 0, foreigndom);
    }
    uint64_t l1_slot(unsigned i) { return (m0(4).raw() << PAGE_SHIFT) + 8 * i; }

    Domain* dom0 = nullptr;
    std::unique_ptr<GuestBuffer> buf;
    static constexpr uint64_t MASK = REQS + 0x800;
};

TEST_F(PvMmForeign, TheControlDomainMapsAnotherDomainsFramesAndTheOwnerIsCharged) {
    EXPECT_EQ(update_one(dom0, l1_slot(0), po(1, PTE_P | PTE_RW), 2), 0);
    EXPECT_EQ(pio(1).refs, 1u);
    EXPECT_EQ(pio(1).type, PageType::writable);
    EXPECT_EQ(other->foreign_refs(), 1u);
    // Its own frames are not other's: naming d2 and mapping one of dom0's frames is refused.
    EXPECT_EQ(update_one(dom0, l1_slot(1), p0(9, PTE_P), 2), -XEN_EBUSY);
    // Unmapping drops the owner's references, whoever is named.
    EXPECT_EQ(update_one(dom0, l1_slot(0), 0, DOMID_SELF), 0);
    EXPECT_EQ(pio(1).refs, 0u);
    EXPECT_EQ(pio(1).type_count, 0u);
    EXPECT_EQ(other->foreign_refs(), 0u);
    EXPECT_TRUE(fake_pv::happened("reap d2"));  // the owner may have been waiting for it
}

// I/O memory (frames beyond RAM, or the frame table's DOMID_IO frames): the control domain maps
// it, uncached unless it asked for another uncacheable kind, and no reference is taken; what the
// hypervisor drives is refused (-EPERM), as is any of it for a domain without I/O rights.
TEST_F(PvMmForeign, TheControlDomainMapsIoMemoryUncachedWithoutReferences) {
    iomem_policy::reset();
    const uint64_t beyond = ft.nr_frames() + 100;
    ft.mark_io(Mfn(2), 2);  // below the machine's RAM: I/O, as a hole of the memory map
    EXPECT_EQ(update_one(dom0, l1_slot(0), (beyond << PAGE_SHIFT) | PTE_P | PTE_RW, DOMID_SELF), 0);
    EXPECT_EQ(e0(4)[0] & (pv_mm::PTE_PWT | pv_mm::PTE_PCD), pv_mm::PTE_PWT | pv_mm::PTE_PCD);  // WB -> UC
    EXPECT_EQ(update_one(dom0, l1_slot(1), (uint64_t{2} << PAGE_SHIFT) | PTE_P | pv_mm::PTE_PWT, DOMID_SELF), 0);
    EXPECT_EQ(e0(4)[1] & (pv_mm::PTE_PWT | pv_mm::PTE_PCD), pv_mm::PTE_PWT | pv_mm::PTE_PCD);  // WT -> UC
    const uint64_t wc = pv_mm::PTE_PAT;  // PAT entry 4: left alone
    EXPECT_EQ(update_one(dom0, l1_slot(2), (uint64_t{3} << PAGE_SHIFT) | PTE_P | wc, DOMID_IO), 0);
    EXPECT_EQ(e0(4)[2] & pv_mm::CACHE_ATTRS, wc);
    EXPECT_EQ(ft.info(Mfn(2)).refs, 0u);
    EXPECT_EQ(ft.info(Mfn(3)).refs, 0u);
    EXPECT_EQ(ft.info(Mfn(2)).owner, FrameTable::IO_OWNER);
    // A table holding I/O entries validates the same way (the attributes fixed on the way).
    EXPECT_EQ(update_one(dom0, l1_slot(3), (beyond << PAGE_SHIFT) | PTE_P, DOMID_SELF), 0);
    // What the hypervisor keeps, and frames past the address width, are refused.
    iomem_policy::deny(Mfn(beyond + 1), 1);
    EXPECT_EQ(update_one(dom0, l1_slot(4), ((beyond + 1) << PAGE_SHIFT) | PTE_P, DOMID_SELF), -XEN_EPERM);
    iomem_policy::set_address_bits(40);
    EXPECT_EQ(update_one(dom0, l1_slot(4), (uint64_t{1} << 40) | PTE_P, DOMID_SELF), -XEN_EPERM);
    EXPECT_EQ(update_one(dom0, l1_slot(4), pv_mm::PTE_ADDR | PTE_P, DOMID_SELF), -XEN_EINVAL);  // Xen's "no frame"
    EXPECT_EQ(e0(4)[4], 0u);
    // A domain without I/O rights gets none of it.
    entries(5)[0] = 0;
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    uint64_t d_l1 = (mfn(5).raw() << PAGE_SHIFT);
    EXPECT_EQ(update_one(d, d_l1, (beyond << PAGE_SHIFT) | PTE_P, DOMID_SELF), -XEN_EPERM);
    EXPECT_EQ(update_one(d, d_l1, (uint64_t{2} << PAGE_SHIFT) | PTE_P, DOMID_IO), -XEN_EPERM);
    // The control domain may not put I/O memory into another domain's tables that may not map it.
    EXPECT_EQ(update_one(dom0, d_l1, (beyond << PAGE_SHIFT) | PTE_P, DOMID_SELF | ((1u + 1) << 16)), -XEN_EPERM);
    EXPECT_EQ(entries(5)[0], 0u);
    pv_mm::put_page_and_type(*d, mfn(5));
    // Unmapping drops nothing.
    for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(update_one(dom0, l1_slot(i), 0, DOMID_SELF), 0);
    EXPECT_EQ(ft.info(Mfn(2)).refs, 0u);
    iomem_policy::reset();
}

TEST_F(PvMmForeign, ForeignDomainErrors) {
    EXPECT_EQ(update_one(dom0, l1_slot(0), po(1, PTE_P), 0x1234), -XEN_ESRCH);  // no such domain
    EXPECT_EQ(update_one(dom0, l1_slot(0), p0(9, PTE_P), 0), -XEN_ESRCH);       // itself, by number
    EXPECT_EQ(update_one(dom0, l1_slot(0), po(1, PTE_P), (0x55u + 1) << 16), -XEN_ESRCH);  // no such pt owner
    // An unprivileged caller may not name another domain (checked per request).
    uint64_t d_l1 = (mfn(5).raw() << PAGE_SHIFT);
    EXPECT_EQ(update_one(d, d_l1, po(1, PTE_P), 2), -XEN_EPERM);
    EXPECT_EQ(update_one(d, d_l1, 0, DOMID_XEN), -XEN_EPERM);
    // DOMID_IO and DOMID_XEN own no RAM frame: mapping one is "could not pin".
    EXPECT_EQ(update_one(dom0, l1_slot(0), p0(9, PTE_P), DOMID_IO), -XEN_EBUSY);
    EXPECT_EQ(update_one(dom0, l1_slot(0), p0(9, PTE_P), DOMID_XEN), -XEN_EBUSY);
    EXPECT_EQ(update_one(dom0, l1_slot(0), 0, DOMID_IO), 0);  // clearing is fine
    // Upper levels take only the pt owner's own tables.
    EXPECT_EQ(update_one(dom0, (m0(3).raw() << PAGE_SHIFT) + 8, 0, 2), -XEN_EINVAL);
    // The M2P of a foreign domain's frame, by the control domain.
    EXPECT_EQ(update_one(dom0, (other->mfn_of(Pfn(2)).raw() << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 42, 2), 0);
    EXPECT_EQ(ft.m2p(other->mfn_of(Pfn(2))), 42u);
    EXPECT_EQ(update_one(dom0, (m0(9).raw() << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 42, 2), -XEN_EINVAL);
    // Commands 4-7 do not exist.
    EXPECT_EQ(update_one(dom0, l1_slot(0) | 4, 0, DOMID_SELF), -XEN_ENOSYS);
    for (unsigned p = 0; p < 4; ++p) EXPECT_EQ(pio(p).refs, 0u) << p;
    EXPECT_EQ(other->foreign_refs(), 0u);
}

TEST_F(PvMmForeign, APtOwnerInTheUpperHalfWritesThatDomainsTables) {
    // d's L1 at pfn 5, written by dom0 (pt owner d1, pg owner DOMID_SELF = dom0's frames).
    ASSERT_EQ(pv_mm::get_page_and_type(*d, mfn(5), PageType::l1), 0);
    uint64_t slot = mfn(5).raw() << PAGE_SHIFT;
    EXPECT_EQ(update_one(dom0, slot, pte(6, PTE_P), (1u + 1) << 16 | DOMID_SELF), -XEN_EBUSY);  // d's frame, dom0 named
    EXPECT_EQ(update_one(dom0, slot, pte(6, PTE_P), (1u + 1) << 16 | 1), 0);  // d's frame, d named
    EXPECT_EQ(pi(6).refs, 1u);
    EXPECT_EQ(d->foreign_refs(), 0u);  // its own tables: not foreign
    EXPECT_EQ(update_one(dom0, slot, 0, (1u + 1) << 16 | 1), 0);
    EXPECT_EQ(update_one(dom0, slot, pte(6, PTE_P), (1u + 1) << 16 | 1 | 0), 0);
    // Only the pt owner itself may set M2P entries.
    EXPECT_EQ(update_one(dom0, (mfn(7).raw() << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 1, (1u + 1) << 16 | 1), -XEN_EPERM);
    pv_mm::put_page_and_type(*d, mfn(5));
    EXPECT_TRUE(untouched(6));
}

TEST_F(PvMmForeign, UpdateVaMappingOtherdomain) {
    const uint64_t nr = __HYPERVISOR_update_va_mapping_otherdomain;
    EXPECT_EQ(call_as(dom0, nr, 0, po(3, PTE_P), UVMF_INVLPG, 2), 0);
    EXPECT_EQ(e0(4)[0] & pv_mm::PTE_ADDR, other->mfn_of(Pfn(3)).raw() << PAGE_SHIFT);
    EXPECT_EQ(pio(3).refs, 1u);
    EXPECT_EQ(other->foreign_refs(), 1u);
    EXPECT_EQ(call_as(dom0, nr, 0, po(3, PTE_P), 0, 0), -XEN_ESRCH);  // itself by number
    EXPECT_EQ(call_as(dom0, nr, 0, po(3, PTE_P), 0, 77), -XEN_ESRCH);
    EXPECT_EQ(call_as(dom0, nr, 0, p0(9, PTE_P), 0, DOMID_IO), -XEN_EBUSY);
    EXPECT_EQ(call_as(dom0, nr, 0x7fff00000000, po(3, PTE_P), 0, 2), -XEN_EINVAL);  // no L1 maps it
    EXPECT_EQ(call_as(dom0, nr, 0, 0, 0, DOMID_SELF), 0);  // DOMID_SELF: like update_va_mapping
    EXPECT_EQ(pio(3).refs, 0u);
    EXPECT_EQ(other->foreign_refs(), 0u);
    EXPECT_EQ(call_as(d, nr, 0, po(3, PTE_P), 0, 2), -XEN_EPERM);  // not the control domain
}

TEST_F(PvMmForeign, UpdateVaMappingFlushFlags) {
    const uint64_t nr = __HYPERVISOR_update_va_mapping;
    buf->at<uint64_t>(MASK) = 1;
    for (uint64_t flags : {UVMF_NONE, UVMF_FLUSHTYPE_MASK | 0x1000}) {
        fake_pv::record().events.clear();
        EXPECT_EQ(call_as(dom0, nr, 0, p0(9, PTE_P), flags), 0) << flags;
        EXPECT_TRUE(fake_pv::record().events.empty()) << flags;  // no flush asked for
    }
    // A local flush stays on this CPU; anything wider flushes the domain's CPUs whole (a
    // superset of one page and of the vCPUs a mask names).
    const std::pair<uint64_t, const char*> cases[] = {
        {UVMF_TLB_FLUSH | UVMF_LOCAL, "flush tlb local"}, {UVMF_TLB_FLUSH | UVMF_ALL, "flush tlb"},
        {UVMF_TLB_FLUSH | MASK, "flush tlb"},             {UVMF_INVLPG | UVMF_LOCAL, "invlpg 0x0"},
        {UVMF_INVLPG | UVMF_ALL, "flush tlb"},            {UVMF_INVLPG | MASK, "flush tlb"},
    };
    for (auto [flags, what] : cases) {
        fake_pv::record().events.clear();
        EXPECT_EQ(call_as(dom0, nr, 0, p0(9, PTE_P), flags), 0) << flags;
        EXPECT_TRUE(fake_pv::happened(what)) << flags << " " << what;
    }
    // A mask that cannot be read: -EFAULT, the entry changed all the same (as on Xen).
    EXPECT_EQ(call_as(dom0, nr, 0, p0(10, PTE_P), UVMF_INVLPG | 0x1000), -XEN_EFAULT);
    EXPECT_EQ(e0(4)[0] & pv_mm::PTE_ADDR, m0(10).raw() << PAGE_SHIFT);
    EXPECT_EQ(call_as(dom0, nr, 0, p0(11, PTE_P), UVMF_TLB_FLUSH | 0x1000), -XEN_EFAULT);
    EXPECT_EQ(call_as(dom0, nr, 0, 0, UVMF_NONE | 0x1000), 0);  // no flush: no mask read
}

TEST_F(PvMmForeign, MmuextOpWithAForeignDomain) {
    static_cast<uint64_t*>(other->map_pfn(Pfn(1)))[0] = po(2, PTE_P | PTE_RW);
    EXPECT_EQ(ext_one(dom0, MMUEXT_PIN_L1_TABLE, other->mfn_of(Pfn(1)).raw(), 2), 0);
    EXPECT_EQ(pio(1).type, PageType::l1);
    EXPECT_EQ(pio(2).type, PageType::writable);
    EXPECT_EQ(ext_one(dom0, MMUEXT_PIN_L1_TABLE, other->mfn_of(Pfn(1)).raw(), DOMID_SELF), -XEN_EINVAL);  // not dom0's
    EXPECT_EQ(ext_one(dom0, MMUEXT_UNPIN_TABLE, other->mfn_of(Pfn(1)).raw(), 2), 0);
    EXPECT_EQ(pio(1).refs, 0u);
    EXPECT_EQ(pio(2).refs, 0u);
    EXPECT_EQ(other->foreign_refs(), 0u);  // pins are the owner's own references
    static_cast<uint64_t*>(other->map_pfn(Pfn(3)))[5] = 0x99;
    EXPECT_EQ(ext_one(dom0, MMUEXT_COPY_PAGE, other->mfn_of(Pfn(0)).raw(), 2, other->mfn_of(Pfn(3)).raw()), 0);
    EXPECT_EQ(static_cast<uint64_t*>(other->map_pfn(Pfn(0)))[5], 0x99u);
    EXPECT_EQ(ext_one(dom0, MMUEXT_CLEAR_PAGE, other->mfn_of(Pfn(0)).raw(), 2), 0);
    EXPECT_EQ(static_cast<uint64_t*>(other->map_pfn(Pfn(0)))[5], 0u);
    // What concerns the calling vCPU is not for a foreign domain.
    for (unsigned cmd : {MMUEXT_NEW_BASEPTR, MMUEXT_NEW_USER_BASEPTR, MMUEXT_TLB_FLUSH_LOCAL, MMUEXT_INVLPG_LOCAL,
                         MMUEXT_TLB_FLUSH_ALL, MMUEXT_INVLPG_ALL, MMUEXT_TLB_FLUSH_MULTI, MMUEXT_INVLPG_MULTI,
                         MMUEXT_SET_LDT, MMUEXT_FLUSH_CACHE, MMUEXT_FLUSH_CACHE_GLOBAL})
        EXPECT_EQ(ext_one(dom0, cmd, 0, 2), -XEN_EPERM) << cmd;
    EXPECT_EQ(ext_one(dom0, MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_IO), -XEN_EPERM);
    EXPECT_EQ(ext_one(dom0, MMUEXT_PIN_L1_TABLE, m0(9).raw(), DOMID_IO), -XEN_EINVAL);
    EXPECT_EQ(ext_one(dom0, MMUEXT_TLB_FLUSH_LOCAL, 0, 0), -XEN_ESRCH);    // itself by number
    EXPECT_EQ(ext_one(dom0, MMUEXT_TLB_FLUSH_LOCAL, 0, 0x99), -XEN_ESRCH);
    EXPECT_EQ(ext_one(d, MMUEXT_TLB_FLUSH_LOCAL, 0, 2), -XEN_EPERM);       // not the control domain
    EXPECT_EQ(ext_one(d, MMUEXT_TLB_FLUSH_LOCAL, 0, DOMID_IO), -XEN_EPERM);
    // An unreadable vCPU mask is -EINVAL (Xen's answer), not -EFAULT.
    EXPECT_EQ(ext_one(dom0, MMUEXT_TLB_FLUSH_MULTI, 0, DOMID_SELF, 0x1000), -XEN_EINVAL);
    EXPECT_EQ(ext_one(dom0, MMUEXT_INVLPG_MULTI, 0, DOMID_SELF, 0x1000), -XEN_EINVAL);
}

TEST_F(PvMmForeign, ADyingDomainTakesNoNewForeignMappings) {
    ASSERT_EQ(update_one(dom0, l1_slot(0), po(1, PTE_P), 2), 0);
    other->set_dying();
    EXPECT_EQ(update_one(dom0, l1_slot(1), po(2, PTE_P), 2), -XEN_EBUSY);
    EXPECT_EQ(ext_one(dom0, MMUEXT_CLEAR_PAGE, other->mfn_of(Pfn(0)).raw(), 2), -XEN_EINVAL);
    EXPECT_EQ(other->foreign_refs(), 1u);
    EXPECT_FALSE(fake_pv::happened("reap d2"));
    EXPECT_EQ(update_one(dom0, l1_slot(0), 0, DOMID_SELF), 0);
    EXPECT_TRUE(fake_pv::happened("reap d2"));  // the last foreign reference: reaped now
}

}  // namespace

namespace {

// Domains that had every kind of MMU state (a validated tree, a pin, a linear entry, a frame
// given back while mapped, the control domain's mappings of their frames and of its frames in
// their tables) are destroyed in a loop: every frame comes back, and the control domain's
// frames are left with no references from them.
TEST_F(PvMmForeign, DomainsWithEveryKindOfMmuStateComeAndGoWithoutLeaks) {
    const uint64_t free_before = machine.mm.free_frames();
    for (int round = 0; round < 30; ++round) {
        auto r = Domain::create(machine.mm, DomainConfig{DomId(7), 12, 0, 1, false, false});
        ASSERT_TRUE(r.has_value());
        Domain* x = *r;
        fake_pv::record().domains = {dom0, d, other, x};
        auto e = [&](unsigned pfn) { return static_cast<uint64_t*>(x->map_pfn(Pfn(pfn))); };
        auto m = [&](unsigned pfn) { return x->mfn_of(Pfn(pfn)); };
        auto p = [&](unsigned pfn, uint64_t f) { return (m(pfn).raw() << PAGE_SHIFT) | f; };
        e(0)[1] = p(1, PTE_P);       // L4 -> L3 (1) -> L2 (2) -> L1 (3)
        e(0)[2] = p(0, PTE_P);       // the L4 maps itself: a linear entry
        e(1)[0] = p(2, PTE_P);
        e(2)[0] = p(3, PTE_P);
        e(3)[0] = p(5, PTE_P | PTE_RW);
        ASSERT_EQ(pv_mm::get_page_and_type(*x, m(0), PageType::l4), 0);
        e(6)[0] = p(7, PTE_P);
        ASSERT_EQ(pv_mm::get_page_and_type(*x, m(6), PageType::l1), 0);  // as a pin would
        ASSERT_TRUE(x->remove_page(m(5)).has_value());                   // given back, still mapped
        // dom0 maps x's frame 8, and puts one of its own frames into x's L1.
        ASSERT_EQ(update_one(dom0, l1_slot(3), p(8, PTE_P | PTE_RW), 7), 0);
        ASSERT_EQ(update_one(dom0, (m(3).raw() << PAGE_SHIFT) + 8, p0(9, PTE_P), (7u + 1) << 16 | DOMID_SELF), 0);
        EXPECT_EQ(x->foreign_refs(), 1u);
        EXPECT_EQ(dom0->foreign_refs(), 1u);
        ASSERT_EQ(update_one(dom0, l1_slot(3), 0, DOMID_SELF), 0);
        pv_mm::release_foreign_mappings(*x);
        EXPECT_EQ(dom0->foreign_refs(), 0u);
        EXPECT_EQ(ft.info(m0(9)).refs, 0u) << "round " << round;
        Domain::destroy(x);
        fake_pv::record().domains = {dom0, d, other};
        EXPECT_EQ(machine.mm.free_frames(), free_before) << "round " << round;
    }
    EXPECT_TRUE(machine.frames().check_consistency());
}

}  // namespace
