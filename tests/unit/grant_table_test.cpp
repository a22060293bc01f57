// Grant tables on the host, through the real grant_table_op handler: table size and growth,
// versions, the v1 status protocol (GTF_reading/GTF_writing set and cleared with the pins),
// the references a mapping takes on the granter's frame (and its writable type), host
// mappings written into an L1 of the mapper, copies, swaps, every GNTST_* and errno answer,
// and what a dying mapper gives back.
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/xen.h>

#include "grant_table.hpp"
#include "pv_mm.hpp"
#include "pv_test_support.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t ARG = 0xffffffff80200000;  // where op structs go
constexpr uint64_t LIST = 0xffffffff80300000;  // frame lists

class Grants : public ::testing::Test {
protected:
    void SetUp() override {
        reset_fakes();
        uint64_t frames = (TestMachine::BASE / PAGE_SIZE) + machine.total_frames();
        info.resize(frames);
        m2p.resize(frames);
        ft.init(info.data(), m2p.data(), frames);
        machine.mm.set_table(&ft);
        a = make(DomId(1), false);
        b = make(DomId(2), false);
        arg = std::make_unique<GuestBuffer>(ARG, 4096);
        list = std::make_unique<GuestBuffer>(LIST, 4096);
    }
    void TearDown() override {
        for (Domain* d : fake_pv::record().domains) Domain::destroy(d);
        reset_fakes();
    }
    Domain* make(DomId id, bool privileged) {
        auto r = Domain::create(machine.mm, DomainConfig{id, 16, 0, 1, privileged, false});
        EXPECT_TRUE(r.has_value());
        fake_pv::record().domains.push_back(*r);
        return *r;
    }
    Vcpu& vcpu(Domain* d) { return *d->vcpu(VcpuId(0)); }

    // One op struct (or an array of them) through the hypercall, read back afterwards.
    template <typename T>
    long op(Domain* d, unsigned cmd, T* ops, unsigned count = 1) {
        arg->put(ARG, ops, sizeof(T) * count);
        regs.rax = __HYPERVISOR_grant_table_op;
        regs.rdi = cmd;
        regs.rsi = ARG;
        regs.rdx = count;
        hypercall::dispatch(vcpu(d), regs);
        for (unsigned i = 0; i < count; ++i) ops[i] = arg->at<T>(ARG + i * sizeof(T));
        return long(regs.rax);
    }

    // Entry ref of a's table grants frame pfn of a to b.
    void grant(uint32_t ref, unsigned pfn, uint16_t flags = GTF_permit_access, Domain* to = nullptr) {
        grant_entry_v1* e = a->grant_table()->entry(ref);
        e->domid = (to ? to : b)->id().raw();
        e->frame = uint32_t(a->mfn_of(Pfn(pfn)).raw());
        e->flags = flags;
    }
    uint16_t flags(uint32_t ref) { return a->grant_table()->entry(ref)->flags; }
    const PageInfo& frame_info(unsigned pfn) { return ft.info(a->mfn_of(Pfn(pfn))); }

    gnttab_map_grant_ref map_op(uint32_t ref, uint32_t flags, uint64_t host = 0, domid_t dom = 1) {
        gnttab_map_grant_ref m{};
        m.host_addr = host;
        m.flags = flags;
        m.ref = ref;
        m.dom = dom;
        m.handle = 0xdead;
        return m;
    }
    int16_t unmap(Domain* d, uint32_t handle, uint64_t host, uint64_t dev) {
        gnttab_unmap_grant_ref u{host, dev, handle, 99};
        EXPECT_EQ(op(d, GNTTABOP_unmap_grant_ref, &u), 0);
        return u.status;
    }

    // Frame pfn of b made an L1 table (empty): the machine address of its entry i.
    uint64_t l1_entry(unsigned pfn, unsigned i) {
        Mfn m = b->mfn_of(Pfn(pfn));
        EXPECT_EQ(pv_mm::get_page_and_type(*b, m, PageType::l1), 0);
        return mfn_to_paddr(m).raw() + i * 8;
    }
    uint64_t& entry_at(uint64_t maddr) {
        return static_cast<uint64_t*>(machine.mm.map(paddr_to_mfn(Paddr(maddr))))[(maddr % PAGE_SIZE) / 8];
    }

    TestMachine machine{512};
    std::vector<PageInfo> info;
    std::vector<uint64_t> m2p;
    FrameTable ft;
    Domain* a = nullptr;
    Domain* b = nullptr;
    std::unique_ptr<GuestBuffer> arg, list;
    arch::ExceptionFrame regs{};
};

