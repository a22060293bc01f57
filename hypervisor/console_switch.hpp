// Where serial input goes: to the control domain (console_input.hpp, read with
// CONSOLEIO_read) or to Kestrel's debug keys (debug_keys.hpp). Ctrl-A typed three times in a
// row switches between the two, as on Xen. The Ctrl-As are held back until it is clear they
// are not a switch: one or two followed by another character reach the current target, in
// order, before that character. The switches and what arrives are the serial receive path's
// alone (one producer), so no locking.
#pragma once

namespace console_switch {

constexpr char SWITCH_CHAR = 0x01;  // Ctrl-A
constexpr unsigned SWITCH_COUNT = 3;

using Sink = void (*)(char);
// Where characters for each target go; a switch is announced through `announce`.
void set_sinks(Sink to_domain, Sink to_hypervisor, void (*announce)(bool to_hypervisor));
// One received character.
void receive(char c);
bool to_hypervisor();

}  // namespace console_switch
