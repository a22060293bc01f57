/*
 * HYPERVISOR_grant_table_op(cmd, arg, count): sharing pages between domains. A granting domain fills entries of
 * its grant table (shared with the hypervisor) to say which domain may map or copy which of its frames; the
 * grantee refers to an entry by its index, the grant reference, when it maps, unmaps or copies. Entries come in
 * two layouts, v1 (8 bytes) and v2 (16 bytes, with status bits kept in separate status frames).
 */
#ifndef KESTREL_GUEST_ABI_XEN_GRANT_TABLE_H
#define KESTREL_GUEST_ABI_XEN_GRANT_TABLE_H

#include "xen.h"

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t grant_ref_t; /* index into the granter's grant table */

/* A v1 grant entry, written by the granting domain. */
struct grant_entry_v1 {
    uint16_t flags; /* 0 IN/OUT: GTF_* type and permissions; GTF_reading/writing are set by the hypervisor */
    domid_t domid;  /* 2 IN: the domain allowed to use the grant */
    uint32_t frame; /* 4 IN: the granted frame (permit_access) or OUT: the frame transferred in (accept_transfer) */
};
typedef struct grant_entry_v1 grant_entry_v1_t;
KESTREL_ABI_SIZE(struct grant_entry_v1, 8);
KESTREL_ABI_FIELD(struct grant_entry_v1, flags, 0);
KESTREL_ABI_FIELD(struct grant_entry_v1, domid, 2);
KESTREL_ABI_FIELD(struct grant_entry_v1, frame, 4);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/* The first entries are set up by the toolstack for the console and xenstore rings. */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE 0
#define GNTTAB_RESERVED_XENSTORE 1

/* Grant entry flags: the type in bits 0-1 ... */
#define GTF_invalid (0U << 0)         /* the entry grants nothing */
#define GTF_permit_access (1U << 0)   /* domid may map or copy frame */
#define GTF_accept_transfer (2U << 0) /* domid may transfer a frame into this entry */
#define GTF_transitive (3U << 0)      /* v2: domid may use another grant that was granted to us */
#define GTF_type_mask (3U << 0)
/* ... then for GTF_permit_access: */
#define _GTF_readonly (2)
#define GTF_readonly (1U << _GTF_readonly) /* only read-only mappings */
#define _GTF_reading (3)
#define GTF_reading (1U << _GTF_reading) /* set by the hypervisor while the grant is mapped or copied from */
#define _GTF_writing (4)
#define GTF_writing (1U << _GTF_writing) /* set by the hypervisor while the grant is mapped writable or copied to */
#define _GTF_PWT (5)
#define GTF_PWT (1U << _GTF_PWT) /* cache attribute bits for the grantee's mapping */
#define _GTF_PCD (6)
#define GTF_PCD (1U << _GTF_PCD)
#define _GTF_PAT (7)
#define GTF_PAT (1U << _GTF_PAT)
#define _GTF_sub_page (8)
#define GTF_sub_page (1U << _GTF_sub_page) /* v2: only part of the page is granted */
/* ... and for GTF_accept_transfer: */
#define _GTF_transfer_committed (2)
#define GTF_transfer_committed (1U << _GTF_transfer_committed) /* a transfer is under way, frame not yet valid */
#define _GTF_transfer_completed (3)
#define GTF_transfer_completed (1U << _GTF_transfer_completed) /* frame now holds the transferred frame */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* The part common to every v2 entry. */
struct grant_entry_header {
    uint16_t flags; /* 0 IN: GTF_* (status bits live in the status frames in v2) */
    domid_t domid;  /* 2 IN: grantee */
};
typedef struct grant_entry_header grant_entry_header_t;
KESTREL_ABI_SIZE(struct grant_entry_header, 4);
KESTREL_ABI_FIELD(struct grant_entry_header, flags, 0);
KESTREL_ABI_FIELD(struct grant_entry_header, domid, 2);

