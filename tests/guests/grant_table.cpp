// grant_table: grant tables (v1) as a single domain sees them. The table starts with one frame
// (at most 64) and setup_table grows it and lists its machine frames, which the domain maps
// itself to write entries. The domain grants pages to itself (by its real id: DOMID_SELF names
// no granting domain) and maps them at another address (host and device mappings, read-only,
// through a PTE's machine address), while the hypervisor keeps GTF_reading/GTF_writing in the
// entry; unmap_and_replace, copy, swap_grant_ref, batches through multicall, and the GNTST_*
// status and errno of every refused use.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

[[gnu::aligned(4096)]] std::uint8_t table_view[2][4096];  // where we map our grant frames
[[gnu::aligned(4096)]] std::uint8_t page_a[4096];         // granted pages
[[gnu::aligned(4096)]] std::uint8_t page_b[4096];
[[gnu::aligned(4096)]] std::uint8_t window[4096];         // where grants get mapped
[[gnu::aligned(4096)]] std::uint8_t spare[4096];          // a second mapping address

std::uint64_t va(const void* p) { return reinterpret_cast<std::uint64_t>(p); }
std::uint64_t maddr(const void* p) { return kt::virt_to_mfn(p) << 12; }

long gnttab(unsigned cmd, void* ops, unsigned count = 1)
{
    return kt::hypercall(__HYPERVISOR_grant_table_op, cmd, kt::arg(ops), count);
}

grant_entry_v1_t* entries() { return reinterpret_cast<grant_entry_v1_t*>(table_view[0]); }
domid_t self_id;  // our domain's id, learnt once the table is set up

// Writes an entry as a guest must: frame and domid first, the flags that make it valid last.
void grant(grant_ref_t ref, const void* page, std::uint16_t flags, domid_t to)
{
    grant_entry_v1_t* e = &entries()[ref];
    e->frame = static_cast<std::uint32_t>(kt::virt_to_mfn(page));
    e->domid = to;
    __atomic_store_n(&e->flags, flags, __ATOMIC_SEQ_CST);
}
std::uint16_t flags_of(grant_ref_t ref) { return __atomic_load_n(&entries()[ref].flags, __ATOMIC_SEQ_CST); }

gnttab_map_grant_ref_t map(grant_ref_t ref, std::uint32_t flags, std::uint64_t host, domid_t dom)
{
    gnttab_map_grant_ref_t m{};
    m.host_addr = host;
    m.flags = flags;
    m.ref = ref;
    m.dom = dom;
    m.handle = 0xdeadbeef;
    EXPECT_EQ(gnttab(GNTTABOP_map_grant_ref, &m), 0);
    return m;
}

std::int16_t unmap(std::uint32_t handle, std::uint64_t host, std::uint64_t dev)
{
    gnttab_unmap_grant_ref_t u{host, dev, handle, 99};
    EXPECT_EQ(gnttab(GNTTABOP_unmap_grant_ref, &u), 0);
    return u.status;
}

// Puts a page of our image back on its own frame after a test mapped something there.
bool restore(void* p) { return kt::map_machine_page(p, maddr(p), true); }

// Our own domain id: the remote end of a port we let ourselves connect to.
domid_t own_id()
{
    evtchn_alloc_unbound_t a{DOMID_SELF, DOMID_SELF, 0};
    if (kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, kt::arg(&a)) != 0)
        return DOMID_INVALID;
    evtchn_status_t s{};
    s.dom = DOMID_SELF;
    s.port = a.port;
    long rc = kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_status, kt::arg(&s));
    evtchn_close_t c{a.port};
    (void)kt::hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_close, kt::arg(&c));
    return rc == 0 && s.status == EVTCHNSTAT_unbound ? s.u.unbound.dom : DOMID_INVALID;
}

std::uint64_t pte_of(const void* p)
{
    std::uint64_t pte = 0;
    kt::lookup_pte(va(p), &pte);
    return pte;
}

} // namespace

