/*
 * HYPERVISOR_domctl(struct xen_domctl *): domain control for the toolstack in the control domain. Every call
 * carries XEN_DOMCTL_INTERFACE_VERSION and names its target domain. Only what Kestrel implements is described
 * here: building and running a PV domain, its vCPUs' affinity, and XEN_DOMCTL_scheduler_op. (Xen's own header refuses
 * to be included outside the hypervisor and the tools; this one does not, so that test kernels can use it.)
 */
#ifndef KESTREL_GUEST_ABI_XEN_DOMCTL_H
#define KESTREL_GUEST_ABI_XEN_DOMCTL_H

#include "xen.h"

#define XEN_DOMCTL_INTERFACE_VERSION 0x00000015 /* Xen 4.17's; xen_domctl.interface_version must hold it */

/* xen_domctl.cmd: the ones Kestrel implements, and those whose target domain is looked up differently. */
#define XEN_DOMCTL_createdomain 1        /* struct xen_domctl_createdomain; domain: the id wanted, 0 for any */
#define XEN_DOMCTL_destroydomain 2       /* the domain dies, its memory goes back */
#define XEN_DOMCTL_pausedomain 3         /* the toolstack's pause (one level, not nested) */
#define XEN_DOMCTL_unpausedomain 4       /* lifts it */
#define XEN_DOMCTL_getdomaininfo 5       /* struct xen_domctl_getdomaininfo: the first domain at or above the id */
#define XEN_DOMCTL_setvcpuaffinity 9     /* struct xen_domctl_vcpuaffinity */
#define XEN_DOMCTL_max_mem 11            /* struct xen_domctl_max_mem */
#define XEN_DOMCTL_setvcpucontext 12     /* struct xen_domctl_vcpucontext */
#define XEN_DOMCTL_getvcpucontext 13     /* struct xen_domctl_vcpucontext */
#define XEN_DOMCTL_max_vcpus 15          /* struct xen_domctl_max_vcpus: creates the vCPUs createdomain allowed */
#define XEN_DOMCTL_scheduler_op 16       /* struct xen_domctl_scheduler_op */
#define XEN_DOMCTL_hypercall_init 22     /* struct xen_domctl_hypercall_init */
#define XEN_DOMCTL_getvcpuaffinity 25    /* struct xen_domctl_vcpuaffinity */
#define XEN_DOMCTL_assign_device 37      /* DOMID_IO names the hypervisor's I/O domain */
#define XEN_DOMCTL_test_assign_device 45 /* DOMID_INVALID: no domain */
#define XEN_DOMCTL_deassign_device 47    /* DOMID_IO as for assign_device */
#define XEN_DOMCTL_vm_event_op 56        /* DOMID_INVALID: no domain */

/* xen_domctl_createdomain.flags */
#define _XEN_DOMCTL_CDF_hvm 0 /* an HVM guest rather than PV */
#define XEN_DOMCTL_CDF_hvm (1U << _XEN_DOMCTL_CDF_hvm)
#define _XEN_DOMCTL_CDF_hap 1 /* hardware-assisted paging (HVM only) */
#define XEN_DOMCTL_CDF_hap (1U << _XEN_DOMCTL_CDF_hap)
#define _XEN_DOMCTL_CDF_s3_integrity 2
#define XEN_DOMCTL_CDF_s3_integrity (1U << _XEN_DOMCTL_CDF_s3_integrity)
#define _XEN_DOMCTL_CDF_oos_off 3
#define XEN_DOMCTL_CDF_oos_off (1U << _XEN_DOMCTL_CDF_oos_off)
#define _XEN_DOMCTL_CDF_xs_domain 4 /* the domain runs xenstore */
#define XEN_DOMCTL_CDF_xs_domain (1U << _XEN_DOMCTL_CDF_xs_domain)
#define _XEN_DOMCTL_CDF_iommu 5
#define XEN_DOMCTL_CDF_iommu (1U << _XEN_DOMCTL_CDF_iommu)
#define _XEN_DOMCTL_CDF_nested_virt 6
#define XEN_DOMCTL_CDF_nested_virt (1U << _XEN_DOMCTL_CDF_nested_virt)
#define XEN_DOMCTL_CDF_vpmu (1U << 7)
#define XEN_DOMCTL_CDF_MAX XEN_DOMCTL_CDF_vpmu

