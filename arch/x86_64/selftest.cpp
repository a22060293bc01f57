#include "selftest.hpp"

#include <arch/cpu.hpp>

#include "cmdline.hpp"
#include "log.hpp"
#include "memory.hpp"
#include "percpu.hpp"
#include "platform.hpp"
#include "smp.hpp"
#include "timer.hpp"
#include "tsc.hpp"

namespace selftest {

namespace {

unsigned passed, failed;

void check(bool ok, const char* what) {
    if (ok) ++passed;
    else ++failed;
    log::info("selftest: {} {}", ok ? "PASS" : "FAIL", what);
}

kstd::Atomic<uint32_t> answered[arch::MAX_CPUS];

void record_answer(void*) { answered[arch::this_cpu().id.raw()].fetch_add(1); }

bool every_online_cpu(auto pred) {
    for (unsigned i = 0; i < arch::MAX_CPUS; ++i) {
        arch::PerCpu* p = arch::percpu_of(CpuId(i));
        if (p && p->online.load() && !pred(i, *p)) return false;
    }
    return true;
}

void test_cross_calls() {
    smp::call_on_others(record_answer, nullptr);
    record_answer(nullptr);
    check(every_online_cpu([](unsigned i, arch::PerCpu&) { return answered[i].load() == 1; }),
          "every online CPU ran a broadcast cross-CPU call exactly once");
    bool ok = true;
    for (unsigned i = 1; i < arch::MAX_CPUS; ++i) {
        arch::PerCpu* p = arch::percpu_of(CpuId(i));
        if (!p || !p->online.load()) continue;
        smp::call_on(CpuId(i), record_answer, nullptr);
        ok = ok && answered[i].load() == 2;
    }
    check(ok, "a directed cross-CPU call reaches each CPU");
}

// Each CPU arms two timers out of order on its own queue; they must fire in deadline order.
struct TimerProbe {
    Timer early, late;
    kstd::Atomic<uint64_t> fired_early_ns{0}, fired_late_ns{0};
};
TimerProbe probes[arch::MAX_CPUS];

void on_early(Timer&, void* data) { static_cast<TimerProbe*>(data)->fired_early_ns.store(tsc::now_ns()); }
void on_late(Timer&, void* data) { static_cast<TimerProbe*>(data)->fired_late_ns.store(tsc::now_ns()); }

void arm_probe(void*) {
    TimerProbe& p = probes[arch::this_cpu().id.raw()];
    uint64_t now = tsc::now_ns();
    p.late.callback = on_late;
    p.late.data = &p;
    p.early.callback = on_early;
    p.early.data = &p;
    timer::arm(p.late, now + 30'000'000);
    timer::arm(p.early, now + 10'000'000);
}

void test_timers() {
    uint64_t start = tsc::now_ns();
    smp::call_on_others(arm_probe, nullptr);
    arm_probe(nullptr);
    // A deadline for a lost timer, not a measure: the loop ends as soon as every CPU's have
    // fired, and under emulation on a loaded host a CPU's thread may be stalled for a while.
    while (tsc::now_ns() - start < 10'000'000'000) {
        bool all = every_online_cpu([](unsigned i, arch::PerCpu&) { return probes[i].fired_late_ns.load() != 0; });
        if (all) break;
        arch::cpu_relax();  // not hlt: once this CPU's own timers have fired, nothing would wake it
    }
    check(every_online_cpu([&](unsigned i, arch::PerCpu&) {
              uint64_t e = probes[i].fired_early_ns.load(), l = probes[i].fired_late_ns.load();
              return e != 0 && l != 0 && e >= start + 10'000'000 && l >= start + 30'000'000 && e <= l;
          }),
          "every CPU's local APIC timer fired its queue in deadline order, not early");
}

void test_frame_allocator() {
    FrameAllocator& f = memory::frames();
    uint64_t before = f.free_frames();
    Mfn blocks[16];
    bool ok = true;
    for (unsigned i = 0; i < 16; ++i) {
        auto m = f.alloc(i % 10);
        ok = ok && m.has_value();
        blocks[i] = m ? *m : Mfn(0);
    }
    for (unsigned i = 0; i < 16; ++i)
        if (blocks[i].raw()) ok = f.free(blocks[i], i % 10).has_value() && ok;
    check(ok && f.free_frames() == before, "frame allocator: 16 blocks of orders 0-9 allocated and returned");
    constexpr uint64_t LOW_LIMIT = 16 * kstd::MiB;
    auto low = f.alloc(0, Paddr(LOW_LIMIT));
    check(low && mfn_to_paddr(*low).raw() < LOW_LIMIT, "frame allocator: a frame below 16 MiB on request");
    if (low) check(f.free(*low, 0).has_value(), "frame allocator: the low frame is returned");
    // The first MiB is I/O memory (DOMID_IO), as on Xen: the allocator has none of it.
    auto first_mib = f.alloc(0, Paddr(kstd::MiB));
    check(!first_mib, "frame allocator: no frame of the first MiB");
    if (first_mib) (void)f.free(*first_mib, 0);
    check(!f.free(Mfn(1), 3).has_value(), "frame allocator: freeing a block it never handed out is refused");
}

}  // namespace

void run_and_power_off(const Options&) {
    test_cross_calls();
    test_timers();
    test_frame_allocator();
    log::info("selftest: {} passed, {} failed", passed, failed);
    if (failed) {
        platform::debug_exit(1);
        arch::halt_forever();
    }
    platform::poweroff();
}

}  // namespace selftest
