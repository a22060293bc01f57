/*
 * HYPERVISOR_xen_version(cmd, arg): what the guest may learn about the hypervisor. XENVER_version returns the
 * version directly (major << 16 | minor); the others fill the buffer arg points to.
 */
#ifndef KESTREL_GUEST_ABI_XEN_VERSION_H
#define KESTREL_GUEST_ABI_XEN_VERSION_H

#include "xen.h"

#define XENVER_version 0 /* arg unused; returns (major << 16) | minor */

#define XENVER_extraversion 1 /* fills a xen_extraversion_t, e.g. ".3" or "-rc" */
#ifndef __ASSEMBLY__
typedef char xen_extraversion_t[16];
KESTREL_ABI_SIZE(xen_extraversion_t, 16);
#define XEN_EXTRAVERSION_LEN (sizeof(xen_extraversion_t))
#endif

#define XENVER_compile_info 2 /* fills a struct xen_compile_info */
#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
struct xen_compile_info {
    char compiler[64];       /*   0 OUT: compiler that built the hypervisor */
    char compile_by[16];     /*  64 OUT: user who built it */
    char compile_domain[32]; /*  80 OUT: DNS domain of the build host */
    char compile_date[32];   /* 112 OUT: build date */
};
typedef struct xen_compile_info xen_compile_info_t;
KESTREL_ABI_SIZE(struct xen_compile_info, 144);
KESTREL_ABI_FIELD(struct xen_compile_info, compiler, 0);
KESTREL_ABI_FIELD(struct xen_compile_info, compile_by, 64);
KESTREL_ABI_FIELD(struct xen_compile_info, compile_domain, 80);
KESTREL_ABI_FIELD(struct xen_compile_info, compile_date, 112);
#ifdef __cplusplus
}
#endif
#endif

#define XENVER_capabilities 3 /* fills a xen_capabilities_info_t: space-separated guest types, e.g. "xen-3.0-x86_64" */
#ifndef __ASSEMBLY__
typedef char xen_capabilities_info_t[1024];
KESTREL_ABI_SIZE(xen_capabilities_info_t, 1024);
#define XEN_CAPABILITIES_INFO_LEN (sizeof(xen_capabilities_info_t))
#endif

#define XENVER_changeset 4 /* fills a xen_changeset_info_t: source revision of the build */
#ifndef __ASSEMBLY__
typedef char xen_changeset_info_t[64];
KESTREL_ABI_SIZE(xen_changeset_info_t, 64);
#define XEN_CHANGESET_INFO_LEN (sizeof(xen_changeset_info_t))
#endif

#define XENVER_platform_parameters 5 /* fills a struct xen_platform_parameters */
#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
struct xen_platform_parameters {
    xen_ulong_t virt_start; /* 0 OUT: lowest virtual address the hypervisor reserves in guest address spaces */
};
typedef struct xen_platform_parameters xen_platform_parameters_t;
KESTREL_ABI_SIZE(struct xen_platform_parameters, 8);
KESTREL_ABI_FIELD(struct xen_platform_parameters, virt_start, 0);
#ifdef __cplusplus
}
#endif
#endif

#define XENVER_get_features 6 /* fills one 32-bit submap of XENFEAT_* bits */
#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
struct xen_feature_info {
    uint32_t submap_idx; /* 0 IN: which 32 feature bits: XENFEAT_n is bit n % 32 of submap n / 32 */
    uint32_t submap;     /* 4 OUT: the bits */
};
typedef struct xen_feature_info xen_feature_info_t;
KESTREL_ABI_SIZE(struct xen_feature_info, 8);
KESTREL_ABI_FIELD(struct xen_feature_info, submap_idx, 0);
KESTREL_ABI_FIELD(struct xen_feature_info, submap, 4);
#ifdef __cplusplus
}
#endif
#endif

#include "features.h"

#define XENVER_pagesize 7     /* arg unused; returns the page size in bytes */
#define XENVER_guest_handle 8 /* fills a xen_domain_handle_t with the caller's UUID */
#define XENVER_commandline 9  /* fills a xen_commandline_t with the hypervisor command line (privileged) */
#ifndef __ASSEMBLY__
typedef char xen_commandline_t[1024];
KESTREL_ABI_SIZE(xen_commandline_t, 1024);
#endif

#define XENVER_build_id 10 /* fills a struct xen_build_id; returns the id length (privileged) */
#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
struct xen_build_id {
    uint32_t len;                                        /* 0 IN: room in buf */
    __extension__ unsigned char buf[XEN_FLEX_ARRAY_DIM]; /* 4 OUT: the ELF build-id note's bytes */
};
typedef struct xen_build_id xen_build_id_t;
KESTREL_ABI_SIZE(struct xen_build_id, 4);
KESTREL_ABI_FIELD(struct xen_build_id, len, 0);
KESTREL_ABI_FLEX(struct xen_build_id, buf, 4);
#ifdef __cplusplus
}
#endif
#endif

#endif
