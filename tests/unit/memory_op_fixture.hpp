// The fixture of the memory_op tests (memory_op_test.cpp, memory_exchange_test.cpp): a
// frame table, a fake M2P, guest buffers for the argument and a frame list, and a domU (d5,
// 4 pages, limit 8) beside the PvTest domain.
#pragma once

#include <xen/memory.h>

#include <memory>
#include <vector>

#include "memory_fakes.hpp"
#include "pv_mm.hpp"
#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff84000000;   // the sub-op's structure
constexpr uint64_t LIST = 0xffffffff84100000;  // a list of frame numbers
constexpr uint64_t UNMAPPED = 0xffffffff85000000;
constexpr uint64_t MAX_PAGE = 600000;  // M2P of 4.6 MB: three 2 MiB chunks
constexpr uint64_t M2P_FIRST = 0x40000;
constexpr uint64_t INVALID = FrameTable::M2P_INVALID;

class MemoryOp : public PvTest {
protected:
    void SetUp() override {
        uint64_t n = (TestMachine::BASE / PAGE_SIZE) + machine.total_frames();
        info.resize(n);
        m2p.resize(n);
        table.init(info.data(), m2p.data(), n);
        machine.mm.set_table(&table);
        fake_memory::set(MAX_PAGE, Mfn(M2P_FIRST));
        PvTest::SetUp();
        arg = std::make_unique<GuestBuffer>(ARG, PAGE_SIZE);
        list = std::make_unique<GuestBuffer>(LIST, PAGE_SIZE);
        // A domU with room to grow: 4 pages, limit 8.
        d = make_domain(DomainConfig{DomId(5), 4, 8, 1, false, false});
        v = d->vcpu(VcpuId(0));
    }
    void TearDown() override {
        PvTest::TearDown();
        EXPECT_EQ(fake_memory::bad_m2p_queries(), 0u);
    }

    long op(Vcpu& who, uint64_t cmd, uint64_t a = ARG) { return call(who, __HYPERVISOR_memory_op, cmd, a); }
    long op(uint64_t cmd, uint64_t a = ARG) { return op(*v, cmd, a); }

    // Fills the reservation at ARG and the list at LIST.
    void reserve(std::vector<uint64_t> frames, uint64_t nr, uint32_t order = 0, uint32_t flags = 0,
                 domid_t domid = DOMID_SELF, uint64_t at = LIST) {
        auto& r = arg->at<xen_memory_reservation>(ARG);
        r.extent_start.p = reinterpret_cast<xen_pfn_t*>(at);
        r.nr_extents = nr;
        r.extent_order = order;
        r.mem_flags = flags;
        r.domid = domid;
        for (size_t i = 0; i < frames.size(); ++i) list->at<uint64_t>(LIST + 8 * i) = frames[i];
    }
    uint64_t entry(unsigned i) { return list->u64(LIST + 8 * i); }
    long size_query(Vcpu& who, unsigned cmd, domid_t domid) {
        arg->at<xen_memory_domain>(ARG).domid = domid;
        return op(who, cmd);
    }

    std::vector<PageInfo> info;
    std::vector<uint64_t> m2p;
    FrameTable table;
    std::unique_ptr<GuestBuffer> arg, list;
    Domain* d = nullptr;
    Vcpu* v = nullptr;
};

}  // namespace
