/*
 * Error numbers hypercalls return, negated (-XEN_EINVAL and so on). Their values are the Linux/x86 errno values,
 * but they are defined here under Xen's XEN_-prefixed names so that code can include this header next to a C
 * library's <errno.h> without clashes.
 */
#ifndef KESTREL_GUEST_ABI_XEN_ERRNO_H
#define KESTREL_GUEST_ABI_XEN_ERRNO_H

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

enum xen_errno {
    XEN_EPERM = 1,           /* not allowed for this domain */
    XEN_ENOENT = 2,          /* no such object (port, grant, frame) */
    XEN_ESRCH = 3,           /* no such domain or vCPU */
    XEN_EINTR = 4,           /* kestrel-only: hypervisor-internal, never returned to guests */
    XEN_EIO = 5,             /* I/O error */
    XEN_ENXIO = 6,           /* no such device or address */
    XEN_E2BIG = 7,           /* argument list too long */
    XEN_ENOEXEC = 8,         /* bad executable format */
    XEN_EBADF = 9,           /* bad descriptor */
    XEN_ECHILD = 10,         /* no child */
    XEN_EAGAIN = 11,         /* try again later */
    XEN_EWOULDBLOCK = 11,    /* same value as XEN_EAGAIN */
    XEN_ENOMEM = 12,         /* out of memory */
    XEN_EACCES = 13,         /* permission denied */
    XEN_EFAULT = 14,         /* bad guest address: a copy from or to guest memory failed */
    XEN_EBUSY = 16,          /* object in use */
    XEN_EEXIST = 17,         /* object already exists */
    XEN_EXDEV = 18,          /* cross-domain link */
    XEN_ENODEV = 19,         /* no such device */
    XEN_ENOTDIR = 20,        /* not a directory (hypfs) */
    XEN_EISDIR = 21,         /* is a directory (hypfs) */
    XEN_EINVAL = 22,         /* invalid argument */
    XEN_ENFILE = 23,         /* system-wide table full */
    XEN_EMFILE = 24,         /* per-domain table full (e.g. no free event channel) */
    XEN_ENOSPC = 28,         /* no space left */
    XEN_EROFS = 30,          /* read-only */
    XEN_EMLINK = 31,         /* too many links */
    XEN_EDOM = 33,           /* argument out of domain */
    XEN_ERANGE = 34,         /* result out of range */
    XEN_EDEADLK = 35,        /* deadlock would occur */
    XEN_EDEADLOCK = 35,      /* same value as XEN_EDEADLK */
    XEN_ENAMETOOLONG = 36,   /* name too long */
    XEN_ENOLCK = 37,         /* no locks available */
    XEN_ENOSYS = 38,         /* unknown hypercall or sub-op */
    XEN_ENOTEMPTY = 39,      /* not empty */
    XEN_ENODATA = 61,        /* no data available */
    XEN_ETIME = 62,          /* timer expired */
    XEN_EBADMSG = 74,        /* bad message */
    XEN_EOVERFLOW = 75,      /* value too large */
    XEN_EILSEQ = 84,         /* illegal sequence */
    XEN_ERESTART = 85,       /* kestrel-only: hypervisor-internal "preempted, continue the hypercall later" */
    XEN_ENOTSOCK = 88,       /* not a socket (Argo) */
    XEN_EMSGSIZE = 90,       /* message too long */
    XEN_EOPNOTSUPP = 95,     /* operation not supported */
    XEN_EADDRINUSE = 98,     /* address in use */
    XEN_EADDRNOTAVAIL = 99,  /* address not available */
    XEN_ENOBUFS = 105,       /* no buffer space */
    XEN_EISCONN = 106,       /* already connected */
    XEN_ENOTCONN = 107,      /* not connected */
    XEN_ETIMEDOUT = 110,     /* timed out */
    XEN_ECONNREFUSED = 111,  /* connection refused */
};

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
