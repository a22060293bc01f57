#include "serial_input.hpp"

#include <xen/xen.h>

#include "console_input.hpp"
#include "console_switch.hpp"
#include "debug_keys.hpp"
#include "log.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "event_channel.hpp"
#include "timer.hpp"
#include "timer_queue.hpp"
#include "tsc.hpp"
#include "uart16550.hpp"

namespace serial_input {

namespace {

constexpr uint64_t POLL_NS = 10'000'000;

Timer poll_timer;
bool for_domain;  // this poll put input in the control domain's ring

void to_domain(char c) {
    console_input::push(c);
    for_domain = true;
}

void announce(bool to_hypervisor) {
    if (to_hypervisor) log::info("*** serial input to Kestrel: 'h' lists the debug keys (Ctrl-A three times for dom0)");
    else log::info("*** serial input to dom0 (Ctrl-A three times for Kestrel)");
}

void poll(Timer& t, void* data) {
    auto* uart = static_cast<Uart16550*>(data);
    for_domain = false;
    for (int c; (c = uart->read_byte()) >= 0;) console_switch::receive(char(c));
    // The control domain hears of new input through VIRQ_CONSOLE, if it bound it.
    if (for_domain)
        if (Domain* d0 = domain_control::lookup(DomId(0))) events::send_virq(*d0, VIRQ_CONSOLE);
    timer::arm(t, tsc::now_ns() + POLL_NS);
}

}  // namespace

void start(Uart16550& uart) {
    console_switch::set_sinks(to_domain, debug_keys::handle, announce);
    poll_timer.callback = poll;
    poll_timer.data = &uart;
    timer::arm(poll_timer, tsc::now_ns() + POLL_NS);
}

}  // namespace serial_input
