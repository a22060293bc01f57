/*
 * HYPERVISOR_vcpu_op(cmd, vcpuid, arg): bringing vCPUs up and down, per-vCPU timers, and where the hypervisor
 * writes a vCPU's runstate, vcpu_info and time information.
 */
#ifndef KESTREL_GUEST_ABI_XEN_VCPU_H
#define KESTREL_GUEST_ABI_XEN_VCPU_H

#include "xen.h"

#define VCPUOP_initialise 0        /* struct vcpu_guest_context: set the initial state of a vCPU that is down */
#define VCPUOP_up 1                /* arg unused: start an initialised vCPU */
#define VCPUOP_down 2              /* arg unused: stop a vCPU (it keeps its state) */
#define VCPUOP_is_up 3             /* arg unused: returns 1 if the vCPU is up, 0 if down */
#define VCPUOP_get_runstate_info 4 /* struct vcpu_runstate_info: read the vCPU's runstate */

/* Bit set in state_entry_time while the hypervisor rewrites a runstate area (VMASST_TYPE_runstate_update_flag). */
#define XEN_RUNSTATE_UPDATE (xen_mk_ullong(1) << 63)

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Where a vCPU is spending its time, and how much it has spent in each state. */
struct vcpu_runstate_info {
    int32_t state;             /*  0 OUT: RUNSTATE_* */
    uint64_t state_entry_time; /*  8 OUT: system time of the last state change (maybe | XEN_RUNSTATE_UPDATE) */
    uint64_t time[4];          /* 16 OUT: ns spent in each RUNSTATE_* */
};
typedef struct vcpu_runstate_info vcpu_runstate_info_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_runstate_info_t);
KESTREL_ABI_SIZE(struct vcpu_runstate_info, 48);
KESTREL_ABI_FIELD(struct vcpu_runstate_info, state, 0);
KESTREL_ABI_FIELD(struct vcpu_runstate_info, state_entry_time, 8);
KESTREL_ABI_FIELD(struct vcpu_runstate_info, time, 16);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define RUNSTATE_running 0  /* on a physical CPU */
#define RUNSTATE_runnable 1 /* wants to run, waiting for a CPU */
#define RUNSTATE_blocked 2  /* waiting for an event */
#define RUNSTATE_offline 3  /* down, paused, or otherwise not schedulable */

#define VCPUOP_register_runstate_memory_area 5 /* struct vcpu_register_runstate_memory_area */
#define VCPUOP_set_periodic_timer 6            /* struct vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer 7           /* arg unused */
#define VCPUOP_set_singleshot_timer 8          /* struct vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer 9         /* arg unused */
#define VCPUOP_register_vcpu_info 10           /* struct vcpu_register_vcpu_info */
#define VCPUOP_send_nmi 11                     /* arg unused: raise an NMI on the vCPU */
#define VCPUOP_get_physid 12                   /* struct vcpu_get_physid (dom0) */
#define VCPUOP_register_vcpu_time_memory_area 13 /* struct vcpu_register_time_memory_area */

/* vcpu_set_singleshot_timer.flags */
#define _VCPU_SSHOTTMR_future (0) /* fail with -ETIME if the timeout is already in the past */
#define VCPU_SSHOTTMR_future (1U << _VCPU_SSHOTTMR_future)

/* Split the value VCPUOP_get_physid returns. */
#define xen_vcpu_physid_to_x86_apicid(physid) ((uint32_t)(physid))
#define xen_vcpu_physid_to_x86_acpiid(physid) ((uint32_t)((physid) >> 32))

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Ask the hypervisor to keep a copy of the runstate at a guest virtual address, updated at every change. */
struct vcpu_register_runstate_memory_area {
    union {
        XEN_GUEST_HANDLE(vcpu_runstate_info_t) h; /* as a handle */
        struct vcpu_runstate_info *v;             /* as a pointer */
        uint64_t p;                               /* as a number */
    } addr;                                       /* 0 IN: guest virtual address of the area */
};
typedef struct vcpu_register_runstate_memory_area vcpu_register_runstate_memory_area_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_register_runstate_memory_area_t);
KESTREL_ABI_SIZE(struct vcpu_register_runstate_memory_area, 8);
KESTREL_ABI_FIELD(struct vcpu_register_runstate_memory_area, addr, 0);
KESTREL_ABI_FIELD(struct vcpu_register_runstate_memory_area, addr.h, 0);
KESTREL_ABI_FIELD(struct vcpu_register_runstate_memory_area, addr.v, 0);
KESTREL_ABI_FIELD(struct vcpu_register_runstate_memory_area, addr.p, 0);

