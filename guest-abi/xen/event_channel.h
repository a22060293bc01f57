/*
 * HYPERVISOR_event_channel_op(cmd, arg): event channels, the PV replacement for interrupts. A port is a
 * per-domain number; binding connects it to another domain's port, a virtual interrupt (VIRQ_*), a physical
 * interrupt (pirq) or an IPI. Delivery uses either the 2-level bitmaps in shared_info or, after
 * EVTCHNOP_init_control, the FIFO ABI described at the end of this file.
 */
#ifndef KESTREL_GUEST_ABI_XEN_EVENT_CHANNEL_H
#define KESTREL_GUEST_ABI_XEN_EVENT_CHANNEL_H

#include "xen.h"

#define EVTCHNOP_bind_interdomain 0 /* struct evtchn_bind_interdomain */
#define EVTCHNOP_bind_virq 1        /* struct evtchn_bind_virq */
#define EVTCHNOP_bind_pirq 2        /* struct evtchn_bind_pirq */
#define EVTCHNOP_close 3            /* struct evtchn_close */
#define EVTCHNOP_send 4             /* struct evtchn_send */
#define EVTCHNOP_status 5           /* struct evtchn_status */
#define EVTCHNOP_alloc_unbound 6    /* struct evtchn_alloc_unbound */
#define EVTCHNOP_bind_ipi 7         /* struct evtchn_bind_ipi */
#define EVTCHNOP_bind_vcpu 8        /* struct evtchn_bind_vcpu */
#define EVTCHNOP_unmask 9           /* struct evtchn_unmask */
#define EVTCHNOP_reset 10           /* struct evtchn_reset */
#define EVTCHNOP_init_control 11    /* struct evtchn_init_control */
#define EVTCHNOP_expand_array 12    /* struct evtchn_expand_array */
#define EVTCHNOP_set_priority 13    /* struct evtchn_set_priority */
#define EVTCHNOP_reset_cont 14      /* kestrel-only: Xen keeps it under __XEN__; continues a preempted EVTCHNOP_reset */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t evtchn_port_t;
DEFINE_XEN_GUEST_HANDLE(evtchn_port_t);

/* Allocate a port in dom that remote_dom may later bind to. */
struct evtchn_alloc_unbound {
    domid_t dom;        /* 0 IN: DOMID_SELF, or another domain (privileged) */
    domid_t remote_dom; /* 2 IN: the domain allowed to connect */
    evtchn_port_t port; /* 4 OUT: the new port */
};
typedef struct evtchn_alloc_unbound evtchn_alloc_unbound_t;
KESTREL_ABI_SIZE(struct evtchn_alloc_unbound, 8);
KESTREL_ABI_FIELD(struct evtchn_alloc_unbound, dom, 0);
KESTREL_ABI_FIELD(struct evtchn_alloc_unbound, remote_dom, 2);
KESTREL_ABI_FIELD(struct evtchn_alloc_unbound, port, 4);

/* Connect a new local port to an unbound port of remote_dom. */
struct evtchn_bind_interdomain {
    domid_t remote_dom;        /* 0 IN */
    evtchn_port_t remote_port; /* 4 IN */
    evtchn_port_t local_port;  /* 8 OUT */
};
typedef struct evtchn_bind_interdomain evtchn_bind_interdomain_t;
KESTREL_ABI_SIZE(struct evtchn_bind_interdomain, 12);
KESTREL_ABI_FIELD(struct evtchn_bind_interdomain, remote_dom, 0);
KESTREL_ABI_FIELD(struct evtchn_bind_interdomain, remote_port, 4);
KESTREL_ABI_FIELD(struct evtchn_bind_interdomain, local_port, 8);

