/*
 * HYPERVISOR_memory_op(cmd, arg): a domain's memory. Reservations add and remove frames (balloon), exchange
 * swaps frames for others with different constraints, the physmap calls place special frames (shared info,
 * grant table) in a translated guest's physical space, and the memory-map calls return E820-style maps.
 */
#ifndef KESTREL_GUEST_ABI_XEN_MEMORY_H
#define KESTREL_GUEST_ABI_XEN_MEMORY_H

#include "xen.h"
#include "physdev.h"

#define XENMEM_increase_reservation 0 /* struct xen_memory_reservation: allocate frames; returns extents done */
#define XENMEM_decrease_reservation 1 /* struct xen_memory_reservation: give frames back */
#define XENMEM_populate_physmap 6     /* struct xen_memory_reservation: allocate frames at the given PFNs */

/* xen_memory_reservation.mem_flags: address-width limit in bits 0-7, NUMA node + 1 in bits 8-15, flags above. */
#define XENMEMF_address_bits(x) (x)
#define XENMEMF_get_address_bits(x) ((x) & 0xffu)
#define XENMEMF_node(x) (((x) + 1) << 8)
#define XENMEMF_get_node(x) ((((x) >> 8) - 1) & 0xffu)
#define XENMEMF_populate_on_demand (1 << 16)  /* populate lazily (HVM) */
#define XENMEMF_exact_node_request (1 << 17)  /* fail rather than fall back to another node */
#define XENMEMF_exact_node(n) (XENMEMF_node(n) | XENMEMF_exact_node_request)
#define XENMEMF_vnode (1 << 18)               /* the node is a virtual NUMA node */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* A list of extents (runs of 2^extent_order frames) to add to or remove from a domain. */
struct xen_memory_reservation {
    XEN_GUEST_HANDLE(xen_pfn_t) extent_start; /*  0 IN/OUT: frame numbers; increase returns the MFNs, populate
                                                           takes the PFNs, decrease takes the frames to free */
    xen_ulong_t nr_extents;                   /*  8 IN: entries in extent_start */
    uint32_t extent_order;                    /* 16 IN: log2 of frames per extent */
    uint32_t mem_flags;                       /* 20 IN: XENMEMF_* */
    domid_t domid;                            /* 24 IN: DOMID_SELF or (privileged) another domain */
};
typedef struct xen_memory_reservation xen_memory_reservation_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_reservation_t);
KESTREL_ABI_SIZE(struct xen_memory_reservation, 32);
KESTREL_ABI_FIELD(struct xen_memory_reservation, extent_start, 0);
KESTREL_ABI_FIELD(struct xen_memory_reservation, nr_extents, 8);
KESTREL_ABI_FIELD(struct xen_memory_reservation, extent_order, 16);
KESTREL_ABI_FIELD(struct xen_memory_reservation, mem_flags, 20);
KESTREL_ABI_FIELD(struct xen_memory_reservation, domid, 24);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_exchange 11 /* struct xen_memory_exchange */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Swap the frames of "in" for newly allocated frames described by "out" (e.g. to get machine-contiguous or
 * low memory); the total size on both sides must match. Restartable: nr_exchanged counts progress. */
