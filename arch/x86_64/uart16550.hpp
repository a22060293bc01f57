// 16550-compatible serial port driven by polling: output never depends on interrupts working,
// which is what a panic report needs.
#pragma once

#include "console.hpp"

class Uart16550 final : public Console {
public:
    constexpr Uart16550() = default;

    // Programs the port for baud 8n1 with FIFOs; false if no UART answers at io_base.
    bool init(uint16_t io_base, uint32_t baud);
    void write(const char* s, size_t n) override;
    // Returns a received byte, or -1 if none is waiting.
    int read_byte();
    uint16_t io_base() const { return base_; }

private:
    void put(char c);

    uint16_t base_ = 0;
};