TEST_F(Grants, ANewTableHasOneFrameOfAtMostSixtyFour) {
    gnttab_query_size q{DOMID_SELF, 0, 0, 99};
    EXPECT_EQ(op(a, GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT_EQ(q.nr_frames, 1u);
    EXPECT_EQ(q.max_nr_frames, 64u);
    // The shared frames are the domain's, outside its memory, and pinned writable.
    Mfn f = a->grant_table()->frame(0);
    EXPECT_TRUE(ft.owned_by(f, a->id()));
    EXPECT_EQ(ft.m2p(f), FrameTable::M2P_INVALID);
    EXPECT_EQ(ft.info(f).type, PageType::writable);
    EXPECT_EQ(pv_mm::get_page_and_type(*a, f, PageType::l1), -XEN_EINVAL);
}

TEST_F(Grants, SetupTableGrowsAndListsMachineFrames) {
    uint64_t held = a->frames_held();
    gnttab_setup_table s{DOMID_SELF, 4, 99, {}};
    s.frame_list.p = reinterpret_cast<xen_pfn_t*>(LIST);
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_okay);
    EXPECT_EQ(a->grant_table()->nr_frames(), 4u);
    EXPECT_GT(a->frames_held(), held);
    for (unsigned i = 0; i < 4; ++i) EXPECT_EQ(list->u64(LIST + i * 8), a->grant_table()->frame(i).raw());
    s.nr_frames = 2;  // never shrinks
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_okay);
    EXPECT_EQ(a->grant_table()->nr_frames(), 4u);
    s.nr_frames = 65;  // over the limit
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_general_error);
    EXPECT_EQ(a->grant_table()->nr_frames(), 4u);
}

TEST_F(Grants, SetupTableErrors) {
    gnttab_setup_table s{DOMID_SELF, 1, 99, {}};
    s.frame_list.p = reinterpret_cast<xen_pfn_t*>(LIST);
    gnttab_setup_table two[2] = {s, s};
    EXPECT_EQ(op(a, GNTTABOP_setup_table, two, 2), -XEN_EINVAL);  // exactly one struct
    s.dom = 2;  // another domain: only for the control domain
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_permission_denied);
    s.dom = 77;
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_bad_domain);
    s.dom = DOMID_SELF;
    s.frame_list.p = reinterpret_cast<xen_pfn_t*>(HOLE_START);
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), -XEN_EFAULT);
    s.frame_list.p = reinterpret_cast<xen_pfn_t*>(0xffffffff80500000);  // valid but unmapped
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_bad_virt_addr);
    regs.rax = __HYPERVISOR_grant_table_op;
    regs.rdi = GNTTABOP_setup_table;
    regs.rsi = 0xffffffff80600000;  // unmapped op
    regs.rdx = 1;
    hypercall::dispatch(vcpu(a), regs);
    EXPECT_EQ(long(regs.rax), -XEN_EFAULT);
}

TEST_F(Grants, ControlDomainMayQueryOthers) {
    Domain* d0 = make(DomId(0), true);
    gnttab_query_size q{1, 0, 0, 99};
    EXPECT_EQ(op(d0, GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.status, GNTST_okay);
    q = gnttab_query_size{0, 0, 0, 99};
    EXPECT_EQ(op(a, GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.status, GNTST_permission_denied);
}

TEST_F(Grants, VersionsSwitchWhileIdleKeepingTheReservedEntries) {
    gnttab_get_version g{DOMID_SELF, 0, 0};
    EXPECT_EQ(op(a, GNTTABOP_get_version, &g), 0);
    EXPECT_EQ(g.version, 1u);
    g.dom = 77;
    EXPECT_EQ(op(a, GNTTABOP_get_version, &g), -XEN_ESRCH);
    g.dom = 2;
    EXPECT_EQ(op(a, GNTTABOP_get_version, &g), -XEN_EPERM);
    gnttab_get_status_frames f{1, DOMID_SELF, 99, {}};
    f.frame_list.p = reinterpret_cast<uint64_t*>(LIST);
    EXPECT_EQ(op(a, GNTTABOP_get_status_frames, &f), 0);
    EXPECT_EQ(f.status, GNTST_general_error);  // v1 has no status frames

    grant(3, 5);                            // a reserved entry: kept
    grant(20, 6);                           // any other: cleared
    gnttab_set_version s{3};
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), -XEN_EINVAL);
    EXPECT_EQ(s.version, 1u);
    s.version = 2;
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(s.version, 2u);
    GrantTable& t = *a->grant_table();
    EXPECT_EQ(t.nr_entries(), 256u);
    EXPECT_EQ(t.nr_status_frames(), 1u);
    EXPECT_EQ(t.entry_v2(3)->hdr.flags, GTF_permit_access);
    EXPECT_EQ(t.entry_v2(3)->hdr.domid, 2u);
    EXPECT_EQ(t.entry_v2(3)->full_page.frame, a->mfn_of(Pfn(5)).raw());
    EXPECT_EQ(t.entry_v2(20)->hdr.flags, 0u);
    f.nr_frames = 1;
    EXPECT_EQ(op(a, GNTTABOP_get_status_frames, &f), 0);
    EXPECT_EQ(f.status, GNTST_okay);
    EXPECT_EQ(list->u64(LIST), t.status_frame(0).raw());
    EXPECT_TRUE(ft.owned_by(t.status_frame(0), a->id()));
    f.nr_frames = 2;
    EXPECT_EQ(op(a, GNTTABOP_get_status_frames, &f), 0);
    EXPECT_EQ(f.status, GNTST_general_error);

    // Growing in v2 adds status frames as the entries need them (2048 per frame).
    gnttab_setup_table st{DOMID_SELF, 9, 99, {}};
    st.frame_list.p = reinterpret_cast<xen_pfn_t*>(LIST);
    EXPECT_EQ(op(a, GNTTABOP_setup_table, &st), 0);
    EXPECT_EQ(st.status, GNTST_okay);
    EXPECT_EQ(t.nr_status_frames(), 2u);

    s.version = 1;
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(s.version, 1u);
    EXPECT_EQ(t.nr_status_frames(), 0u);
    EXPECT_EQ(t.nr_entries(), 9u * 512);
    EXPECT_EQ(t.entry(3)->frame, a->mfn_of(Pfn(5)).raw());
    EXPECT_EQ(flags(3), GTF_permit_access);
}

