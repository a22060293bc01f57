/*
 * The xenstore wire protocol and its shared ring page (start_info.store_mfn): requests and replies are a
 * struct xsd_sockmsg header followed by len payload bytes, carried in two byte rings with free-running indices.
 */
#ifndef KESTREL_GUEST_ABI_XEN_IO_XS_WIRE_H
#define KESTREL_GUEST_ABI_XEN_IO_XS_WIRE_H

#include "../kestrel_abi.h"

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* xsd_sockmsg.type */
enum xsd_sockmsg_type {
    XS_CONTROL = 0,              /* daemon control commands (was XS_DEBUG) */
    XS_DIRECTORY = 1,            /* list a node's children */
    XS_READ = 2,                 /* read a node */
    XS_GET_PERMS = 3,            /* read a node's permissions */
    XS_WATCH = 4,                /* watch a path with a token */
    XS_UNWATCH = 5,              /* remove a watch */
    XS_TRANSACTION_START = 6,    /* open a transaction; returns its id */
    XS_TRANSACTION_END = 7,      /* commit ("T") or abort ("F") */
    XS_INTRODUCE = 8,            /* toolstack: tell xenstored about a new domain */
    XS_RELEASE = 9,              /* toolstack: forget a domain */
    XS_GET_DOMAIN_PATH = 10,     /* "/local/domain/<id>" */
    XS_WRITE = 11,               /* write a node */
    XS_MKDIR = 12,               /* create a node */
    XS_RM = 13,                  /* remove a node and its children */
    XS_SET_PERMS = 14,           /* set a node's permissions */
    XS_WATCH_EVENT = 15,         /* a watch fired (daemon to client) */
    XS_ERROR = 16,               /* reply carrying an error name such as "EINVAL" */
    XS_IS_DOMAIN_INTRODUCED = 17,
    XS_RESUME = 18,
    XS_SET_TARGET = 19,
    XS_RESET_WATCHES = 21,       /* 20 was never used */
    XS_DIRECTORY_PART = 22,      /* list children in pieces, for large directories */
    XS_TYPE_COUNT = 23,          /* number of message types */
    XS_INVALID = 0xffff,         /* guaranteed invalid */
};
#define XS_DEBUG XS_CONTROL

/* Values that once selected write modes; kept for compatibility. */
#define XS_WRITE_NONE "NONE"
#define XS_WRITE_CREATE "CREATE"
#define XS_WRITE_CREATE_EXCL "CREATE|EXCL"

/* Header of every message in either direction. */
struct xsd_sockmsg {
    uint32_t type;   /*  0: XS_* */
    uint32_t req_id; /*  4: chosen by the client, echoed in the reply */
    uint32_t tx_id;  /*  8: transaction id, 0 outside transactions */
    uint32_t len;    /* 12: payload bytes that follow */
};
KESTREL_ABI_SIZE(struct xsd_sockmsg, 16);
KESTREL_ABI_FIELD(struct xsd_sockmsg, type, 0);
KESTREL_ABI_FIELD(struct xsd_sockmsg, req_id, 4);
KESTREL_ABI_FIELD(struct xsd_sockmsg, tx_id, 8);
KESTREL_ABI_FIELD(struct xsd_sockmsg, len, 12);

/* The two NUL-separated strings of an XS_WATCH_EVENT payload. */
enum xs_watch_type {
    XS_WATCH_PATH = 0,  /* the path that changed */
    XS_WATCH_TOKEN = 1, /* the token given to XS_WATCH */
};

#define XENSTORE_RING_SIZE 1024 /* bytes per ring; a power of two */
typedef uint32_t XENSTORE_RING_IDX;
#define MASK_XENSTORE_IDX(idx) ((idx) & (XENSTORE_RING_SIZE - 1))

/* The shared page. The guest produces requests into req and consumes replies from rsp. */
struct xenstore_domain_interface {
    char req[XENSTORE_RING_SIZE]; /*    0: guest to xenstored */
    char rsp[XENSTORE_RING_SIZE]; /* 1024: xenstored to guest */
    XENSTORE_RING_IDX req_cons;   /* 2048: advanced by xenstored */
    XENSTORE_RING_IDX req_prod;   /* 2052: advanced by the guest */
    XENSTORE_RING_IDX rsp_cons;   /* 2056: advanced by the guest */
    XENSTORE_RING_IDX rsp_prod;   /* 2060: advanced by xenstored */
    uint32_t server_features;     /* 2064: XENSTORE_SERVER_FEATURE_*, written by xenstored */
    uint32_t connection;          /* 2068: XENSTORE_CONNECTED or XENSTORE_RECONNECT */
    uint32_t error;               /* 2072: XENSTORE_ERROR_*, written by xenstored */
};
KESTREL_ABI_SIZE(struct xenstore_domain_interface, 2076);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, req, 0);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, rsp, 1024);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, req_cons, 2048);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, req_prod, 2052);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, rsp_cons, 2056);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, rsp_prod, 2060);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, server_features, 2064);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, connection, 2068);
KESTREL_ABI_FIELD(struct xenstore_domain_interface, error, 2072);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#define XENSTORE_PAYLOAD_MAX 4096  /* longest message payload */
#define XENSTORE_ABS_PATH_MAX 3072 /* longest absolute path */
#define XENSTORE_REL_PATH_MAX 2048 /* longest relative path */

#define XENSTORE_SERVER_FEATURE_RECONNECTION 1 /* the guest may ask for a ring reset via "connection" */
#define XENSTORE_SERVER_FEATURE_ERROR 2        /* xenstored reports ring errors in "error" */

#define XENSTORE_CONNECTED 0 /* normal operation */
#define XENSTORE_RECONNECT 1 /* the guest asks xenstored to reset the ring */

#define XENSTORE_ERROR_NONE 0    /* no error */
#define XENSTORE_ERROR_COMM 1    /* communication problem */
#define XENSTORE_ERROR_RINGIDX 2 /* invalid ring index */
#define XENSTORE_ERROR_PROTO 3   /* protocol violation */

#endif