TEST(a_new_table_has_one_frame_of_at_most_64)
{
    gnttab_query_size_t q{DOMID_SELF, 0, 0, 99};
    ASSERT_EQ(gnttab(GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.status, GNTST_okay);
    EXPECT_EQ(q.nr_frames, 1u);
    EXPECT_EQ(q.max_nr_frames, 64u);
    q.dom = 1000;
    ASSERT_EQ(gnttab(GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.status, GNTST_bad_domain);
    EXPECT_EQ(gnttab(GNTTABOP_query_size, &q, 2), -XEN_EINVAL);  // exactly one struct
}

TEST(version_one_is_in_force)
{
    gnttab_get_version_t g{DOMID_SELF, 0, 0};
    ASSERT_EQ(gnttab(GNTTABOP_get_version, &g), 0);
    EXPECT_EQ(g.version, 1u);
    g.dom = 1000;
    EXPECT_EQ(gnttab(GNTTABOP_get_version, &g), -XEN_ESRCH);
    gnttab_set_version_t s{1};
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(s.version, 1u);
    s.version = 3;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &s), -XEN_EINVAL);
    EXPECT_EQ(s.version, 1u);  // the version in force is reported back
    gnttab_get_status_frames_t f{0, DOMID_SELF, 99, {}};
    std::uint64_t frames[1]{};
    f.frame_list.p = frames;
    ASSERT_EQ(gnttab(GNTTABOP_get_status_frames, &f), 0);
    EXPECT_EQ(f.status, GNTST_okay);
    f.nr_frames = 1;  // v1 has no status frames
    ASSERT_EQ(gnttab(GNTTABOP_get_status_frames, &f), 0);
    EXPECT_EQ(f.status, GNTST_general_error);
}

// v2 can be chosen, and left again, while no grant is in use.
TEST(version_two_can_be_chosen_and_left)
{
    gnttab_set_version_t s{2};
    ASSERT_EQ(gnttab(GNTTABOP_set_version, &s), 0);
    gnttab_get_version_t g{DOMID_SELF, 0, 0};
    ASSERT_EQ(gnttab(GNTTABOP_get_version, &g), 0);
    EXPECT_EQ(s.version, 2u);
    EXPECT_EQ(g.version, 2u);
    s.version = 1;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(s.version, 1u);
}