TEST_F(Grants, SetVersionRefusals) {
    grant(20, 6);
    auto m = map_op(20, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    gnttab_set_version s{2};
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), -XEN_EBUSY);  // an entry in use
    EXPECT_EQ(s.version, 1u);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    grant(2, 6);  // the reserved entries may be in use
    m = map_op(2, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    s.version = 2;
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(*a->grant_table()->status(2), GTF_reading | GTF_writing);  // the bits move to the status word
    EXPECT_EQ(a->grant_table()->header(2)->flags, GTF_permit_access);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(*a->grant_table()->status(2), 0u);

    // A status frame the guest still maps keeps v2.
    Mfn sf = a->grant_table()->status_frame(0);
    ASSERT_EQ(pv_mm::get_page(*a, sf), 0);
    s.version = 1;
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), -XEN_EBUSY);
    EXPECT_EQ(s.version, 2u);
    pv_mm::put_page(*a, sf);
    // A reserved entry v1 cannot express.
    a->grant_table()->entry_v2(1)->hdr.flags = GTF_permit_access;
    a->grant_table()->entry_v2(1)->full_page.frame = uint64_t{1} << 32;
    s.version = 1;
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), -XEN_ERANGE);
    s.version = 1;
    a->grant_table()->entry_v2(1)->hdr.flags = 0;
    EXPECT_EQ(op(a, GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(s.version, 1u);
}

TEST_F(Grants, V2KeepsStatusApartAndSubPagesServeCopiesOnly) {
    gnttab_set_version s{2};
    ASSERT_EQ(op(a, GNTTABOP_set_version, &s), 0);
    GrantTable& t = *a->grant_table();
    auto grant_v2 = [&](uint32_t ref, unsigned pfn, uint16_t flags, uint16_t off = 0, uint16_t len = 0) {
        grant_entry_v2* e = t.entry_v2(ref);
        e->hdr.domid = 2;
        e->full_page.frame = a->mfn_of(Pfn(pfn)).raw();
        if (flags & GTF_sub_page) {
            e->sub_page.page_off = off;
            e->sub_page.length = len;
        }
        e->hdr.flags = flags;
    };
    grant_v2(40, 3, GTF_permit_access);
    auto m = map_op(40, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(t.header(40)->flags, GTF_permit_access);
    EXPECT_EQ(*t.status(40), GTF_reading | GTF_writing);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(*t.status(40), 0u);

    grant_v2(41, 4, GTF_permit_access | GTF_sub_page, 256, 64);
    m = map_op(41, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    EXPECT_EQ(*t.status(41), 0u);
    std::memcpy(static_cast<uint8_t*>(a->map_pfn(Pfn(4))) + 300, "subpage", 7);
    gnttab_copy c{};
    c.source.u.ref = 41;
    c.source.domid = 1;
    c.source.offset = 300;
    c.dest.u.gmfn = b->mfn_of(Pfn(7)).raw();
    c.dest.domid = DOMID_SELF;
    c.len = 7;
    c.flags = GNTCOPY_source_gref;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_okay);
    EXPECT_EQ(std::memcmp(b->map_pfn(Pfn(7)), "subpage", 7), 0);
    c.source.offset = 316;  // runs past the granted 64 bytes
    c.len = 8;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_general_error);
    c.source.offset = 200;  // starts before them
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_general_error);
    EXPECT_EQ(*t.status(41), 0u);

    t.entry_v2(42)->hdr.domid = 2;  // transitive grants are not offered
    t.entry_v2(42)->hdr.flags = GTF_transitive;
    c.source.u.ref = 42;
    c.source.offset = 0;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_general_error);

    grant_v2(43, 5, GTF_permit_access | GTF_readonly);  // read-only in v2 too
    m = map_op(43, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    EXPECT_EQ(*t.status(43), 0u);
    EXPECT_EQ(frame_info(5).refs, 0u);
}

