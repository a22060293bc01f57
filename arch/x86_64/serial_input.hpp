// Characters typed on Kestrel's serial console: the boot CPU polls the receiver every 10 ms
// (the UART driver stays interrupt-free, which the panic path relies on) and queues what it
// finds for the control domain's CONSOLEIO_read, raising its VIRQ_CONSOLE.
#pragma once

class Uart16550;

namespace serial_input {

// On the boot CPU, once timers run.
void start(Uart16550& uart);

}  // namespace serial_input
