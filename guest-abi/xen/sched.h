/*
 * HYPERVISOR_sched_op(cmd, arg): giving up the CPU (yield, block, poll) and ending the domain (shutdown).
 */
#ifndef KESTREL_GUEST_ABI_XEN_SCHED_H
#define KESTREL_GUEST_ABI_XEN_SCHED_H

#include "event_channel.h"

#define SCHEDOP_yield 0           /* arg unused: let other vCPUs run, stay runnable */
#define SCHEDOP_block 1           /* arg unused: sleep until an event arrives; unmasks events first */
#define SCHEDOP_shutdown 2        /* struct sched_shutdown: stop the whole domain */
#define SCHEDOP_poll 3            /* struct sched_poll: sleep until one of some ports is pending or a timeout */
#define SCHEDOP_remote_shutdown 4 /* struct sched_remote_shutdown: shut another domain down (privileged) */
#define SCHEDOP_shutdown_code 5   /* struct sched_shutdown: record the reason a later shutdown will report */
#define SCHEDOP_watchdog 6        /* struct sched_watchdog: create, pet or destroy a domain watchdog */
#define SCHEDOP_pin_override 7    /* struct sched_pin_override: temporarily pin the vCPU (dom0, firmware calls) */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct sched_shutdown {
    uint32_t reason; /* 0 IN: SHUTDOWN_* */
};
typedef struct sched_shutdown sched_shutdown_t;
DEFINE_XEN_GUEST_HANDLE(sched_shutdown_t);
KESTREL_ABI_SIZE(struct sched_shutdown, 4);
KESTREL_ABI_FIELD(struct sched_shutdown, reason, 0);

struct sched_poll {
    XEN_GUEST_HANDLE(evtchn_port_t) ports; /*  0 IN: array of ports to wait on */
    uint32_t nr_ports;                     /*  8 IN: its length */
    uint64_t timeout;                      /* 16 IN: absolute system time in ns to give up at; 0 waits forever */
};
typedef struct sched_poll sched_poll_t;
DEFINE_XEN_GUEST_HANDLE(sched_poll_t);
KESTREL_ABI_SIZE(struct sched_poll, 24);
KESTREL_ABI_FIELD(struct sched_poll, ports, 0);
KESTREL_ABI_FIELD(struct sched_poll, nr_ports, 8);
KESTREL_ABI_FIELD(struct sched_poll, timeout, 16);

struct sched_remote_shutdown {
    domid_t domain_id; /* 0 IN: domain to shut down */
    uint32_t reason;   /* 4 IN: SHUTDOWN_* */
};
typedef struct sched_remote_shutdown sched_remote_shutdown_t;
DEFINE_XEN_GUEST_HANDLE(sched_remote_shutdown_t);
KESTREL_ABI_SIZE(struct sched_remote_shutdown, 8);
KESTREL_ABI_FIELD(struct sched_remote_shutdown, domain_id, 0);
KESTREL_ABI_FIELD(struct sched_remote_shutdown, reason, 4);

struct sched_watchdog {
    uint32_t id;      /* 0 IN: 0 creates a watchdog (its id is returned); otherwise the watchdog to pet/destroy */
    uint32_t timeout; /* 4 IN: seconds until the domain is shut down with SHUTDOWN_watchdog; 0 destroys */
};
typedef struct sched_watchdog sched_watchdog_t;
DEFINE_XEN_GUEST_HANDLE(sched_watchdog_t);
KESTREL_ABI_SIZE(struct sched_watchdog, 8);
KESTREL_ABI_FIELD(struct sched_watchdog, id, 0);
KESTREL_ABI_FIELD(struct sched_watchdog, timeout, 4);

struct sched_pin_override {
    int32_t pcpu; /* 0 IN: physical CPU to pin to; negative ends the override */
};
typedef struct sched_pin_override sched_pin_override_t;
DEFINE_XEN_GUEST_HANDLE(sched_pin_override_t);
KESTREL_ABI_SIZE(struct sched_pin_override, 4);
KESTREL_ABI_FIELD(struct sched_pin_override, pcpu, 0);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/* Why a domain shut down; reported to the toolstack, which decides what happens next. */
#define SHUTDOWN_poweroff 0   /* the domain wants to be destroyed */
#define SHUTDOWN_reboot 1     /* the domain wants to be restarted */
#define SHUTDOWN_suspend 2    /* the domain saved its state for save/migration; start_info.store_mfn etc. are kept */
#define SHUTDOWN_crash 3      /* the domain crashed */
#define SHUTDOWN_watchdog 4   /* a watchdog expired */
#define SHUTDOWN_soft_reset 5 /* the domain wants its memory kept and to be restarted (kexec) */
#define SHUTDOWN_MAX 5        /* highest valid reason */

#endif
