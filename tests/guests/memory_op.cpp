// memory_op (XENMEM_*) as dom0 sees it: the machine's size and the M2P's place, the domain's
// reservation (dom0 runs with dom0_mem=64M), giving frames back and getting new ones
// (decrease_reservation, increase_reservation, populate_physmap) with the M2P following, the
// reservation sub-ops' habit of returning how many extents were done instead of an error,
// and what a PV domain is refused (its own memory map, the physmap calls); a frame given back
// after its mapping was dropped without a flush is no longer reachable once it serves again.
//
// The frames given back are the last two guest frames: dom0's bootstrap mapping ends far
// below them, so nothing maps them (Xen would otherwise keep a mapped frame alive).
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

constexpr std::uint64_t EXTENT_SHIFT = 6;  // cmd = sub-op | start extent << 6
constexpr std::uint64_t M2P_INVALID = ~0ull;
constexpr unsigned CONTROL_DOMAIN_MAX_ORDER = 18;  // Xen x86's default for dom0

long memory_op(std::uint64_t cmd, const void* a)
{
    return kt::hypercall(__HYPERVISOR_memory_op, cmd, reinterpret_cast<std::uint64_t>(a));
}

long reservation_size(unsigned cmd, domid_t domid)
{
    xen_memory_domain d{};
    d.domid = domid;
    return memory_op(cmd, &d);
}

long current_pages() { return reservation_size(XENMEM_current_reservation, DOMID_SELF); }

// A reservation over `list`.
xen_memory_reservation reservation(xen_pfn_t* list, std::uint64_t nr, unsigned order = 0, unsigned flags = 0,
                                   domid_t domid = DOMID_SELF)
{
    xen_memory_reservation r{};
    set_xen_guest_handle(r.extent_start, list);
    r.nr_extents = nr;
    r.extent_order = order;
    r.mem_flags = flags;
    r.domid = domid;
    return r;
}

std::uint64_t m2p(std::uint64_t mfn) { return reinterpret_cast<const std::uint64_t*>(MACH2PHYS_VIRT_START)[mfn]; }

// The guest's own p2m (the start_info mfn_list, writable in the bootstrap area).
void set_p2m(std::uint64_t pfn, std::uint64_t mfn) { reinterpret_cast<std::uint64_t*>(kt::start_info()->mfn_list)[pfn] = mfn; }

alignas(4096) unsigned char scratch[4096];
alignas(4096) volatile std::uint64_t window[512];

} // namespace

TEST(maximum_ram_page_is_beyond_every_frame_of_ours)
{
    long max = memory_op(XENMEM_maximum_ram_page, nullptr);
    kt::print("maximum_ram_page {}\n", max);
    ASSERT_GT(max, 0);
    const std::uint64_t nr = kt::start_info()->nr_pages;
    for (std::uint64_t pfn = 0; pfn < nr; pfn += 1021) EXPECT_LT(kt::pfn_to_mfn(pfn), std::uint64_t(max));
    EXPECT_LT(kt::pfn_to_mfn(nr - 1), std::uint64_t(max));
    EXPECT_EQ(memory_op(XENMEM_maximum_ram_page | (1 << EXTENT_SHIFT), nullptr), -XEN_EINVAL);
}

TEST(reservation_sizes)
{
    const long nr = long(kt::start_info()->nr_pages);
    EXPECT_EQ(reservation_size(XENMEM_current_reservation, DOMID_SELF), nr);
    EXPECT_EQ(reservation_size(XENMEM_current_reservation, 0), nr);
    long max = reservation_size(XENMEM_maximum_reservation, DOMID_SELF);
    kt::print("current_reservation {}, maximum_reservation {}\n", nr, max);
    EXPECT_GE(max, nr);
    EXPECT_EQ(reservation_size(XENMEM_maximum_reservation, 0), max);
    EXPECT_EQ(reservation_size(XENMEM_current_reservation, 100), -XEN_ESRCH);
    EXPECT_EQ(reservation_size(XENMEM_maximum_reservation, 0x7000), -XEN_ESRCH);
    xen_memory_domain d{};
    d.domid = DOMID_SELF;
    EXPECT_EQ(memory_op(XENMEM_current_reservation | (1 << EXTENT_SHIFT), &d), -XEN_EINVAL);
    for (const auto& b : kt::bad_pointers) {
        EXPECT_EQ(memory_op(XENMEM_current_reservation, kt::bad<void>(b)), -XEN_EFAULT);
        EXPECT_EQ(memory_op(XENMEM_maximum_reservation, kt::bad<void>(b)), -XEN_EFAULT);
    }
}