#define _XEN_DOMCTL_IOMMU_no_sharept 0 /* xen_domctl_createdomain.iommu_opts */
#define XEN_DOMCTL_IOMMU_no_sharept (1U << _XEN_DOMCTL_IOMMU_no_sharept)
#define XEN_DOMCTL_IOMMU_MAX XEN_DOMCTL_IOMMU_no_sharept

/* xen_domctl_createdomain.grant_opts: the highest grant table version the domain may use, in the low 4 bits. */
#define XEN_DOMCTL_GRANT_version_mask 0xf
#define XEN_DOMCTL_GRANT_version(v) ((v) & XEN_DOMCTL_GRANT_version_mask)

/* xen_domctl_getdomaininfo.flags */
#define _XEN_DOMINF_dying 0
#define XEN_DOMINF_dying (1U << _XEN_DOMINF_dying)
#define _XEN_DOMINF_hvm_guest 1
#define XEN_DOMINF_hvm_guest (1U << _XEN_DOMINF_hvm_guest)
#define _XEN_DOMINF_shutdown 2 /* the guest has shut down; the reason in the shutdown bits */
#define XEN_DOMINF_shutdown (1U << _XEN_DOMINF_shutdown)
#define _XEN_DOMINF_paused 3 /* paused by the toolstack */
#define XEN_DOMINF_paused (1U << _XEN_DOMINF_paused)
#define _XEN_DOMINF_blocked 4 /* every vCPU that is up is blocked */
#define XEN_DOMINF_blocked (1U << _XEN_DOMINF_blocked)
#define _XEN_DOMINF_running 5 /* some vCPU is on a CPU */
#define XEN_DOMINF_running (1U << _XEN_DOMINF_running)
#define _XEN_DOMINF_debugged 6
#define XEN_DOMINF_debugged (1U << _XEN_DOMINF_debugged)
#define _XEN_DOMINF_xs_domain 7
#define XEN_DOMINF_xs_domain (1U << _XEN_DOMINF_xs_domain)
#define _XEN_DOMINF_hap 8
#define XEN_DOMINF_hap (1U << _XEN_DOMINF_hap)
#define XEN_DOMINF_shutdownmask 255 /* SHUTDOWN_* reason, at this shift */
#define XEN_DOMINF_shutdownshift 16
#define XEN_INVALID_MAX_VCPU_ID (~0U) /* max_vcpu_id of a domain without vCPUs */

/* xen_domctl_vcpuaffinity.flags */
#define _XEN_VCPUAFFINITY_HARD 0 /* where the vCPU may run */
#define XEN_VCPUAFFINITY_HARD (1U << _XEN_VCPUAFFINITY_HARD)
#define _XEN_VCPUAFFINITY_SOFT 1 /* where it prefers to run */
#define XEN_VCPUAFFINITY_SOFT (1U << _XEN_VCPUAFFINITY_SOFT)
#define _XEN_VCPUAFFINITY_FORCE 2 /* undo a SCHEDOP_pin_override */
#define XEN_VCPUAFFINITY_FORCE (1U << _XEN_VCPUAFFINITY_FORCE)

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

