/*
 * HYPERVISOR_domctl(struct xen_domctl *): domain control for the toolstack in the control domain. Every call
 * carries XEN_DOMCTL_INTERFACE_VERSION and names its target domain. Only what Kestrel implements is described
 * here: the command numbers its argument checks depend on, and XEN_DOMCTL_scheduler_op. (Xen's own header refuses
 * to be included outside the hypervisor and the tools; this one does not, so that test kernels can use it.)
 */
#ifndef KESTREL_GUEST_ABI_XEN_DOMCTL_H
#define KESTREL_GUEST_ABI_XEN_DOMCTL_H

#include "xen.h"

#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015 /* Xen 4.17's; xen_domctl.interface_version must hold it */

/* Fields that are 8-byte aligned in every guest ABI (the domctl layout is the same for 32-bit tools). */
#ifndef uint64_aligned_t
#define uint64_aligned_t uint64_t
#endif
#ifndef XEN_GUEST_HANDLE_64
#define XEN_GUEST_HANDLE_64(name) XEN_GUEST_HANDLE(name)
#endif

/* xen_domctl.cmd: the ones whose target domain is looked up differently, and the scheduler's. */
#define XEN_DOMCTL_createdomain 1        /* no target yet: the domain is created */
#define XEN_DOMCTL_getdomaininfo 5       /* the first domain at or above the id */
#define XEN_DOMCTL_scheduler_op 16       /* struct xen_domctl_scheduler_op */
#define XEN_DOMCTL_assign_device 37      /* DOMID_IO names the hypervisor's I/O domain */
#define XEN_DOMCTL_test_assign_device 45 /* DOMID_INVALID: no domain */
#define XEN_DOMCTL_deassign_device 47    /* DOMID_IO as for assign_device */
#define XEN_DOMCTL_vm_event_op 56        /* DOMID_INVALID: no domain */

/* xen_domctl_scheduler_op.sched_id: the scheduler that runs the domain. */
#define XEN_SCHEDULER_CREDIT 5
#define XEN_SCHEDULER_CREDIT2 6 /* Xen 4.17's default, and Kestrel's */
#define XEN_SCHEDULER_ARINC653 7
#define XEN_SCHEDULER_RTDS 8
#define XEN_SCHEDULER_NULL 9

/* xen_domctl_scheduler_op.cmd */
#define XEN_DOMCTL_SCHEDOP_putinfo 0     /* set the domain's parameters (all its vCPUs) */
#define XEN_DOMCTL_SCHEDOP_getinfo 1     /* read them */
#define XEN_DOMCTL_SCHEDOP_putvcpuinfo 2 /* per-vCPU parameters (RTDS only) */
#define XEN_DOMCTL_SCHEDOP_getvcpuinfo 3

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Credit scheduler parameters. */
struct xen_domctl_sched_credit {
    uint16_t weight; /* 0 IN/OUT: relative share of CPU time */
    uint16_t cap;    /* 2 IN/OUT: percent of one CPU the domain may use at most; 0: no cap */
};
KESTREL_ABI_SIZE(struct xen_domctl_sched_credit, 4);
KESTREL_ABI_FIELD(struct xen_domctl_sched_credit, weight, 0);
KESTREL_ABI_FIELD(struct xen_domctl_sched_credit, cap, 2);

/* Credit2 scheduler parameters: the same two. On putinfo, 0 leaves the weight as it is and removes the cap. */
struct xen_domctl_sched_credit2 {
    uint16_t weight; /* 0 IN/OUT: 1..65535, 256 by default */
    uint16_t cap;    /* 2 IN/OUT: 0 (none) .. 100 * the domain's vCPUs */
};
KESTREL_ABI_SIZE(struct xen_domctl_sched_credit2, 4);
KESTREL_ABI_FIELD(struct xen_domctl_sched_credit2, weight, 0);
KESTREL_ABI_FIELD(struct xen_domctl_sched_credit2, cap, 2);