/* A v2 grant entry; which form applies follows from hdr.flags. */
union grant_entry_v2 {
    grant_entry_header_t hdr;
    struct {
        grant_entry_header_t hdr; /* 0 */
        uint32_t pad0;            /* 4 */
        uint64_t frame;           /* 8 IN: the granted frame */
    } full_page;                  /* GTF_permit_access or GTF_accept_transfer */
    struct {
        grant_entry_header_t hdr; /* 0 */
        uint16_t page_off;        /* 4 IN: first granted byte */
        uint16_t length;          /* 6 IN: granted bytes */
        uint64_t frame;           /* 8 IN */
    } sub_page;                   /* GTF_permit_access | GTF_sub_page */
    struct {
        grant_entry_header_t hdr; /* 0 */
        domid_t trans_domid;      /* 4 IN: the domain that granted gref to us */
        uint16_t pad0;            /* 6 */
        grant_ref_t gref;         /* 8 IN: its grant reference */
    } transitive;                 /* GTF_transitive */
    uint32_t __spacer[4];         /* fixes the size at 16 bytes */
};
typedef union grant_entry_v2 grant_entry_v2_t;
KESTREL_ABI_SIZE(union grant_entry_v2, 16);
KESTREL_ABI_FIELD(union grant_entry_v2, hdr, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, full_page, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, full_page.hdr, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, full_page.pad0, 4);
KESTREL_ABI_FIELD(union grant_entry_v2, full_page.frame, 8);
KESTREL_ABI_FIELD(union grant_entry_v2, sub_page, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, sub_page.hdr, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, sub_page.page_off, 4);
KESTREL_ABI_FIELD(union grant_entry_v2, sub_page.length, 6);
KESTREL_ABI_FIELD(union grant_entry_v2, sub_page.frame, 8);
KESTREL_ABI_FIELD(union grant_entry_v2, transitive, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, transitive.hdr, 0);
KESTREL_ABI_FIELD(union grant_entry_v2, transitive.trans_domid, 4);
KESTREL_ABI_FIELD(union grant_entry_v2, transitive.pad0, 6);
KESTREL_ABI_FIELD(union grant_entry_v2, transitive.gref, 8);
KESTREL_ABI_FIELD(union grant_entry_v2, __spacer, 0);

typedef uint16_t grant_status_t; /* v2: one per entry in the status frames, holding GTF_reading/GTF_writing */

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define GNTTABOP_map_grant_ref 0      /* struct gnttab_map_grant_ref[] */
#define GNTTABOP_unmap_grant_ref 1    /* struct gnttab_unmap_grant_ref[] */
#define GNTTABOP_setup_table 2        /* struct gnttab_setup_table: size the table and learn its frames */
#define GNTTABOP_dump_table 3         /* struct gnttab_dump_table: debugging output */
#define GNTTABOP_transfer 4           /* struct gnttab_transfer[]: give a page to another domain */
#define GNTTABOP_copy 5               /* struct gnttab_copy[]: copy between granted and local frames */
#define GNTTABOP_query_size 6         /* struct gnttab_query_size */
#define GNTTABOP_unmap_and_replace 7  /* struct gnttab_unmap_and_replace[] */
#define GNTTABOP_set_version 8        /* struct gnttab_set_version: choose v1 or v2 entries */
#define GNTTABOP_get_status_frames 9  /* struct gnttab_get_status_frames (v2) */
#define GNTTABOP_get_version 10       /* struct gnttab_get_version */
#define GNTTABOP_swap_grant_ref 11    /* struct gnttab_swap_grant_ref[] */
#define GNTTABOP_cache_flush 12       /* struct gnttab_cache_flush[] (Arm) */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

typedef uint32_t grant_handle_t; /* names one mapping made with GNTTABOP_map_grant_ref */

/* Map a granted frame at host_addr (and/or for device access). */
struct gnttab_map_grant_ref {
    uint64_t host_addr;     /*  0 IN: virtual address, or PTE machine address with GNTMAP_contains_pte */
    uint32_t flags;         /*  8 IN: GNTMAP_* */
    grant_ref_t ref;        /* 12 IN */
    domid_t dom;            /* 16 IN: the granting domain */
    int16_t status;         /* 18 OUT: GNTST_* */
    grant_handle_t handle;  /* 20 OUT: for the unmap */
    uint64_t dev_bus_addr;  /* 24 OUT: bus address for GNTMAP_device_map */
};
typedef struct gnttab_map_grant_ref gnttab_map_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_map_grant_ref_t);
KESTREL_ABI_SIZE(struct gnttab_map_grant_ref, 32);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, host_addr, 0);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, flags, 8);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, ref, 12);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, dom, 16);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, status, 18);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, handle, 20);
KESTREL_ABI_FIELD(struct gnttab_map_grant_ref, dev_bus_addr, 24);

