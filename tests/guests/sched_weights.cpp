// sched_weights: CPU time follows the weights and caps the control domain sets with
// XEN_DOMCTL_scheduler_op (Kestrel only: it boots as dom0 and as boot-time domains 1, 2 and 3;
// Xen starts further domains through its toolstack only).
//
//   Each other domain has two vCPUs that spin for ever, with their runstate areas (updated by
//   the hypervisor at every switch, under VMASST_TYPE_runstate_update_flag) in a page it grants
//   dom0 read-only (ref 8). dom0 gives domains 1, 2 and 3 the weights 256, 512 and 768, maps
//   the three pages and, sleeping in between, measures how much CPU time (runstate
//   time[RUNSTATE_running]) each domain gets over 10 s: the shares must match the weights
//   within 10%. Then domain 3, which got the most, is capped at 25% of a CPU: over 5 s it must
//   get 25% of a CPU, within 10%.
//
//   The host (QEMU under load) can stall an emulated CPU for tens or hundreds of ms. The
//   hypervisor counts such a stall as running time of the vCPU it froze, and a capped domain
//   loses budget across it: a late replenishment adds at most one period's worth, while the
//   stalled time is charged in full. So the spinning vCPUs watch for stalls themselves: a gap
//   of over 1 ms between two reads of the TSC in their loop, across which their runstate shows
//   no change (the hypervisor did not take them off their CPU), is added to the stalled time
//   they publish beside their runstate areas. A window whose check fails is measured again (3
//   tries in all) if over 2% of the domains' CPU time in it was stalled; a failure without is
//   final.
#include <xen/domctl.h>
#include <xen/errno.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/smp.hpp"
#include "runtime/test.hpp"

