// AP start-up follows the INIT, SIPI, SIPI sequence with the usual delays, one CPU at a time,
// so the trampoline page and its patched fields are shared by all APs. Cross-CPU calls are
// serialized by one lock; a CPU waiting for that lock keeps answering calls aimed at it, so
// two CPUs calling each other cannot deadlock.
#include "smp.hpp"

#include "spinlock.hpp"

#include <arch/cpu.hpp>
#include <arch/cpuid_bits.hpp>
#include <arch/layout.hpp>
#include <arch/msr.hpp>
#include <arch/vectors.hpp>

#include "acpi.hpp"
#include "memory.hpp"
#include "object_cache.hpp"
#include "interrupts.hpp"
#include "lapic.hpp"
#include "log.hpp"
#include "paging.hpp"
#include "panic.hpp"
#include "percpu.hpp"
#include "guest_entry.hpp"
#include "scheduler.hpp"
#include "timer.hpp"
#include "tsc.hpp"

extern "C" char trampoline_start[], trampoline_end[];
extern "C" uint32_t tr_gdt_base[], tr_pm_target[], tr_lm_target[];
extern "C" uint64_t tr_cr3[], tr_efer[], tr_stack[], tr_entry[], tr_arg[];
extern "C" const uint64_t tr_ofs_protected, tr_ofs_long, tr_ofs_gdt, boot_pdpt_low_pa;

