#include "ioapic.hpp"

#include <arch/cpu.hpp>
#include <arch/vectors.hpp>

#include "acpi.hpp"
#include "log.hpp"
#include "paging.hpp"

namespace ioapic {

namespace {

constexpr uint32_t REG_VERSION = 0x01;
constexpr uint32_t REG_REDIRECTION = 0x10;  // two 32-bit registers per input
constexpr uint32_t RTE_MASKED = 1u << 16;
constexpr uint32_t RTE_LEVEL = 1u << 15;
constexpr uint32_t RTE_ACTIVE_LOW = 1u << 13;

constexpr uint16_t PIC1_CMD = 0x20, PIC1_DATA = 0x21, PIC2_CMD = 0xa0, PIC2_DATA = 0xa1;

struct Window {
    volatile uint32_t* base;
    uint32_t read(uint32_t reg) const {
        base[0] = reg;     // IOREGSEL
        return base[4];    // IOWIN at +0x10
    }
    void write(uint32_t reg, uint32_t v) const {
        base[0] = reg;
        base[4] = v;
    }
};

struct Chip {
    Window window;
    uint64_t address;
    uint32_t gsi_base;
    uint32_t inputs;
};
Chip chips[acpi::MAX_IOAPICS];
size_t nr_chips;

// The chip and input of a GSI, or null.
const Chip* find(uint32_t gsi, uint32_t& pin) {
    for (size_t i = 0; i < nr_chips; ++i)
        if (gsi >= chips[i].gsi_base && gsi - chips[i].gsi_base < chips[i].inputs) {
            pin = gsi - chips[i].gsi_base;
            return &chips[i];
        }
    return nullptr;
}

}  // namespace

void mask_legacy_pic() {
    // Reinitialize to move the PIC's vectors off the exception range, then mask everything.
    arch::outb(PIC1_CMD, 0x11);
    arch::outb(PIC2_CMD, 0x11);
    arch::outb(PIC1_DATA, vectors::PIC_BASE);
    arch::outb(PIC2_DATA, vectors::PIC_BASE + 8);
    arch::outb(PIC1_DATA, 0x04);  // slave on IRQ2
    arch::outb(PIC2_DATA, 0x02);
    arch::outb(PIC1_DATA, 0x01);  // 8086 mode
    arch::outb(PIC2_DATA, 0x01);
    arch::outb(PIC1_DATA, 0xff);
    arch::outb(PIC2_DATA, 0xff);
}

unsigned init(const acpi::Platform& p) {
    unsigned total = 0;
    for (size_t i = 0; i < p.ioapic_count; ++i) {
        const acpi::IoApic& io = p.ioapics[i];
        Window w{static_cast<volatile uint32_t*>(paging::map_io(io.address, 0x20, paging::Cache::uncached))};
        unsigned inputs = ((w.read(REG_VERSION) >> 16) & 0xff) + 1;
        for (unsigned pin = 0; pin < inputs; ++pin) {
            w.write(REG_REDIRECTION + 2 * pin, RTE_MASKED);
            w.write(REG_REDIRECTION + 2 * pin + 1, 0);
        }
        log::info("I/O APIC {} at {:#x}: GSIs {}-{}, all masked", io.id, io.address, io.gsi_base,
                  io.gsi_base + inputs - 1);
        chips[nr_chips++] = Chip{w, io.address.raw(), io.gsi_base, inputs};
        total += inputs;
    }
    return total;
}

uint32_t gsi_limit() {
    uint32_t limit = 0;
    for (size_t i = 0; i < nr_chips; ++i)
        if (chips[i].gsi_base + chips[i].inputs > limit) limit = chips[i].gsi_base + chips[i].inputs;
    return limit;
}

bool set_route(uint32_t gsi, const Route& r) {
    uint32_t pin;
    const Chip* c = find(gsi, pin);
    if (!c) return false;
    uint32_t low = r.vector | (r.level ? RTE_LEVEL : 0) | (r.active_low ? RTE_ACTIVE_LOW : 0) | RTE_MASKED;
    // Masked while the halves change, so that no interrupt goes out half-programmed.
    c->window.write(REG_REDIRECTION + 2 * pin, RTE_MASKED);
    c->window.write(REG_REDIRECTION + 2 * pin + 1, uint32_t(r.dest_apic_id) << 24);
    c->window.write(REG_REDIRECTION + 2 * pin, r.masked ? low : low & ~RTE_MASKED);
    return true;
}

bool set_masked(uint32_t gsi, bool masked) {
    uint32_t pin;
    const Chip* c = find(gsi, pin);
    if (!c) return false;
    uint32_t low = c->window.read(REG_REDIRECTION + 2 * pin);
    c->window.write(REG_REDIRECTION + 2 * pin, masked ? low | RTE_MASKED : low & ~RTE_MASKED);
    return true;
}

bool read_register(Paddr base, uint32_t reg, uint32_t& value) {
    for (size_t i = 0; i < nr_chips; ++i)
        if (chips[i].address == base.raw()) {
            value = chips[i].window.read(reg);
            return true;
        }
    return false;
}

}  // namespace ioapic
