#include "uart16550.hpp"

#include <arch/cpu.hpp>

#include "kstd/types.hpp"

namespace {

using kstd::bit;

// Register offsets from the base port.
constexpr uint16_t THR = 0;  // transmit holding (DLAB=0)
constexpr uint16_t RBR = 0;  // receive buffer (DLAB=0)
constexpr uint16_t DLL = 0;  // divisor low (DLAB=1)
constexpr uint16_t IER = 1;  // interrupt enable (DLAB=0)
constexpr uint16_t DLM = 1;  // divisor high (DLAB=1)
constexpr uint16_t FCR = 2;  // FIFO control
constexpr uint16_t LCR = 3;  // line control
constexpr uint16_t MCR = 4;  // modem control
constexpr uint16_t LSR = 5;  // line status
constexpr uint16_t SCR = 7;  // scratch

constexpr uint8_t LCR_8N1 = 0x03;
constexpr uint8_t LCR_DLAB = bit(7);
constexpr uint8_t FCR_ENABLE_CLEAR = 0x07;  // enable FIFOs, clear both
constexpr uint8_t MCR_DTR_RTS_OUT2 = 0x0b;
constexpr uint8_t LSR_DATA_READY = bit(0);
constexpr uint8_t LSR_THRE = bit(5);

constexpr uint32_t UART_CLOCK_BAUD = 115200;  // the 1.8432 MHz crystal divided by 16

// Bounded wait so that a missing or wedged UART slows output down instead of hanging the CPU.
constexpr unsigned TX_SPIN_LIMIT = 100000;

}  // namespace

bool Uart16550::init(uint16_t io_base, uint32_t baud) {
    // The scratch register tells whether anything answers at this port.
    arch::outb(io_base + SCR, 0x5a);
    if (arch::inb(io_base + SCR) != 0x5a) return false;
    base_ = io_base;
    uint32_t divisor = baud ? UART_CLOCK_BAUD / baud : 1;
    if (divisor == 0) divisor = 1;
    arch::outb(base_ + IER, 0);
    arch::outb(base_ + LCR, LCR_DLAB);
    arch::outb(base_ + DLL, uint8_t(divisor));
    arch::outb(base_ + DLM, uint8_t(divisor >> 8));
    arch::outb(base_ + LCR, LCR_8N1);
    arch::outb(base_ + FCR, FCR_ENABLE_CLEAR);
    arch::outb(base_ + MCR, MCR_DTR_RTS_OUT2);
    return true;
}

void Uart16550::put(char c) {
    for (unsigned i = 0; i < TX_SPIN_LIMIT && !(arch::inb(base_ + LSR) & LSR_THRE); ++i) arch::cpu_relax();
    arch::outb(base_ + THR, uint8_t(c));
}

void Uart16550::write(const char* s, size_t n) {
    if (!base_) return;
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '\n') put('\r');
        put(s[i]);
    }
}

int Uart16550::read_byte() {
    if (!base_ || !(arch::inb(base_ + LSR) & LSR_DATA_READY)) return -1;
    return arch::inb(base_ + RBR);
}