namespace {

constexpr domid_t DOM0 = 0;
constexpr unsigned DOMAINS = 3;  // domains 1..3, in boot order
constexpr std::uint16_t WEIGHTS[DOMAINS] = {256, 512, 768};
constexpr unsigned VCPUS = 2;    // of each of them
constexpr grant_ref_t REPORT_REF = 8;
constexpr std::uint64_t WEIGHT_WINDOW_MS = 10'000;
constexpr std::uint64_t CAP_WINDOW_MS = 5'000;
constexpr std::uint16_t CAP = 25;
constexpr std::uint64_t MAP_WAIT_MS = 20'000;
constexpr unsigned TRIES = 3;
constexpr std::uint64_t STALL_PER_MILLE = 20;  // of the domains' CPU time in a window

// The page a domain grants dom0: its vCPUs' runstate areas, and how long each of them saw its
// CPU stalled by the host (written by that vCPU alone).
struct Report {
    vcpu_runstate_info_t runstate[VCPUS];
    std::uint64_t stalled_ns[VCPUS];
};

[[gnu::aligned(4096)]] std::uint8_t table_view[4096];
[[gnu::aligned(4096)]] std::uint8_t report_page[4096];             // a domain's own report
[[gnu::aligned(4096)]] std::uint8_t reports[DOMAINS][4096];        // dom0: where they are mapped

bool control() { return (kt::start_info()->flags & SIF_INITDOMAIN) != 0; }
long gnttab(unsigned cmd, void* op) { return kt::hypercall(__HYPERVISOR_grant_table_op, cmd, kt::arg(op), 1); }
long domctl(xen_domctl_t* op) { return kt::hypercall(__HYPERVISOR_domctl, kt::arg(op)); }
const volatile Report& report_of(unsigned d) { return *reinterpret_cast<const volatile Report*>(reports[d]); }

// --- The measured domains ---------------------------------------------------------------------

// Spins for ever, counting host stalls: a gap of over 1 ms between two TSC reads while the
// runstate's entry time stays the same (read before the first and after the second, so that a
// switch anywhere between the reads shows) and no update is under way.
void spin(unsigned vcpu)
{
    auto* r = reinterpret_cast<Report*>(report_page);
    const volatile std::uint64_t& entry = r->runstate[vcpu].state_entry_time;
    const std::uint64_t khz = kt::tsc_khz();
    std::uint64_t last_tsc = kt::rdtsc(), last_entry = entry;
    for (;;) {
        const std::uint64_t before = entry;
        asm volatile("" ::: "memory");
        const std::uint64_t tsc = kt::rdtsc();
        asm volatile("" ::: "memory");
        const std::uint64_t after = entry;
        if (khz && tsc - last_tsc > khz && after == last_entry && !(after & XEN_RUNSTATE_UPDATE))
            __atomic_store_n(&r->stalled_ns[vcpu], r->stalled_ns[vcpu] + (tsc - last_tsc) * 1'000'000 / khz,
                             __ATOMIC_RELAXED);
        last_tsc = tsc;
        last_entry = before;
    }
}

// Maps our first grant frame at table_view and grants dom0 read access to the report page.
bool grant_report()
{
    xen_pfn_t frame = 0;
    gnttab_setup_table_t s{DOMID_SELF, 1, 99, {}};
    s.frame_list.p = &frame;
    if (gnttab(GNTTABOP_setup_table, &s) != 0 || s.status != GNTST_okay ||
        !kt::map_machine_page(table_view, frame << 12, true))
        return false;
    grant_entry_v1_t& e = reinterpret_cast<grant_entry_v1_t*>(table_view)[REPORT_REF];
    e.frame = static_cast<std::uint32_t>(kt::virt_to_mfn(report_page));
    e.domid = DOM0;
    __atomic_store_n(&e.flags, std::uint16_t{GTF_permit_access | GTF_readonly}, __ATOMIC_SEQ_CST);
    return true;
}

bool register_runstate_areas()
{
    if (kt::vm_assist(VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag) != 0)
        return false;
    auto* r = reinterpret_cast<Report*>(report_page);
    for (unsigned i = 0; i < VCPUS; ++i) {
        vcpu_register_runstate_memory_area_t area{};
        area.addr.v = &r->runstate[i];
        if (kt::vcpu_op(VCPUOP_register_runstate_memory_area, i, &area) != 0)
            return false;
    }
    return true;
}

// --- dom0 -------------------------------------------------------------------------------------

xen_domctl_t sched_op(domid_t d, std::uint32_t cmd, std::uint16_t weight, std::uint16_t cap)
{
    xen_domctl_t op{};
    op.cmd = XEN_DOMCTL_scheduler_op;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op.domain = d;
    op.u.scheduler_op.sched_id = XEN_SCHEDULER_CREDIT2;
    op.u.scheduler_op.cmd = cmd;
    op.u.scheduler_op.u.credit2.weight = weight;
    op.u.scheduler_op.u.credit2.cap = cap;
    return op;
}

long put(domid_t d, std::uint16_t weight, std::uint16_t cap)
{
    xen_domctl_t op = sched_op(d, XEN_DOMCTL_SCHEDOP_putinfo, weight, cap);
    return domctl(&op);
}

xen_domctl_sched_credit2 get(domid_t d)
{
    xen_domctl_t op = sched_op(d, XEN_DOMCTL_SCHEDOP_getinfo, 0, 0);
    if (domctl(&op) != 0)
        return {0, 0};
    return op.u.scheduler_op.u.credit2;
}

// Maps domain d's report read-only, retrying until it has granted it.
bool map_report(unsigned index)
{
    const std::uint64_t end = kt::system_time_ns() + MAP_WAIT_MS * 1'000'000;
    while (kt::system_time_ns() < end) {
        gnttab_map_grant_ref_t m{};
        m.host_addr = reinterpret_cast<std::uint64_t>(reports[index]);
        m.flags = GNTMAP_host_map | GNTMAP_readonly;
        m.ref = REPORT_REF;
        m.dom = static_cast<domid_t>(index + 1);
        if (gnttab(GNTTABOP_map_grant_ref, &m) != 0)
            return false;
        if (m.status == GNTST_okay)
            return true;
        kt::sleep_ms(10);
    }
    return false;
}

// Running time of one vCPU, read consistently: never while the hypervisor is writing the area
// (XEN_RUNSTATE_UPDATE) and not across an update.
std::uint64_t running_ns(const volatile vcpu_runstate_info_t& r)
{
    for (;;) {
        const std::uint64_t before = r.state_entry_time;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        const std::uint64_t ran = r.time[RUNSTATE_running];
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (!(before & XEN_RUNSTATE_UPDATE) && before == r.state_entry_time)
            return ran;
    }
}

std::uint64_t domain_running_ns(unsigned index)
{
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < VCPUS; ++i)
        sum += running_ns(report_of(index).runstate[i]);
    return sum;
}

