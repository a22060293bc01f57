#include "irq_fakes.hpp"

#include <xen/errno.h>

#include "domain.hpp"
#include "event_channel.hpp"
#include "irq_lines.hpp"

namespace fake_irq {

State& state() {
    static State s;
    return s;
}

void reset() { state() = State{}; }

bool fire(uint32_t gsi) {
    Line& l = state().lines[gsi];
    if (!l.owner) return false;
    events::set_pending(const_cast<Domain&>(*l.owner), l.port);
    return true;
}

}  // namespace fake_irq

namespace irq_lines {

using fake_irq::state;

uint32_t count() { return state().count; }

long setup(uint32_t gsi, bool level, bool active_low) {
    if (gsi >= state().count) return -XEN_EINVAL;
    fake_irq::Line& l = state().lines[gsi];
    if (l.owner || l.set_up) return -XEN_EEXIST;
    l.set_up = true;
    l.level = level;
    l.active_low = active_low;
    return 0;
}

long bind(uint32_t gsi, Domain& d, uint32_t port) {
    if (gsi >= state().count) return -XEN_EINVAL;
    fake_irq::Line& l = state().lines[gsi];
    if (l.owner) return -XEN_EBUSY;
    l.owner = &d;
    l.port = port;
    return 0;
}

void unbind(uint32_t gsi, const Domain& d) {
    fake_irq::Line& l = state().lines[gsi];
    if (l.owner != &d) return;
    l.owner = nullptr;
    l.port = 0;
}

void eoi(uint32_t gsi, const Domain& d) {
    fake_irq::Line& l = state().lines[gsi];
    if (l.owner == &d) ++l.eois;
}

long ioapic_read(uint64_t physbase, uint32_t reg, uint32_t& value) {
    if (physbase != fake_irq::IOAPIC_BASE) return -XEN_EINVAL;
    value = reg == 1 ? fake_irq::IOAPIC_VERSION : 0;
    return 0;
}

}  // namespace irq_lines