TEST(setup_table_grows_and_lists_frames_we_can_map)
{
    xen_pfn_t frames[3]{};
    gnttab_setup_table_t s{DOMID_SELF, 2, 99, {}};
    s.frame_list.p = frames;
    ASSERT_EQ(gnttab(GNTTABOP_setup_table, &s), 0);
    ASSERT_EQ(s.status, GNTST_okay);
    gnttab_query_size_t q{DOMID_SELF, 0, 0, 99};
    ASSERT_EQ(gnttab(GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.nr_frames, 2u);
    s.nr_frames = 1;  // never shrinks, and lists what is asked for
    frames[1] = 0;
    ASSERT_EQ(gnttab(GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_okay);
    EXPECT_EQ(frames[1], 0u);
    ASSERT_EQ(gnttab(GNTTABOP_query_size, &q), 0);
    EXPECT_EQ(q.nr_frames, 2u);
    s.nr_frames = 65;  // over the limit
    ASSERT_EQ(gnttab(GNTTABOP_setup_table, &s), 0);
    EXPECT_EQ(s.status, GNTST_general_error);
    s.nr_frames = 2;
    ASSERT_EQ(gnttab(GNTTABOP_setup_table, &s), 0);
    ASSERT_EQ(s.status, GNTST_okay);
    // The frames are not part of our pseudo-physical memory, and we may map them writable.
    EXPECT_NE(frames[0], frames[1]);
    EXPECT_TRUE(kt::mfn_to_pfn(frames[0]) >= kt::start_info()->nr_pages);
    ASSERT_TRUE(kt::map_machine_page(table_view[0], frames[0] << 12, true));
    ASSERT_TRUE(kt::map_machine_page(table_view[1], frames[1] << 12, true));
    self_id = own_id();
    ASSERT_NE(self_id, DOMID_INVALID);
}

TEST(a_self_grant_maps_at_another_address)
{
    page_a[0] = 0x5a;
    grant(10, page_a, GTF_permit_access, self_id);
    auto m = map(10, GNTMAP_host_map, va(window), self_id);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_NE(m.handle, 0xdeadbeefu);
    EXPECT_EQ(m.dev_bus_addr, maddr(page_a));
    EXPECT_EQ(flags_of(10), GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_EQ(pte_of(window) & kt::pte_addr_mask, maddr(page_a));
    EXPECT_TRUE(pte_of(window) & kt::pte_rw);
    // Two names for one frame: the compiler must not assume they are distinct.
    volatile std::uint8_t* through_window = window;
    volatile std::uint8_t* through_page = page_a;
    EXPECT_EQ(through_window[0], 0x5a);
    through_window[1] = 0xa5;
    EXPECT_EQ(through_page[1], 0xa5);
    EXPECT_EQ(unmap(m.handle, va(spare), 0), GNTST_general_error);  // not where it is mapped
    EXPECT_EQ(unmap(m.handle, va(window), 0), GNTST_okay);
    EXPECT_EQ(flags_of(10), GTF_permit_access);
    EXPECT_EQ(pte_of(window), 0u);
    EXPECT_EQ(unmap(m.handle, va(window), 0), GNTST_bad_handle);  // twice
    EXPECT_EQ(unmap(0x00ffffff, va(window), 0), GNTST_bad_handle);
    EXPECT_TRUE(restore(window));
}

TEST(read_only_grants_and_mappings)
{
    grant(11, page_b, GTF_permit_access | GTF_readonly, self_id);
    auto w = map(11, GNTMAP_host_map, va(window), self_id);
    EXPECT_EQ(w.status, GNTST_general_error);
    EXPECT_EQ(w.handle, 0xdeadbeefu);  // only the status changes
    EXPECT_EQ(flags_of(11), GTF_permit_access | GTF_readonly);
    EXPECT_EQ(pte_of(window) & kt::pte_addr_mask, maddr(window));  // left alone
    auto r = map(11, GNTMAP_host_map | GNTMAP_readonly, va(window), self_id);
    ASSERT_EQ(r.status, GNTST_okay);
    EXPECT_EQ(flags_of(11), GTF_permit_access | GTF_readonly | GTF_reading);
    EXPECT_EQ(pte_of(window) & kt::pte_addr_mask, maddr(page_b));
    EXPECT_FALSE(pte_of(window) & kt::pte_rw);
    // Unmapping checks the entry still shows the grant as it was mapped.
    EXPECT_EQ(unmap(r.handle, va(window), 0), GNTST_okay);
    EXPECT_EQ(flags_of(11), GTF_permit_access | GTF_readonly);
    EXPECT_TRUE(restore(window));
}

TEST(refused_maps_say_why)
{
    grant(12, page_a, GTF_permit_access, self_id);
    EXPECT_EQ(map(12, 0, va(window), self_id).status, GNTST_bad_gntref);  // neither host nor device
    EXPECT_EQ(map(12, GNTMAP_host_map, va(window), DOMID_SELF).status, GNTST_bad_domain);
    EXPECT_EQ(map(12, GNTMAP_host_map, va(window), 1000).status, GNTST_bad_domain);
    EXPECT_EQ(map(2 * 512, GNTMAP_host_map, va(window), self_id).status, GNTST_bad_gntref);  // beyond 2 frames
    EXPECT_EQ(map(13, GNTMAP_host_map, va(window), self_id).status, GNTST_general_error);    // grants nothing
    grant(14, page_a, GTF_permit_access, static_cast<domid_t>(self_id + 5));                   // for another domain
    EXPECT_EQ(map(14, GNTMAP_host_map, va(window), self_id).status, GNTST_general_error);
    grant(15, page_a, GTF_accept_transfer, self_id);  // not an access grant
    EXPECT_EQ(map(15, GNTMAP_host_map, va(window), self_id).status, GNTST_general_error);
    // A frame that is not the granter's.
    grant_entry_v1_t* e = &entries()[16];
    e->frame = 0xfffffff;
    e->domid = self_id;
    __atomic_store_n(&e->flags, std::uint16_t{GTF_permit_access}, __ATOMIC_SEQ_CST);
    EXPECT_EQ(map(16, GNTMAP_host_map, va(window), self_id).status, GNTST_bad_page);
    EXPECT_EQ(flags_of(16), GTF_permit_access);  // the status bits of the try are gone again
    // An address no page table covers, and the hypervisor's own area.
    EXPECT_EQ(map(12, GNTMAP_host_map, 0x0000100000000000, self_id).status, GNTST_general_error);
    EXPECT_EQ(map(12, GNTMAP_host_map, 0xffff800000000000, self_id).status, GNTST_general_error);
    EXPECT_EQ(flags_of(12), GTF_permit_access);
    EXPECT_EQ(pte_of(window) & kt::pte_addr_mask, maddr(window));
}

TEST(device_maps_return_the_bus_address)
{
    grant(17, page_b, GTF_permit_access, self_id);
    auto m = map(17, GNTMAP_device_map, 0, self_id);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(m.dev_bus_addr, maddr(page_b));
    EXPECT_EQ(flags_of(17), GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_EQ(unmap(m.handle, 0, 0), GNTST_okay);  // names neither kind: nothing happens
    EXPECT_EQ(flags_of(17), GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_EQ(unmap(m.handle, 0, m.dev_bus_addr + 4096), GNTST_bad_dev_addr);
    EXPECT_EQ(unmap(m.handle, 0, m.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags_of(17), GTF_permit_access);
    EXPECT_EQ(unmap(m.handle, 0, m.dev_bus_addr), GNTST_bad_handle);
}

TEST(a_pinned_entry_counts_each_mapping)
{
    grant(18, page_a, GTF_permit_access, self_id);
    auto ro = map(18, GNTMAP_device_map | GNTMAP_readonly, 0, self_id);
    ASSERT_EQ(ro.status, GNTST_okay);
    EXPECT_EQ(flags_of(18), GTF_permit_access | GTF_reading);
    auto rw = map(18, GNTMAP_host_map, va(window), self_id);
    ASSERT_EQ(rw.status, GNTST_okay);
    EXPECT_NE(rw.handle, ro.handle);
    EXPECT_EQ(flags_of(18), GTF_permit_access | GTF_reading | GTF_writing);
    EXPECT_EQ(unmap(rw.handle, va(window), 0), GNTST_okay);
    EXPECT_EQ(flags_of(18), GTF_permit_access | GTF_reading);  // the last writer is gone
    EXPECT_EQ(unmap(ro.handle, 0, ro.dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags_of(18), GTF_permit_access);
    EXPECT_TRUE(restore(window));
}

TEST(host_maps_by_pte_machine_address)
{
    page_b[0] = 0x77;
    grant(19, page_b, GTF_permit_access, self_id);
    const std::uint64_t slot = kt::l1e_maddr(window);
    auto m = map(19, GNTMAP_host_map | GNTMAP_contains_pte, slot, self_id);
    ASSERT_EQ(m.status, GNTST_okay);
    auto flush = [] {
        mmuext_op_t op{};
        op.cmd = MMUEXT_TLB_FLUSH_LOCAL;
        return kt::mmuext_op(&op, 1, nullptr, DOMID_SELF);
    };
    EXPECT_EQ(flush(), 0);
    EXPECT_EQ(*static_cast<volatile std::uint8_t*>(window), 0x77);
    EXPECT_EQ(map(19, GNTMAP_host_map | GNTMAP_contains_pte, slot + 3, self_id).status, GNTST_general_error);
    EXPECT_EQ(map(19, GNTMAP_host_map | GNTMAP_contains_pte, maddr(spare), self_id).status, GNTST_general_error);
    EXPECT_EQ(unmap(m.handle, slot, 0), GNTST_okay);
    EXPECT_EQ(flush(), 0);
    EXPECT_EQ(pte_of(window), 0u);
    EXPECT_EQ(flags_of(19), GTF_permit_access);
    EXPECT_TRUE(restore(window));
}

TEST(unmap_and_replace_moves_another_mapping_in)
{
    spare[0] = 0x33;
    grant(20, page_a, GTF_permit_access, self_id);
    auto m = map(20, GNTMAP_host_map, va(window), self_id);
    ASSERT_EQ(m.status, GNTST_okay);
    gnttab_unmap_and_replace_t r{va(window), va(spare), m.handle, 99};
    ASSERT_EQ(gnttab(GNTTABOP_unmap_and_replace, &r), 0);
    EXPECT_EQ(r.status, GNTST_okay);
    EXPECT_EQ(pte_of(window) & kt::pte_addr_mask, maddr(spare));  // spare's frame, now at window
    EXPECT_EQ(pte_of(spare), 0u);
    EXPECT_EQ(*static_cast<volatile std::uint8_t*>(window), 0x33);
    EXPECT_EQ(flags_of(20), GTF_permit_access);
    EXPECT_TRUE(restore(spare));
    EXPECT_TRUE(restore(window));
    EXPECT_EQ(spare[0], 0x33);
}

TEST(copies_between_our_pages)
{
    for (int i = 0; i < 16; ++i)
        page_a[100 + i] = static_cast<std::uint8_t>(i + 1);
    grant(21, page_a, GTF_permit_access | GTF_readonly, self_id);  // copying from needs no write access
    gnttab_copy_t c{};
    c.source.u.ref = 21;
    c.source.domid = self_id;
    c.source.offset = 100;
    c.dest.u.gmfn = kt::virt_to_mfn(page_b);
    c.dest.domid = DOMID_SELF;
    c.dest.offset = 4000;
    c.len = 16;
    c.flags = GNTCOPY_source_gref;
    c.status = 99;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_okay);
    EXPECT_EQ(page_b[4000], 1);
    EXPECT_EQ(page_b[4015], 16);
    EXPECT_EQ(flags_of(21), GTF_permit_access | GTF_readonly);  // pinned only during the copy

    gnttab_copy_t both[2] = {c, c};
    both[0].flags = 0;  // frame to frame, both ours
    both[0].source.u.gmfn = kt::virt_to_mfn(page_a);
    both[0].source.domid = DOMID_SELF;
    both[0].dest.offset = 0;
    both[1].flags = GNTCOPY_dest_gref;  // into a read-only grant
    both[1].source = both[0].source;
    both[1].dest.u.ref = 21;
    both[1].dest.domid = self_id;
    ASSERT_EQ(gnttab(GNTTABOP_copy, both, 2), 0);
    EXPECT_EQ(both[0].status, GNTST_okay);
    EXPECT_EQ(page_b[15], 16);
    EXPECT_EQ(both[1].status, GNTST_general_error);
}

TEST(refused_copies_say_why)
{
    grant(22, page_a, GTF_permit_access, self_id);
    gnttab_copy_t c{};
    c.source.u.gmfn = kt::virt_to_mfn(page_a);
    c.source.domid = self_id;  // a frame named directly needs DOMID_SELF
    c.dest.u.gmfn = kt::virt_to_mfn(page_b);
    c.dest.domid = DOMID_SELF;
    c.len = 8;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_permission_denied);
    c.source.domid = DOMID_SELF;
    c.source.offset = 4090;  // crosses the end of the page
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_copy_arg);
    c.source.offset = 0;
    c.source.u.gmfn = 0xfffffff;  // not our frame
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_page);
    c.flags = GNTCOPY_source_gref;
    c.source.u.ref = 4096;
    c.source.domid = self_id;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_gntref);
    c.source.domid = 1000;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_bad_domain);
}

namespace {
[[gnu::aligned(4096)]] std::uint8_t donor[4096];  // given away and back by a transfer
[[gnu::aligned(4096)]] std::uint8_t lost[4096];   // given away by a transfer that fails
} // namespace

TEST(transfer_gives_an_unused_frame_away)
{
    const char text[] = "transferred";
    for (unsigned i = 0; i < sizeof text; ++i)
        donor[i] = static_cast<std::uint8_t>(text[i]);
    const std::uint64_t mfn = kt::virt_to_mfn(donor), pfn = kt::mfn_to_pfn(mfn);
    grant_entry_v1_t* e = &entries()[50];
    e->frame = static_cast<std::uint32_t>(pfn);  // where we want the frame
    e->domid = self_id;
    __atomic_store_n(&e->flags, std::uint16_t{GTF_accept_transfer}, __ATOMIC_SEQ_CST);
    gnttab_transfer_t t{mfn, self_id, 50, 99};
    ASSERT_EQ(gnttab(GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_bad_page);  // still mapped: it stays ours
    EXPECT_EQ(flags_of(50), GTF_accept_transfer);
    EXPECT_EQ(*static_cast<volatile std::uint8_t*>(donor), 't');

    ASSERT_EQ(kt::update_va_mapping(va(donor), 0, UVMF_INVLPG | UVMF_LOCAL), 0);
    ASSERT_EQ(gnttab(GNTTABOP_transfer, &t), 0);
    EXPECT_EQ(t.status, GNTST_okay);
    EXPECT_EQ(flags_of(50), GTF_accept_transfer | GTF_transfer_committed | GTF_transfer_completed);
    EXPECT_EQ(entries()[50].frame, mfn);  // to ourselves: the same frame comes back
    EXPECT_EQ(kt::mfn_to_pfn(mfn), pfn);
    ASSERT_TRUE(kt::map_machine_page(donor, mfn << 12, true));
    EXPECT_EQ(*static_cast<volatile std::uint8_t*>(donor + 10), 'd');  // contents travel along

    // Once the frame has left us, a failure costs us the frame.
    const std::uint64_t lost_mfn = kt::virt_to_mfn(lost);
    ASSERT_EQ(kt::update_va_mapping(va(lost), 0, UVMF_INVLPG | UVMF_LOCAL), 0);
    gnttab_transfer_t bad{lost_mfn, self_id, 51, 99};  // entry 51 accepts nothing
    ASSERT_EQ(gnttab(GNTTABOP_transfer, &bad), 0);
    EXPECT_EQ(bad.status, GNTST_general_error);
    bad.status = 99;
    ASSERT_EQ(gnttab(GNTTABOP_transfer, &bad), 0);
    EXPECT_EQ(bad.status, GNTST_bad_page);  // it is no longer ours
    EXPECT_FALSE(kt::map_machine_page(lost, lost_mfn << 12, true));
}

TEST(swap_exchanges_idle_entries)
{
    grant(23, page_a, GTF_permit_access, self_id);
    grant(24, page_b, GTF_permit_access | GTF_readonly, self_id);
    gnttab_swap_grant_ref_t s{23, 24, 99};
    ASSERT_EQ(gnttab(GNTTABOP_swap_grant_ref, &s), 0);
    EXPECT_EQ(s.status, GNTST_okay);
    EXPECT_EQ(entries()[23].frame, kt::virt_to_mfn(page_b));
    EXPECT_EQ(flags_of(23), GTF_permit_access | GTF_readonly);
    EXPECT_EQ(entries()[24].frame, kt::virt_to_mfn(page_a));
    auto m = map(24, GNTMAP_device_map, 0, self_id);
    ASSERT_EQ(m.status, GNTST_okay);
    ASSERT_EQ(gnttab(GNTTABOP_swap_grant_ref, &s), 0);
    EXPECT_EQ(s.status, GNTST_eagain);  // one of them is in use
    s.ref_b = 5000;
    ASSERT_EQ(gnttab(GNTTABOP_swap_grant_ref, &s), 0);
    EXPECT_EQ(s.status, GNTST_bad_gntref);
    EXPECT_EQ(unmap(m.handle, 0, m.dev_bus_addr), GNTST_okay);
}

TEST(grant_ops_batch_through_multicall)
{
    grant(25, page_a, GTF_permit_access, self_id);
    gnttab_map_grant_ref_t maps[2]{};
    maps[0].flags = GNTMAP_device_map | GNTMAP_readonly;
    maps[0].ref = 25;
    maps[0].dom = self_id;
    maps[1] = maps[0];
    maps[1].ref = 26;  // grants nothing
    gnttab_query_size_t q{DOMID_SELF, 0, 0, 99};
    multicall_entry_t mc[2]{};
    mc[0].op = __HYPERVISOR_grant_table_op;
    mc[0].args[0] = GNTTABOP_map_grant_ref;
    mc[0].args[1] = va(maps);
    mc[0].args[2] = 2;
    mc[1].op = __HYPERVISOR_grant_table_op;
    mc[1].args[0] = GNTTABOP_query_size;
    mc[1].args[1] = va(&q);
    mc[1].args[2] = 1;
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_multicall, va(mc), 2), 0);
    EXPECT_EQ(mc[0].result, 0u);
    EXPECT_EQ(mc[1].result, 0u);
    EXPECT_EQ(maps[0].status, GNTST_okay);
    EXPECT_EQ(maps[1].status, GNTST_general_error);
    EXPECT_EQ(q.nr_frames, 2u);
    EXPECT_EQ(flags_of(25), GTF_permit_access | GTF_reading);
    EXPECT_EQ(unmap(maps[0].handle, 0, maps[0].dev_bus_addr), GNTST_okay);
    EXPECT_EQ(flags_of(25), GTF_permit_access);
}