TEST_F(Grants, HypercallLevelErrors) {
    gnttab_query_size q{DOMID_SELF, 0, 0, 99};
    EXPECT_EQ(op(a, GNTTABOP_query_size | (1u << 12), &q), -XEN_EINVAL);  // continuation bits
    EXPECT_EQ(op(a, 99, &q), -XEN_ENOSYS);
    regs.rax = __HYPERVISOR_grant_table_op;
    regs.rdi = GNTTABOP_map_grant_ref;
    regs.rsi = ARG;
    regs.rdx = 0x80000000u;  // a negative count
    hypercall::dispatch(vcpu(a), regs);
    EXPECT_EQ(long(regs.rax), -XEN_EINVAL);
    regs.rax = __HYPERVISOR_grant_table_op;
    regs.rdi = GNTTABOP_map_grant_ref;
    regs.rsi = ARG + 4096 - 32;  // the second entry is not mapped: the whole array is checked
    regs.rdx = 2;
    hypercall::dispatch(vcpu(a), regs);
    EXPECT_EQ(long(regs.rax), -XEN_EFAULT);
}

TEST_F(Grants, DeviceMapPinsSetsStatusAndTakesReferences) {
    grant(8, 3);
    auto m = map_op(8, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(m.dev_bus_addr, mfn_to_paddr(a->mfn_of(Pfn(3))).raw());
    EXPECT_EQ(flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_EQ(frame_info(3).refs, 1u);
    EXPECT_EQ(frame_info(3).type, PageType::writable);
    EXPECT_EQ(a->grant_table()->active(8).pin, grant::PIN_DEV_W);
    EXPECT_TRUE(a->grant_table()->mapped_by_others());
    // A writably mapped frame cannot become a page table of its owner.
    EXPECT_NE(pv_mm::get_page_and_type(*a, a->mfn_of(Pfn(3)), PageType::l1), 0);

    EXPECT_EQ(unmap(b, m.handle, 0, 0), GNTST_okay);  // names neither kind: nothing done
    EXPECT_EQ(frame_info(3).refs, 1u);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr + 4096), GNTST_bad_dev_addr);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags(8), GTF_permit_access);
    EXPECT_EQ(frame_info(3).refs, 0u);
    EXPECT_EQ(frame_info(3).type_count, 0u);
    EXPECT_EQ(a->grant_table()->active(8).pin, 0u);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_bad_handle);  // twice
    EXPECT_EQ(unmap(b, 100000, 0, m.dev_bus_addr), GNTST_bad_handle);   // beyond the maptrack
}

TEST_F(Grants, ReadOnlyMapsAndReadOnlyGrants) {
    grant(9, 4, GTF_permit_access | GTF_readonly);
    auto w = map_op(9, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &w), 0);
    EXPECT_EQ(w.status, GNTST_general_error);
    EXPECT_EQ(w.handle, 0xdeadu);  // nothing written but the status
    EXPECT_EQ(flags(9), GTF_permit_access | GTF_readonly);
    EXPECT_EQ(frame_info(4).refs, 0u);
    auto r = map_op(9, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &r), 0);
    ASSERT_EQ(r.status, GNTST_okay);
    EXPECT_EQ(flags(9), GTF_permit_access | GTF_readonly | GTF_reading);
    EXPECT_EQ(frame_info(4).type_count, 0u);
    // Pinned read-only: a writable map checks the entry again and is still refused.
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &w), 0);
    EXPECT_EQ(w.status, GNTST_general_error);
    EXPECT_EQ(unmap(b, r.handle, 0, r.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags(9), GTF_permit_access | GTF_readonly);
    EXPECT_EQ(frame_info(4).refs, 0u);
}