/* Undo a mapping. */
struct gnttab_unmap_grant_ref {
    uint64_t host_addr;    /*  0 IN: as given to the map, or 0 */
    uint64_t dev_bus_addr; /*  8 IN: as returned by the map, or 0 */
    grant_handle_t handle; /* 16 IN */
    int16_t status;        /* 20 OUT: GNTST_* */
};
typedef struct gnttab_unmap_grant_ref gnttab_unmap_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_unmap_grant_ref_t);
KESTREL_ABI_SIZE(struct gnttab_unmap_grant_ref, 24);
KESTREL_ABI_FIELD(struct gnttab_unmap_grant_ref, host_addr, 0);
KESTREL_ABI_FIELD(struct gnttab_unmap_grant_ref, dev_bus_addr, 8);
KESTREL_ABI_FIELD(struct gnttab_unmap_grant_ref, handle, 16);
KESTREL_ABI_FIELD(struct gnttab_unmap_grant_ref, status, 20);

/* Grow the grant table to nr_frames and get the machine frames holding it (PV guests map them). */
struct gnttab_setup_table {
    domid_t dom;                            /*  0 IN: DOMID_SELF or (privileged) another domain */
    uint32_t nr_frames;                     /*  4 IN */
    int16_t status;                         /*  8 OUT: GNTST_* */
    XEN_GUEST_HANDLE(xen_pfn_t) frame_list; /* 16 OUT: nr_frames frame numbers */
};
typedef struct gnttab_setup_table gnttab_setup_table_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_setup_table_t);
KESTREL_ABI_SIZE(struct gnttab_setup_table, 24);
KESTREL_ABI_FIELD(struct gnttab_setup_table, dom, 0);
KESTREL_ABI_FIELD(struct gnttab_setup_table, nr_frames, 4);
KESTREL_ABI_FIELD(struct gnttab_setup_table, status, 8);
KESTREL_ABI_FIELD(struct gnttab_setup_table, frame_list, 16);

struct gnttab_dump_table {
    domid_t dom;    /* 0 IN */
    int16_t status; /* 2 OUT: GNTST_* */
};
typedef struct gnttab_dump_table gnttab_dump_table_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_dump_table_t);
KESTREL_ABI_SIZE(struct gnttab_dump_table, 4);
KESTREL_ABI_FIELD(struct gnttab_dump_table, dom, 0);
KESTREL_ABI_FIELD(struct gnttab_dump_table, status, 2);

/* Give away one of our frames into a GTF_accept_transfer entry of domid. */
struct gnttab_transfer {
    xen_pfn_t mfn;   /*  0 IN: the frame */
    domid_t domid;   /*  8 IN: the receiver */
    grant_ref_t ref; /* 12 IN: the receiver's entry */
    int16_t status;  /* 16 OUT: GNTST_* */
};
typedef struct gnttab_transfer gnttab_transfer_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_transfer_t);
KESTREL_ABI_SIZE(struct gnttab_transfer, 24);
KESTREL_ABI_FIELD(struct gnttab_transfer, mfn, 0);
KESTREL_ABI_FIELD(struct gnttab_transfer, domid, 8);
KESTREL_ABI_FIELD(struct gnttab_transfer, ref, 12);
KESTREL_ABI_FIELD(struct gnttab_transfer, status, 16);

/* gnttab_copy.flags: which side is named by a grant reference rather than a local frame. */
#define _GNTCOPY_source_gref (0)
#define GNTCOPY_source_gref (1 << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref (1)
#define GNTCOPY_dest_gref (1 << _GNTCOPY_dest_gref)

/* Copy len bytes; neither side may cross a page boundary. */
struct gnttab_copy {
    struct gnttab_copy_ptr {
        union {
            grant_ref_t ref; /* with GNTCOPY_*_gref */
            xen_pfn_t gmfn;  /* otherwise: a frame of the caller */
        } u;                 /* 0 IN */
        domid_t domid;       /* 8 IN: owner of the frame or granter of ref */
        uint16_t offset;     /* 10 IN: byte offset in the page */
    } source, dest;          /* 0, 16 */
    uint16_t len;            /* 32 IN */
    uint16_t flags;          /* 34 IN: GNTCOPY_* */
    int16_t status;          /* 36 OUT: GNTST_* */
};
typedef struct gnttab_copy gnttab_copy_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_copy_t);
KESTREL_ABI_SIZE(struct gnttab_copy, 40);
KESTREL_ABI_FIELD(struct gnttab_copy, source, 0);
KESTREL_ABI_FIELD(struct gnttab_copy, source.u.ref, 0);
KESTREL_ABI_FIELD(struct gnttab_copy, source.u.gmfn, 0);
KESTREL_ABI_FIELD(struct gnttab_copy, source.domid, 8);
KESTREL_ABI_FIELD(struct gnttab_copy, source.offset, 10);
KESTREL_ABI_FIELD(struct gnttab_copy, dest, 16);
KESTREL_ABI_FIELD(struct gnttab_copy, dest.u.ref, 16);
KESTREL_ABI_FIELD(struct gnttab_copy, dest.u.gmfn, 16);
KESTREL_ABI_FIELD(struct gnttab_copy, dest.domid, 24);
KESTREL_ABI_FIELD(struct gnttab_copy, dest.offset, 26);
KESTREL_ABI_FIELD(struct gnttab_copy, len, 32);
KESTREL_ABI_FIELD(struct gnttab_copy, flags, 34);
KESTREL_ABI_FIELD(struct gnttab_copy, status, 36);