/* Bind a virtual interrupt to a new port, delivered to vcpu. */
struct evtchn_bind_virq {
    uint32_t virq;      /* 0 IN: VIRQ_* */
    uint32_t vcpu;      /* 4 IN: target vCPU (per-vCPU VIRQs are bound on each) */
    evtchn_port_t port; /* 8 OUT */
};
typedef struct evtchn_bind_virq evtchn_bind_virq_t;
KESTREL_ABI_SIZE(struct evtchn_bind_virq, 12);
KESTREL_ABI_FIELD(struct evtchn_bind_virq, virq, 0);
KESTREL_ABI_FIELD(struct evtchn_bind_virq, vcpu, 4);
KESTREL_ABI_FIELD(struct evtchn_bind_virq, port, 8);

/* Bind a physical interrupt (privileged domains). */
#define BIND_PIRQ__WILL_SHARE 1 /* the caller accepts sharing the line with other domains */
struct evtchn_bind_pirq {
    uint32_t pirq;      /* 0 IN */
    uint32_t flags;     /* 4 IN: BIND_PIRQ__* */
    evtchn_port_t port; /* 8 OUT */
};
typedef struct evtchn_bind_pirq evtchn_bind_pirq_t;
KESTREL_ABI_SIZE(struct evtchn_bind_pirq, 12);
KESTREL_ABI_FIELD(struct evtchn_bind_pirq, pirq, 0);
KESTREL_ABI_FIELD(struct evtchn_bind_pirq, flags, 4);
KESTREL_ABI_FIELD(struct evtchn_bind_pirq, port, 8);

/* A port for inter-processor notifications within the domain, delivered to vcpu. */
struct evtchn_bind_ipi {
    uint32_t vcpu;      /* 0 IN */
    evtchn_port_t port; /* 4 OUT */
};
typedef struct evtchn_bind_ipi evtchn_bind_ipi_t;
KESTREL_ABI_SIZE(struct evtchn_bind_ipi, 8);
KESTREL_ABI_FIELD(struct evtchn_bind_ipi, vcpu, 0);
KESTREL_ABI_FIELD(struct evtchn_bind_ipi, port, 4);

/* Close a port; an interdomain peer's port goes back to unbound. */
struct evtchn_close {
    evtchn_port_t port; /* 0 IN */
};
typedef struct evtchn_close evtchn_close_t;
KESTREL_ABI_SIZE(struct evtchn_close, 4);
KESTREL_ABI_FIELD(struct evtchn_close, port, 0);

/* Signal the other end of a port (interdomain or IPI). */
struct evtchn_send {
    evtchn_port_t port; /* 0 IN */
};
typedef struct evtchn_send evtchn_send_t;
KESTREL_ABI_SIZE(struct evtchn_send, 4);
KESTREL_ABI_FIELD(struct evtchn_send, port, 0);

/* What a port is bound to. */
#define EVTCHNSTAT_closed 0      /* not in use */
#define EVTCHNSTAT_unbound 1     /* allocated, waiting for a peer */
#define EVTCHNSTAT_interdomain 2 /* connected to another domain's port */
#define EVTCHNSTAT_pirq 3        /* bound to a physical interrupt */
#define EVTCHNSTAT_virq 4        /* bound to a virtual interrupt */
#define EVTCHNSTAT_ipi 5         /* bound for IPIs */
struct evtchn_status {
    domid_t dom;        /*  0 IN: DOMID_SELF or another domain (privileged) */
    evtchn_port_t port; /*  4 IN */
    uint32_t status;    /*  8 OUT: EVTCHNSTAT_* */
    uint32_t vcpu;      /* 12 OUT: vCPU notified */
    union {
        struct {
            domid_t dom; /* 16 OUT: who may bind */
        } unbound;
        struct {
            domid_t dom;        /* 16 OUT: peer domain */
            evtchn_port_t port; /* 20 OUT: peer port */
        } interdomain;
        uint32_t pirq; /* 16 OUT */
        uint32_t virq; /* 16 OUT */
    } u;               /* 16 */
};
typedef struct evtchn_status evtchn_status_t;
KESTREL_ABI_SIZE(struct evtchn_status, 24);
KESTREL_ABI_FIELD(struct evtchn_status, dom, 0);
KESTREL_ABI_FIELD(struct evtchn_status, port, 4);
KESTREL_ABI_FIELD(struct evtchn_status, status, 8);
KESTREL_ABI_FIELD(struct evtchn_status, vcpu, 12);
KESTREL_ABI_FIELD(struct evtchn_status, u, 16);
KESTREL_ABI_FIELD(struct evtchn_status, u.unbound.dom, 16);
KESTREL_ABI_FIELD(struct evtchn_status, u.interdomain.dom, 16);
KESTREL_ABI_FIELD(struct evtchn_status, u.interdomain.port, 20);
KESTREL_ABI_FIELD(struct evtchn_status, u.pirq, 16);
KESTREL_ABI_FIELD(struct evtchn_status, u.virq, 16);

