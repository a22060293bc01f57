#include "platform.hpp"

#include <arch/cpu.hpp>

#include "acpi.hpp"
#include "log.hpp"
#include "paging.hpp"

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