TEST(hypercall_level_errors)
{
    gnttab_query_size_t q{DOMID_SELF, 0, 0, 99};
    EXPECT_EQ(gnttab(GNTTABOP_query_size | (1u << 12), &q), -XEN_EINVAL);  // continuation bits
    EXPECT_EQ(gnttab(99, &q), -XEN_ENOSYS);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, va(&q), 0x80000000u), -XEN_EINVAL);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_map_grant_ref, 0xffff800000000000, 1), -XEN_EFAULT);
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, 0xffff800000000000, 1), -XEN_EFAULT);
}

namespace {

[[gnu::aligned(4096)]] std::uint8_t status_view[4096];  // where we map the v2 status frame

grant_entry_v2_t* entries_v2() { return reinterpret_cast<grant_entry_v2_t*>(table_view[0]); }
const volatile grant_status_t* status_words() { return reinterpret_cast<const volatile grant_status_t*>(status_view); }

void grant_v2(grant_ref_t ref, const void* page, std::uint16_t flags, std::uint16_t off = 0, std::uint16_t len = 0)
{
    grant_entry_v2_t* e = &entries_v2()[ref];
    e->hdr.domid = self_id;
    e->full_page.frame = kt::virt_to_mfn(page);
    if (flags & GTF_sub_page) {
        e->sub_page.page_off = off;
        e->sub_page.length = len;
    }
    __atomic_store_n(&e->hdr.flags, flags, __ATOMIC_SEQ_CST);
}

} // namespace