std::uint64_t domain_stalled_ns(unsigned index)
{
    std::uint64_t sum = 0;
    for (unsigned i = 0; i < VCPUS; ++i)
        sum += __atomic_load_n(&report_of(index).stalled_ns[i], __ATOMIC_RELAXED);
    return sum;
}

std::uint64_t sum(const std::uint64_t (&per_domain)[DOMAINS])
{
    std::uint64_t total = 0;
    for (std::uint64_t x : per_domain)
        total += x;
    return total;
}

struct Window {
    std::uint64_t got[DOMAINS];      // CPU time of each domain
    std::uint64_t stalled[DOMAINS];  // how much of it its vCPUs saw stalled
    std::uint64_t elapsed;           // system time
    std::uint64_t total() const { return sum(got); }
    std::uint64_t total_stalled() const { return sum(stalled); }
    bool stalled_much() const { return total_stalled() * 1000 > total() * STALL_PER_MILLE; }
};

// CPU time each domain gets while dom0 sleeps for `ms`.
Window measure(std::uint64_t ms)
{
    Window w{};
    std::uint64_t before[DOMAINS], stalled_before[DOMAINS];
    for (unsigned d = 0; d < DOMAINS; ++d) {
        before[d] = domain_running_ns(d);
        stalled_before[d] = domain_stalled_ns(d);
    }
    const std::uint64_t start = kt::system_time_ns();
    kt::sleep_ms(ms);
    w.elapsed = kt::system_time_ns() - start;
    for (unsigned d = 0; d < DOMAINS; ++d) {
        w.got[d] = domain_running_ns(d) - before[d];
        w.stalled[d] = domain_stalled_ns(d) - stalled_before[d];
    }
    return w;
}

// Measures up to TRIES windows of `ms` until `holds` accepts one; a rejected window is measured
// again only if it was stalled much. Whether one was accepted.
bool measure_until(std::uint64_t ms, bool (*holds)(const Window&))
{
    for (unsigned attempt = 1;; ++attempt) {
        const Window w = measure(ms);
        kt::print("sched_weights: window {} of {} ms: {} ms of the domains' {} ms of CPU time stalled\n", attempt,
                  w.elapsed / 1'000'000, w.total_stalled() / 1'000'000, w.total() / 1'000'000);
        if (holds(w))
            return true;
        if (!w.stalled_much() || attempt == TRIES)
            return false;
        kt::print("sched_weights: over {} per mille of it stalled: measuring again\n", STALL_PER_MILLE);
    }
}

// got / want within 10%, in per mille to stay in integers.
bool within_ten_percent(std::uint64_t got, std::uint64_t want) { return got * 10 >= want * 9 && got * 10 <= want * 11; }

