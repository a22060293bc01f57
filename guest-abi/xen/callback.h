/*
 * HYPERVISOR_callback_op(cmd, arg): registering the guest entry points the hypervisor bounces into (event upcall,
 * failsafe, SYSCALL, NMI).
 */
#ifndef KESTREL_GUEST_ABI_XEN_CALLBACK_H
#define KESTREL_GUEST_ABI_XEN_CALLBACK_H

#include "xen.h"

#define CALLBACKTYPE_event 0                /* event-channel upcall */
#define CALLBACKTYPE_failsafe 1             /* entered when reloading guest segments faults on return */
#define CALLBACKTYPE_syscall 2              /* 64-bit SYSCALL from user mode */
#define CALLBACKTYPE_sysenter_deprecated 3  /* old SYSENTER number, no longer accepted */
#define CALLBACKTYPE_nmi 4                  /* NMI delivery */
#define CALLBACKTYPE_sysenter 5             /* SYSENTER from 32-bit user mode */
#define CALLBACKTYPE_syscall32 7            /* SYSCALL from 32-bit user mode */

#define _CALLBACKF_mask_events 0 /* entering the callback masks events (like an interrupt gate) */
#define CALLBACKF_mask_events (1U << _CALLBACKF_mask_events)

#define CALLBACKOP_register 0   /* struct callback_register */
#define CALLBACKOP_unregister 1 /* struct callback_unregister */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct callback_register {
    uint16_t type;          /* 0 IN: CALLBACKTYPE_* */
    uint16_t flags;         /* 2 IN: CALLBACKF_* */
    xen_callback_t address; /* 8 IN: entry point */
};
typedef struct callback_register callback_register_t;
DEFINE_XEN_GUEST_HANDLE(callback_register_t);
KESTREL_ABI_SIZE(struct callback_register, 16);
KESTREL_ABI_FIELD(struct callback_register, type, 0);
KESTREL_ABI_FIELD(struct callback_register, flags, 2);
KESTREL_ABI_FIELD(struct callback_register, address, 8);

struct callback_unregister {
    uint16_t type;    /* 0 IN: CALLBACKTYPE_* (only some types may be unregistered) */
    uint16_t _unused; /* 2 */
};
typedef struct callback_unregister callback_unregister_t;
DEFINE_XEN_GUEST_HANDLE(callback_unregister_t);
KESTREL_ABI_SIZE(struct callback_unregister, 4);
KESTREL_ABI_FIELD(struct callback_unregister, type, 0);
KESTREL_ABI_FIELD(struct callback_unregister, _unused, 2);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
