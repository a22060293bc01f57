/*
 * The PV console ring page (start_info.console.domU.mfn, or HVM_PARAM_CONSOLE_PFN): two byte rings with
 * free-running indices. The guest produces into "out" and consumes from "in"; the backend does the reverse and
 * each side signals the console event channel after moving an index.
 */
#ifndef KESTREL_GUEST_ABI_XEN_IO_CONSOLE_H
#define KESTREL_GUEST_ABI_XEN_IO_CONSOLE_H

#include "../kestrel_abi.h"

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* Ring indices only ever increase (wrapping at 2^32); the array position is the index masked by the ring size. */
typedef uint32_t XENCONS_RING_IDX;
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

struct xencons_interface {
    char in[1024];             /*    0: backend to guest (keyboard input) */
    char out[2048];            /* 1024: guest to backend (console output) */
    XENCONS_RING_IDX in_cons;  /* 3072: advanced by the guest */
    XENCONS_RING_IDX in_prod;  /* 3076: advanced by the backend */
    XENCONS_RING_IDX out_cons; /* 3080: advanced by the backend */
    XENCONS_RING_IDX out_prod; /* 3084: advanced by the guest */
};
KESTREL_ABI_SIZE(struct xencons_interface, 3088);
KESTREL_ABI_FIELD(struct xencons_interface, in, 0);
KESTREL_ABI_FIELD(struct xencons_interface, out, 1024);
KESTREL_ABI_FIELD(struct xencons_interface, in_cons, 3072);
KESTREL_ABI_FIELD(struct xencons_interface, in_prod, 3076);
KESTREL_ABI_FIELD(struct xencons_interface, out_cons, 3080);
KESTREL_ABI_FIELD(struct xencons_interface, out_prod, 3084);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
