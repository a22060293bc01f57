// Kestrel's debug console: single keys that print a report of some part of the hypervisor to
// the log, reached by switching serial input to Kestrel (Ctrl-A three times, console_switch).
// 'h' lists the keys. Handlers run on the serial receive path (a timer callback, interrupts
// off), so they only read state and print.
#pragma once

namespace debug_keys {

using Handler = void (*)();
// Registers a key; false when the key is taken or the table is full.
bool add(char key, const char* what, Handler h);
// A key typed while input goes to Kestrel.
void handle(char key);

}  // namespace debug_keys