/* Deliver a port's notifications to another vCPU. */
struct evtchn_bind_vcpu {
    evtchn_port_t port; /* 0 IN */
    uint32_t vcpu;      /* 4 IN */
};
typedef struct evtchn_bind_vcpu evtchn_bind_vcpu_t;
KESTREL_ABI_SIZE(struct evtchn_bind_vcpu, 8);
KESTREL_ABI_FIELD(struct evtchn_bind_vcpu, port, 0);
KESTREL_ABI_FIELD(struct evtchn_bind_vcpu, vcpu, 4);

/* Clear a port's mask and re-raise the upcall if it is pending. */
struct evtchn_unmask {
    evtchn_port_t port; /* 0 IN */
};
typedef struct evtchn_unmask evtchn_unmask_t;
KESTREL_ABI_SIZE(struct evtchn_unmask, 4);
KESTREL_ABI_FIELD(struct evtchn_unmask, port, 0);

/* Close every port of a domain and return it to the 2-level ABI. */
struct evtchn_reset {
    domid_t dom; /* 0 IN: DOMID_SELF or another domain (privileged) */
};
typedef struct evtchn_reset evtchn_reset_t;
KESTREL_ABI_SIZE(struct evtchn_reset, 2);
KESTREL_ABI_FIELD(struct evtchn_reset, dom, 0);

/* Switch to the FIFO ABI: register vcpu's control block. */
struct evtchn_init_control {
    uint64_t control_gfn; /*  0 IN: guest frame holding the control block */
    uint32_t offset;      /*  8 IN: byte offset of the block within that frame */
    uint32_t vcpu;        /* 12 IN */
    uint8_t link_bits;    /* 16 OUT: EVTCHN_FIFO_LINK_BITS as implemented */
    uint8_t _pad[7];      /* 17 */
};
typedef struct evtchn_init_control evtchn_init_control_t;
KESTREL_ABI_SIZE(struct evtchn_init_control, 24);
KESTREL_ABI_FIELD(struct evtchn_init_control, control_gfn, 0);
KESTREL_ABI_FIELD(struct evtchn_init_control, offset, 8);
KESTREL_ABI_FIELD(struct evtchn_init_control, vcpu, 12);
KESTREL_ABI_FIELD(struct evtchn_init_control, link_bits, 16);
KESTREL_ABI_FIELD(struct evtchn_init_control, _pad, 17);

/* FIFO ABI: add one page of event words, extending the usable ports. */
struct evtchn_expand_array {
    uint64_t array_gfn; /* 0 IN */
};
typedef struct evtchn_expand_array evtchn_expand_array_t;
KESTREL_ABI_SIZE(struct evtchn_expand_array, 8);
KESTREL_ABI_FIELD(struct evtchn_expand_array, array_gfn, 0);

/* FIFO ABI: move a port to another priority queue. */
struct evtchn_set_priority {
    evtchn_port_t port; /* 0 IN */
    uint32_t priority;  /* 4 IN: EVTCHN_FIFO_PRIORITY_MAX (0, highest) .. _MIN */
};
typedef struct evtchn_set_priority evtchn_set_priority_t;
KESTREL_ABI_SIZE(struct evtchn_set_priority, 8);
KESTREL_ABI_FIELD(struct evtchn_set_priority, port, 0);
KESTREL_ABI_FIELD(struct evtchn_set_priority, priority, 4);