TEST_F(Grants, MapErrors) {
    grant(10, 5);
    auto m = map_op(10, 0);  // neither host nor device
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_bad_gntref);
    m = map_op(10, GNTMAP_device_map, 0, DOMID_SELF);  // DOMID_SELF is no granter
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_bad_domain);
    m = map_op(10, GNTMAP_device_map, 0, 77);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_bad_domain);
    m = map_op(512, GNTMAP_device_map);  // beyond the one frame of entries
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_bad_gntref);
    m = map_op(11, GNTMAP_device_map);  // an entry that grants nothing
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    m = map_op(10, GNTMAP_device_map);
    EXPECT_EQ(op(a, GNTTABOP_map_grant_ref, &m), 0);  // granted to b, not to a
    EXPECT_EQ(m.status, GNTST_general_error);
    grant(12, 5, GTF_permit_access | GTF_sub_page);  // sub-page grants cannot be mapped
    m = map_op(12, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    grant(13, 5);
    a->grant_table()->entry(13)->frame = uint32_t(b->mfn_of(Pfn(0)).raw());  // not a's frame
    m = map_op(13, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_bad_page);
    EXPECT_EQ(flags(13), GTF_permit_access);  // the status bits set for the try are cleared
    EXPECT_FALSE(a->grant_table()->mapped_by_others());
    EXPECT_EQ(frame_info(5).refs, 0u);
}

TEST_F(Grants, APinnedEntryServesOnlyItsGrantee) {
    Domain* c = make(DomId(3), false);
    grant(14, 6);
    auto m = map_op(14, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    a->grant_table()->entry(14)->domid = 3;  // the granter changes its mind while pinned
    auto other = map_op(14, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(c, GNTTABOP_map_grant_ref, &other), 0);
    EXPECT_EQ(other.status, GNTST_general_error);
    auto again = map_op(14, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &again), 0);  // the pin keeps b's access
    EXPECT_EQ(again.status, GNTST_okay);
    EXPECT_NE(again.handle, m.handle);
    EXPECT_EQ(a->grant_table()->active(14).pin, 2 * grant::PIN_DEV_R);
    EXPECT_EQ(frame_info(6).refs, 2u);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags(14), GTF_permit_access | GTF_reading);  // still pinned once
    EXPECT_EQ(unmap(b, again.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags(14), GTF_permit_access);
}

TEST_F(Grants, PinCountersRefuseToOverflow) {
    grant(15, 7);
    std::vector<uint32_t> handles;
    for (unsigned i = 0; i < 128; ++i) {
        auto m = map_op(15, GNTMAP_device_map | GNTMAP_readonly);
        EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
        ASSERT_EQ(m.status, GNTST_okay) << i;
        handles.push_back(m.handle);
    }
    auto m = map_op(15, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    for (uint32_t h : handles) EXPECT_EQ(unmap(b, h, 0, mfn_to_paddr(a->mfn_of(Pfn(7))).raw()), GNTST_okay);
    EXPECT_EQ(frame_info(7).refs, 0u);
}

TEST_F(Grants, HostMapWritesTheMappersL1AndUnmapClearsIt) {
    grant(16, 8);
    const uint64_t slot = l1_entry(5, 7);
    auto m = map_op(16, GNTMAP_host_map | GNTMAP_contains_pte | (5u << _GNTMAP_guest_avail0), slot);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    const uint64_t pte = entry_at(slot);
    EXPECT_EQ(pte & pv_mm::PTE_ADDR, mfn_to_paddr(a->mfn_of(Pfn(8))).raw());
    EXPECT_EQ(pte & (pv_mm::PTE_P | pv_mm::PTE_RW | pv_mm::PTE_A | pv_mm::PTE_D), 0x63u);
    EXPECT_EQ((pte >> 9) & 7, 5u);                          // the guest's available bits
    EXPECT_TRUE(pte & pv_mm::PTE_GUEST_KERNEL);            // a kernel mapping, made user for ring 3
    EXPECT_EQ(frame_info(8).refs, 1u);
    EXPECT_EQ(frame_info(8).type, PageType::writable);
    EXPECT_TRUE(fake_pv::happened("flush tlb"));

    EXPECT_EQ(unmap(b, m.handle, slot + 8, 0), GNTST_general_error);  // another entry
    EXPECT_EQ(frame_info(8).refs, 1u);
    EXPECT_EQ(unmap(b, m.handle, slot, 0), GNTST_okay);
    EXPECT_EQ(entry_at(slot), 0u);
    EXPECT_EQ(frame_info(8).refs, 0u);
    EXPECT_EQ(frame_info(8).type_count, 0u);
    EXPECT_EQ(flags(16), GTF_permit_access);
    EXPECT_EQ(unmap(b, m.handle, slot, 0), GNTST_bad_handle);
}

TEST_F(Grants, HostMapNeedsAnL1OfTheMapper) {
    grant(17, 9);
    uint64_t not_table = mfn_to_paddr(b->mfn_of(Pfn(6))).raw();
    auto m = map_op(17, GNTMAP_host_map | GNTMAP_contains_pte, not_table);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    m = map_op(17, GNTMAP_host_map | GNTMAP_contains_pte, l1_entry(5, 0) + 3);  // misaligned
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    m = map_op(17, GNTMAP_host_map, HOLE_START);  // a linear address in the hypervisor's hole
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    EXPECT_EQ(frame_info(9).refs, 0u);
    EXPECT_EQ(frame_info(9).type_count, 0u);
    EXPECT_EQ(flags(17), GTF_permit_access);
}

TEST_F(Grants, AGrantPteOverwrittenByTheGuestDropsItsReferences) {
    grant(18, 10);
    const uint64_t slot = l1_entry(5, 2);
    auto m = map_op(18, GNTMAP_host_map | GNTMAP_contains_pte, slot);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(pv_mm::update_entry(*b, b->mfn_of(Pfn(5)), 2, 0, false), 0);
    EXPECT_EQ(frame_info(10).refs, 0u);  // the entry held them
    EXPECT_EQ(frame_info(10).type_count, 0u);
    EXPECT_EQ(unmap(b, m.handle, slot, 0), GNTST_general_error);  // nothing left to unmap there
    // A foreign frame cannot be put back by hand.
    EXPECT_EQ(pv_mm::update_entry(*b, b->mfn_of(Pfn(5)), 2, mfn_to_paddr(a->mfn_of(Pfn(10))).raw() | 1, false),
              -XEN_EBUSY);
}

TEST_F(Grants, ADyingMapperGivesEverythingBack) {
    grant(19, 11);
    grant(20, 12);
    auto dev = map_op(19, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &dev), 0);
    const uint64_t slot = l1_entry(5, 9);
    auto host = map_op(20, GNTMAP_host_map | GNTMAP_contains_pte, slot);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &host), 0);
    ASSERT_EQ(host.status, GNTST_okay);
    EXPECT_TRUE(a->grant_table()->mapped_by_others());
    b->set_dying();
    grant::release_mappings(*b);
    EXPECT_FALSE(a->grant_table()->mapped_by_others());
    EXPECT_EQ(flags(19), GTF_permit_access);
    EXPECT_EQ(flags(20), GTF_permit_access);
    EXPECT_EQ(frame_info(11).refs, 0u);
    EXPECT_EQ(frame_info(12).refs, 0u);
    EXPECT_EQ(frame_info(12).type_count, 0u);
    EXPECT_EQ(entry_at(slot), 0u);
    grant::release_mappings(*b);  // a second pass finds nothing to drop
    EXPECT_EQ(frame_info(12).refs, 0u);
}