struct xen_memory_exchange {
    struct xen_memory_reservation in;  /*  0 IN: frames to give up */
    struct xen_memory_reservation out; /* 32 IN/OUT: shape of the replacement; its frames are returned */
    xen_ulong_t nr_exchanged;          /* 64 IN: must be 0; OUT: input extents exchanged so far */
};
typedef struct xen_memory_exchange xen_memory_exchange_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_exchange_t);
KESTREL_ABI_SIZE(struct xen_memory_exchange, 72);
KESTREL_ABI_FIELD(struct xen_memory_exchange, in, 0);
KESTREL_ABI_FIELD(struct xen_memory_exchange, out, 32);
KESTREL_ABI_FIELD(struct xen_memory_exchange, nr_exchanged, 64);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_maximum_ram_page 2    /* arg unused: highest machine frame with RAM */
#define XENMEM_current_reservation 3 /* struct xen_memory_domain: pages the domain has */
#define XENMEM_maximum_reservation 4 /* struct xen_memory_domain: pages it may have */
#define XENMEM_maximum_gpfn 14       /* struct xen_memory_domain: highest guest frame in use */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct xen_memory_domain {
    domid_t domid; /* 0 IN */
};
KESTREL_ABI_SIZE(struct xen_memory_domain, 2);
KESTREL_ABI_FIELD(struct xen_memory_domain, domid, 0);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_machphys_mfn_list 5         /* struct xen_machphys_mfn_list */
#define XENMEM_machphys_compat_mfn_list 25 /* the same for the 32-bit compat M2P */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* The machine frames backing the read-only M2P table, one per 2 MiB chunk, for guests that map it themselves. */
struct xen_machphys_mfn_list {
    uint32_t max_extents;                     /*  0 IN: room in extent_start */
    XEN_GUEST_HANDLE(xen_pfn_t) extent_start; /*  8 OUT: first frame of each chunk */
    uint32_t nr_extents;                      /* 16 OUT: entries written */
};
typedef struct xen_machphys_mfn_list xen_machphys_mfn_list_t;
DEFINE_XEN_GUEST_HANDLE(xen_machphys_mfn_list_t);
KESTREL_ABI_SIZE(struct xen_machphys_mfn_list, 24);
KESTREL_ABI_FIELD(struct xen_machphys_mfn_list, max_extents, 0);
KESTREL_ABI_FIELD(struct xen_machphys_mfn_list, extent_start, 8);
KESTREL_ABI_FIELD(struct xen_machphys_mfn_list, nr_extents, 16);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_machphys_mapping 12 /* struct xen_machphys_mapping */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Where the M2P table is mapped in the guest and how far it reaches. */
struct xen_machphys_mapping {
    xen_ulong_t v_start; /*  0 OUT: first virtual address */
    xen_ulong_t v_end;   /*  8 OUT: end of the mapping */
    xen_ulong_t max_mfn; /* 16 OUT: highest machine frame with an entry */
};
typedef struct xen_machphys_mapping xen_machphys_mapping_t;
DEFINE_XEN_GUEST_HANDLE(xen_machphys_mapping_t);
KESTREL_ABI_SIZE(struct xen_machphys_mapping, 24);
KESTREL_ABI_FIELD(struct xen_machphys_mapping, v_start, 0);
KESTREL_ABI_FIELD(struct xen_machphys_mapping, v_end, 8);
KESTREL_ABI_FIELD(struct xen_machphys_mapping, max_mfn, 16);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/* What xen_add_to_physmap.idx names. */
#define XENMAPSPACE_shared_info 0   /* the shared-info page */
#define XENMAPSPACE_grant_table 1   /* grant-table frame idx (| XENMAPIDX_grant_table_status for v2 status) */
#define XENMAPSPACE_gmfn 2          /* another guest frame of ours, moved to gpfn */
#define XENMAPSPACE_gmfn_range 3    /* size guest frames starting at idx */
#define XENMAPSPACE_gmfn_foreign 4  /* a frame of another domain (batch form only) */
#define XENMAPSPACE_dev_mmio 5      /* device MMIO (Arm) */