/* Argument of the old __HYPERVISOR_event_channel_op_compat: the sub-op and its structure in one. */
struct evtchn_op {
    uint32_t cmd; /* 0 IN: EVTCHNOP_* */
    union {
        evtchn_alloc_unbound_t alloc_unbound;
        evtchn_bind_interdomain_t bind_interdomain;
        evtchn_bind_virq_t bind_virq;
        evtchn_bind_pirq_t bind_pirq;
        evtchn_bind_ipi_t bind_ipi;
        evtchn_close_t close;
        evtchn_send_t send;
        evtchn_status_t status;
        evtchn_bind_vcpu_t bind_vcpu;
        evtchn_unmask_t unmask;
    } u; /* 4 */
};
typedef struct evtchn_op evtchn_op_t;
DEFINE_XEN_GUEST_HANDLE(evtchn_op_t);
KESTREL_ABI_SIZE(struct evtchn_op, 28);
KESTREL_ABI_FIELD(struct evtchn_op, cmd, 0);
KESTREL_ABI_FIELD(struct evtchn_op, u, 4);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/* Ports the 2-level ABI can address: one bit per port in shared_info's 64 words of 64 bits. */
#define EVTCHN_2L_NR_CHANNELS (sizeof(xen_ulong_t) * sizeof(xen_ulong_t) * 64)

/*
 * FIFO ABI. Each port has a 32-bit event word in guest-provided array pages; pending ports are linked into one of
 * 16 per-vCPU priority queues through the word's link field, and the control block holds the queue heads.
 */
#define EVTCHN_FIFO_PRIORITY_MAX 0     /* highest priority */
#define EVTCHN_FIFO_PRIORITY_DEFAULT 7 /* priority of a newly bound port */
#define EVTCHN_FIFO_PRIORITY_MIN 15    /* lowest priority */
#define EVTCHN_FIFO_MAX_QUEUES (EVTCHN_FIFO_PRIORITY_MIN + 1)

#ifndef __ASSEMBLY__
typedef uint32_t event_word_t;
#endif

/* Bit numbers within an event word. */
#define EVTCHN_FIFO_PENDING 31 /* an event is pending */
#define EVTCHN_FIFO_MASKED 30  /* delivery suppressed */
#define EVTCHN_FIFO_LINKED 29  /* the port is on a queue */
#define EVTCHN_FIFO_BUSY 28    /* the hypervisor is changing the word; the guest must not unmask yet */
#define EVTCHN_FIFO_LINK_BITS 17 /* width of the link field: the next port on the queue */
#define EVTCHN_FIFO_LINK_MASK ((1 << EVTCHN_FIFO_LINK_BITS) - 1)
#define EVTCHN_FIFO_NR_CHANNELS (1 << EVTCHN_FIFO_LINK_BITS) /* ports the FIFO ABI can address */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
/* Per-vCPU FIFO control block, placed by EVTCHNOP_init_control. */
struct evtchn_fifo_control_block {
    uint32_t ready;                          /* 0 OUT: bit q set when queue q became non-empty */
    uint32_t _rsvd;                          /* 4 */
    uint32_t head[EVTCHN_FIFO_MAX_QUEUES];   /* 8 IN/OUT: first port of each queue, 0 when empty */
};
typedef struct evtchn_fifo_control_block evtchn_fifo_control_block_t;
KESTREL_ABI_SIZE(struct evtchn_fifo_control_block, 72);
KESTREL_ABI_FIELD(struct evtchn_fifo_control_block, ready, 0);
KESTREL_ABI_FIELD(struct evtchn_fifo_control_block, _rsvd, 4);
KESTREL_ABI_FIELD(struct evtchn_fifo_control_block, head, 8);
#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
