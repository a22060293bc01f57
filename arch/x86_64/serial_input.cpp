#include "serial_input.hpp"

#include <xen/xen.h>

#include "console_input.hpp"
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

void poll(Timer& t, void* data) {
    auto* uart = static_cast<Uart16550*>(data);
    bool got = false;
    for (int c; (c = uart->read_byte()) >= 0; got = true) console_input::push(char(c));
    // The control domain hears of new input through VIRQ_CONSOLE, if it bound it.
    if (got)
        if (Domain* d0 = domain_control::lookup(DomId(0))) events::send_virq(*d0, VIRQ_CONSOLE);
    timer::arm(t, tsc::now_ns() + POLL_NS);
}

}  // namespace

void start(Uart16550& uart) {
    poll_timer.callback = poll;
    poll_timer.data = &uart;
    timer::arm(poll_timer, tsc::now_ns() + POLL_NS);
}

}  // namespace serial_input
