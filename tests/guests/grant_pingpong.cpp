// grant_pingpong: two domains share pages through grants and ping-pong over an interdomain
// event channel (Kestrel only: it boots as dom0 and as a second boot-time domain, domain 1;
// Xen starts further domains through its toolstack only).
//
//   dom0 grants domain 1 a shared page P (ref 8, with the port to connect to in it) and a page R
//   (ref 9); domain 1 maps both, grants dom0 a page Q of its own (its ref 8), and the two count
//   ROUNDS rounds through P, each side waking the other with an event. Domain 1 then unmaps P
//   and ends with R still mapped and Q still mapped by dom0: its death must give R back (dom0
//   sees the status bits of ref 9 cleared), and Q must stay intact and usable by dom0 until dom0
//   unmaps it, after which the hypervisor finishes destroying domain 1.
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

constexpr domid_t DOM0 = 0, DOMU = 1;  // the boot order
constexpr grant_ref_t SHARED_REF = 8, LEFT_MAPPED_REF = 9, NOT_FOR_DOMU_REF = 10;
constexpr std::uint32_t ROUNDS = 50;
constexpr std::uint64_t WAIT_MS = 20000;
constexpr std::uint32_t MAGIC = 0x6b657374;

// The page shared through SHARED_REF.
struct Shared {
    volatile std::uint32_t port;      // dom0's unbound port for domain 1
    volatile std::uint32_t ping;      // written by dom0
    volatile std::uint32_t pong;      // written by domain 1
    volatile std::uint32_t q_ready;   // domain 1 has granted Q (its ref 8)
};

[[gnu::aligned(4096)]] std::uint8_t table_view[4096];
[[gnu::aligned(4096)]] std::uint8_t page_p[4096];  // dom0: P; domain 1: where P is mapped
[[gnu::aligned(4096)]] std::uint8_t page_r[4096];  // dom0: R; domain 1: where R is mapped
[[gnu::aligned(4096)]] std::uint8_t page_q[4096];  // domain 1: Q; dom0: where Q is mapped
[[gnu::aligned(4096)]] std::uint8_t scratch[4096];

bool control() { return (kt::start_info()->flags & SIF_INITDOMAIN) != 0; }
std::uint64_t va(const void* p) { return reinterpret_cast<std::uint64_t>(p); }
Shared& shared() { return *reinterpret_cast<Shared*>(page_p); }
grant_entry_v1_t* entries() { return reinterpret_cast<grant_entry_v1_t*>(table_view); }

long gnttab(unsigned cmd, void* op) { return kt::hypercall(__HYPERVISOR_grant_table_op, cmd, kt::arg(op), 1); }
long evtchn(int cmd, void* op) { return kt::evtchn_op(cmd, op); }

// Maps our first grant frame at table_view.
bool map_table()
{
    xen_pfn_t frame = 0;
    gnttab_setup_table_t s{DOMID_SELF, 1, 99, {}};
    s.frame_list.p = &frame;
    return gnttab(GNTTABOP_setup_table, &s) == 0 && s.status == GNTST_okay &&
           kt::map_machine_page(table_view, frame << 12, true);
}

void grant(grant_ref_t ref, const void* page, domid_t to)
{
    grant_entry_v1_t* e = &entries()[ref];
    e->frame = static_cast<std::uint32_t>(kt::virt_to_mfn(page));
    e->domid = to;
    __atomic_store_n(&e->flags, std::uint16_t{GTF_permit_access}, __ATOMIC_SEQ_CST);
}
std::uint16_t flags_of(grant_ref_t ref) { return __atomic_load_n(&entries()[ref].flags, __ATOMIC_SEQ_CST); }

