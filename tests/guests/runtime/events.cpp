#include "runtime/events.hpp"

#include <xen/callback.h>
#include <xen/sched.h>

#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"

extern "C" {
volatile std::uint64_t kt_event_count;
vcpu_info_t* kt_event_vcpu_info;
}

// The hypervisor enters with rcx and r11 on the stack (they are the guest's, lost to its
// `syscall` return): pop them, count, clear the flag, then leave through the iret hypercall
// with a zero flags word pushed, as its frame wants.
asm(R"(
    .text
    .globl kt_event_entry
kt_event_entry:
    pop     %rcx
    pop     %r11
    lock incq kt_event_count(%rip)
    pushq   %rax
    mov     kt_event_vcpu_info(%rip), %rax
    movb    $0, (%rax)
    popq    %rax
    pushq   $0
    jmp     hypercall_page + 23 * 32
)");

namespace kt {

bool install_counting_event_callback()
{
    kt_event_vcpu_info = vcpu0();
    callback_register_t cb{};
    cb.type = CALLBACKTYPE_event;
    cb.address = reinterpret_cast<std::uint64_t>(&kt_event_entry);
    return callback_op(CALLBACKOP_register, &cb) == 0;
}

namespace {
std::uint64_t bit(evtchn_port_t port) { return std::uint64_t{1} << (port % 64); }
} // namespace

bool pending(evtchn_port_t port)
{
    return (__atomic_load_n(&shared_info()->evtchn_pending[port / 64], __ATOMIC_ACQUIRE) & bit(port)) != 0;
}

void clear_pending(evtchn_port_t port)
{
    __atomic_fetch_and(&shared_info()->evtchn_pending[port / 64], ~bit(port), __ATOMIC_SEQ_CST);
}

long send(evtchn_port_t port)
{
    evtchn_send_t s{};
    s.port = port;
    return evtchn_op(EVTCHNOP_send, &s);
}

long poll(evtchn_port_t port, std::uint64_t timeout)
{
    sched_poll_t p{};
    p.ports.p = &port;
    p.nr_ports = 1;
    p.timeout = timeout;
    return sched_op(SCHEDOP_poll, &p);
}

} // namespace kt
