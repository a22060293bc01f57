#include "runstate.hpp"

#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "vcpu.hpp"

namespace runstate {

namespace {


// The last byte of state_entry_time holds XEN_RUNSTATE_UPDATE: writing that byte alone sets
// or clears the flag without tearing the rest.
bool write_update_byte(uint64_t area, uint64_t entry_time) {
    uint8_t top = uint8_t(entry_time >> 56);
    return guest::write(Gva(area + __builtin_offsetof(vcpu_runstate_info, state_entry_time) + 7), top);
}

}  // namespace

void change(Vcpu& v, int32_t state, uint64_t now) {
    if (v.runstate == state) return;
    if (now > v.runstate_entry) v.runstate_time[v.runstate] += now - v.runstate_entry;
    v.runstate = state;
    v.runstate_entry = now;
}

vcpu_runstate_info snapshot(const Vcpu& v, uint64_t now) {
    vcpu_runstate_info info{};
    info.state = v.runstate;
    info.state_entry_time = v.runstate_entry;
    for (unsigned i = 0; i < 4; ++i) info.time[i] = v.runstate_time[i];
    if (now > v.runstate_entry) info.time[v.runstate] += now - v.runstate_entry;
    return info;
}

bool publish(Vcpu& v) {
    if (!v.runstate_area) return true;
    vcpu_runstate_info info = snapshot(v, v.runstate_entry);
    bool flag = v.domain().vm_assist & (uint64_t{1} << VMASST_TYPE_runstate_update_flag);
    if (flag) {
        info.state_entry_time |= XEN_RUNSTATE_UPDATE;
        if (!write_update_byte(v.runstate_area, info.state_entry_time)) return false;
        __atomic_thread_fence(__ATOMIC_RELEASE);
    }
    bool ok = guest::write(Gva(v.runstate_area), info);
    if (flag) {
        info.state_entry_time &= ~XEN_RUNSTATE_UPDATE;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        ok = write_update_byte(v.runstate_area, info.state_entry_time) && ok;
    }
    return ok;
}

void publish_or_defer(Vcpu& v) {
    v.runstate_pending = !publish(v) && !v.kernel_mode;
}

}  // namespace runstate