/* XEN_DOMCTL_createdomain: a new, empty and paused domain. */
struct xen_domctl_createdomain {
    uint32_t ssidref;                    /*  0 IN: security label (XSM) */
    xen_domain_handle_t handle;          /*  4 IN: the toolstack's UUID */
    uint32_t flags;                      /* 20 IN: XEN_DOMCTL_CDF_* */
    uint32_t iommu_opts;                 /* 24 IN: XEN_DOMCTL_IOMMU_* */
    uint32_t max_vcpus;                  /* 28 IN: vCPUs the domain will have */
    uint32_t max_evtchn_port;            /* 32 IN: highest event channel port */
    int32_t max_grant_frames;            /* 36 IN: grant table frames; < 0 the hypervisor's default */
    int32_t max_maptrack_frames;         /* 40 IN: maptrack frames; < 0 the hypervisor's default */
    uint32_t grant_opts;                 /* 44 IN: XEN_DOMCTL_GRANT_version() */
    uint32_t vmtrace_size;               /* 48 IN: per-vCPU trace buffer bytes, 0 for none */
    uint32_t cpupool_id;                 /* 52 IN: 0 or an existing pool */
    struct xen_arch_domainconfig arch;   /* 56 IN/OUT */
};
KESTREL_ABI_SIZE(struct xen_domctl_createdomain, 64);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, ssidref, 0);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, handle, 4);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, flags, 20);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, iommu_opts, 24);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, max_vcpus, 28);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, max_evtchn_port, 32);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, max_grant_frames, 36);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, max_maptrack_frames, 40);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, grant_opts, 44);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, vmtrace_size, 48);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, cpupool_id, 52);
KESTREL_ABI_FIELD(struct xen_domctl_createdomain, arch, 56);

/* XEN_DOMCTL_getdomaininfo: a domain's state, for the first domain whose id is at or above the one asked for. */
struct xen_domctl_getdomaininfo {
    domid_t domain;                             /*   0 OUT: the domain found */
    uint16_t pad1;                              /*   2 */
    uint32_t flags;                             /*   4 OUT: XEN_DOMINF_* */
    uint64_aligned_t tot_pages;                 /*   8 OUT: pages it owns */
    uint64_aligned_t max_pages;                 /*  16 OUT: its limit */
    uint64_aligned_t outstanding_pages;         /*  24 OUT: claimed, not yet allocated */
    uint64_aligned_t shr_pages;                 /*  32 OUT: shared (memory sharing) */
    uint64_aligned_t paged_pages;               /*  40 OUT: paged out */
    uint64_aligned_t shared_info_frame;         /*  48 OUT: frame of its shared_info (machine frame for PV) */
    uint64_aligned_t cpu_time;                  /*  56 OUT: ns its vCPUs have run */
    uint32_t nr_online_vcpus;                   /*  64 OUT: vCPUs that are up */
    uint32_t max_vcpu_id;                       /*  68 OUT: highest vCPU id */
    uint32_t ssidref;                           /*  72 OUT */
    xen_domain_handle_t handle;                 /*  76 OUT */
    uint32_t cpupool;                           /*  92 OUT */
    uint8_t gpaddr_bits;                        /*  96 OUT: guest physical address width */
    uint8_t pad2[7];                            /*  97 */
    struct xen_arch_domainconfig arch_config;   /* 104 OUT */
};
typedef struct xen_domctl_getdomaininfo xen_domctl_getdomaininfo_t;
DEFINE_XEN_GUEST_HANDLE(xen_domctl_getdomaininfo_t);
KESTREL_ABI_SIZE(struct xen_domctl_getdomaininfo, 112);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, domain, 0);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, pad1, 2);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, flags, 4);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, tot_pages, 8);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, max_pages, 16);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, outstanding_pages, 24);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, shr_pages, 32);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, paged_pages, 40);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, shared_info_frame, 48);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, cpu_time, 56);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, nr_online_vcpus, 64);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, max_vcpu_id, 68);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, ssidref, 72);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, handle, 76);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, cpupool, 92);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, gpaddr_bits, 96);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, pad2, 97);
KESTREL_ABI_FIELD(struct xen_domctl_getdomaininfo, arch_config, 104);

/* XEN_DOMCTL_max_mem: the domain's memory limit. */
struct xen_domctl_max_mem {
    uint64_aligned_t max_memkb; /* 0 IN: KiB */
};
KESTREL_ABI_SIZE(struct xen_domctl_max_mem, 8);
KESTREL_ABI_FIELD(struct xen_domctl_max_mem, max_memkb, 0);