namespace smp {

namespace {

// As Linux waits for an AP: long, since an emulator on a loaded host may be slow to run the
// new CPU's thread, and the wait ends as soon as the AP checks in.
constexpr uint64_t AP_START_TIMEOUT_NS = 10'000'000'000;

struct CallRequest {
    CallFunction fn;
    void* arg;
    kstd::Atomic<unsigned> remaining;
};

Spinlock call_lock;
CallRequest* volatile call_slot[arch::MAX_CPUS];
kstd::Atomic<unsigned> online{1};

void delay_ns(uint64_t ns) {
    uint64_t end = tsc::now_ns() + ns;
    while (tsc::now_ns() < end) arch::cpu_relax();
}

// Runs the request aimed at this CPU, if any.
void run_pending_call() {
    unsigned self = arch::this_cpu().id.raw();
    CallRequest* r = call_slot[self];
    if (!r) return;
    call_slot[self] = nullptr;
    r->fn(r->arg);
    // Ordering: release pairs with the caller's acquire load of `remaining`.
    r->remaining.fetch_sub(1, kstd::MemoryOrder::release);
}

void call_ipi(arch::ExceptionFrame&) { run_pending_call(); }

void lock_calls() {
    while (!call_lock.try_lock()) {
        run_pending_call();
        arch::cpu_relax();
    }
}

void wait_for(CallRequest& r) {
    // Ordering: acquire pairs with the release decrement in run_pending_call().
    while (r.remaining.load(kstd::MemoryOrder::acquire) != 0) arch::cpu_relax();
}

// Per-CPU data of the APs comes from a typed object cache; created on first use, on the
// boot CPU, before any AP runs.
ObjectCache<arch::PerCpu>& percpu_cache() {
    static ObjectCache<arch::PerCpu> cache("percpu", memory::page_source());
    return cache;
}

// Maps the AP's stacks with a guard page below each and fills in its PerCpu.
arch::PerCpu* prepare_cpu(CpuId id, uint32_t apic_id) {
    arch::PerCpu* p = percpu_cache().create();
    if (!p) panic("out of memory for CPU{}'s per-CPU data", id);
    p->id = id;
    p->apic_id = apic_id;
    memory::setup_stacks(*p);
    uint64_t ist_tops[arch::ist::COUNT];
    for (unsigned i = 0; i < arch::ist::COUNT; ++i)
        ist_tops[i] = arch::ist_top_with_owner(p->ist_bottom[i] + layout::IST_STACK_SIZE, *p);
    arch::init_cpu_tables(p->tables, arch::prepare_gdt_area(id), ist_tops);
    arch::set_ring0_stack(p->tables, p->stack_top);
    p->guest_frame_top = p->stack_top;
    return p;
}

// Temporary root for the trampoline: the hypervisor half of the real tables, plus an
// identity map of the low 4 GiB for the instructions that switch modes.
Paddr make_trampoline_root() {
    Paddr root = memory::alloc_frame_below(Paddr(4 * kstd::GiB));
    auto* t = static_cast<uint64_t*>(paging::phys_to_virt(root));
    auto* real = static_cast<const uint64_t*>(paging::phys_to_virt(paging::root()));
    for (unsigned i = 0; i < 512; ++i) t[i] = i >= 256 ? real[i] : 0;
    t[0] = boot_pdpt_low_pa | 0x3;
    return root;
}

[[noreturn]] void ap_entry(arch::PerCpu* p);

void patch_trampoline(Paddr page, Paddr root) {
    auto* base = static_cast<char*>(paging::phys_to_virt(page));
    memcpy(base, trampoline_start, size_t(trampoline_end - trampoline_start));
    auto field = [&](auto* label) { return reinterpret_cast<decltype(label)>(base + (reinterpret_cast<char*>(label) - trampoline_start)); };
    uint32_t pa = uint32_t(page.raw());
    *field(tr_gdt_base) = pa + uint32_t(tr_ofs_gdt);
    *field(tr_pm_target) = pa + uint32_t(tr_ofs_protected);
    *field(tr_lm_target) = pa + uint32_t(tr_ofs_long);
    *field(tr_cr3) = root.raw();
    *field(tr_efer) = msr::EFER_LME | (arch::rdmsr(msr::IA32_EFER) & msr::EFER_NXE);
    *field(tr_entry) = reinterpret_cast<uint64_t>(&ap_entry);
}

bool start_cpu(Paddr page, arch::PerCpu& p) {
    auto* base = static_cast<char*>(paging::phys_to_virt(page));
    auto field = [&](uint64_t* label) { return reinterpret_cast<uint64_t*>(base + (reinterpret_cast<char*>(label) - trampoline_start)); };
    *field(tr_stack) = p.stack_top;
    *field(tr_arg) = reinterpret_cast<uint64_t>(&p);
    arch::percpu_register(p);
    lapic::send_init(p.apic_id);
    delay_ns(10'000'000);
    for (int sipi = 0; sipi < 2 && !p.online.load(); ++sipi) {
        lapic::send_startup(p.apic_id, page);
        delay_ns(200'000);
    }
    uint64_t deadline = tsc::now_ns() + AP_START_TIMEOUT_NS;
    while (!p.online.load() && tsc::now_ns() < deadline) arch::cpu_relax();
    return p.online.load();
}

[[noreturn]] void ap_entry(arch::PerCpu* p) {
    paging::activate();
    arch::load_cpu_tables(p->tables);
    arch::percpu_install(*p);
    guest_entry::init_cpu();
    lapic::init_cpu();
    timer::init_cpu();
    sched::init_cpu();
    online.fetch_add(1);
    p->online.store(true);
    log::debug("CPU{} online (APIC id {})", p->id, p->apic_id);
    arch::interrupts_on();
    sched::run();
}

}  // namespace

void init() {
    arch::set_interrupt_handler(vectors::CALL_FUNCTION, call_ipi);
}

unsigned boot_aps(const acpi::Platform& plat, unsigned max_cpus) {
    uint32_t self_apic = lapic::id();
    Paddr page = memory::low_page();
    patch_trampoline(page, make_trampoline_root());
    unsigned next_id = 1;
    for (size_t i = 0; i < plat.cpu_count; ++i) {
        const acpi::Cpu& c = plat.cpus[i];
        if (!c.enabled || c.apic_id == self_apic) continue;
        if ((max_cpus && next_id >= max_cpus) || next_id >= arch::MAX_CPUS) {
            log::info("maxcpus={}: leaving APIC id {} offline", max_cpus, c.apic_id);
            continue;
        }
        arch::PerCpu* p = prepare_cpu(CpuId(next_id), c.apic_id);
        if (!start_cpu(page, *p)) {
            log::error("CPU with APIC id {} did not come online", c.apic_id);
            continue;
        }
        ++next_id;
    }
    return online.load();
}

unsigned online_count() { return online.load(); }

void call_on(CpuId target, CallFunction fn, void* arg) {
    if (target == arch::this_cpu().id) {
        fn(arg);
        return;
    }
    arch::PerCpu* p = arch::percpu_of(target);
    KASSERT(p && p->online.load());
    CallRequest r{fn, arg, kstd::Atomic<unsigned>(1)};
    lock_calls();
    call_slot[target.raw()] = &r;
    lapic::send_ipi(p->apic_id, vectors::CALL_FUNCTION);
    wait_for(r);
    call_lock.unlock();
}

void call_on_others(CallFunction fn, void* arg) {
    CallRequest r{fn, arg, kstd::Atomic<unsigned>(0)};
    lock_calls();
    unsigned self = arch::this_cpu().id.raw();
    for (unsigned i = 0; i < arch::MAX_CPUS; ++i) {
        arch::PerCpu* p = arch::percpu_of(CpuId(i));
        if (!p || i == self || !p->online.load()) continue;
        r.remaining.fetch_add(1);
        call_slot[i] = &r;
        lapic::send_ipi(p->apic_id, vectors::CALL_FUNCTION);
    }
    wait_for(r);
    call_lock.unlock();
}

}  // namespace smp