TEST(machphys_mapping_for_the_hardware_domain)
{
    xen_machphys_mapping m{};
    ASSERT_EQ(memory_op(XENMEM_machphys_mapping, &m), 0);
    EXPECT_EQ(m.v_start, std::uint64_t(MACH2PHYS_VIRT_START));
    EXPECT_EQ(m.v_end, std::uint64_t(MACH2PHYS_VIRT_END));
    // dom0 of a machine without memory hot-plug: the table's real end.
    EXPECT_EQ(m.max_mfn, std::uint64_t(memory_op(XENMEM_maximum_ram_page, nullptr)) - 1);
    for (const auto& b : kt::bad_pointers) EXPECT_EQ(memory_op(XENMEM_machphys_mapping, kt::bad<void>(b)), -XEN_EFAULT);
    EXPECT_EQ(memory_op(XENMEM_machphys_mapping, kt::read_only_page()), -XEN_EFAULT);
    // The machine-map sub-ops compare the whole cmd: with a start they are unknown.
    EXPECT_EQ(memory_op(XENMEM_machphys_mapping | (1 << EXTENT_SHIFT), &m), -XEN_ENOSYS);
}

TEST(machphys_mfn_list_has_a_frame_per_2mib_of_m2p)
{
    const std::uint64_t max_page = std::uint64_t(memory_op(XENMEM_maximum_ram_page, nullptr));
    const std::uint64_t chunks = (max_page * 8 + (1u << 21) - 1) >> 21;
    static xen_pfn_t frames[64];
    xen_machphys_mfn_list l{};
    l.max_extents = 64;
    set_xen_guest_handle(l.extent_start, frames);
    ASSERT_EQ(memory_op(XENMEM_machphys_mfn_list, &l), 0);
    kt::print("M2P: {} chunks, first frame {x}\n", l.nr_extents, frames[0]);
    EXPECT_EQ(l.nr_extents, chunks < 64 ? chunks : 64);
    EXPECT_EQ(l.max_extents, 64u);
    for (unsigned i = 0; i < l.nr_extents; ++i) {
        EXPECT_NE(frames[i], 0u);
        EXPECT_LT(frames[i], max_page);
    }
    frames[1] = 0x5a5a;
    l.max_extents = 1;
    ASSERT_EQ(memory_op(XENMEM_machphys_mfn_list, &l), 0);
    EXPECT_EQ(l.nr_extents, 1u);
    EXPECT_EQ(frames[1], 0x5a5au);
    l.max_extents = 0;
    ASSERT_EQ(memory_op(XENMEM_machphys_mfn_list, &l), 0);
    EXPECT_EQ(l.nr_extents, 0u);
    for (const auto& b : kt::bad_pointers) {
        EXPECT_EQ(memory_op(XENMEM_machphys_mfn_list, kt::bad<void>(b)), -XEN_EFAULT);
        l.max_extents = 4;
        set_xen_guest_handle(l.extent_start, kt::bad<xen_pfn_t>(b));
        EXPECT_EQ(memory_op(XENMEM_machphys_mfn_list, &l), -XEN_EFAULT);
    }
}

TEST(a_pv_domain_has_no_memory_map_of_its_own)
{
    static unsigned char buffer[20 * 8];
    xen_memory_map m{};
    m.nr_entries = 8;
    set_xen_guest_handle(m.buffer, buffer);
    EXPECT_EQ(memory_op(XENMEM_memory_map, &m), -XEN_ENOSYS);
    EXPECT_EQ(m.nr_entries, 8u);
    for (const auto& b : kt::bad_pointers) EXPECT_EQ(memory_op(XENMEM_memory_map, kt::bad<void>(b)), -XEN_EFAULT);
}

