// bench_micro: the PV paths tools/bench micro times, the same binary on Kestrel and on Xen 4.17.
// Each path runs ITERATIONS times, each timed with the TSC; the kernel prints one line per path,
//     BENCH <path> <median ns> <min ns> <max ns>
// (ns from the TSC rate the hypervisor's CPUID leaf gives), then its TESTs' result line. Under
// QEMU's -icount the TSC counts guest instructions, so a figure is a path length in
// guest-visible time. The TESTs also check that every path did what it should, so that a path
// that fails fast cannot pass for a fast one.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/clock.hpp"
#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/events.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/lib.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/toolstack.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

constexpr unsigned ITERATIONS = 1000;
constexpr unsigned BATCH = 512;

std::uint64_t samples[ITERATIONS];

// Sorts the first n samples (insertion sort: a thousand values, once per path) and prints the line.
void report(const char* path, unsigned n = ITERATIONS)
{
    for (unsigned i = 1; i < n; ++i)
        for (unsigned j = i; j > 0 && samples[j - 1] > samples[j]; --j) {
            const std::uint64_t t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    const std::uint64_t khz = kt::tsc_khz();
    auto ns = [khz](std::uint64_t ticks) { return ticks * 1'000'000 / khz; };
    kt::print("BENCH {} {} {} {}\n", path, ns(samples[n / 2]), ns(samples[0]), ns(samples[n - 1]));
}

// "bench.only=<path>" on the command line times that path alone (for profiling one path with
// QEMU's execution log); the others are skipped, and pass.
bool skipped(const char* path)
{
    static const char key[] = "bench.only=";
    for (const char* w = kt::command_line(); *w != '\0'; ++w) {
        if ((w != kt::command_line() && w[-1] != ' ') || !kt::starts_with(w, key)) continue;
        const char* v = w + sizeof key - 1;
        const std::size_t n = kt::strlen(path);
        return !(kt::strncmp(v, path, n) == 0 && (v[n] == ' ' || v[n] == '\0'));
    }
    return false;
}

// Times `body` ITERATIONS times; false as soon as one run reports failure.
template <typename F> bool measure(const char* path, F body)
{
    if (skipped(path)) return true;
    for (unsigned i = 0; i < ITERATIONS; ++i) {
        const std::uint64_t t0 = kt::rdtsc();
        const bool ok = body();
        const std::uint64_t t1 = kt::rdtsc();
        if (!ok) return false;
        samples[i] = t1 - t0;
    }
    report(path);
    return true;
}

// "bench.pair" on the command line selects the paths between two domains (run on two CPUs, with
// the kernel itself as its initrd for the second domain); the others run without it.
bool pair_run() { return kt::has_word(kt::command_line(), "bench.pair"); }

// From the machine's reset (where the TSC starts) to this kernel's first instruction: firmware,
// boot loader, the hypervisor's start and the construction of this domain.
TEST(reset_to_dom0_entry)
{
    if (pair_run()) return;
    const std::uint64_t ns = kt_entry_tsc * 1'000'000 / kt::tsc_khz();
    kt::print("BENCH reset_to_dom0_entry {} {} {}\n", ns, ns, ns);
    EXPECT_GT(kt_entry_tsc, 0u);
}

TEST(null_hypercall)
{
    if (pair_run()) return;
    EXPECT_TRUE(measure("null_hypercall", [] { return kt::xen_version(XENVER_version, nullptr) > 0; }));
}

TEST(console_write_64_bytes)
{
    if (pair_run()) return;
    static const char line[65] = "bench: 64 bytes through console_io, one line per iteration.....\n";
    static_assert(sizeof line == 65);  // 64 bytes and the terminator, which is not written
    EXPECT_TRUE(measure("console_write_64", [] { return kt::console_write(line, 64) == 0; }));
}

TEST(trap_bounce_int3)
{
    if (pair_run()) return;
    kt::install_default_traps();
    EXPECT_TRUE(measure("trap_bounce_int3", [] {
        kt::TrapRecord r;
        return kt::catch_trap([] { asm volatile("int3"); }, r) == kt::caught_trap && r.vector == 3;
    }));
}

std::uint64_t user_returns(std::uint64_t arg) { return arg + 1; }

TEST(guest_user_syscall)
{
    if (pair_run()) return;
    ASSERT_TRUE(kt::user_mode_init());
    EXPECT_TRUE(measure("user_syscall_round_trip", [] {
        const kt::UserRun run = kt::run_user(user_returns, 41);
        return run.how == kt::caught_syscall && run.value == 42;
    }));
}

alignas(4096) std::uint8_t pages[BATCH][4096];

long mmu_update(mmu_update_t* reqs, unsigned count)
{
    unsigned done = 0;
    const long rc = kt::hypercall(__HYPERVISOR_mmu_update, kt::arg(reqs), count, kt::arg(&done), DOMID_SELF);
    return rc == 0 && done == count ? 0 : -1;
}

mmu_update_t batch[BATCH];

TEST(page_table_updates)
{
    if (pair_run()) return;
    // Each request writes an L1 entry's current value back: full validation, no change.
    for (unsigned i = 0; i < BATCH; ++i) {
        pages[i][0] = 1;  // touched, so that the entry is accessed and dirty already
        batch[i].ptr = kt::l1e_maddr(pages[i]) | MMU_NORMAL_PT_UPDATE;
        batch[i].val = kt::read_entry(kt::l1e_maddr(pages[i]));
    }
    EXPECT_TRUE(measure("mmu_update_1", [] { return mmu_update(batch, 1) == 0; }));
    EXPECT_TRUE(measure("mmu_update_batch_512", [] { return mmu_update(batch, BATCH) == 0; }));
    const std::uint64_t va = reinterpret_cast<std::uint64_t>(pages[0]);
    EXPECT_TRUE(measure("update_va_mapping_invlpg",
                        [va] { return kt::update_va_mapping(va, batch[0].val, UVMF_INVLPG | UVMF_LOCAL) == 0; }));
}

// A small tree to pin: an L4 whose first slot holds an L3, whose first holds an L2, whose
// first holds an empty L1. Page tables must be read-only in the guest's own mappings.
alignas(4096) std::uint64_t tree[4][512];

bool make_read_only(void* p)
{
    const std::uint64_t pte = kt::read_entry(kt::l1e_maddr(p)) & ~kt::pte_rw;
    return kt::update_va_mapping(reinterpret_cast<std::uint64_t>(p), pte, UVMF_INVLPG | UVMF_LOCAL) == 0;
}

TEST(pin_and_unpin_an_l4)
{
    if (pair_run()) return;
    for (unsigned level = 0; level < 3; ++level)
        tree[level][0] = (kt::virt_to_mfn(tree[level + 1]) << 12) | kt::pte_present | kt::pte_rw | kt::pte_user;
    for (auto& table : tree) ASSERT_TRUE(make_read_only(table));
    const std::uint64_t l4 = kt::virt_to_mfn(tree[0]);
    EXPECT_TRUE(measure("pin_unpin_l4_tree", [l4] {
        return kt::mmuext_mfn(MMUEXT_PIN_L4_TABLE, l4) == 0 && kt::mmuext_mfn(MMUEXT_UNPIN_TABLE, l4) == 0;
    }));
}

evtchn_port_t loop_a, loop_b;

bool send_and_take_upcall()
{
    const std::uint64_t before = kt_event_count;
    evtchn_send_t s{loop_b};
    kt::vcpu0()->evtchn_upcall_mask = 0;  // the upcall comes on the way back from the send
    const long rc = kt::evtchn_op(EVTCHNOP_send, &s);
    kt::vcpu0()->evtchn_upcall_mask = 1;
    kt::shared_info()->evtchn_pending[loop_a / 64] &= ~(1ull << (loop_a % 64));
    kt::vcpu0()->evtchn_pending_sel = 0;
    return rc == 0 && kt_event_count == before + 1;
}

TEST(event_send_to_self_with_upcall)
{
    if (pair_run()) return;
    ASSERT_TRUE(kt::install_counting_event_callback());
    evtchn_alloc_unbound_t a{};
    a.dom = DOMID_SELF;
    a.remote_dom = DOMID_SELF;
    ASSERT_EQ(kt::evtchn_op(EVTCHNOP_alloc_unbound, &a), 0);
    evtchn_bind_interdomain_t b{};
    b.remote_dom = DOMID_SELF;
    b.remote_port = a.port;
    ASSERT_EQ(kt::evtchn_op(EVTCHNOP_bind_interdomain, &b), 0);
    loop_a = a.port;
    loop_b = b.local_port;
    kt::clear_pending(loop_b);  // a new port starts pending
    kt::vcpu0()->evtchn_upcall_pending = 0;
    kt::vcpu0()->evtchn_pending_sel = 0;
    EXPECT_TRUE(measure("event_send_self_upcall", send_and_take_upcall));
}

// Between two domains: this kernel as dom0 builds a second copy of itself (its initrd) with the
// miniature toolstack; the copy binds to the port dom0 offers, says hello and then echoes
// every event back (bench.echo), yields forever (bench.yield) or waits forever (bench.idle).
constexpr std::uint64_t PEER_PAGES = 1024;  // 4 MiB
constexpr std::uint64_t SECOND = 1'000'000'000;
// Domain builds timed: bench.builds=<n> on the command line (tools/bench asks for ITERATIONS),
// else a few, so that the check's functional run stays short.
unsigned builds()
{
    std::uint64_t n = 5;
    (void)kt::cmdline_number(kt::command_line(), "bench.builds", &n);
    return n < 1 ? 1 : n > ITERATIONS ? ITERATIONS : unsigned(n);
}

struct Peer {
    kt::BuiltDomain domain;
    evtchn_port_t port = 0;
    std::uint64_t hello_tsc = 0;  // when its hello arrived
};

// Written by the peer before its hello: TSC ticks from its first instruction to the hello.
// (Its TSC need not be ours: Xen starts a new domain's TSC near zero.)
std::uint64_t peer_startup_ticks;

// Builds and starts the peer with vCPU 0 on `cpu` (dom0 stays on CPU 0); true once its hello
// has arrived.
bool start_peer(const char* mode, unsigned cpu, Peer& peer, unsigned vcpus = 1)
{
    kt::DomainSpec spec = kt::spec_from_initrd(PEER_PAGES, mode);
    spec.vcpus = vcpus;
    spec.cpu = int(cpu);
    if (kt::pin_vcpu(0, 0, 0) != 0 || kt::build_domain(spec, peer.domain) != 0) return false;
    peer.port = kt::offer_port(peer.domain.id);
    if (peer.port == 0) return false;
    if (kt::unpause_domain(peer.domain.id) != 0) return false;
    const bool hello = kt::poll(peer.port, kt::system_time_ns() + 10 * SECOND) == 0 && kt::pending(peer.port);
    peer.hello_tsc = kt::rdtsc();
    kt::clear_pending(peer.port);
    return hello;
}

bool stop_peer(Peer& peer)
{
    evtchn_close_t c{};
    c.port = peer.port;
    return kt::destroy_domain(peer.domain.id) == 0 && kt::evtchn_op(EVTCHNOP_close, &c) == 0;
}

void ping_pong(const char* path, unsigned peer_cpu)
{
    if (skipped(path)) return;
    Peer peer;
    ASSERT_TRUE(start_peer("bench_micro kt.peer bench.echo", peer_cpu, peer));
    const evtchn_port_t port = peer.port;
    EXPECT_TRUE(measure(path, [port] {
        if (kt::send(port) != 0) return false;
        while (!kt::pending(port))
            if (kt::poll(port, kt::system_time_ns() + SECOND) != 0) return false;
        kt::clear_pending(port);
        return true;
    }));
    EXPECT_TRUE(stop_peer(peer));
}

TEST(interdomain_ping_pong_one_cpu)
{
    if (pair_run()) ping_pong("event_ping_pong_1cpu", 0);
}

TEST(interdomain_ping_pong_two_cpus)
{
    if (pair_run()) ping_pong("event_ping_pong_2cpu", 1);
}

// Each iteration is dom0's yield, the peer's turn (its own yield) and the way back: two
// switches between domains.
TEST(yield_between_two_domains_one_cpu)
{
    if (!pair_run() || skipped("sched_yield_2dom_1cpu")) return;
    Peer peer;
    ASSERT_TRUE(start_peer("bench_micro kt.peer bench.yield", 0, peer));
    EXPECT_TRUE(measure("sched_yield_2dom_1cpu", [] { return kt::sched_op(SCHEDOP_yield, nullptr) == 0; }));
    EXPECT_TRUE(stop_peer(peer));
}

// From the toolstack's first call to the new domain's first instruction: creating, populating
// 4 MiB, filling the frames, pinning, starting. Taken as the time to the peer's hello less the
// peer's own time from its first instruction to the hello (read from its memory).
TEST(domain_build_to_first_instruction)
{
    if (!pair_run() || skipped("domain_build_4mib")) return;
    const unsigned n = builds();
    for (unsigned i = 0; i < n; ++i) {
        Peer peer;
        const std::uint64_t t0 = kt::rdtsc();
        ASSERT_TRUE(start_peer("bench_micro kt.peer", 0, peer));
        std::uint64_t startup = 0;
        ASSERT_TRUE(kt::peek_built_domain(reinterpret_cast<std::uint64_t>(&peer_startup_ticks), &startup, sizeof startup));
        EXPECT_GT(startup, 0u);
        EXPECT_LT(startup, peer.hello_tsc - t0);
        samples[i] = peer.hello_tsc - t0 - startup;
        EXPECT_TRUE(stop_peer(peer));
    }
    report("domain_build_4mib", n);
}

// With bench.hold=<seconds> on the command line, the kernel idles that long once its paths are
// measured ("BENCH holding 0"), so that the harness can ask the hypervisor for its memory report
// meanwhile; with bench.pair as well it then starts an idle peer with one vCPU and holds again
// (1), then a second one with two vCPUs (2): the differences are a domain's and a vCPU's cost.
TEST(hold_for_the_memory_reports)
{
    std::uint64_t seconds = 0;
    if (!kt::cmdline_number(kt::command_line(), "bench.hold", &seconds)) return;
    Peer peers[2];
    for (unsigned stage = 0; stage < (pair_run() ? 3u : 1u); ++stage) {
        if (stage > 0) ASSERT_TRUE(start_peer("bench_micro kt.peer bench.idle", 0, peers[stage - 1], stage));
        kt::print("BENCH holding {} for {} s\n", stage, seconds);
        kt::sleep_ms(seconds * 1000);
    }
    for (unsigned i = 0; pair_run() && i < 2; ++i) EXPECT_TRUE(stop_peer(peers[i]));
}

} // namespace

// The peer's side (see start_peer).
extern "C" void kt_peer_main(const char* line)
{
    const evtchn_port_t port = kt::bind_offered_port(0);
    if (port == 0) return;
    peer_startup_ticks = kt::rdtsc() - kt_entry_tsc;
    if (kt::send(port) != 0) return;
    if (kt::has_word(line, "bench.echo"))
        for (;;) {
            while (!kt::pending(port)) kt::poll(port);
            kt::clear_pending(port);
            kt::send(port);
        }
    if (kt::has_word(line, "bench.yield"))
        for (;;) kt::sched_op(SCHEDOP_yield, nullptr);
    if (kt::has_word(line, "bench.idle"))
        for (;;) kt::poll(port);
}
