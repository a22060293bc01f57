// bench_micro: the PV paths tools/bench micro times, the same binary on Kestrel and on Xen 4.17.
// Each path runs ITERATIONS times, each timed with the TSC; the kernel prints one line per path,
//     BENCH <path> <median ns> <min ns> <max ns>
// (ns from the TSC rate the hypervisor's CPUID leaf gives), then its TESTs' result line. Under
// QEMU's -icount the TSC counts guest instructions, so a figure is a path length in
// guest-visible time. The TESTs also check that every path did what it should, so that a path
// that fails fast cannot pass for a fast one.
#include <xen/errno.h>
#include <xen/event_channel.h>
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
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

constexpr unsigned ITERATIONS = 1000;
constexpr unsigned BATCH = 512;

std::uint64_t samples[ITERATIONS];

// Sorts the samples (insertion sort: a thousand values, once per path) and prints the line.
void report(const char* path)
{
    for (unsigned i = 1; i < ITERATIONS; ++i)
        for (unsigned j = i; j > 0 && samples[j - 1] > samples[j]; --j) {
            const std::uint64_t t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    const std::uint64_t khz = kt::tsc_khz();
    auto ns = [khz](std::uint64_t ticks) { return ticks * 1'000'000 / khz; };
    kt::print("BENCH {} {} {} {}\n", path, ns(samples[ITERATIONS / 2]), ns(samples[0]), ns(samples[ITERATIONS - 1]));
}

// Times `body` ITERATIONS times; false as soon as one run reports failure.
template <typename F> bool measure(const char* path, F body)
{
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

// From the machine's reset (where the TSC starts) to this kernel's first instruction: firmware,
// boot loader, the hypervisor's start and the construction of this domain.
TEST(reset_to_dom0_entry)
{
    const std::uint64_t ns = kt_entry_tsc * 1'000'000 / kt::tsc_khz();
    kt::print("BENCH reset_to_dom0_entry {} {} {}\n", ns, ns, ns);
    EXPECT_GT(kt_entry_tsc, 0u);
}

TEST(null_hypercall)
{
    EXPECT_TRUE(measure("null_hypercall", [] { return kt::xen_version(XENVER_version, nullptr) > 0; }));
}

TEST(console_write_64_bytes)
{
    static const char line[65] = "bench: 64 bytes through console_io, one line per iteration.....\n";
    static_assert(sizeof line == 65);  // 64 bytes and the terminator, which is not written
    EXPECT_TRUE(measure("console_write_64", [] { return kt::console_write(line, 64) == 0; }));
}

TEST(trap_bounce_int3)
{
    kt::install_default_traps();
    EXPECT_TRUE(measure("trap_bounce_int3", [] {
        kt::TrapRecord r;
        return kt::catch_trap([] { asm volatile("int3"); }, r) == kt::caught_trap && r.vector == 3;
    }));
}

std::uint64_t user_returns(std::uint64_t arg) { return arg + 1; }

TEST(guest_user_syscall)
{
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
    kt::shared_info()->evtchn_pending[loop_b / 64] &= ~(1ull << (loop_b % 64));  // a new port starts pending
    kt::vcpu0()->evtchn_upcall_pending = 0;
    kt::vcpu0()->evtchn_pending_sel = 0;
    EXPECT_TRUE(measure("event_send_self_upcall", send_and_take_upcall));
}

// With bench.hold=<seconds> on the command line, the kernel idles that long once its paths are
// measured, so that the harness can ask each hypervisor for its memory report meanwhile.
TEST(hold_for_the_memory_report)
{
    std::uint64_t seconds = 0;
    const char* line = reinterpret_cast<const char*>(kt::start_info()->cmd_line);
    if (!kt::cmdline_number(line, "bench.hold", &seconds)) return;
    kt::print("BENCH holding for {} s\n", seconds);
    kt::sleep_ms(seconds * 1000);
}

} // namespace