TEST(physmap_calls_are_for_translated_guests)
{
    xen_add_to_physmap x{};
    x.domid = DOMID_SELF;
    x.space = XENMAPSPACE_shared_info;
    x.idx = 0;
    x.gpfn = kt::start_info()->nr_pages - 1;
    EXPECT_EQ(memory_op(XENMEM_add_to_physmap, &x), -XEN_EACCES);
    x.space = XENMAPSPACE_gmfn_foreign;
    EXPECT_EQ(memory_op(XENMEM_add_to_physmap, &x), -XEN_ENOSYS);
    x.space = XENMAPSPACE_shared_info;
    x.domid = 100;
    EXPECT_EQ(memory_op(XENMEM_add_to_physmap, &x), -XEN_ESRCH);
    EXPECT_EQ(memory_op(XENMEM_add_to_physmap | (0x10000ull << EXTENT_SHIFT), &x), -XEN_EDOM);
    for (const auto& b : kt::bad_pointers) EXPECT_EQ(memory_op(XENMEM_add_to_physmap, kt::bad<void>(b)), -XEN_EFAULT);

    xen_remove_from_physmap r{};
    r.domid = DOMID_SELF;
    r.gpfn = 1;
    EXPECT_EQ(memory_op(XENMEM_remove_from_physmap, &r), -XEN_EACCES);
    EXPECT_EQ(memory_op(XENMEM_remove_from_physmap | (1 << EXTENT_SHIFT), &r), -XEN_EINVAL);
    EXPECT_EQ(memory_op(XENMEM_remove_from_physmap, kt::bad<void>(kt::bad_pointers[0])), -XEN_EFAULT);

    xen_add_to_physmap_batch batch{};
    batch.domid = DOMID_SELF;
    batch.space = XENMAPSPACE_gmfn_range;
    EXPECT_EQ(memory_op(XENMEM_add_to_physmap_batch, &batch), -XEN_EOPNOTSUPP);
    batch.space = XENMAPSPACE_gmfn;
    EXPECT_EQ(memory_op(XENMEM_add_to_physmap_batch, &batch), -XEN_EACCES);
}

TEST(reservation_errors_count_extents_instead)
{
    const long before = current_pages();
    xen_pfn_t list[2] = {kt::start_info()->nr_pages - 1, kt::start_info()->nr_pages - 2};
    // An unreadable argument, a list the hypervisor refuses, a count no continuation could
    // encode, an unknown domain: nothing done, and the answer is the start extent, not -EFAULT.
    for (const auto& b : kt::bad_pointers) {
        EXPECT_EQ(memory_op(XENMEM_populate_physmap, kt::bad<void>(b)), 0);
        EXPECT_EQ(memory_op(XENMEM_decrease_reservation | (3 << EXTENT_SHIFT), kt::bad<void>(b)), 3);
        auto r = reservation(kt::bad<xen_pfn_t>(b), 1);
        EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
        EXPECT_EQ(memory_op(XENMEM_decrease_reservation, &r), 0);
    }
    EXPECT_EQ(current_pages(), before);
    // increase_reservation checks only that the list lies in guest space: with an unmapped
    // one, a frame is allocated (if the limit allows) and stays the domain's, though its
    // machine frame cannot be written back and the extent is not counted.
    const long max = reservation_size(XENMEM_maximum_reservation, DOMID_SELF);
    for (const auto& b : kt::bad_pointers) {
        const long now = current_pages();
        auto r = reservation(kt::bad<xen_pfn_t>(b), 1);
        EXPECT_EQ(memory_op(XENMEM_increase_reservation, &r), 0);
        const bool in_guest_space = b.address == kt::bad_pointers[0].address;
        EXPECT_EQ(current_pages(), now + (in_guest_space && now < max ? 1 : 0));
    }
    const long after_increase = current_pages();
    auto r = reservation(list, (0xffffffffull >> EXTENT_SHIFT) + 1);
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    r = reservation(list, 1, 0, 0, 100);
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    // A start at or beyond the end: returned as it is.
    r = reservation(list, 2);
    EXPECT_EQ(memory_op(XENMEM_decrease_reservation | (2 << EXTENT_SHIFT), &r), 2);
    EXPECT_EQ(memory_op(XENMEM_populate_physmap | (7 << EXTENT_SHIFT), &r), 7);
    // Orders beyond the control domain's limit, an address width of one page, a node that
    // cannot exist, populate-on-demand on oneself.
    r = reservation(list, 1, CONTROL_DOMAIN_MAX_ORDER + 1);
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    EXPECT_EQ(memory_op(XENMEM_decrease_reservation, &r), 0);
    EXPECT_EQ(memory_op(XENMEM_increase_reservation, &r), 0);
    r = reservation(list, 1, 0, XENMEMF_address_bits(12));
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    r = reservation(list, 1, 0, XENMEMF_node(64));
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    r = reservation(list, 1, 0, XENMEMF_populate_on_demand);
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    EXPECT_EQ(current_pages(), after_increase);
    EXPECT_EQ(list[0], kt::start_info()->nr_pages - 1);
}

