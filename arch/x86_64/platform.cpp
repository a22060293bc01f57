#include "platform.hpp"

#include <arch/cpu.hpp>

#include "acpi.hpp"
#include "host_platform.hpp"
#include "log.hpp"
#include "paging.hpp"
#include "percpu.hpp"

namespace platform {

namespace {

constexpr uint16_t SLP_EN = 1u << 13;
constexpr unsigned SLP_TYP_SHIFT = 10;
constexpr uint8_t SPACE_SYSTEM_MEMORY = 0;
constexpr uint8_t SPACE_SYSTEM_IO = 1;
constexpr uint16_t KBC_STATUS = 0x64;
constexpr uint8_t KBC_PULSE_RESET = 0xfe;

bool have_acpi;
acpi::GenericAddress pm1a_cnt, pm1b_cnt, reset_reg;
bool have_s5, reset_supported;
uint8_t slp_typa, slp_typb, reset_value;
uint16_t exit_port;
bool no_reboot;
const acpi::Platform* acpi_platform;
bool booted_by_bios;
uint8_t bios_kbd_flags;

void write_register(const acpi::GenericAddress& r, uint32_t v) {
    if (r.address == 0) return;
    if (r.space_id == SPACE_SYSTEM_IO) {
        if (r.bit_width == 8) arch::outb(uint16_t(r.address), uint8_t(v));
        else arch::outw(uint16_t(r.address), uint16_t(v));
    } else if (r.space_id == SPACE_SYSTEM_MEMORY) {
        auto* p = static_cast<volatile uint16_t*>(paging::map_io(Paddr(r.address), 2, paging::Cache::uncached));
        *p = uint16_t(v);
    }
}

void wait_ms(unsigned ms) {
    // Cheap delay that does not rely on calibration: port 0x80 writes take about 1 us.
    for (unsigned i = 0; i < ms * 1000; ++i) arch::outb(0x80, 0);
}

}  // namespace

void set_acpi(const acpi::Platform& p) {
    acpi_platform = &p;
    have_acpi = p.has_fadt;
    pm1a_cnt = p.pm1a_cnt;
    pm1b_cnt = p.pm1b_cnt;
    have_s5 = p.has_s5;
    slp_typa = p.slp_typa;
    slp_typb = p.slp_typb;
    reset_supported = p.reset_supported;
    reset_reg = p.reset_reg;
    reset_value = p.reset_value;
}

void set_firmware(bool bios) {
    booted_by_bios = bios;
    // The BIOS data area's keyboard flag byte, taken at boot while it is surely the BIOS's.
    // The first MiB is not in the direct map: mapped for the one read.
    if (bios) bios_kbd_flags = *static_cast<const volatile uint8_t*>(paging::map_io(Paddr(0x417), 1, paging::Cache::uncached));
}

void set_debug_exit_port(uint16_t port) { exit_port = port; }
void set_noreboot(bool on) { no_reboot = on; }
bool noreboot() { return no_reboot; }

void debug_exit(uint8_t code) {
    if (exit_port) arch::outl(exit_port, code);
}

void poweroff() {
    arch::interrupts_off();
    if (have_acpi && have_s5) {
        log::info("powering off (ACPI S5)");
        write_register(pm1a_cnt, uint32_t(slp_typa) << SLP_TYP_SHIFT | SLP_EN);
        write_register(pm1b_cnt, uint32_t(slp_typb) << SLP_TYP_SHIFT | SLP_EN);
        wait_ms(100);
    }
    log::error("ACPI poweroff unavailable or failed: halting");
    arch::halt_forever();
}

void reboot() {
    arch::interrupts_off();
    log::info("rebooting");
    if (have_acpi && reset_supported) {
        write_register(reset_reg, reset_value);
        wait_ms(50);
    }
    arch::outb(KBC_STATUS, KBC_PULSE_RESET);
    wait_ms(50);
    // Last resort: a triple fault through an empty IDT.
    struct [[gnu::packed]] {
        uint16_t limit;
        uint64_t base;
    } empty{0, 0};
    asm volatile("lidt %0; int3" ::"m"(empty));
    arch::halt_forever();
}

}  // namespace platform

namespace host_platform {

Cpu cpu(uint32_t index) {
    arch::PerCpu* p = index < arch::MAX_CPUS ? arch::percpu_of(CpuId(index)) : nullptr;
    if (!p) return Cpu{false, false, 0, 0};
    uint32_t acpi_id = 0;
    if (platform::acpi_platform)
        for (size_t i = 0; i < platform::acpi_platform->cpu_count; ++i)
            if (platform::acpi_platform->cpus[i].apic_id == p->apic_id) acpi_id = platform::acpi_platform->cpus[i].uid;
    return Cpu{true, p->online.load(), p->apic_id, acpi_id};
}

uint32_t max_present() {
    uint32_t last = 0;
    for (uint32_t i = 0; i < arch::MAX_CPUS; ++i)
        if (arch::percpu_of(CpuId(i))) last = i;
    return last;
}

CpuVersion cpu_version() {
    CpuVersion v{};
    auto leaf0 = arch::cpuid(0);
    const uint32_t words[3] = {leaf0.ebx, leaf0.edx, leaf0.ecx};
    for (unsigned i = 0; i < 12; ++i) v.vendor[i] = char(words[i / 4] >> (8 * (i % 4)));
    arch::CpuSignature sig = arch::cpu_signature();
    v.family = sig.family;
    v.model = sig.model;
    v.stepping = sig.stepping;
    return v;
}

bool acpi_pm1a_present() { return platform::have_acpi && platform::pm1a_cnt.address != 0; }

bool kbd_shift_flags(uint8_t& flags) {
    flags = platform::bios_kbd_flags;
    return platform::booted_by_bios;
}

}  // namespace host_platform