bool shares_follow_the_weights(const Window& w)
{
    const std::uint64_t total = w.total();
    std::uint64_t weights = 0;
    for (unsigned d = 0; d < DOMAINS; ++d)
        weights += WEIGHTS[d];
    if (total == 0) {
        kt::print("sched_weights: the domains did not run\n");
        return false;
    }
    bool ok = true;
    for (unsigned d = 0; d < DOMAINS; ++d) {
        const std::uint64_t share = w.got[d] * 1000 / total, want = WEIGHTS[d] * 1000ull / weights;
        const bool within = within_ten_percent(w.got[d] * weights, total * WEIGHTS[d]);
        kt::print("sched_weights: domain {} (weight {}) ran {} ms ({} ms stalled) of {} ms: {} per mille of the "
                  "domains' time, {} wanted{}\n",
                  d + 1, WEIGHTS[d], w.got[d] / 1'000'000, w.stalled[d] / 1'000'000, w.elapsed / 1'000'000, share,
                  want, within ? "" : ": not within 10%");
        ok = ok && within;
    }
    return ok;
}

constexpr unsigned CAPPED = DOMAINS - 1;

bool cap_holds(const Window& w)
{
    const bool within = within_ten_percent(w.got[CAPPED] * 100, w.elapsed * CAP);
    // The others took what it left.
    const bool others = w.got[0] + w.got[1] > 3 * w.got[CAPPED];
    kt::print("sched_weights: domain {} capped at {}% ran {} ms ({} ms stalled) of {} ms: {} per mille of a CPU{}; "
              "the others {} ms{}\n",
              CAPPED + 1, CAP, w.got[CAPPED] / 1'000'000, w.stalled[CAPPED] / 1'000'000, w.elapsed / 1'000'000,
              w.got[CAPPED] * 1000 / w.elapsed, within ? "" : ", not within 10%", (w.got[0] + w.got[1]) / 1'000'000,
              others ? "" : ", not over 3 times as much");
    return within && others;
}

} // namespace

TEST(domains_report_and_spin)
{
    if (control())
        return;
    ASSERT_TRUE(register_runstate_areas());
    ASSERT_TRUE(grant_report());
    for (unsigned i = 1; i < VCPUS; ++i)
        ASSERT_EQ(kt::start_vcpu(i, spin), 0);
    kt::print("sched_weights: domU spinning on {} vCPUs\n", VCPUS);
    spin(0);
}

TEST(dom0_sets_the_weights)
{
    for (unsigned d = 0; d < DOMAINS; ++d) {
        const domid_t id = static_cast<domid_t>(d + 1);
        EXPECT_EQ(get(id).weight, 256u);
        ASSERT_EQ(put(id, WEIGHTS[d], 0), 0);
        EXPECT_EQ(get(id).weight, WEIGHTS[d]);
        EXPECT_EQ(get(id).cap, 0u);
    }
    EXPECT_EQ(put(2, 0, 100 * VCPUS + 1), -XEN_EINVAL);  // a cap past the domain's vCPUs
    EXPECT_EQ(get(4).weight, 0u);  // no domain 4: getinfo fails
}

TEST(dom0_maps_the_reports)
{
    for (unsigned d = 0; d < DOMAINS; ++d)
        ASSERT_TRUE(map_report(d));
    kt::sleep_ms(1000);  // every domain spinning under its weight
}

TEST(cpu_time_follows_the_weights)
{
    EXPECT_TRUE(measure_until(WEIGHT_WINDOW_MS, shares_follow_the_weights));
}

TEST(a_cap_holds_a_domain_to_its_share)
{
    ASSERT_EQ(put(CAPPED + 1, 0, CAP), 0);
    EXPECT_EQ(get(CAPPED + 1).cap, CAP);
    EXPECT_EQ(get(CAPPED + 1).weight, WEIGHTS[CAPPED]);  // weight 0 kept it
    kt::sleep_ms(500);
    EXPECT_TRUE(measure_until(CAP_WINDOW_MS, cap_holds));
    ASSERT_EQ(put(CAPPED + 1, 0, 0), 0);
    EXPECT_EQ(get(CAPPED + 1).cap, 0u);
}