TEST(decrease_and_repopulate_the_last_two_frames)
{
    const std::uint64_t nr = kt::start_info()->nr_pages;
    const long before = current_pages();
    const std::uint64_t pfns[2] = {nr - 2, nr - 1};
    std::uint64_t pte = 0;
    for (std::uint64_t pfn : pfns) ASSERT_TRUE(!kt::lookup_pte(kt::virt_base + pfn * kt::page_size, &pte));
    const std::uint64_t old[2] = {kt::pfn_to_mfn(pfns[0]), kt::pfn_to_mfn(pfns[1])};
    ASSERT_EQ(kt::mfn_to_pfn(old[0]), pfns[0]);

    // A list whose second frame is not ours: the first extent is done, then it stops.
    const std::uint64_t max_page = std::uint64_t(memory_op(XENMEM_maximum_ram_page, nullptr));
    xen_pfn_t list[2] = {old[0], max_page + 5};
    auto r = reservation(list, 2);
    ASSERT_EQ(memory_op(XENMEM_decrease_reservation, &r), 1);
    EXPECT_EQ(current_pages(), before - 1);
    EXPECT_EQ(m2p(old[0]), M2P_INVALID);
    // Given back once, the frame is no longer ours to give back or to map.
    list[0] = old[0];
    r = reservation(list, 1);
    EXPECT_EQ(memory_op(XENMEM_decrease_reservation, &r), 0);
    EXPECT_FALSE(kt::map_machine_page(scratch, old[0] << 12, false));
    set_p2m(pfns[0], M2P_INVALID);

    // The second frame, through a start extent.
    list[0] = 0;
    list[1] = old[1];
    r = reservation(list, 2);
    ASSERT_EQ(memory_op(XENMEM_decrease_reservation | (1 << EXTENT_SHIFT), &r), 2);
    EXPECT_EQ(current_pages(), before - 2);
    EXPECT_EQ(m2p(old[1]), M2P_INVALID);
    set_p2m(pfns[1], M2P_INVALID);

    // increase_reservation: a frame in no guest frame, its machine frame written back; and
    // given back again.
    xen_pfn_t extra[1] = {0};
    r = reservation(extra, 1);
    ASSERT_EQ(memory_op(XENMEM_increase_reservation, &r), 1);
    EXPECT_NE(extra[0], 0u);
    EXPECT_LT(extra[0], max_page);
    EXPECT_EQ(current_pages(), before - 1);
    EXPECT_EQ(memory_op(XENMEM_decrease_reservation, &r), 1);
    EXPECT_EQ(current_pages(), before - 2);

    // populate_physmap: the two guest frames get new machine frames, the M2P shows them.
    list[0] = pfns[0];
    list[1] = pfns[1];
    r = reservation(list, 2);
    ASSERT_EQ(memory_op(XENMEM_populate_physmap, &r), 2);
    EXPECT_EQ(current_pages(), before);
    for (unsigned i = 0; i < 2; ++i) {
        kt::print("pfn {x}: mfn {x} -> {x}\n", pfns[i], old[i], list[i]);
        EXPECT_LT(list[i], max_page);
        EXPECT_EQ(m2p(list[i]), pfns[i]);
        set_p2m(pfns[i], list[i]);
    }
    // Again as one extent of two frames: machine-contiguous, the first one written back.
    r = reservation(list, 2);
    ASSERT_EQ(memory_op(XENMEM_decrease_reservation, &r), 2);
    EXPECT_EQ(current_pages(), before - 2);
    list[0] = pfns[0];
    list[1] = 0;
    r = reservation(list, 1, 1);
    ASSERT_EQ(memory_op(XENMEM_populate_physmap, &r), 1);
    EXPECT_EQ(current_pages(), before);
    list[1] = list[0] + 1;
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_EQ(m2p(list[i]), pfns[i]);
        set_p2m(pfns[i], list[i]);
    }
    // The new frame is ours: it can be mapped writable and used.
    const std::uint64_t own = kt::virt_to_mfn(scratch);
    ASSERT_TRUE(kt::map_machine_page(scratch, list[1] << 12, true));
    scratch[100] = 0xa5;
    EXPECT_EQ(scratch[100], 0xa5);
    ASSERT_TRUE(kt::map_machine_page(scratch, own << 12, true));
    EXPECT_EQ(kt::pfn_to_mfn(pfns[1]), list[1]);
}