#define XENMEM_add_to_physmap 7 /* struct xen_add_to_physmap */
#define XENMAPIDX_grant_table_status 0x80000000 /* idx flag: a v2 status frame rather than a grant frame */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Place a special or existing frame at guest frame gpfn of a translated domain. */
struct xen_add_to_physmap {
    domid_t domid;   /*  0 IN */
    uint16_t size;   /*  2 IN: frames, for XENMAPSPACE_gmfn_range */
    uint32_t space;  /*  4 IN: XENMAPSPACE_* */
    xen_ulong_t idx; /*  8 IN: index within the space */
    xen_pfn_t gpfn;  /* 16 IN: where to put it */
};
typedef struct xen_add_to_physmap xen_add_to_physmap_t;
DEFINE_XEN_GUEST_HANDLE(xen_add_to_physmap_t);
KESTREL_ABI_SIZE(struct xen_add_to_physmap, 24);
KESTREL_ABI_FIELD(struct xen_add_to_physmap, domid, 0);
KESTREL_ABI_FIELD(struct xen_add_to_physmap, size, 2);
KESTREL_ABI_FIELD(struct xen_add_to_physmap, space, 4);
KESTREL_ABI_FIELD(struct xen_add_to_physmap, idx, 8);
KESTREL_ABI_FIELD(struct xen_add_to_physmap, gpfn, 16);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_add_to_physmap_batch 23 /* struct xen_add_to_physmap_batch */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Several add_to_physmap operations of one space, with per-entry errors. */
struct xen_add_to_physmap_batch {
    domid_t domid;  /* 0 IN */
    uint16_t space; /* 2 IN: XENMAPSPACE_* */
    uint16_t size;  /* 4 IN: entries in idxs, gpfns and errs */
    union xen_add_to_physmap_batch_extra {
        domid_t foreign_domid; /* XENMAPSPACE_gmfn_foreign: the owner of the frames */
        uint16_t res0;         /* otherwise: must be zero */
    } u;                                  /*  6 IN */
    XEN_GUEST_HANDLE(xen_ulong_t) idxs;   /*  8 IN */
    XEN_GUEST_HANDLE(xen_pfn_t) gpfns;    /* 16 IN */
    XEN_GUEST_HANDLE(int) errs;           /* 24 OUT: 0 or -errno per entry */
};
typedef struct xen_add_to_physmap_batch xen_add_to_physmap_batch_t;
DEFINE_XEN_GUEST_HANDLE(xen_add_to_physmap_batch_t);
KESTREL_ABI_SIZE(struct xen_add_to_physmap_batch, 32);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, domid, 0);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, space, 2);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, size, 4);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, u, 6);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, u.foreign_domid, 6);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, u.res0, 6);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, idxs, 8);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, gpfns, 16);
KESTREL_ABI_FIELD(struct xen_add_to_physmap_batch, errs, 24);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_remove_from_physmap 15 /* struct xen_remove_from_physmap */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct xen_remove_from_physmap {
    domid_t domid;  /* 0 IN */
    xen_pfn_t gpfn; /* 8 IN: the guest frame to unmap */
};
typedef struct xen_remove_from_physmap xen_remove_from_physmap_t;
DEFINE_XEN_GUEST_HANDLE(xen_remove_from_physmap_t);
KESTREL_ABI_SIZE(struct xen_remove_from_physmap, 16);
KESTREL_ABI_FIELD(struct xen_remove_from_physmap, domid, 0);
KESTREL_ABI_FIELD(struct xen_remove_from_physmap, gpfn, 8);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_memory_map 9          /* struct xen_memory_map: the caller's pseudo-physical memory map */
#define XENMEM_machine_memory_map 10 /* struct xen_memory_map: the host's memory map (dom0) */
#define XENMEM_set_memory_map 13     /* struct xen_foreign_memory_map: set a domain's map (toolstack) */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* A memory map as an array of E820 entries (struct xen_e820_entry below). */
struct xen_memory_map {
    uint32_t nr_entries;           /* 0 IN: room in buffer, in entries; OUT: entries written */
    XEN_GUEST_HANDLE(void) buffer; /* 8 IN */
};
typedef struct xen_memory_map xen_memory_map_t;
DEFINE_XEN_GUEST_HANDLE(xen_memory_map_t);
KESTREL_ABI_SIZE(struct xen_memory_map, 16);
KESTREL_ABI_FIELD(struct xen_memory_map, nr_entries, 0);
KESTREL_ABI_FIELD(struct xen_memory_map, buffer, 8);