/* A timer raising VIRQ_TIMER every period_ns. */
struct vcpu_set_periodic_timer {
    uint64_t period_ns; /* 0 IN */
};
typedef struct vcpu_set_periodic_timer vcpu_set_periodic_timer_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_set_periodic_timer_t);
KESTREL_ABI_SIZE(struct vcpu_set_periodic_timer, 8);
KESTREL_ABI_FIELD(struct vcpu_set_periodic_timer, period_ns, 0);

/* A timer raising VIRQ_TIMER once, at an absolute system time. */
struct vcpu_set_singleshot_timer {
    uint64_t timeout_abs_ns; /* 0 IN: system time in ns */
    uint32_t flags;          /* 8 IN: VCPU_SSHOTTMR_* */
};
typedef struct vcpu_set_singleshot_timer vcpu_set_singleshot_timer_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_set_singleshot_timer_t);
KESTREL_ABI_SIZE(struct vcpu_set_singleshot_timer, 16);
KESTREL_ABI_FIELD(struct vcpu_set_singleshot_timer, timeout_abs_ns, 0);
KESTREL_ABI_FIELD(struct vcpu_set_singleshot_timer, flags, 8);

/* Move the vCPU's vcpu_info out of shared_info into a guest frame (needed beyond XEN_LEGACY_MAX_VCPUS). */
struct vcpu_register_vcpu_info {
    uint64_t mfn;    /*  0 IN: guest frame to hold it */
    uint32_t offset; /*  8 IN: byte offset within the frame; the structure must not cross the page end */
    uint32_t rsvd;   /* 12 IN: must be zero */
};
typedef struct vcpu_register_vcpu_info vcpu_register_vcpu_info_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_register_vcpu_info_t);
KESTREL_ABI_SIZE(struct vcpu_register_vcpu_info, 16);
KESTREL_ABI_FIELD(struct vcpu_register_vcpu_info, mfn, 0);
KESTREL_ABI_FIELD(struct vcpu_register_vcpu_info, offset, 8);
KESTREL_ABI_FIELD(struct vcpu_register_vcpu_info, rsvd, 12);

/* The physical CPU identifiers of a dom0 vCPU (APIC id in the low half, ACPI id in the high half). */
struct vcpu_get_physid {
    uint64_t phys_id; /* 0 OUT */
};
typedef struct vcpu_get_physid vcpu_get_physid_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_get_physid_t);
KESTREL_ABI_SIZE(struct vcpu_get_physid, 8);
KESTREL_ABI_FIELD(struct vcpu_get_physid, phys_id, 0);

/* Ask the hypervisor to keep a copy of the vCPU's vcpu_time_info at a guest virtual address (for vDSO use). */
DEFINE_XEN_GUEST_HANDLE(vcpu_time_info_t);
struct vcpu_register_time_memory_area {
    union {
        XEN_GUEST_HANDLE(vcpu_time_info_t) h; /* as a handle */
        struct vcpu_time_info *v;             /* as a pointer */
        uint64_t p;                           /* as a number */
    } addr;                                   /* 0 IN */
};
typedef struct vcpu_register_time_memory_area vcpu_register_time_memory_area_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_register_time_memory_area_t);
KESTREL_ABI_SIZE(struct vcpu_register_time_memory_area, 8);
KESTREL_ABI_FIELD(struct vcpu_register_time_memory_area, addr, 0);
KESTREL_ABI_FIELD(struct vcpu_register_time_memory_area, addr.h, 0);
KESTREL_ABI_FIELD(struct vcpu_register_time_memory_area, addr.v, 0);
KESTREL_ABI_FIELD(struct vcpu_register_time_memory_area, addr.p, 0);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
