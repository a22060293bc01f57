// Characters typed on the hypervisor's console, waiting for the control domain to read them
// with CONSOLEIO_read. A single-producer (the serial receive path), single-consumer ring;
// when it is full, new characters are dropped and counted.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace console_input {

void push(char c);
// Moves up to n waiting characters to buf; returns how many.
size_t pop(char* buf, size_t n);
// Copies up to n waiting characters to buf without taking them; returns how many.
size_t peek(char* buf, size_t n);
// Takes n characters (at most those waiting).
void consume(size_t n);
// Characters waiting.
size_t pending();
uint64_t dropped();

}  // namespace console_input
