// The PV MMU's rules on the host: reference and type counting, recursive validation of page
// tables and its undoing, the refused shapes (writable mapping of a table, superpages, a table
// containing itself, foreign frames, overflowing counts), and the hypercalls built on them
// (mmu_update, pins, new base pointers) leaving every count where it was when they fail.
#include <memory>

#include <xen/errno.h>
#include <xen/xen.h>

#include "hypercall.hpp"
#include "pv_mm.hpp"
#include "pv_test_support.hpp"

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
    EXPECT_EQ(pv_mm::get_l1e(*d, foreign), -XEN_EINVAL);
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P | pv_mm::PTE_PCD)), -XEN_EINVAL);  // cache attributes: no I/O rights
    EXPECT_EQ(pv_mm::get_l1e(*d, (uint64_t{0xfffff} << PAGE_SHIFT) | PTE_P), -XEN_EINVAL);  // beyond all memory
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

TEST_F(PvMm, ATableThatContainsItselfIsRefused) {
    entries(8)[0] = pte(8, PTE_P | PTE_RW);  // an L2 whose entry is the L2 itself
    EXPECT_EQ(pv_mm::get_page_and_type(*d, mfn(8), PageType::l2), -XEN_EINVAL);
    EXPECT_TRUE(untouched(8));
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
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P)), -XEN_EINVAL);
    ft.info(mfn(3)).refs = 0;
    ft.info(mfn(3)).type = PageType::writable;
    ft.info(mfn(3)).type_count = UINT32_MAX;
    EXPECT_EQ(pv_mm::get_l1e(*d, pte(3, PTE_P | PTE_RW)), -XEN_EBUSY);
    EXPECT_EQ(pi(3).refs, 0u);
    ft.info(mfn(3)).type_count = 0;
    ft.info(mfn(3)).type = PageType::none;
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
    code({0x48, 0x09, 0x07});  // or [rdi], rax
    frame.rax = 1;
    EXPECT_FALSE(run(8));
    code({0x66, 0x89, 0x07});  // 16-bit store
    EXPECT_FALSE(run(8));
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
