#include "lapic.hpp"

#include <arch/cpu.hpp>
#include <arch/cpuid_bits.hpp>
#include <arch/msr.hpp>
#include <arch/vectors.hpp>

#include "log.hpp"
#include "paging.hpp"
#include "tsc.hpp"

namespace lapic {

namespace {

using kstd::bit;

// Register offsets in the xAPIC page; x2APIC MSR = 0x800 + offset / 16.
enum Reg : uint32_t {
    ID = 0x20,
    VERSION = 0x30,
    TPR = 0x80,
    PPR = 0xa0,
    ISR_BASE = 0x100,  // eight 32-bit registers, 0x10 apart
    IRR_BASE = 0x200,
    EOI = 0xb0,
    SVR = 0xf0,
    ESR = 0x280,
    ICR_LOW = 0x300,
    ICR_HIGH = 0x310,
    LVT_TIMER = 0x320,
    LVT_THERMAL = 0x330,
    LVT_PERF = 0x340,
    LVT_LINT0 = 0x350,
    LVT_LINT1 = 0x360,
    LVT_ERROR = 0x370,
    TIMER_INITIAL = 0x380,
    TIMER_CURRENT = 0x390,
    TIMER_DIVIDE = 0x3e0,
};

constexpr uint32_t SVR_ENABLE = bit(8);
constexpr uint32_t LVT_MASKED = bit(16);
constexpr uint32_t LVT_TIMER_TSC_DEADLINE = 2u << 17;
constexpr uint32_t ICR_DELIVERY_PENDING = bit(12);
constexpr uint32_t ICR_LEVEL_ASSERT = bit(14);
constexpr uint32_t ICR_MODE_NMI = 4u << 8;
constexpr uint32_t ICR_MODE_INIT = 5u << 8;
constexpr uint32_t ICR_MODE_STARTUP = 6u << 8;
constexpr uint32_t TIMER_DIVIDE_BY_1 = 0xb;

bool use_x2apic;
bool use_deadline;
volatile uint32_t* mmio;
uint64_t timer_ticks_per_tsc_q32;  // LAPIC timer ticks per TSC tick, 32.32 fixed point

uint32_t read(Reg r) {
    if (use_x2apic) return uint32_t(arch::rdmsr(msr::X2APIC_BASE + (r >> 4)));
    return mmio[r / 4];
}

void write(Reg r, uint32_t v) {
    if (use_x2apic) arch::wrmsr(msr::X2APIC_BASE + (r >> 4), v);
    else mmio[r / 4] = v;
}

// The timer's mode is set once per CPU (after the APIC is software-enabled: before that the
// LVT mask bit cannot be cleared), so that arming it is a single register write. Under QEMU
// TCG every LAPIC access is an exit to the device model, and QEMU 7.2 can crash when one
// races with another CPU changing the memory map (see tools/boottest.py): fewer is better.
void set_timer_mode() {
    if (use_deadline) {
        write(LVT_TIMER, LVT_TIMER_TSC_DEADLINE | vectors::TIMER);
        return;
    }
    write(TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
    write(TIMER_INITIAL, 0);              // stopped
    write(LVT_TIMER, vectors::TIMER);     // one-shot, unmasked
}

void send_icr(uint32_t apic_id, uint32_t low) {
    if (use_x2apic) {
        // x2APIC: one 64-bit write, destination in the high half; no busy bit to poll.
        arch::wrmsr(msr::X2APIC_BASE + (ICR_LOW >> 4), (uint64_t{apic_id} << 32) | low);
        return;
    }
    write(ICR_HIGH, apic_id << 24);
    write(ICR_LOW, low);
    for (unsigned i = 0; i < 1000000 && (read(ICR_LOW) & ICR_DELIVERY_PENDING); ++i) arch::cpu_relax();
}

}  // namespace

void init_global(Paddr mmio_base) {
    auto leaf1 = arch::cpuid(1);
    use_x2apic = leaf1.ecx & cpuid_bits::L1C_X2APIC;
    use_deadline = leaf1.ecx & cpuid_bits::L1C_TSC_DEADLINE;
    if (!use_x2apic) mmio = static_cast<volatile uint32_t*>(paging::map_io(mmio_base, PAGE_SIZE, paging::Cache::uncached));
    log::info("local APIC: {} mode, timer in {} mode", use_x2apic ? "x2APIC" : "xAPIC",
              use_deadline ? "TSC-deadline" : "one-shot");
}

void init_cpu() {
    uint64_t base = arch::rdmsr(msr::IA32_APIC_BASE) | msr::APIC_BASE_EN;
    if (use_x2apic) base |= msr::APIC_BASE_EXTD;
    arch::wrmsr(msr::IA32_APIC_BASE, base);
    write(TPR, 0);
    write(LVT_TIMER, LVT_MASKED | vectors::TIMER);
    write(LVT_LINT0, LVT_MASKED);
    write(LVT_LINT1, LVT_MASKED);
    write(LVT_ERROR, vectors::APIC_ERROR);
    if (((read(VERSION) >> 16) & 0xff) >= 4) write(LVT_PERF, LVT_MASKED);
    if (((read(VERSION) >> 16) & 0xff) >= 5) write(LVT_THERMAL, LVT_MASKED);
    write(ESR, 0);
    write(SVR, SVR_ENABLE | vectors::SPURIOUS);
    write(EOI, 0);
    set_timer_mode();
}

bool x2apic_mode() { return use_x2apic; }
bool tsc_deadline_mode() { return use_deadline; }

uint32_t id() { return use_x2apic ? read(ID) : read(ID) >> 24; }

namespace {
// The highest vector set in a 256-bit register bank, or -1.
int highest(Reg base) {
    for (int i = 7; i >= 0; --i)
        if (uint32_t bits = read(Reg(base + 0x10 * i))) return i * 32 + 31 - __builtin_clz(bits);
    return -1;
}
}  // namespace

void log_state() {
    log::error("  local APIC: TPR {:#x} PPR {:#x}, highest in service {}, highest requested {}, timer {:#x}/{:#x}",
               read(TPR), read(PPR), highest(ISR_BASE), highest(IRR_BASE), read(TIMER_CURRENT), read(LVT_TIMER));
}

void eoi() { write(EOI, 0); }

void send_ipi(uint32_t apic_id, uint8_t vector) { send_icr(apic_id, vector); }
void send_nmi(uint32_t apic_id) { send_icr(apic_id, ICR_MODE_NMI | ICR_LEVEL_ASSERT); }
void send_init(uint32_t apic_id) { send_icr(apic_id, ICR_MODE_INIT | ICR_LEVEL_ASSERT); }
void send_startup(uint32_t apic_id, Paddr trampoline) {
    send_icr(apic_id, ICR_MODE_STARTUP | uint32_t(trampoline.raw() >> PAGE_SHIFT));
}

void calibrate_timer() {
    if (use_deadline) return;
    write(TIMER_DIVIDE, TIMER_DIVIDE_BY_1);
    write(LVT_TIMER, LVT_MASKED | vectors::TIMER);
    uint64_t window = tsc::ns_to_ticks(10'000'000);
    write(TIMER_INITIAL, 0xffffffff);
    uint64_t t0 = arch::rdtsc();
    while (arch::rdtsc() - t0 < window) arch::cpu_relax();
    uint32_t elapsed = 0xffffffff - read(TIMER_CURRENT);
    uint64_t tsc = arch::rdtsc() - t0;
    set_timer_mode();
    timer_ticks_per_tsc_q32 = (uint64_t(elapsed) << 32) / (tsc ? tsc : 1);
    if (timer_ticks_per_tsc_q32 == 0) timer_ticks_per_tsc_q32 = 1;
    log::info("local APIC timer: {} kHz", (uint64_t(elapsed) * 1000000) / (tsc::ticks_to_ns(tsc) ? tsc::ticks_to_ns(tsc) : 1));
}

void arm_timer(uint64_t tsc_deadline) {
    if (use_deadline) {
        arch::wrmsr(msr::IA32_TSC_DEADLINE, tsc_deadline ? tsc_deadline : 1);
        return;
    }
    uint64_t now = arch::rdtsc();
    uint64_t delta = tsc_deadline > now ? tsc_deadline - now : 0;
    unsigned __int128 ticks = (static_cast<unsigned __int128>(delta) * timer_ticks_per_tsc_q32) >> 32;
    uint32_t count = ticks == 0 ? 1 : ticks > 0xffffffffu ? 0xffffffffu : uint32_t(ticks);
    write(TIMER_INITIAL, count);
}

void stop_timer() {
    if (use_deadline) arch::wrmsr(msr::IA32_TSC_DEADLINE, 0);
    else write(TIMER_INITIAL, 0);
}

}  // namespace lapic