// Maps ref of dom at page, retrying while the granter has not filled the entry in yet.
gnttab_map_grant_ref_t map_when_granted(domid_t dom, grant_ref_t ref, void* page)
{
    gnttab_map_grant_ref_t m{};
    for (unsigned tries = 0; tries < 10000; ++tries) {
        m = gnttab_map_grant_ref_t{};
        m.host_addr = va(page);
        m.flags = GNTMAP_host_map;
        m.ref = ref;
        m.dom = dom;
        if (gnttab(GNTTABOP_map_grant_ref, &m) != 0 || m.status != GNTST_general_error)
            break;
        kt::sched_op(SCHEDOP_yield, nullptr);
    }
    return m;
}

evtchn_port_t my_port;
bool event_seen;

// Whether my_port became pending (its bit is cleared when seen).
bool take_event()
{
    if (event_seen)
        return true;
    auto* words = kt::shared_info()->evtchn_pending;
    const std::uint64_t bit = 1ull << (my_port % 64);
    if (!(__atomic_load_n(&words[my_port / 64], __ATOMIC_SEQ_CST) & bit))
        return false;
    __atomic_fetch_and(&words[my_port / 64], ~bit, __ATOMIC_SEQ_CST);
    event_seen = true;
    return true;
}

// Yields to the other domain until an event arrives on my_port; false on timeout.
bool await_event()
{
    event_seen = false;
    kt::yield_for_ms(WAIT_MS, take_event);
    return take_event();
}

bool notify()
{
    evtchn_send_t s{my_port};
    return evtchn(EVTCHNOP_send, &s) == 0;
}

gnttab_map_grant_ref_t q_map;  // dom0's mapping of domain 1's page Q
std::uint32_t p_handle;        // domain 1's mapping of P

bool r_released() { return !(flags_of(LEFT_MAPPED_REF) & (GTF_reading | GTF_writing)); }

} // namespace

TEST(set_up)
{
    ASSERT_TRUE(map_table());
    if (control()) {
        evtchn_alloc_unbound_t a{DOMID_SELF, DOMU, 0};
        ASSERT_EQ(evtchn(EVTCHNOP_alloc_unbound, &a), 0);
        my_port = a.port;
        shared().port = a.port;
        for (unsigned i = 0; i < 16; ++i)
            page_r[i] = static_cast<std::uint8_t>(0xc0 + i);
        grant(LEFT_MAPPED_REF, page_r, DOMU);
        grant(NOT_FOR_DOMU_REF, page_r, 3);  // for a domain that does not exist
        grant(SHARED_REF, page_p, DOMU);  // last: domain 1 waits for this one
        ASSERT_TRUE(await_event());     // domain 1 has connected
        EXPECT_EQ(flags_of(SHARED_REF), GTF_permit_access | GTF_reading | GTF_writing);
        EXPECT_EQ(flags_of(LEFT_MAPPED_REF), GTF_permit_access | GTF_reading | GTF_writing);
        EXPECT_EQ(shared().q_ready, 1u);
        q_map = map_when_granted(DOMU, SHARED_REF, page_q);
        ASSERT_EQ(q_map.status, GNTST_okay);
        EXPECT_EQ(*reinterpret_cast<volatile std::uint32_t*>(page_q), MAGIC);
    } else {
        auto p = map_when_granted(DOM0, SHARED_REF, page_p);
        ASSERT_EQ(p.status, GNTST_okay);
        p_handle = p.handle;
        auto r = map_when_granted(DOM0, LEFT_MAPPED_REF, page_r);
        ASSERT_EQ(r.status, GNTST_okay);
        *reinterpret_cast<volatile std::uint32_t*>(page_q) = MAGIC;
        grant(SHARED_REF, page_q, DOM0);
        shared().q_ready = 1;
        evtchn_bind_interdomain_t b{DOM0, shared().port, 0};
        ASSERT_EQ(evtchn(EVTCHNOP_bind_interdomain, &b), 0);
        my_port = b.local_port;
        take_event();  // a new connection starts pending: not a ping
        EXPECT_TRUE(notify());
    }
}