// A PV guest may drop a mapping without any flush (update_va_mapping with no flags) and keep
// using the TLB entry. Once the frame is given back and serves anew, that entry must be gone:
// the hypervisor flushes every CPU that may hold one before the frame is handed out again
// (Kestrel's TLB clock, Xen's tlbflush timestamps). The frame comes back to us through
// populate_physmap when the allocator hands out the frame it was given last: a frame of the
// initial memory that came alone and whose buddy is still ours goes back to Kestrel's
// allocator unmerged and is the next one out (Xen may pick another, and then there is nothing
// to check). The old address must then fault, not show or change what the frame now holds.
std::uint64_t lone_unmapped_frame()
{
    const std::uint64_t nr = kt::start_info()->nr_pages;
    // The last two frames may have come as one block (the tests above): start below them.
    for (std::uint64_t pfn = nr - 3; pfn > nr - 64; --pfn) {
        std::uint64_t pte = 0;
        const std::uint64_t frame = kt::pfn_to_mfn(pfn);
        if (!kt::lookup_pte(kt::virt_base + pfn * kt::page_size, &pte) && m2p(frame) == pfn
            && m2p(frame ^ 1) != M2P_INVALID)
            return pfn;
    }
    return 0;
}

TEST(a_frame_given_back_is_not_reachable_through_a_stale_tlb_entry)
{
    const std::uint64_t pfn = lone_unmapped_frame();
    ASSERT_NE(pfn, 0u);
    const std::uint64_t frame = kt::pfn_to_mfn(pfn), own = kt::virt_to_mfn(const_cast<std::uint64_t*>(window));
    ASSERT_TRUE(kt::map_machine_page(const_cast<std::uint64_t*>(window), frame << 12, true));
    window[7] = 0x1234;  // the TLB now holds window -> frame
    ASSERT_EQ(window[7], 0x1234u);
    ASSERT_EQ(kt::update_va_mapping(reinterpret_cast<std::uint64_t>(window), 0, UVMF_NONE), 0);  // no flush
    xen_pfn_t list[1] = {frame};
    auto r = reservation(list, 1);
    ASSERT_EQ(memory_op(XENMEM_decrease_reservation, &r), 1);
    EXPECT_EQ(m2p(frame), M2P_INVALID);  // freed
    list[0] = pfn;
    ASSERT_EQ(memory_op(XENMEM_populate_physmap, &r), 1);
    set_p2m(pfn, list[0]);
    if (list[0] == frame) {
        // Ours again (Kestrel zeroes it, Xen may not): what we write through a proper mapping
        // must not be visible (nor writable) through the dropped one.
        const std::uint64_t mine = kt::virt_to_mfn(scratch);
        ASSERT_TRUE(kt::map_machine_page(scratch, frame << 12, true));
        auto* fresh = reinterpret_cast<volatile std::uint64_t*>(scratch);
        fresh[7] = 0x5678;
        kt::TrapRecord rec;
        std::uint64_t seen = 0;
        EXPECT_EQ(kt::catch_trap([&] { seen = window[7]; }, rec), kt::caught_trap);
        EXPECT_EQ(rec.vector, 14u);
        EXPECT_EQ(rec.cr2, reinterpret_cast<std::uint64_t>(&window[7]));
        EXPECT_EQ(seen, 0u);
        EXPECT_EQ(kt::catch_trap([&] { window[7] = 0x9999; }, rec), kt::caught_trap);
        EXPECT_EQ(rec.vector, 14u);
        EXPECT_EQ(fresh[7], 0x5678u);
        ASSERT_TRUE(kt::map_machine_page(scratch, mine << 12, true));
    } else {
        kt::print("the frame given back ({x}) went elsewhere ({x} came instead): nothing to check\n", frame, list[0]);
    }
    ASSERT_TRUE(kt::map_machine_page(const_cast<std::uint64_t*>(window), own << 12, true));
}