TEST_F(Grants, ADyingGranterIsReleasedWithItsLastMapping) {
    grant(21, 13);
    auto m = map_op(21, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    a->set_dying();
    auto more = map_op(21, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &more), 0);  // a dying granter gives no new pins
    EXPECT_EQ(more.status, GNTST_general_error);
    EXPECT_FALSE(fake_pv::happened("reap d1"));
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_TRUE(fake_pv::happened("reap d1"));
}

TEST_F(Grants, CopyBetweenGrantedAndLocalFrames) {
    grant(22, 14);
    std::memcpy(static_cast<uint8_t*>(a->map_pfn(Pfn(14))) + 100, "granted!", 8);
    gnttab_copy c{};
    c.source.u.ref = 22;
    c.source.domid = 1;
    c.source.offset = 100;
    c.dest.u.gmfn = b->mfn_of(Pfn(7)).raw();
    c.dest.domid = DOMID_SELF;
    c.dest.offset = 4000;
    c.len = 8;
    c.flags = GNTCOPY_source_gref;
    c.status = 99;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_okay);
    EXPECT_EQ(std::memcmp(static_cast<uint8_t*>(b->map_pfn(Pfn(7))) + 4000, "granted!", 8), 0);
    EXPECT_EQ(flags(22), GTF_permit_access);  // pinned only during the copy
    EXPECT_EQ(frame_info(14).refs, 0u);

    gnttab_copy back = c;  // and into the granted frame
    back.source = c.dest;
    back.dest = c.source;
    back.flags = GNTCOPY_dest_gref;
    back.dest.offset = 0;
    EXPECT_EQ(op(b, GNTTABOP_copy, &back), 0);
    EXPECT_EQ(back.status, GNTST_okay);
    EXPECT_EQ(std::memcmp(a->map_pfn(Pfn(14)), "granted!", 8), 0);
    EXPECT_EQ(frame_info(14).type_count, 0u);
}

