#include "console_switch.hpp"

namespace console_switch {

namespace {

Sink domain_sink;
Sink hypervisor_sink;
void (*announce_switch)(bool);
bool hypervisor_has_input;
unsigned held;  // Ctrl-As received in a row, not yet delivered

void deliver(char c) {
    Sink s = hypervisor_has_input ? hypervisor_sink : domain_sink;
    if (s) s(c);
}

}  // namespace

void set_sinks(Sink to_domain, Sink to_hypervisor, void (*announce)(bool)) {
    domain_sink = to_domain;
    hypervisor_sink = to_hypervisor;
    announce_switch = announce;
}

void receive(char c) {
    if (c == SWITCH_CHAR) {
        if (++held < SWITCH_COUNT) return;
        held = 0;
        hypervisor_has_input = !hypervisor_has_input;
        if (announce_switch) announce_switch(hypervisor_has_input);
        return;
    }
    for (; held; --held) deliver(SWITCH_CHAR);
    deliver(c);
}

bool to_hypervisor() { return hypervisor_has_input; }

}  // namespace console_switch
