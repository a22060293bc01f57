#include "gsi_lines.hpp"

#include <arch/vectors.hpp>
#include <xen/errno.h>

#include "acpi.hpp"
#include "domain.hpp"
#include "event_channel.hpp"
#include "interrupts.hpp"
#include "ioapic.hpp"
#include "irq_lines.hpp"
#include "log.hpp"
#include "percpu.hpp"
#include "spinlock.hpp"

namespace {

// GSI g interrupts on vector FIRST + g, skipping the PV guests' int $0x80 gate: room for
// the GSIs of a few I/O APICs below the system vectors.
constexpr uint32_t FIRST_VECTOR = 0x30;
constexpr uint32_t LAST_VECTOR = 0xdf;
constexpr uint32_t MAX_GSIS = LAST_VECTOR - FIRST_VECTOR;  // one vector fewer: 0x80's

uint8_t vector_for(uint32_t gsi) {
    uint32_t v = FIRST_VECTOR + gsi;
    return uint8_t(v >= vectors::GUEST_INT80 ? v + 1 : v);
}
uint32_t gsi_for(uint64_t vector) {
    return uint32_t(vector > vectors::GUEST_INT80 ? vector - 1 : vector) - FIRST_VECTOR;
}

struct Line {
    Domain* owner;     // the domain its interrupts go to, or null (masked)
    uint32_t port;     // ... as events on this port
    bool level;
    bool active_low;
    bool set_up;       // by PHYSDEVOP_setup_gsi: a second setup is -EEXIST
    bool held;         // level triggered, masked since its last interrupt until the owner's EOI
    bool warned;       // an interrupt with no owner was logged
    bool reserved;     // Kestrel's own
};

Line lines[MAX_GSIS];
uint32_t nr_lines;
uint32_t isa_gsi[16];  // the GSI each ISA interrupt arrives on
// Taken with interrupts off: the interrupt handler takes it too. Orders line changes with
// interrupts in flight, and the I/O APIC's index/data register pairs.
Spinlock lock;


void program(uint32_t gsi, bool masked) {
    const Line& l = lines[gsi];
    ioapic::set_route(gsi, ioapic::Route{vector_for(gsi), uint8_t(arch::boot_cpu_percpu().apic_id), l.level,
                                         l.active_low, masked});
}

// A line's interrupt: to its owner as an event. A level-triggered line stays masked until the
// owner has serviced the device and says so (PHYSDEVOP_eoi): unmasked at once it would fire
// again while the device still asserts it. The LAPIC is acknowledged by the dispatcher.
void line_interrupt(arch::ExceptionFrame& f) {
    uint32_t gsi = gsi_for(f.vector);
    if (gsi >= nr_lines) return;
    IrqLockGuard guard(lock);
    Line& l = lines[gsi];
    if (!l.owner) {
        ioapic::set_masked(gsi, true);
        if (!l.warned) log::warning("GSI {}: interrupt with no domain bound to it: masked", gsi);
        l.warned = true;
        return;
    }
    if (l.level) {
        ioapic::set_masked(gsi, true);
        l.held = true;
    }
    events::set_pending(*l.owner, l.port);
}

}  // namespace

namespace gsi_lines {

void init(const acpi::Platform& p) {
    uint32_t limit = ioapic::gsi_limit();
    nr_lines = limit < MAX_GSIS ? limit : MAX_GSIS;
    if (limit > MAX_GSIS) log::warning("{} GSIs: only the first {} can be lent to domains", limit, MAX_GSIS);
    for (uint32_t i = 0; i < 16; ++i) isa_gsi[i] = i;
    for (uint32_t g = 0; g < nr_lines; ++g) {
        lines[g].level = g >= 16;
        lines[g].active_low = g >= 16;
    }
    // MADT flags: polarity in bits 0-1 (1 high, 3 low), trigger mode in bits 2-3 (1 edge,
    // 3 level); 0 is the bus's own, which for ISA is edge and high.
    for (size_t i = 0; i < p.override_count; ++i) {
        const acpi::IrqOverride& o = p.overrides[i];
        if (o.bus == 0 && o.source_irq < 16) isa_gsi[o.source_irq] = o.gsi;
        if (o.gsi >= nr_lines) continue;
        lines[o.gsi].active_low = (o.flags & 3) == 3;
        lines[o.gsi].level = ((o.flags >> 2) & 3) == 3;
    }
    for (uint32_t g = 0; g < nr_lines; ++g) arch::set_interrupt_handler(vector_for(g), line_interrupt);
}

void reserve_isa(unsigned irq, const char* what) {
    if (irq >= 16 || isa_gsi[irq] >= nr_lines) return;
    lines[isa_gsi[irq]].reserved = true;
    log::info("GSI {} (ISA IRQ {}): kept for the {}", isa_gsi[irq], irq, what);
}

}  // namespace gsi_lines

namespace irq_lines {

uint32_t count() { return nr_lines > 16 ? nr_lines : 16; }

long setup(uint32_t gsi, bool level, bool active_low) {
    if (gsi >= nr_lines) return -XEN_EINVAL;
    IrqLockGuard guard(lock);
    Line& l = lines[gsi];
    if (l.owner || l.set_up || l.reserved) return -XEN_EEXIST;
    l.set_up = true;
    l.level = level;
    l.active_low = active_low;
    program(gsi, true);
    return 0;
}

long bind(uint32_t gsi, Domain& d, uint32_t port) {
    if (gsi >= nr_lines) return -XEN_EINVAL;
    IrqLockGuard guard(lock);
    Line& l = lines[gsi];
    if (l.owner || l.reserved) return -XEN_EBUSY;
    l.owner = &d;
    l.port = port;
    l.held = false;
    program(gsi, false);
    return 0;
}

void unbind(uint32_t gsi, const Domain& d) {
    if (gsi >= nr_lines) return;
    IrqLockGuard guard(lock);
    Line& l = lines[gsi];
    if (l.owner != &d) return;
    ioapic::set_masked(gsi, true);
    l.owner = nullptr;
    l.port = 0;
    l.held = false;
}

void eoi(uint32_t gsi, const Domain& d) {
    if (gsi >= nr_lines) return;
    IrqLockGuard guard(lock);
    Line& l = lines[gsi];
    if (l.owner != &d || !l.held) return;
    l.held = false;
    ioapic::set_masked(gsi, false);
}

long ioapic_read(uint64_t physbase, uint32_t reg, uint32_t& value) {
    IrqLockGuard guard(lock);
    return ioapic::read_register(Paddr(physbase), reg, value) ? 0 : -XEN_EINVAL;
}

}  // namespace irq_lines