TEST_F(Grants, CopyErrors) {
    grant(23, 15, GTF_permit_access | GTF_readonly);
    gnttab_copy c{};
    c.source.u.gmfn = b->mfn_of(Pfn(7)).raw();
    c.source.domid = DOMID_SELF;
    c.dest.u.ref = 23;
    c.dest.domid = 1;
    c.len = 8;
    c.flags = GNTCOPY_dest_gref;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_general_error);  // a read-only grant is not written
    EXPECT_EQ(flags(23), GTF_permit_access | GTF_readonly);
    c.flags = 0;  // a frame of another domain named directly
    c.dest.u.gmfn = a->mfn_of(Pfn(15)).raw();
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_permission_denied);
    c.dest.domid = DOMID_SELF;  // a frame that is not ours
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_page);
    c.dest.u.gmfn = b->mfn_of(Pfn(8)).raw();
    c.dest.offset = 4090;  // crosses the end of the page
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_copy_arg);
    c.dest.offset = 0;
    c.source.domid = 77;
    c.flags = GNTCOPY_source_gref;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_domain);
    c.source.domid = 1;
    c.source.u.ref = 4096;
    EXPECT_EQ(op(b, GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_gntref);
    EXPECT_EQ(frame_info(15).refs, 0u);
    EXPECT_EQ(ft.info(b->mfn_of(Pfn(8))).refs, 0u);
    EXPECT_EQ(ft.info(b->mfn_of(Pfn(8))).type_count, 0u);
}

TEST_F(Grants, CopyBatchesReportEachStatus) {
    grant(24, 1);
    gnttab_copy c[2]{};
    c[0].source.u.gmfn = b->mfn_of(Pfn(7)).raw();
    c[0].source.domid = DOMID_SELF;
    c[0].dest.u.ref = 24;
    c[0].dest.domid = 1;
    c[0].len = 16;
    c[0].flags = GNTCOPY_dest_gref;
    c[1] = c[0];
    c[1].dest.u.ref = 25;  // grants nothing
    EXPECT_EQ(op(b, GNTTABOP_copy, c, 2), 0);
    EXPECT_EQ(c[0].status, GNTST_okay);
    EXPECT_EQ(c[1].status, GNTST_general_error);
}

TEST_F(Grants, SwapExchangesIdleEntries) {
    grant(30, 2);
    grant(31, 3, GTF_permit_access | GTF_readonly);
    gnttab_swap_grant_ref s{30, 31, 99};
    EXPECT_EQ(op(a, GNTTABOP_swap_grant_ref, &s), 0);
    EXPECT_EQ(s.status, GNTST_okay);
    EXPECT_EQ(flags(30), GTF_permit_access | GTF_readonly);
    EXPECT_EQ(a->grant_table()->entry(31)->frame, a->mfn_of(Pfn(2)).raw());
    auto m = map_op(31, GNTMAP_device_map);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(op(a, GNTTABOP_swap_grant_ref, &s), 0);
    EXPECT_EQ(s.status, GNTST_eagain);  // in use
    s = gnttab_swap_grant_ref{30, 512, 99};
    EXPECT_EQ(op(a, GNTTABOP_swap_grant_ref, &s), 0);
    EXPECT_EQ(s.status, GNTST_bad_gntref);
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
}