// v2: 16-byte entries, the status bits in status frames of their own, sub-page grants for
// copies; the reserved entries carried across a change of version.
TEST(version_two_layout)
{
    grant(5, page_a, GTF_permit_access, self_id);  // a reserved entry: kept
    grant(30, page_a, GTF_permit_access, self_id);  // any other: cleared
    gnttab_set_version_t s{2};
    ASSERT_EQ(gnttab(GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(entries_v2()[5].hdr.flags, GTF_permit_access);
    EXPECT_EQ(entries_v2()[5].hdr.domid, self_id);
    EXPECT_EQ(entries_v2()[5].full_page.frame, kt::virt_to_mfn(page_a));
    EXPECT_EQ(entries_v2()[15].hdr.flags, 0u);  // where v1's entry 30 was

    std::uint64_t frames[2] = {0, 0};
    gnttab_get_status_frames_t f{2, DOMID_SELF, 99, {}};
    f.frame_list.p = frames;
    ASSERT_EQ(gnttab(GNTTABOP_get_status_frames, &f), 0);
    EXPECT_EQ(f.status, GNTST_general_error);  // 512 entries need one
    f.nr_frames = 1;
    ASSERT_EQ(gnttab(GNTTABOP_get_status_frames, &f), 0);
    ASSERT_EQ(f.status, GNTST_okay);
    ASSERT_TRUE(kt::map_machine_page(status_view, frames[0] << 12, false));

    grant_v2(40, page_a, GTF_permit_access);
    auto m = map(40, GNTMAP_host_map, va(window), self_id);
    ASSERT_EQ(m.status, GNTST_okay);
    EXPECT_EQ(entries_v2()[40].hdr.flags, GTF_permit_access);  // the flags stay as written
    EXPECT_EQ(status_words()[40], GTF_reading | GTF_writing);
    EXPECT_EQ(pte_of(window) & kt::pte_addr_mask, maddr(page_a));
    // Busy: an entry past the reserved ones is in use.
    s.version = 1;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &s), -XEN_EBUSY);
    EXPECT_EQ(s.version, 2u);
    EXPECT_EQ(unmap(m.handle, va(window), 0), GNTST_okay);
    EXPECT_EQ(status_words()[40], 0u);
    EXPECT_TRUE(restore(window));

    for (int i = 0; i < 8; ++i)
        page_b[300 + i] = static_cast<std::uint8_t>(0x40 + i);
    grant_v2(41, page_b, GTF_permit_access | GTF_sub_page, 256, 64);
    EXPECT_EQ(map(41, GNTMAP_host_map | GNTMAP_readonly, va(window), self_id).status, GNTST_general_error);
    gnttab_copy_t c{};
    c.source.u.ref = 41;
    c.source.domid = self_id;
    c.source.offset = 300;
    c.dest.u.gmfn = kt::virt_to_mfn(page_a);
    c.dest.domid = DOMID_SELF;
    c.dest.offset = 2000;
    c.len = 8;
    c.flags = GNTCOPY_source_gref;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_okay);
    EXPECT_EQ(page_a[2007], 0x47);
    c.source.offset = 316;  // runs past the 64 granted bytes
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_general_error);
    EXPECT_EQ(status_words()[41], 0u);
    grant_v2(42, page_b, GTF_permit_access | GTF_readonly);
    EXPECT_EQ(map(42, GNTMAP_host_map, va(window), self_id).status, GNTST_general_error);
    EXPECT_EQ(status_words()[42], 0u);

    // v1 again: not while we map a status frame.
    s.version = 1;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &s), -XEN_EBUSY);
    EXPECT_EQ(s.version, 2u);
    EXPECT_TRUE(restore(status_view));
    s.version = 1;
    EXPECT_EQ(gnttab(GNTTABOP_set_version, &s), 0);
    EXPECT_EQ(s.version, 1u);
    EXPECT_EQ(entries()[5].frame, kt::virt_to_mfn(page_a));
    EXPECT_EQ(flags_of(5), GTF_permit_access);
    EXPECT_EQ(flags_of(30), 0u);
}