struct gnttab_query_size {
    domid_t dom;            /*  0 IN */
    uint32_t nr_frames;     /*  4 OUT: current table size in frames */
    uint32_t max_nr_frames; /*  8 OUT: limit */
    int16_t status;         /* 12 OUT: GNTST_* */
};
typedef struct gnttab_query_size gnttab_query_size_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_query_size_t);
KESTREL_ABI_SIZE(struct gnttab_query_size, 16);
KESTREL_ABI_FIELD(struct gnttab_query_size, dom, 0);
KESTREL_ABI_FIELD(struct gnttab_query_size, nr_frames, 4);
KESTREL_ABI_FIELD(struct gnttab_query_size, max_nr_frames, 8);
KESTREL_ABI_FIELD(struct gnttab_query_size, status, 12);

/* Unmap host_addr and move the mapping at new_addr there, clearing new_addr. */
struct gnttab_unmap_and_replace {
    uint64_t host_addr;    /*  0 IN */
    uint64_t new_addr;     /*  8 IN */
    grant_handle_t handle; /* 16 IN */
    int16_t status;        /* 20 OUT: GNTST_* */
};
typedef struct gnttab_unmap_and_replace gnttab_unmap_and_replace_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_unmap_and_replace_t);
KESTREL_ABI_SIZE(struct gnttab_unmap_and_replace, 24);
KESTREL_ABI_FIELD(struct gnttab_unmap_and_replace, host_addr, 0);
KESTREL_ABI_FIELD(struct gnttab_unmap_and_replace, new_addr, 8);
KESTREL_ABI_FIELD(struct gnttab_unmap_and_replace, handle, 16);
KESTREL_ABI_FIELD(struct gnttab_unmap_and_replace, status, 20);

struct gnttab_set_version {
    uint32_t version; /* 0 IN: 1 or 2; OUT: the version in force */
};
typedef struct gnttab_set_version gnttab_set_version_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_set_version_t);
KESTREL_ABI_SIZE(struct gnttab_set_version, 4);
KESTREL_ABI_FIELD(struct gnttab_set_version, version, 0);

/* v2: the frames holding the grant_status_t array. */
struct gnttab_get_status_frames {
    uint32_t nr_frames;                    /* 0 IN */
    domid_t dom;                           /* 4 IN */
    int16_t status;                        /* 6 OUT: GNTST_* */
    XEN_GUEST_HANDLE(uint64_t) frame_list; /* 8 OUT */
};
typedef struct gnttab_get_status_frames gnttab_get_status_frames_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_get_status_frames_t);
KESTREL_ABI_SIZE(struct gnttab_get_status_frames, 16);
KESTREL_ABI_FIELD(struct gnttab_get_status_frames, nr_frames, 0);
KESTREL_ABI_FIELD(struct gnttab_get_status_frames, dom, 4);
KESTREL_ABI_FIELD(struct gnttab_get_status_frames, status, 6);
KESTREL_ABI_FIELD(struct gnttab_get_status_frames, frame_list, 8);

struct gnttab_get_version {
    domid_t dom;      /* 0 IN */
    uint16_t pad;     /* 2 */
    uint32_t version; /* 4 OUT */
};
typedef struct gnttab_get_version gnttab_get_version_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_get_version_t);
KESTREL_ABI_SIZE(struct gnttab_get_version, 8);
KESTREL_ABI_FIELD(struct gnttab_get_version, dom, 0);
KESTREL_ABI_FIELD(struct gnttab_get_version, pad, 2);
KESTREL_ABI_FIELD(struct gnttab_get_version, version, 4);

