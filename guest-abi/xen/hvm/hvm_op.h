/*
 * HYPERVISOR_hvm_op(cmd, arg): operations on HVM-style guest state. PV guests use it mostly for HVM parameters
 * (HVMOP_get_param: e.g. where the xenstore or console ring is) and HVM/PVH guests for their event upcall.
 */
#ifndef KESTREL_GUEST_ABI_XEN_HVM_HVM_OP_H
#define KESTREL_GUEST_ABI_XEN_HVM_HVM_OP_H

#include "../xen.h"
#include "../event_channel.h"

#define HVMOP_set_param 0                  /* struct xen_hvm_param: write HVM_PARAM_* */
#define HVMOP_get_param 1                  /* struct xen_hvm_param: read HVM_PARAM_* */
#define HVMOP_flush_tlbs 5                 /* arg NULL: flush all TLBs of the caller's vCPUs */
#define HVMOP_pagetable_dying 9            /* struct xen_hvm_pagetable_dying: shadow-paging hint */
#define HVMOP_get_time 10                  /* struct xen_hvm_get_time */
#define HVMOP_xentrace 11                  /* struct xen_hvm_xentrace (not described here) */
#define HVMOP_set_mem_access 12            /* toolstack: replaced by XENMEM_access_op, number kept */
#define HVMOP_get_mem_access 13            /* toolstack: replaced by XENMEM_access_op, number kept */
#define HVMOP_get_mem_type 15              /* struct xen_hvm_get_mem_type */
#define HVMOP_set_evtchn_upcall_vector 23  /* struct xen_hvm_evtchn_upcall_vector */
#define HVMOP_guest_request_vm_event 24    /* arg NULL: raise an event for a monitoring domain */
#define HVMOP_altp2m 25                    /* struct xen_hvm_altp2m_op (not described here) */
#define HVMOP_ALTP2M_INTERFACE_VERSION 0x00000001

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct xen_hvm_param {
    domid_t domid;  /* 0 IN: DOMID_SELF or (privileged) another domain */
    uint16_t pad;   /* 2 */
    uint32_t index; /* 4 IN: HVM_PARAM_* */
    uint64_t value; /* 8 IN (set) or OUT (get) */
};
typedef struct xen_hvm_param xen_hvm_param_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_param_t);
KESTREL_ABI_SIZE(struct xen_hvm_param, 16);
KESTREL_ABI_FIELD(struct xen_hvm_param, domid, 0);
KESTREL_ABI_FIELD(struct xen_hvm_param, pad, 2);
KESTREL_ABI_FIELD(struct xen_hvm_param, index, 4);
KESTREL_ABI_FIELD(struct xen_hvm_param, value, 8);

/* The guest no longer uses the page table at gpa (lets shadow paging drop it early). */
struct xen_hvm_pagetable_dying {
    domid_t domid;   /* 0 IN */
    uint16_t pad[3]; /* 2 */
    uint64_t gpa;    /* 8 IN */
};
typedef struct xen_hvm_pagetable_dying xen_hvm_pagetable_dying_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_pagetable_dying_t);
KESTREL_ABI_SIZE(struct xen_hvm_pagetable_dying, 16);
KESTREL_ABI_FIELD(struct xen_hvm_pagetable_dying, domid, 0);
KESTREL_ABI_FIELD(struct xen_hvm_pagetable_dying, pad, 2);
KESTREL_ABI_FIELD(struct xen_hvm_pagetable_dying, gpa, 8);

struct xen_hvm_get_time {
    uint64_t now; /* 0 OUT: system time in ns */
};
typedef struct xen_hvm_get_time xen_hvm_get_time_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_get_time_t);
KESTREL_ABI_SIZE(struct xen_hvm_get_time, 8);
KESTREL_ABI_FIELD(struct xen_hvm_get_time, now, 0);

/* The p2m type of a guest frame (HVMMEM_* of Xen's hvmmem_type_t). */
struct xen_hvm_get_mem_type {
    domid_t domid;     /* 0 IN */
    uint16_t mem_type; /* 2 OUT */
    uint16_t pad[2];   /* 4 */
    uint64_t pfn;      /* 8 IN */
};
typedef struct xen_hvm_get_mem_type xen_hvm_get_mem_type_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_get_mem_type_t);
KESTREL_ABI_SIZE(struct xen_hvm_get_mem_type, 16);
KESTREL_ABI_FIELD(struct xen_hvm_get_mem_type, domid, 0);
KESTREL_ABI_FIELD(struct xen_hvm_get_mem_type, mem_type, 2);
KESTREL_ABI_FIELD(struct xen_hvm_get_mem_type, pad, 4);
KESTREL_ABI_FIELD(struct xen_hvm_get_mem_type, pfn, 8);

/* Deliver vcpu's event upcalls on a local APIC vector. */
struct xen_hvm_evtchn_upcall_vector {
    uint32_t vcpu;  /* 0 IN */
    uint8_t vector; /* 4 IN */
};
typedef struct xen_hvm_evtchn_upcall_vector xen_hvm_evtchn_upcall_vector_t;
DEFINE_XEN_GUEST_HANDLE(xen_hvm_evtchn_upcall_vector_t);
KESTREL_ABI_SIZE(struct xen_hvm_evtchn_upcall_vector, 8);
KESTREL_ABI_FIELD(struct xen_hvm_evtchn_upcall_vector, vcpu, 0);
KESTREL_ABI_FIELD(struct xen_hvm_evtchn_upcall_vector, vector, 4);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