// XENMEM_exchange: the last two guest frames (mapped nowhere) traded for one machine-contiguous
// extent of two frames, then back for two single frames; a chunk that cannot be done leaves
// everything as it was and nr_exchanged says how far the exchange got.
xen_memory_exchange exchange_of(xen_pfn_t* in, std::uint64_t nr_in, unsigned in_order, xen_pfn_t* out,
                                std::uint64_t nr_out, unsigned out_order)
{
    xen_memory_exchange x{};
    x.in = reservation(in, nr_in, in_order);
    x.out = reservation(out, nr_out, out_order);
    return x;
}

TEST(exchange_trades_extents_all_or_nothing)
{
    const std::uint64_t nr = kt::start_info()->nr_pages;
    const std::uint64_t pfns[2] = {nr - 2, nr - 1};
    const long before = current_pages();
    xen_pfn_t in[2] = {kt::pfn_to_mfn(pfns[0]), kt::pfn_to_mfn(pfns[1])};
    xen_pfn_t out[2] = {pfns[0], 0};
    auto x = exchange_of(in, 2, 0, out, 1, 1);
    ASSERT_EQ(memory_op(XENMEM_exchange, &x), 0);
    EXPECT_EQ(x.nr_exchanged, 2u);
    EXPECT_EQ(current_pages(), before);
    EXPECT_EQ(out[0] % 2, 0u);  // an order-1 extent is aligned to its size
    EXPECT_EQ(m2p(out[0]), pfns[0]);
    EXPECT_EQ(m2p(out[0] + 1), pfns[1]);
    EXPECT_EQ(m2p(in[0]), M2P_INVALID);
    EXPECT_FALSE(kt::map_machine_page(scratch, in[0] << 12, false));  // the old frames are gone
    for (unsigned i = 0; i < 2; ++i) set_p2m(pfns[i], out[0] + i);

    // All done already: 0, nothing touched.
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), 0);

    // Back: one order-1 extent for two frames.
    xen_pfn_t big[1] = {out[0]};
    xen_pfn_t small[2] = {pfns[0], pfns[1]};
    x = exchange_of(big, 1, 1, small, 2, 0);
    ASSERT_EQ(memory_op(XENMEM_exchange, &x), 0);
    EXPECT_EQ(x.nr_exchanged, 1u);
    for (unsigned i = 0; i < 2; ++i) {
        EXPECT_EQ(m2p(small[i]), pfns[i]);
        set_p2m(pfns[i], small[i]);
    }
    EXPECT_EQ(current_pages(), before);

    // A frame in use (scratch is mapped) stops its chunk: the first chunk is done, not the second.
    xen_pfn_t busy[2] = {small[0], kt::virt_to_mfn(scratch)};
    xen_pfn_t fresh[2] = {pfns[0], pfns[1]};
    x = exchange_of(busy, 2, 0, fresh, 2, 0);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EINVAL);
    EXPECT_EQ(x.nr_exchanged, 1u);
    EXPECT_EQ(m2p(fresh[0]), pfns[0]);
    set_p2m(pfns[0], fresh[0]);
    EXPECT_EQ(m2p(kt::virt_to_mfn(scratch)), kt::mfn_to_pfn(kt::virt_to_mfn(scratch)));
    EXPECT_NE(m2p(kt::virt_to_mfn(scratch)), M2P_INVALID);
    // Two inputs for one extent, the second in use: nothing of the chunk is done.
    xen_pfn_t pair[2] = {fresh[0], kt::virt_to_mfn(scratch)};
    xen_pfn_t one[1] = {pfns[0]};
    x = exchange_of(pair, 2, 0, one, 1, 1);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EINVAL);
    EXPECT_EQ(x.nr_exchanged, 0u);
    EXPECT_EQ(m2p(fresh[0]), pfns[0]);
    EXPECT_EQ(current_pages(), before);
}