// x86 can write caches back over a frame of ours (or one we map from a grant), not only
// invalidate them; the continuation bits of cmd say where the search of grants resumes.
TEST(cache_flush_cleans_our_frames)
{
    gnttab_cache_flush_t cf{};
    cf.a.dev_bus_addr = maddr(page_a);
    cf.offset = 64;
    cf.length = 128;
    cf.op = GNTTAB_CACHE_CLEAN;
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), 0);
    cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_INVAL;
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), 0);
    cf.op = GNTTAB_CACHE_INVAL;
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), -XEN_EOPNOTSUPP);
    cf.op = GNTTAB_CACHE_CLEAN | GNTTAB_CACHE_SOURCE_GREF;
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), -XEN_EINVAL);
    cf.op = GNTTAB_CACHE_CLEAN;
    cf.offset = 4000;  // past the end of the page
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), -XEN_EINVAL);
    cf.offset = 0;
    cf.length = 0;  // nothing to do
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), 0);
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush | (1u << 12), &cf), -XEN_EILSEQ);
    cf.length = 8;
    cf.a.dev_bus_addr = 0xfffffff000;  // no such frame
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf), -XEN_EINVAL);
    EXPECT_EQ(gnttab(GNTTABOP_cache_flush, &cf, 0), 0);
}

TEST(cleanup)
{
    EXPECT_TRUE(restore(table_view[0]));
    EXPECT_TRUE(restore(table_view[1]));
}