/* Exchange two of our grant entries atomically. */
struct gnttab_swap_grant_ref {
    grant_ref_t ref_a; /* 0 IN */
    grant_ref_t ref_b; /* 4 IN */
    int16_t status;    /* 8 OUT: GNTST_* */
};
typedef struct gnttab_swap_grant_ref gnttab_swap_grant_ref_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_swap_grant_ref_t);
KESTREL_ABI_SIZE(struct gnttab_swap_grant_ref, 12);
KESTREL_ABI_FIELD(struct gnttab_swap_grant_ref, ref_a, 0);
KESTREL_ABI_FIELD(struct gnttab_swap_grant_ref, ref_b, 4);
KESTREL_ABI_FIELD(struct gnttab_swap_grant_ref, status, 8);

/* Clean and/or invalidate caches over part of a page (needed on Arm). */
struct gnttab_cache_flush {
    union {
        uint64_t dev_bus_addr; /* a local address */
        grant_ref_t ref;       /* with GNTTAB_CACHE_SOURCE_GREF */
    } a;                       /*  0 IN */
    uint16_t offset;           /*  8 IN */
    uint16_t length;           /* 10 IN */
    uint32_t op;               /* 12 IN: GNTTAB_CACHE_* */
};
typedef struct gnttab_cache_flush gnttab_cache_flush_t;
DEFINE_XEN_GUEST_HANDLE(gnttab_cache_flush_t);
KESTREL_ABI_SIZE(struct gnttab_cache_flush, 16);
KESTREL_ABI_FIELD(struct gnttab_cache_flush, a, 0);
KESTREL_ABI_FIELD(struct gnttab_cache_flush, a.dev_bus_addr, 0);
KESTREL_ABI_FIELD(struct gnttab_cache_flush, a.ref, 0);
KESTREL_ABI_FIELD(struct gnttab_cache_flush, offset, 8);
KESTREL_ABI_FIELD(struct gnttab_cache_flush, length, 10);
KESTREL_ABI_FIELD(struct gnttab_cache_flush, op, 12);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define GNTTAB_CACHE_CLEAN (1u << 0)       /* write back */
#define GNTTAB_CACHE_INVAL (1u << 1)       /* invalidate */
#define GNTTAB_CACHE_SOURCE_GREF (1u << 31) /* a.ref names the page */

/* gnttab_map_grant_ref.flags */
#define _GNTMAP_device_map (0)
#define GNTMAP_device_map (1 << _GNTMAP_device_map) /* return a bus address for device access */
#define _GNTMAP_host_map (1)
#define GNTMAP_host_map (1 << _GNTMAP_host_map) /* map at host_addr for the CPU */
#define _GNTMAP_readonly (2)
#define GNTMAP_readonly (1 << _GNTMAP_readonly) /* map read-only */
#define _GNTMAP_application_map (3)
#define GNTMAP_application_map (1 << _GNTMAP_application_map) /* user-accessible mapping */
#define _GNTMAP_contains_pte (4)
#define GNTMAP_contains_pte (1 << _GNTMAP_contains_pte) /* host_addr is the machine address of the PTE */
#define _GNTMAP_guest_avail0 (16)
#define GNTMAP_guest_avail_mask ((uint32_t)~0 << _GNTMAP_guest_avail0) /* bits copied into the PTE's avail bits */

/* Per-operation status values (the status fields above); the hypercall itself returns 0 or -errno. */
#define GNTST_okay (0)                /* done */
#define GNTST_general_error (-1)      /* unspecified failure */
#define GNTST_bad_domain (-2)         /* no such domain */
#define GNTST_bad_gntref (-3)         /* grant reference out of range or entry not usable */
#define GNTST_bad_handle (-4)         /* no such mapping handle */
#define GNTST_bad_virt_addr (-5)      /* bad host_addr */
#define GNTST_bad_dev_addr (-6)       /* bad dev_bus_addr */
#define GNTST_no_device_space (-7)    /* no room in the IOMMU */
#define GNTST_permission_denied (-8)  /* the entry does not allow this */
#define GNTST_bad_page (-9)           /* the frame cannot be used */
#define GNTST_bad_copy_arg (-10)      /* a copy crosses a page boundary */
#define GNTST_address_too_big (-11)   /* the frame is beyond what the receiver can address */
#define GNTST_eagain (-12)            /* try again (paged-out frame) */
#define GNTST_no_space (-13)          /* out of space */

#endif
