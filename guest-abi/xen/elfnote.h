/*
 * Types of the ELF notes (name "Xen") a PV kernel image carries to tell the domain builder how to load and start
 * it. Each comment says what the note's descriptor holds.
 */
#ifndef KESTREL_GUEST_ABI_XEN_ELFNOTE_H
#define KESTREL_GUEST_ABI_XEN_ELFNOTE_H

#define XEN_ELFNOTE_INFO 0               /* obsolete, ignored */
#define XEN_ELFNOTE_ENTRY 1              /* virtual address of the kernel entry point */
#define XEN_ELFNOTE_HYPERCALL_PAGE 2     /* virtual address where the hypercall page is written */
#define XEN_ELFNOTE_VIRT_BASE 3          /* virtual address the kernel image is linked at */
#define XEN_ELFNOTE_PADDR_OFFSET 4       /* subtracted from ELF physical addresses to get guest-physical ones */
#define XEN_ELFNOTE_XEN_VERSION 5        /* string: Xen version the kernel expects */
#define XEN_ELFNOTE_GUEST_OS 6           /* string: guest OS name, e.g. "linux" */
#define XEN_ELFNOTE_GUEST_VERSION 7      /* string: guest OS version */
#define XEN_ELFNOTE_LOADER 8             /* string: loader type, "generic" */
#define XEN_ELFNOTE_PAE_MODE 9           /* string: PAE support of a 32-bit kernel */
#define XEN_ELFNOTE_FEATURES 10          /* string: '|'-separated XENFEAT names, '!' marks required ones */
#define XEN_ELFNOTE_BSD_SYMTAB 11        /* string "yes": load the symbol table after the image */
#define XEN_ELFNOTE_HV_START_LOW 12      /* lowest address the hypervisor may use (32-bit guests) */
#define XEN_ELFNOTE_L1_MFN_VALID 13      /* mask and value identifying valid L1 entries for save/restore */
#define XEN_ELFNOTE_SUSPEND_CANCEL 14    /* non-zero: the kernel supports a cancelled suspend */
#define XEN_ELFNOTE_INIT_P2M 15          /* virtual address for a separately mapped initial p2m list */
#define XEN_ELFNOTE_MOD_START_PFN 16     /* non-zero: the kernel understands SIF_MOD_START_PFN */
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17 /* bitmap of XENFEAT_* the kernel supports */
#define XEN_ELFNOTE_PHYS32_ENTRY 18      /* 32-bit physical entry point for PVH boot */
#define XEN_ELFNOTE_MAX XEN_ELFNOTE_PHYS32_ENTRY /* highest note type in use */

/* Notes Xen writes into crash dumps and core files rather than reads from images. */
#define XEN_ELFNOTE_CRASH_INFO 0x1000001           /* kexec crash: hypervisor information */
#define XEN_ELFNOTE_CRASH_REGS 0x1000002           /* kexec crash: registers */
#define XEN_ELFNOTE_DUMPCORE_NONE 0x2000000        /* core file: placeholder */
#define XEN_ELFNOTE_DUMPCORE_HEADER 0x2000001      /* core file: header */
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION 0x2000002 /* core file: version of the dumping hypervisor */
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003 /* core file: format version */

#endif
