// Proves the guest-abi headers are valid ISO C++20 (built with -std=c++20 -pedantic -Werror) and usable from
// C++ with their C linkage intact. Linked into the ABI test binary so the function below is also run.
#include "abi_includes.h"

#include "abi_checks.h"

#include <type_traits>

static_assert(std::is_standard_layout_v<start_info_t> && std::is_trivially_copyable_v<start_info_t>);
static_assert(std::is_standard_layout_v<shared_info_t> && std::is_trivially_copyable_v<shared_info_t>);
static_assert(std::is_standard_layout_v<vcpu_guest_context_t> && std::is_trivially_copyable_v<vcpu_guest_context_t>);

extern "C" int abi_cxx20_check(void) {
    constexpr trap_info_t ti = [] {
        trap_info_t t{};
        TI_SET_DPL(&t, 1);
        TI_SET_IF(&t, 0);
        return t;
    }();
    static_assert(TI_GET_DPL(&ti) == 1 && TI_GET_IF(&ti) == 0);
    sched_poll_t poll{};
    evtchn_port_t port = 5;
    set_xen_guest_handle(poll.ports, &port);
    return get_xen_guest_handle(poll.ports) == &port;
}