TEST(exchange_errors)
{
    xen_pfn_t in[2] = {kt::virt_to_mfn(scratch), 0};
    xen_pfn_t out[2] = {0, 0};
    auto x = exchange_of(in, 1, 0, out, 1, 0);
    EXPECT_EQ(memory_op(XENMEM_exchange | (1 << EXTENT_SHIFT), &x), -XEN_EINVAL);  // no start extent
    for (const auto& b : kt::bad_pointers) EXPECT_EQ(memory_op(XENMEM_exchange, kt::bad<void>(b)), -XEN_EFAULT);
    x = exchange_of(in, 1, CONTROL_DOMAIN_MAX_ORDER + 1, out, 1, CONTROL_DOMAIN_MAX_ORDER + 1);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EPERM);
    x = exchange_of(in, 2, 0, out, 1, 0);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EINVAL);  // sizes differ
    x = exchange_of(in, 1, 0, out, 1, 0);
    x.nr_exchanged = 2;
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EINVAL);  // more done than asked
    EXPECT_EQ(x.nr_exchanged, 2u);
    x = exchange_of(in, 1, 0, out, 1, 0);
    x.out.domid = 0;
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EINVAL);  // DOMID_SELF and 0 are different ids here
    x = exchange_of(in, 1, 0, out, 1, 0);
    x.in.domid = x.out.domid = 0x1234;
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_ESRCH);
    x = exchange_of(kt::bad<xen_pfn_t>(kt::bad_pointers[1]), 1, 0, out, 1, 0);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EFAULT);
    x = exchange_of(in, 1, 0, kt::bad<xen_pfn_t>(kt::bad_pointers[2]), 1, 0);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EFAULT);
    x = exchange_of(in, 1, 0, out, 1, 0);
    x.out.mem_flags = XENMEMF_node(200);
    EXPECT_EQ(memory_op(XENMEM_exchange, &x), -XEN_EINVAL);  // no such node, even for dom0
    EXPECT_NE(m2p(kt::virt_to_mfn(scratch)), M2P_INVALID);  // nothing was given away
}

TEST(the_limit_holds_when_it_is_reached)
{
    // dom0 boots with dom0_mem=64M and no max: part, so its limit is Xen's default of
    // UINT_MAX pages: nothing to reach here, the check below runs only under a real limit.
    const long cur = current_pages();
    const long max = reservation_size(XENMEM_maximum_reservation, DOMID_SELF);
    EXPECT_EQ(max, long(0xffffffffu));
    if (cur < max) return;
    xen_pfn_t extra[1] = {0};
    auto r = reservation(extra, 1);
    EXPECT_EQ(memory_op(XENMEM_increase_reservation, &r), 0);
    extra[0] = kt::start_info()->nr_pages;
    EXPECT_EQ(memory_op(XENMEM_populate_physmap, &r), 0);
    EXPECT_EQ(current_pages(), cur);
}

TEST(maximum_gpfn_follows_the_p2m_size_in_shared_info)
{
    std::uint64_t& max_pfn = kt::shared_info()->arch.max_pfn;
    const std::uint64_t saved = max_pfn;
    kt::print("shared_info arch.max_pfn at start: {}\n", saved);
    max_pfn = kt::start_info()->nr_pages;
    EXPECT_EQ(reservation_size(XENMEM_maximum_gpfn, DOMID_SELF), long(kt::start_info()->nr_pages) - 1);
    max_pfn = 0;
    EXPECT_EQ(reservation_size(XENMEM_maximum_gpfn, 0), 0);
    max_pfn = saved;
    EXPECT_EQ(reservation_size(XENMEM_maximum_gpfn, 100), -XEN_ESRCH);
    for (const auto& b : kt::bad_pointers) EXPECT_EQ(memory_op(XENMEM_maximum_gpfn, kt::bad<void>(b)), -XEN_EFAULT);
}

TEST(unknown_subops_are_enosys)
{
    std::uint64_t buf[8] = {};
    EXPECT_EQ(memory_op(8, buf), -XEN_ENOSYS);  // a number Xen retired
    EXPECT_EQ(memory_op(63, buf), -XEN_ENOSYS);
    EXPECT_EQ(memory_op(XENMEM_memory_map | (1 << EXTENT_SHIFT), buf), -XEN_ENOSYS);
}