struct xen_foreign_memory_map {
    domid_t domid;             /* 0 IN */
    struct xen_memory_map map; /* 8 IN */
};
typedef struct xen_foreign_memory_map xen_foreign_memory_map_t;
DEFINE_XEN_GUEST_HANDLE(xen_foreign_memory_map_t);
KESTREL_ABI_SIZE(struct xen_foreign_memory_map, 24);
KESTREL_ABI_FIELD(struct xen_foreign_memory_map, domid, 0);
KESTREL_ABI_FIELD(struct xen_foreign_memory_map, map, 8);

/*
 * One entry of the map XENMEM_memory_map and XENMEM_machine_memory_map fill in: the BIOS E820 format, 20 bytes
 * with no padding (Xen's public headers do not spell this structure out; the format is the firmware's).
 */
struct xen_e820_entry {              /* kestrel-only: layout fact, Kestrel's name */
    uint64_t addr;                   /*  0 OUT: first byte of the range */
    uint64_t size;                   /*  8 OUT: length in bytes */
    uint32_t type;                   /* 16 OUT: XEN_E820_* */
} __attribute__((packed));
KESTREL_ABI_SIZE(struct xen_e820_entry, 20);        /* kestrel-only */
KESTREL_ABI_FIELD(struct xen_e820_entry, addr, 0);  /* kestrel-only */
KESTREL_ABI_FIELD(struct xen_e820_entry, size, 8);  /* kestrel-only */
KESTREL_ABI_FIELD(struct xen_e820_entry, type, 16); /* kestrel-only */

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/* xen_e820_entry.type, as the firmware defines them. */
#define XEN_E820_RAM 1       /* kestrel-only: usable RAM */
#define XEN_E820_RESERVED 2  /* kestrel-only: reserved, do not use */
#define XEN_E820_ACPI 3      /* kestrel-only: ACPI tables, reclaimable after parsing */
#define XEN_E820_NVS 4       /* kestrel-only: ACPI non-volatile storage */
#define XEN_E820_UNUSABLE 5  /* kestrel-only: bad memory */

#define XENMEM_set_pod_target 16 /* struct xen_pod_target (toolstack, HVM) */
#define XENMEM_get_pod_target 17 /* struct xen_pod_target */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Populate-on-demand accounting of an HVM domain. */
struct xen_pod_target {
    uint64_t target_pages;    /*  0 IN */
    uint64_t tot_pages;       /*  8 OUT */
    uint64_t pod_cache_pages; /* 16 OUT */
    uint64_t pod_entries;     /* 24 OUT */
    domid_t domid;            /* 32 IN */
};
typedef struct xen_pod_target xen_pod_target_t;
KESTREL_ABI_SIZE(struct xen_pod_target, 40);
KESTREL_ABI_FIELD(struct xen_pod_target, target_pages, 0);
KESTREL_ABI_FIELD(struct xen_pod_target, tot_pages, 8);
KESTREL_ABI_FIELD(struct xen_pod_target, pod_cache_pages, 16);
KESTREL_ABI_FIELD(struct xen_pod_target, pod_entries, 24);
KESTREL_ABI_FIELD(struct xen_pod_target, domid, 32);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_claim_pages 24      /* struct xen_memory_reservation: reserve pages for a domain being built */
#define XENMEM_acquire_resource 28 /* struct xen_mem_acquire_resource */