TEST_F(Grants, TransferMovesAnUnusedFrameIntoTheReceiversEntry) {
    auto r = Domain::create(machine.mm, DomainConfig{DomId(3), 16, 32, 1, false, false});
    ASSERT_TRUE(r.has_value());
    Domain* c = *r;
    fake_pv::record().domains.push_back(c);
    grant_entry_v1* e = c->grant_table()->entry(9);
    e->domid = 1;
    e->frame = 20;  // where the receiver wants it
    e->flags = GTF_accept_transfer;
    std::memcpy(a->map_pfn(Pfn(6)), "moving", 6);
    const Mfn m = a->mfn_of(Pfn(6));
    const uint64_t a_pages = a->nr_pages(), c_pages = c->nr_pages();
    gnttab_transfer t{m.raw(), 3, 9, 99};
    EXPECT_EQ(op(a, GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_okay);
    EXPECT_EQ(e->flags, GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
    EXPECT_EQ(e->frame, m.raw());
    EXPECT_TRUE(ft.owned_by(m, c->id()));
    EXPECT_EQ(ft.m2p(m), 20u);
    EXPECT_EQ(a->nr_pages(), a_pages - 1);
    EXPECT_EQ(c->nr_pages(), c_pages + 1);
    EXPECT_FALSE(a->pfn_valid(Pfn(6)));
    EXPECT_EQ(c->mfn_of(Pfn(20)), m);
    EXPECT_EQ(std::memcmp(machine.mm.map(m), "moving", 6), 0);  // not scrubbed, as on Xen
    EXPECT_EQ(op(a, GNTTABOP_transfer, &t), 0);  // no longer a's
    EXPECT_EQ(t.status, GNTST_bad_page);
}

TEST_F(Grants, TransferRefusals) {
    const uint64_t pages = a->nr_pages();
    // A frame in use stays where it is.
    Mfn used = a->mfn_of(Pfn(7));
    ASSERT_EQ(pv_mm::get_page(*a, used), 0);
    gnttab_transfer t{used.raw(), 2, 9, 99};
    EXPECT_EQ(op(a, GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_bad_page);
    EXPECT_TRUE(ft.owned_by(used, a->id()));
    pv_mm::put_page(*a, used);
    t.mfn = b->mfn_of(Pfn(0)).raw();  // not ours
    EXPECT_EQ(op(a, GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_bad_page);
    EXPECT_EQ(a->nr_pages(), pages);
    // Past the frame's leaving, a failure costs the giver the frame (Xen frees it).
    const uint64_t free_before = machine.mm.free_frames();
    b->grant_table()->entry(9)->domid = 1;
    b->grant_table()->entry(9)->flags = GTF_accept_transfer;  // but b is at its limit
    t.mfn = a->mfn_of(Pfn(8)).raw();
    EXPECT_EQ(op(a, GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_general_error);
    EXPECT_EQ(b->grant_table()->entry(9)->flags, GTF_accept_transfer);
    EXPECT_EQ(a->nr_pages(), pages - 1);
    EXPECT_EQ(machine.mm.free_frames(), free_before + 1);
    t.mfn = a->mfn_of(Pfn(9)).raw();
    t.domid = 77;
    EXPECT_EQ(op(a, GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_bad_domain);
    EXPECT_EQ(a->nr_pages(), pages - 2);
}

TEST_F(Grants, CacheFlushOfOwnAndMappedFrames) {
    gnttab_cache_flush f{};
    f.a.dev_bus_addr = mfn_to_paddr(b->mfn_of(Pfn(3))).raw();
    f.length = 64;
    f.op = GNTTAB_CACHE_CLEAN;
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), 0);
    EXPECT_TRUE(fake_pv::happened("wbinvd"));
    f.op = GNTTAB_CACHE_INVAL;  // x86 cannot invalidate alone
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), -XEN_EOPNOTSUPP);
    f.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_SOURCE_GREF;
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), -XEN_EINVAL);
    f.op = GNTTAB_CACHE_CLEAN;
    f.offset = 4090;
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), -XEN_EINVAL);
    f.offset = 0;
    f.length = 0;
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), 0);
    EXPECT_EQ(op(b, GNTTABOP_cache_flush | (1u << 12), &f), -XEN_EILSEQ);
    f.length = 64;
    // Another domain's frame: only one b has mapped from a grant.
    f.a.dev_bus_addr = mfn_to_paddr(a->mfn_of(Pfn(3))).raw();
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), -XEN_EINVAL);
    grant(33, 3);
    auto m = map_op(33, GNTMAP_device_map | GNTMAP_readonly);
    EXPECT_EQ(op(b, GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), 0);
    EXPECT_EQ(op(b, GNTTABOP_cache_flush | (64u << 12), &f), -XEN_EINVAL);  // the search starts past it
    EXPECT_EQ(unmap(b, m.handle, 0, m.dev_bus_addr), GNTST_okay);
    // A frame nobody owns.
    Mfn unowned(0);
    for (uint64_t f2 = TestMachine::BASE / PAGE_SIZE; f2 < ft.nr_frames(); ++f2)
        if (ft.info(Mfn(f2)).owner == FrameTable::NO_OWNER) {
            unowned = Mfn(f2);
            break;
        }
    f.a.dev_bus_addr = mfn_to_paddr(unowned).raw();
    EXPECT_EQ(op(b, GNTTABOP_cache_flush, &f), -XEN_EPERM);
}

TEST_F(Grants, OwnGrantsMapByRealIdAndBatchThroughMulticall) {
    grant(32, 4, GTF_permit_access, a);
    multicall_entry mc[2]{};
    gnttab_map_grant_ref maps[2] = {map_op(32, GNTMAP_device_map), map_op(32, GNTMAP_device_map, 0, DOMID_SELF)};
    list->put(LIST, maps, sizeof maps);
    mc[0].op = __HYPERVISOR_grant_table_op;
    mc[0].args[0] = GNTTABOP_map_grant_ref;
    mc[0].args[1] = LIST;
    mc[0].args[2] = 2;
    arg->put(ARG, mc, sizeof mc);
    regs.rax = __HYPERVISOR_multicall;
    regs.rdi = ARG;
    regs.rsi = 1;
    hypercall::dispatch(vcpu(a), regs);
    EXPECT_EQ(long(regs.rax), 0);
    EXPECT_EQ(arg->at<multicall_entry>(ARG).result, 0u);
    auto done = list->at<gnttab_map_grant_ref>(LIST);
    EXPECT_EQ(done.status, GNTST_okay);
    EXPECT_EQ(list->at<gnttab_map_grant_ref>(LIST + sizeof(gnttab_map_grant_ref)).status, GNTST_bad_domain);
    EXPECT_FALSE(a->grant_table()->mapped_by_others());  // its own pin does not hold it back
    EXPECT_EQ(unmap(a, done.handle, 0, done.dev_bus_addr), GNTST_okay);
}

}  // namespace
