#include "serial_input.hpp"

#include "console_input.hpp"
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
    for (int c; (c = uart->read_byte()) >= 0;) console_input::push(char(c));
    timer::arm(t, tsc::now_ns() + POLL_NS);
}

}  // namespace

void start(Uart16550& uart) {
    poll_timer.callback = poll;
    poll_timer.data = &uart;
    timer::arm(poll_timer, tsc::now_ns() + POLL_NS);
}

}  // namespace serial_input