/* xen_mem_acquire_resource.type and .id */
#define XENMEM_resource_ioreq_server 0
#define XENMEM_resource_grant_table 1
#define XENMEM_resource_vmtrace_buf 2
#define XENMEM_resource_grant_table_id_shared 0
#define XENMEM_resource_grant_table_id_status 1
#define XENMEM_resource_ioreq_server_frame_bufioreq 0
#define XENMEM_resource_ioreq_server_frame_ioreq(n) (1 + (n))

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Map frames of a hypervisor resource of a domain (its grant table, an ioreq server) into the caller. */
struct xen_mem_acquire_resource {
    domid_t domid;                          /*  0 IN: owner of the resource */
    uint16_t type;                          /*  2 IN: XENMEM_resource_* */
    uint32_t id;                            /*  4 IN: which instance */
    uint32_t nr_frames;                     /*  8 IN/OUT: frames wanted; 0 asks for the maximum */
    uint32_t pad;                           /* 12 */
    uint64_t frame;                         /* 16 IN: first frame of the resource */
    XEN_GUEST_HANDLE(xen_pfn_t) frame_list; /* 24 IN (translated) or OUT (PV): the frames */
};
typedef struct xen_mem_acquire_resource xen_mem_acquire_resource_t;
DEFINE_XEN_GUEST_HANDLE(xen_mem_acquire_resource_t);
KESTREL_ABI_SIZE(struct xen_mem_acquire_resource, 32);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, domid, 0);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, type, 2);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, id, 4);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, nr_frames, 8);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, pad, 12);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, frame, 16);
KESTREL_ABI_FIELD(struct xen_mem_acquire_resource, frame_list, 24);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENMEM_get_vnumainfo 26 /* struct xen_vnuma_topology_info */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* One range of guest memory belonging to a virtual NUMA node. */
struct xen_vmemrange {
    uint64_t start;  /*  0 */
    uint64_t end;    /*  8 */
    uint32_t flags;  /* 16 */
    uint32_t nid;    /* 20: virtual node */
};
typedef struct xen_vmemrange xen_vmemrange_t;
DEFINE_XEN_GUEST_HANDLE(xen_vmemrange_t);
KESTREL_ABI_SIZE(struct xen_vmemrange, 24);
KESTREL_ABI_FIELD(struct xen_vmemrange, start, 0);
KESTREL_ABI_FIELD(struct xen_vmemrange, end, 8);
KESTREL_ABI_FIELD(struct xen_vmemrange, flags, 16);
KESTREL_ABI_FIELD(struct xen_vmemrange, nid, 20);

/* The domain's virtual NUMA topology. Handles sit in 8-byte unions so that 32-bit guests share the layout. */
struct xen_vnuma_topology_info {
    domid_t domid;          /*  0 IN */
    uint16_t pad;           /*  2 */
    uint32_t nr_vnodes;     /*  4 IN: room; OUT: count */
    uint32_t nr_vcpus;      /*  8 IN: room; OUT: count */
    uint32_t nr_vmemranges; /* 12 IN: room; OUT: count */
    union {
        XEN_GUEST_HANDLE(uint) h;
        uint64_t pad;
    } vdistance;            /* 16 OUT: nr_vnodes x nr_vnodes distances */
    union {
        XEN_GUEST_HANDLE(uint) h;
        uint64_t pad;
    } vcpu_to_vnode;        /* 24 OUT: node of each vCPU */
    union {
        XEN_GUEST_HANDLE(xen_vmemrange_t) h;
        uint64_t pad;
    } vmemrange;            /* 32 OUT: the memory ranges */
};
typedef struct xen_vnuma_topology_info xen_vnuma_topology_info_t;
DEFINE_XEN_GUEST_HANDLE(xen_vnuma_topology_info_t);
KESTREL_ABI_SIZE(struct xen_vnuma_topology_info, 40);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, domid, 0);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, pad, 2);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, nr_vnodes, 4);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, nr_vcpus, 8);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, nr_vmemranges, 12);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vdistance, 16);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vdistance.h, 16);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vdistance.pad, 16);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vcpu_to_vnode, 24);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vcpu_to_vnode.h, 24);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vcpu_to_vnode.pad, 24);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vmemrange, 32);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vmemrange.h, 32);
KESTREL_ABI_FIELD(struct xen_vnuma_topology_info, vmemrange.pad, 32);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