/* RTDS scheduler parameters. */
struct xen_domctl_sched_rtds {
    uint32_t period; /* 0 IN/OUT: microseconds */
    uint32_t budget; /* 4 IN/OUT: microseconds of each period */
    uint32_t flags;  /* 8 IN/OUT: XEN_DOMCTL_SCHEDRT_* */
};
KESTREL_ABI_SIZE(struct xen_domctl_sched_rtds, 12);
KESTREL_ABI_FIELD(struct xen_domctl_sched_rtds, period, 0);
KESTREL_ABI_FIELD(struct xen_domctl_sched_rtds, budget, 4);
KESTREL_ABI_FIELD(struct xen_domctl_sched_rtds, flags, 8);

/* One vCPU's parameters, for putvcpuinfo/getvcpuinfo. */
struct xen_domctl_schedparam_vcpu {
    union {
        struct xen_domctl_sched_credit credit;
        struct xen_domctl_sched_credit2 credit2;
        struct xen_domctl_sched_rtds rtds;
    } u;             /*  0 IN/OUT */
    uint32_t vcpuid; /* 12 IN */
};
typedef struct xen_domctl_schedparam_vcpu xen_domctl_schedparam_vcpu_t;
DEFINE_XEN_GUEST_HANDLE(xen_domctl_schedparam_vcpu_t);
KESTREL_ABI_SIZE(struct xen_domctl_schedparam_vcpu, 16);
KESTREL_ABI_FIELD(struct xen_domctl_schedparam_vcpu, u, 0);
KESTREL_ABI_FIELD(struct xen_domctl_schedparam_vcpu, vcpuid, 12);

/* XEN_DOMCTL_scheduler_op: a domain's scheduling parameters. */
struct xen_domctl_scheduler_op {
    uint32_t sched_id; /* 0 IN: XEN_SCHEDULER_*, the domain's scheduler */
    uint32_t cmd;      /* 4 IN: XEN_DOMCTL_SCHEDOP_* */
    union {
        struct xen_domctl_sched_credit credit;
        struct xen_domctl_sched_credit2 credit2;
        struct xen_domctl_sched_rtds rtds;
        struct {
            XEN_GUEST_HANDLE_64(xen_domctl_schedparam_vcpu_t) vcpus; /* array of nr_vcpus entries */
            uint32_t nr_vcpus; /* IN: entries; OUT: entries processed */
            uint32_t padding;
        } v;
    } u; /* 8 IN/OUT */
};
typedef struct xen_domctl_scheduler_op xen_domctl_scheduler_op_t;
KESTREL_ABI_SIZE(struct xen_domctl_scheduler_op, 24);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, sched_id, 0);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, cmd, 4);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u, 8);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u.credit2, 8);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u.credit2.weight, 8);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u.credit2.cap, 10);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u.v.vcpus, 8);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u.v.nr_vcpus, 16);
KESTREL_ABI_FIELD(struct xen_domctl_scheduler_op, u.v.padding, 20);

/* The argument of every domctl: the command, the interface version, the target domain and the command's data,
 * in a union of 128 bytes (most of whose members Kestrel does not describe yet). */
struct xen_domctl {
    uint32_t cmd;               /*  0 IN: XEN_DOMCTL_* */
    uint32_t interface_version; /*  4 IN: XEN_DOMCTL_INTERFACE_VERSION */
    domid_t domain;             /*  8 IN: the target domain */
    uint16_t _pad[3];           /* 10 */
    union {
        struct xen_domctl_scheduler_op scheduler_op;
        uint8_t pad[128];
    } u; /* 16 IN/OUT */
};
typedef struct xen_domctl xen_domctl_t;
DEFINE_XEN_GUEST_HANDLE(xen_domctl_t);
KESTREL_ABI_SIZE(struct xen_domctl, 144);
KESTREL_ABI_FIELD(struct xen_domctl, cmd, 0);
KESTREL_ABI_FIELD(struct xen_domctl, interface_version, 4);
KESTREL_ABI_FIELD(struct xen_domctl, domain, 8);
KESTREL_ABI_FIELD(struct xen_domctl, _pad, 10);
KESTREL_ABI_FIELD(struct xen_domctl, u, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.scheduler_op, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.pad, 16);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