/* XEN_DOMCTL_max_vcpus: a created domain has no vCPUs until this call makes them; max must equal createdomain's
 * max_vcpus. */
struct xen_domctl_max_vcpus {
    uint32_t max; /* 0 IN */
};
KESTREL_ABI_SIZE(struct xen_domctl_max_vcpus, 4);
KESTREL_ABI_FIELD(struct xen_domctl_max_vcpus, max, 0);

/* XEN_DOMCTL_setvcpucontext / XEN_DOMCTL_getvcpucontext: a vCPU's whole state. */
struct xen_domctl_vcpucontext {
    uint32_t vcpu;                                /* 0 IN */
    XEN_GUEST_HANDLE_64(vcpu_guest_context_t) ctxt; /* 8 IN (set) / OUT (get) */
};
KESTREL_ABI_SIZE(struct xen_domctl_vcpucontext, 16);
KESTREL_ABI_FIELD(struct xen_domctl_vcpucontext, vcpu, 0);
KESTREL_ABI_FIELD(struct xen_domctl_vcpucontext, ctxt, 8);

/* XEN_DOMCTL_setvcpuaffinity / XEN_DOMCTL_getvcpuaffinity: the CPUs a vCPU may (hard) or prefers to (soft) run
 * on. On set both maps are written back with the effective affinity. */
struct xen_domctl_vcpuaffinity {
    uint32_t vcpu;                    /*  0 IN */
    uint32_t flags;                   /*  4 IN: XEN_VCPUAFFINITY_* */
    struct xenctl_bitmap cpumap_hard; /*  8 IN/OUT */
    struct xenctl_bitmap cpumap_soft; /* 24 IN/OUT */
};
KESTREL_ABI_SIZE(struct xen_domctl_vcpuaffinity, 40);
KESTREL_ABI_FIELD(struct xen_domctl_vcpuaffinity, vcpu, 0);
KESTREL_ABI_FIELD(struct xen_domctl_vcpuaffinity, flags, 4);
KESTREL_ABI_FIELD(struct xen_domctl_vcpuaffinity, cpumap_hard, 8);
KESTREL_ABI_FIELD(struct xen_domctl_vcpuaffinity, cpumap_soft, 24);

/* XEN_DOMCTL_hypercall_init: the hypervisor writes the hypercall page into one of the domain's frames. */
struct xen_domctl_hypercall_init {
    uint64_aligned_t gmfn; /* 0 IN: the frame (a machine frame for PV) */
};
KESTREL_ABI_SIZE(struct xen_domctl_hypercall_init, 8);
KESTREL_ABI_FIELD(struct xen_domctl_hypercall_init, gmfn, 0);

/* The argument of every domctl: the command, the interface version, the target domain and the command's data,
 * in a union of 128 bytes (most of whose members Kestrel does not describe yet). */
struct xen_domctl {
    uint32_t cmd;               /*  0 IN: XEN_DOMCTL_* */
    uint32_t interface_version; /*  4 IN: XEN_DOMCTL_INTERFACE_VERSION */
    domid_t domain;             /*  8 IN: the target domain */
    uint16_t _pad[3];           /* 10 */
    union {
        struct xen_domctl_createdomain createdomain;
        struct xen_domctl_getdomaininfo getdomaininfo;
        struct xen_domctl_vcpuaffinity vcpuaffinity;
        struct xen_domctl_max_mem max_mem;
        struct xen_domctl_max_vcpus max_vcpus;
        struct xen_domctl_vcpucontext vcpucontext;
        struct xen_domctl_scheduler_op scheduler_op;
        struct xen_domctl_hypercall_init hypercall_init;
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
KESTREL_ABI_FIELD(struct xen_domctl, u.createdomain, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.getdomaininfo, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.vcpuaffinity, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.max_mem, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.max_vcpus, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.vcpucontext, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.scheduler_op, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.hypercall_init, 16);
KESTREL_ABI_FIELD(struct xen_domctl, u.pad, 16);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