// Domain 1 copies from dom0's grant into its own page, and is refused what is not its own.
TEST(domain1_copies_and_is_refused)
{
    if (control())
        return;
    gnttab_copy_t c{};
    c.source.u.ref = LEFT_MAPPED_REF;
    c.source.domid = DOM0;
    c.source.offset = 4;
    c.dest.u.gmfn = kt::virt_to_mfn(scratch);
    c.dest.domid = DOMID_SELF;
    c.len = 8;
    c.flags = GNTCOPY_source_gref;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_okay);
    EXPECT_EQ(*static_cast<volatile std::uint8_t*>(scratch), 0xc4);
    EXPECT_EQ(*static_cast<volatile std::uint8_t*>(scratch + 7), 0xcb);
    c.source.u.ref = NOT_FOR_DOMU_REF;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_general_error);
    gnttab_map_grant_ref_t m{};
    m.host_addr = va(scratch);
    m.flags = GNTMAP_host_map;
    m.ref = NOT_FOR_DOMU_REF;
    m.dom = DOM0;
    ASSERT_EQ(gnttab(GNTTABOP_map_grant_ref, &m), 0);
    EXPECT_EQ(m.status, GNTST_general_error);
    // A frame of dom0 named directly, and dom0's table set up by us: refused.
    c.flags = 0;
    c.source.u.gmfn = kt::virt_to_mfn(scratch);
    c.source.domid = DOM0;
    ASSERT_EQ(gnttab(GNTTABOP_copy, &c), 0);
    EXPECT_EQ(c.status, GNTST_permission_denied);
    xen_pfn_t frame = 0;
    gnttab_setup_table_t st{DOM0, 1, 99, {}};
    st.frame_list.p = &frame;
    ASSERT_EQ(gnttab(GNTTABOP_setup_table, &st), 0);
    EXPECT_EQ(st.status, GNTST_permission_denied);
}

TEST(ping_pong)
{
    std::uint32_t done = 0;
    for (std::uint32_t round = 1; round <= ROUNDS; ++round) {
        if (control()) {
            shared().ping = round;
            ASSERT_TRUE(notify());
            ASSERT_TRUE(await_event());
            ASSERT_EQ(shared().pong, round);
        } else {
            ASSERT_TRUE(await_event());
            ASSERT_EQ(shared().ping, round);
            shared().pong = round;
            ASSERT_TRUE(notify());
        }
        done = round;
    }
    kt::print("grant_pingpong: {}: {} rounds through a granted page\n", control() ? "dom0" : "domU", done);
}

// Domain 1 unmaps P but leaves R mapped, and Q mapped by dom0, when it ends.
TEST(domain1_leaves)
{
    if (control())
        return;
    gnttab_unmap_grant_ref_t u{va(page_p), 0, p_handle, 99};
    ASSERT_EQ(gnttab(GNTTABOP_unmap_grant_ref, &u), 0);
    EXPECT_EQ(u.status, GNTST_okay);
}

TEST(dom0_sees_the_dead_domain_let_go)
{
    if (!control())
        return;
    kt::yield_for_ms(WAIT_MS, r_released);  // domain 1 may be gone already
    ASSERT_TRUE(r_released());
    EXPECT_EQ(flags_of(SHARED_REF), GTF_permit_access);  // P was unmapped
    // Domain 1 is gone, but the page it granted us stays its own and intact while mapped.
    auto* q = reinterpret_cast<volatile std::uint32_t*>(page_q);
    EXPECT_EQ(q[0], MAGIC);
    q[1] = 42;
    EXPECT_EQ(q[1], 42u);
    gnttab_unmap_grant_ref_t u{va(page_q), 0, q_map.handle, 99};
    ASSERT_EQ(gnttab(GNTTABOP_unmap_grant_ref, &u), 0);
    EXPECT_EQ(u.status, GNTST_okay);
    EXPECT_TRUE(kt::map_machine_page(page_q, kt::virt_to_mfn(page_q) << 12, true));
    EXPECT_GT(kt::yield_for_ms(500), 0u);  // lets the hypervisor's log show the end of domain 1
    kt::print("grant_pingpong: dom0: done\n");
}
