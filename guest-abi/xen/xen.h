/*
 * The core of the Xen PV guest ABI as Kestrel implements it: hypercall numbers, the page-table and TLB
 * interface (mmu_update, mmuext_op, UVMF_*), domain ids, and the three pages a PV guest shares with the
 * hypervisor from its first instruction: start_info, shared_info (with its per-vCPU vcpu_info) and, through them,
 * the time and event-channel state. Values and layouts are Xen's, so unmodified Linux runs on Kestrel.
 */
#ifndef KESTREL_GUEST_ABI_XEN_XEN_H
#define KESTREL_GUEST_ABI_XEN_XEN_H

#include "kestrel_abi.h"
#include "arch-x86/xen.h"

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
/* Handles for the primitive types hypercalls pass buffers of. */
DEFINE_XEN_GUEST_HANDLE(char);
__DEFINE_XEN_GUEST_HANDLE(uchar, unsigned char);
DEFINE_XEN_GUEST_HANDLE(int);
__DEFINE_XEN_GUEST_HANDLE(uint, unsigned int);
DEFINE_XEN_GUEST_HANDLE(void);
DEFINE_XEN_GUEST_HANDLE(uint64_t);
DEFINE_XEN_GUEST_HANDLE(xen_pfn_t);
DEFINE_XEN_GUEST_HANDLE(xen_ulong_t);
#ifdef __cplusplus
}
#endif

/* Trailing variable-length arrays: written "[]" (C99 flexible array members; accepted by C++ compilers as an
 * extension, hence the __extension__ in front of such members). */
#define XEN_FLEX_ARRAY_DIM
#endif

/*
 * Hypercall numbers: the index of the 32-byte stub in the hypercall page, and the value in RAX when the guest
 * traps into the hypervisor.
 */
#define __HYPERVISOR_set_trap_table 0     /* install the virtual IDT */
#define __HYPERVISOR_mmu_update 1         /* batched checked page-table and M2P writes */
#define __HYPERVISOR_set_gdt 2            /* install a GDT built from guest frames */
#define __HYPERVISOR_stack_switch 3       /* set the kernel stack used on a switch from user mode */
#define __HYPERVISOR_set_callbacks 4      /* event, failsafe and syscall entry points */
#define __HYPERVISOR_fpu_taskswitch 5     /* set or clear CR0.TS */
#define __HYPERVISOR_sched_op_compat 6    /* old sched_op; superseded by 29 */
#define __HYPERVISOR_platform_op 7        /* dom0: machine-wide platform control (XENPF_*) */
#define __HYPERVISOR_set_debugreg 8       /* write a debug register */
#define __HYPERVISOR_get_debugreg 9       /* read a debug register */
#define __HYPERVISOR_update_descriptor 10 /* write one GDT/LDT descriptor */
#define __HYPERVISOR_memory_op 12         /* memory reservation and physmap (XENMEM_*) */
#define __HYPERVISOR_multicall 13         /* several hypercalls in one trap */
#define __HYPERVISOR_update_va_mapping 14 /* write one L1 entry by virtual address, with a flush */
#define __HYPERVISOR_set_timer_op 15      /* one-shot timer in absolute system time */
#define __HYPERVISOR_event_channel_op_compat 16 /* old event_channel_op taking struct evtchn_op; see 32 */
#define __HYPERVISOR_xen_version 17       /* version and feature queries (XENVER_*) */
#define __HYPERVISOR_console_io 18        /* hypervisor console (CONSOLEIO_*) */
#define __HYPERVISOR_physdev_op_compat 19 /* old physdev_op taking struct physdev_op; see 33 */
#define __HYPERVISOR_grant_table_op 20    /* grant tables (GNTTABOP_*) */
#define __HYPERVISOR_vm_assist 21         /* enable or disable VMASST_TYPE_* behaviours */
#define __HYPERVISOR_update_va_mapping_otherdomain 22 /* update_va_mapping mapping a foreign frame */
#define __HYPERVISOR_iret 23              /* return from the kernel using an iret_context frame */
#define __HYPERVISOR_vcpu_op 24           /* per-vCPU operations (VCPUOP_*) */
#define __HYPERVISOR_set_segment_base 25  /* write FS/GS bases (SEGBASE_*) */
#define __HYPERVISOR_mmuext_op 26         /* pinning, base pointers, TLB and cache ops (MMUEXT_*) */
#define __HYPERVISOR_xsm_op 27            /* security module */
#define __HYPERVISOR_nmi_op 28            /* NMI callback registration */
#define __HYPERVISOR_sched_op 29          /* yield, block, shutdown, poll (SCHEDOP_*) */
#define __HYPERVISOR_callback_op 30       /* callback registration (CALLBACKOP_*) */
#define __HYPERVISOR_xenoprof_op 31       /* profiling */
#define __HYPERVISOR_event_channel_op 32  /* event channels (EVTCHNOP_*) */
#define __HYPERVISOR_physdev_op 33        /* physical devices and interrupts (PHYSDEVOP_*) */
#define __HYPERVISOR_hvm_op 34            /* HVM parameters (HVMOP_*) */
#define __HYPERVISOR_sysctl 35            /* toolstack: system-wide control */
#define __HYPERVISOR_domctl 36            /* toolstack: domain control */
#define __HYPERVISOR_kexec_op 37          /* crash kernel loading */
#define __HYPERVISOR_tmem_op 38           /* transcendent memory (removed from Xen, number kept) */
#define __HYPERVISOR_argo_op 39           /* Argo inter-domain messaging */
#define __HYPERVISOR_xenpmu_op 40         /* virtual PMU */
#define __HYPERVISOR_dm_op 41             /* device-model operations */
#define __HYPERVISOR_hypfs_op 42          /* hypervisor file system */

/* Numbers reserved for architecture-specific hypercalls. */
#define __HYPERVISOR_arch_0 48
#define __HYPERVISOR_arch_1 49
#define __HYPERVISOR_arch_2 50
#define __HYPERVISOR_arch_3 51
#define __HYPERVISOR_arch_4 52
#define __HYPERVISOR_arch_5 53
#define __HYPERVISOR_arch_6 54
#define __HYPERVISOR_arch_7 55

/* Virtual interrupts a guest can bind an event channel to (EVTCHNOP_bind_virq). "Per vCPU" ones are bound on
 * each vCPU separately; the others are global and bound once. */
#define VIRQ_TIMER 0       /* per vCPU: the timer set by set_timer_op/VCPUOP_set_*_timer fired */
#define VIRQ_DEBUG 1       /* per vCPU: request to dump debugging state */
#define VIRQ_CONSOLE 2     /* global, dom0: input arrived on the hypervisor console */
#define VIRQ_DOM_EXC 3     /* global, dom0: a domain crashed or shut down */
#define VIRQ_TBUF 4        /* global, dom0: trace records available */
#define VIRQ_DEBUGGER 6    /* global, dom0: a domain paused for a debugger */
#define VIRQ_XENOPROF 7    /* per vCPU: a profiling sample is ready */
#define VIRQ_CON_RING 8    /* global, dom0: the hypervisor console ring has new output */
#define VIRQ_PCPU_STATE 9  /* global, dom0: a physical CPU went on- or offline */
#define VIRQ_MEM_EVENT 10  /* global, dom0: a memory event is pending */
#define VIRQ_ARGO 11       /* global: an Argo message arrived */
#define VIRQ_ENOMEM 12     /* global, dom0: the hypervisor heap is low */
#define VIRQ_XENPMU 13     /* per vCPU: a PMU interrupt */
#define VIRQ_ARCH_0 16     /* architecture-specific virtual interrupts 16-23 */
#define VIRQ_ARCH_1 17
#define VIRQ_ARCH_2 18
#define VIRQ_ARCH_3 19
#define VIRQ_ARCH_4 20
#define VIRQ_ARCH_5 21
#define VIRQ_ARCH_6 22
#define VIRQ_ARCH_7 23
#define NR_VIRQS 24

/*
 * mmu_update commands, carried in the two low bits of mmu_update.ptr (the rest is a machine address, which is
 * 8-byte aligned anyway).
 */
#define MMU_NORMAL_PT_UPDATE 0       /* checked write of a page-table entry */
#define MMU_MACHPHYS_UPDATE 1        /* set the M2P entry of the frame containing ptr to val */
#define MMU_PT_UPDATE_PRESERVE_AD 2  /* as NORMAL, but keep the Accessed/Dirty bits already in the entry */
#define MMU_PT_UPDATE_NO_TRANSLATE 3 /* as NORMAL, val is never translated (matters for translated guests) */

/* mmuext_op commands. */
#define MMUEXT_PIN_L1_TABLE 0        /* validate a frame as an L1 table and keep it typed until unpinned */
#define MMUEXT_PIN_L2_TABLE 1        /* same for an L2 table */
#define MMUEXT_PIN_L3_TABLE 2        /* same for an L3 table */
#define MMUEXT_PIN_L4_TABLE 3        /* same for an L4 table */
#define MMUEXT_UNPIN_TABLE 4         /* drop the pin */
#define MMUEXT_NEW_BASEPTR 5         /* switch the kernel page-table root (CR3) */
#define MMUEXT_TLB_FLUSH_LOCAL 6     /* flush this vCPU's TLB */
#define MMUEXT_INVLPG_LOCAL 7        /* invalidate one address on this vCPU */
#define MMUEXT_TLB_FLUSH_MULTI 8     /* flush the TLBs of the vCPUs in vcpumask */
#define MMUEXT_INVLPG_MULTI 9        /* invalidate one address on the vCPUs in vcpumask */
#define MMUEXT_TLB_FLUSH_ALL 10      /* flush the TLBs of all vCPUs of the domain */
#define MMUEXT_INVLPG_ALL 11         /* invalidate one address on all vCPUs of the domain */
#define MMUEXT_FLUSH_CACHE 12        /* write back and invalidate the caches of this CPU */
#define MMUEXT_SET_LDT 13            /* install an LDT at linear_addr with nr_ents entries */
#define MMUEXT_NEW_USER_BASEPTR 15   /* set the page-table root used in user mode */
#define MMUEXT_CLEAR_PAGE 16         /* zero a frame */
#define MMUEXT_COPY_PAGE 17          /* copy src_mfn to mfn */
#define MMUEXT_FLUSH_CACHE_GLOBAL 18 /* write back and invalidate the caches of every CPU */
#define MMUEXT_MARK_SUPER 19         /* obsolete superpage bookkeeping */
#define MMUEXT_UNMARK_SUPER 20       /* obsolete superpage bookkeeping */

/* update_va_mapping flags: a flush type in bits 0-1, ORed with a scope in bit 2 (or a vCPU-mask pointer). */
#define UVMF_NONE (xen_mk_ulong(0) << 0)           /* no flush */
#define UVMF_TLB_FLUSH (xen_mk_ulong(1) << 0)      /* flush whole TLBs */
#define UVMF_INVLPG (xen_mk_ulong(2) << 0)         /* invalidate just the updated address */
#define UVMF_FLUSHTYPE_MASK (xen_mk_ulong(3) << 0) /* selects the flush type */
#define UVMF_MULTI (xen_mk_ulong(0) << 2)          /* flush the vCPUs of a mask whose address is ORed in */
#define UVMF_LOCAL (xen_mk_ulong(0) << 2)          /* flush only this vCPU (a MULTI with no mask) */
#define UVMF_ALL (xen_mk_ulong(1) << 2)            /* flush every vCPU of the domain */

/* console_io sub-ops. */
#define CONSOLEIO_write 0 /* write bytes to the hypervisor console */
#define CONSOLEIO_read 1  /* read pending console input (dom0) */

/* vm_assist commands and the behaviours they switch. */
#define VMASST_CMD_enable 0
#define VMASST_CMD_disable 1
#define VMASST_TYPE_4gb_segments 0        /* 32-bit guests only: emulate 4 GiB segment limits */
#define VMASST_TYPE_4gb_segments_notify 1 /* 32-bit guests only: report that emulation with a trap */
#define VMASST_TYPE_writable_pagetables 2 /* plain writes to page tables are trapped and emulated */
#define VMASST_TYPE_pae_extended_cr3 3    /* 32-bit PAE guests: page directories above 4 GiB */
#define VMASST_TYPE_architectural_iopl 4  /* IOPL from iret/physdev behaves as on hardware */
#define VMASST_TYPE_runstate_update_flag 5 /* XEN_RUNSTATE_UPDATE marks runstate areas being written */
#define VMASST_TYPE_m2p_strict 32         /* the M2P only shows entries of frames the guest owns */

/* Domain ids. 0x7FF0 and above are never given to real domains but name special owners. */
#define DOMID_FIRST_RESERVED xen_mk_uint(0x7FF0) /* first id that is not a real domain */
#define DOMID_SELF xen_mk_uint(0x7FF0)           /* the calling domain */
#define DOMID_IO xen_mk_uint(0x7FF1)             /* owner of I/O memory; restricts mappings to I/O frames */
#define DOMID_XEN xen_mk_uint(0x7FF2)            /* owner of hypervisor frames that guests may map */
#define DOMID_COW xen_mk_uint(0x7FF3)            /* owner of shared copy-on-write frames */
#define DOMID_INVALID xen_mk_uint(0x7FF4)        /* no owner / not a domain */
#define DOMID_IDLE xen_mk_uint(0x7FFF)           /* the idle domain */
#define DOMID_MASK xen_mk_uint(0x7FFF)           /* bits a domain id may use */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

typedef uint16_t domid_t;

/* One element of the mmu_update batch. */
struct mmu_update {
    uint64_t ptr; /* 0 IN: machine address of the entry to write, MMU_* command in bits 0-1 */
    uint64_t val; /* 8 IN: value to write */
};
typedef struct mmu_update mmu_update_t;
DEFINE_XEN_GUEST_HANDLE(mmu_update_t);
KESTREL_ABI_SIZE(struct mmu_update, 16);
KESTREL_ABI_FIELD(struct mmu_update, ptr, 0);
KESTREL_ABI_FIELD(struct mmu_update, val, 8);

/* One element of the mmuext_op batch; which union member counts depends on cmd. */
struct mmuext_op {
    uint32_t cmd; /* 0 IN: MMUEXT_* */
    union {
        xen_pfn_t mfn;        /* pins, base pointers, CLEAR/COPY_PAGE, (UN)MARK_SUPER: the frame */
        uint64_t linear_addr; /* INVLPG_LOCAL/ALL, SET_LDT: a guest virtual address */
    } arg1;                   /* 8 IN */
    union {
        uint32_t nr_ents;                      /* SET_LDT: number of descriptors */
        XEN_GUEST_HANDLE(const_void) vcpumask; /* TLB_FLUSH_MULTI, INVLPG_MULTI: bitmap of vCPUs */
        xen_pfn_t src_mfn;                     /* COPY_PAGE: source frame */
    } arg2;                                    /* 16 IN */
};
typedef struct mmuext_op mmuext_op_t;
DEFINE_XEN_GUEST_HANDLE(mmuext_op_t);
KESTREL_ABI_SIZE(struct mmuext_op, 24);
KESTREL_ABI_FIELD(struct mmuext_op, cmd, 0);
KESTREL_ABI_FIELD(struct mmuext_op, arg1, 8);
KESTREL_ABI_FIELD(struct mmuext_op, arg1.mfn, 8);
KESTREL_ABI_FIELD(struct mmuext_op, arg1.linear_addr, 8);
KESTREL_ABI_FIELD(struct mmuext_op, arg2, 16);
KESTREL_ABI_FIELD(struct mmuext_op, arg2.nr_ents, 16);
KESTREL_ABI_FIELD(struct mmuext_op, arg2.vcpumask, 16);
KESTREL_ABI_FIELD(struct mmuext_op, arg2.src_mfn, 16);

/* One call of a multicall batch; the hypervisor stores each call's return value in result. */
struct multicall_entry {
    xen_ulong_t op;      /*  0 IN: hypercall number */
    xen_ulong_t result;  /*  8 OUT: what the hypercall returned */
    xen_ulong_t args[6]; /* 16 IN: its arguments */
};
typedef struct multicall_entry multicall_entry_t;
DEFINE_XEN_GUEST_HANDLE(multicall_entry_t);
KESTREL_ABI_SIZE(struct multicall_entry, 64);
KESTREL_ABI_FIELD(struct multicall_entry, op, 0);
KESTREL_ABI_FIELD(struct multicall_entry, result, 8);
KESTREL_ABI_FIELD(struct multicall_entry, args, 16);

/*
 * Per-vCPU time parameters. The hypervisor makes version odd before an update and even after it, so a reader
 * retries while it is odd or changed under it. Current system time in ns is
 *   system_time + ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32)
 * with a right shift for a negative tsc_shift.
 */
struct vcpu_time_info {
    uint32_t version;           /*  0 OUT: update counter, odd while an update is in progress */
    uint32_t pad0;              /*  4 */
    uint64_t tsc_timestamp;     /*  8 OUT: TSC when system_time was sampled */
    uint64_t system_time;       /* 16 OUT: ns since the hypervisor booted, at tsc_timestamp */
    uint32_t tsc_to_system_mul; /* 24 OUT: TSC-to-ns factor, a 32.32 fixed-point fraction */
    int8_t tsc_shift;           /* 28 OUT: power of two applied to the TSC delta first */
    uint8_t flags;              /* 29 OUT: XEN_PVCLOCK_* */
    uint8_t pad1[2];            /* 30 */
};
typedef struct vcpu_time_info vcpu_time_info_t;
KESTREL_ABI_SIZE(struct vcpu_time_info, 32);
KESTREL_ABI_FIELD(struct vcpu_time_info, version, 0);
KESTREL_ABI_FIELD(struct vcpu_time_info, pad0, 4);
KESTREL_ABI_FIELD(struct vcpu_time_info, tsc_timestamp, 8);
KESTREL_ABI_FIELD(struct vcpu_time_info, system_time, 16);
KESTREL_ABI_FIELD(struct vcpu_time_info, tsc_to_system_mul, 24);
KESTREL_ABI_FIELD(struct vcpu_time_info, tsc_shift, 28);
KESTREL_ABI_FIELD(struct vcpu_time_info, flags, 29);
KESTREL_ABI_FIELD(struct vcpu_time_info, pad1, 30);

#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0) /* the TSC is synchronised across CPUs: readings are monotonic */
#define XEN_PVCLOCK_GUEST_STOPPED (1 << 1)  /* the guest was paused; watchdogs should not fire */

/*
 * Per-vCPU event and time state. The hypervisor sets evtchn_upcall_pending (and bits of evtchn_pending_sel for
 * 2-level event channels) and upcalls the guest unless evtchn_upcall_mask is set; the guest clears pending
 * before scanning so that a new event is never lost. The mask is the PV form of the interrupt flag.
 */
struct vcpu_info {
    uint8_t evtchn_upcall_pending;  /*  0 IN/OUT: an upcall is due */
    uint8_t evtchn_upcall_mask;     /*  1 IN: non-zero blocks upcalls */
    xen_ulong_t evtchn_pending_sel; /*  8 IN/OUT: which evtchn_pending words have new events (2-level) */
    struct arch_vcpu_info arch;     /* 16 OUT */
    vcpu_time_info_t time;          /* 32 OUT */
};
typedef struct vcpu_info vcpu_info_t;
KESTREL_ABI_SIZE(struct vcpu_info, 64);
KESTREL_ABI_FIELD(struct vcpu_info, evtchn_upcall_pending, 0);
KESTREL_ABI_FIELD(struct vcpu_info, evtchn_upcall_mask, 1);
KESTREL_ABI_FIELD(struct vcpu_info, evtchn_pending_sel, 8);
KESTREL_ABI_FIELD(struct vcpu_info, arch, 16);
KESTREL_ABI_FIELD(struct vcpu_info, time, 32);

/*
 * The shared-info page, mapped by the guest at the frame start_info.shared_info names. It carries the first
 * vCPUs' vcpu_info, the 2-level event-channel bitmaps (a pending and a mask bit per port) and the wall clock.
 */
struct shared_info {
    struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];  /*    0 */
    xen_ulong_t evtchn_pending[sizeof(xen_ulong_t) * 8]; /* 2048 IN/OUT: set by the hypervisor, cleared by the guest */
    xen_ulong_t evtchn_mask[sizeof(xen_ulong_t) * 8];    /* 2560 IN: set by the guest to suppress upcalls */
    uint32_t wc_version;                                 /* 3072 OUT: like vcpu_time_info.version, for wc_* */
    uint32_t wc_sec;                                     /* 3076 OUT: wall clock at system time 0, seconds */
    uint32_t wc_nsec;                                    /* 3080 OUT: ... and nanoseconds */
    uint32_t wc_sec_hi;                                  /* 3084 OUT: upper 32 bits of the seconds */
    struct arch_shared_info arch;                        /* 3088 */
};
typedef struct shared_info shared_info_t;
#define xen_wc_sec_hi wc_sec_hi /* where the high seconds live, as Xen names it for portable code */
KESTREL_ABI_SIZE(struct shared_info, 3136);
KESTREL_ABI_FIELD(struct shared_info, vcpu_info, 0);
KESTREL_ABI_FIELD(struct shared_info, evtchn_pending, 2048);
KESTREL_ABI_FIELD(struct shared_info, evtchn_mask, 2560);
KESTREL_ABI_FIELD(struct shared_info, wc_version, 3072);
KESTREL_ABI_FIELD(struct shared_info, wc_sec, 3076);
KESTREL_ABI_FIELD(struct shared_info, wc_nsec, 3080);
KESTREL_ABI_FIELD(struct shared_info, wc_sec_hi, 3084);
KESTREL_ABI_FIELD(struct shared_info, arch, 3088);

/*
 * The start-of-day page a PV kernel finds through RSI at its entry point. It is mapped in the initial page
 * tables after the p2m list; everything the kernel needs to bootstrap itself is here.
 */
#define MAX_GUEST_CMDLINE 1024
struct start_info {
    char magic[32];        /*    0 OUT: "xen-<version>-<platform>", see XEN_START_INFO_MAGIC */
    uint64_t nr_pages;     /*   32 OUT: pages of memory the domain starts with */
    uint64_t shared_info;  /*   40 OUT: machine address of the shared-info page */
    uint32_t flags;        /*   48 OUT: SIF_* */
    xen_pfn_t store_mfn;   /*   56 OUT: machine frame of the xenstore ring */
    uint32_t store_evtchn; /*   64 OUT: event channel of the xenstore ring */
    union {
        struct {
            xen_pfn_t mfn;   /* 72 OUT: machine frame of the console ring */
            uint32_t evtchn; /* 80 OUT: its event channel */
        } domU;
        struct {
            uint32_t info_off;  /* 72 OUT: offset of a dom0_vga_console_info within this page */
            uint32_t info_size; /* 76 OUT: its size */
        } dom0;
    } console;              /*   72 */
    uint64_t pt_base;       /*   88 OUT: virtual address of the initial L4 table */
    uint64_t nr_pt_frames;  /*   96 OUT: frames of initial page tables */
    uint64_t mfn_list;      /*  104 OUT: virtual address of the p2m list */
    uint64_t mod_start;     /*  112 OUT: virtual address (or PFN with SIF_MOD_START_PFN) of the initrd */
    uint64_t mod_len;       /*  120 OUT: its length in bytes */
    int8_t cmd_line[MAX_GUEST_CMDLINE]; /* 128 OUT: kernel command line, NUL-terminated */
    uint64_t first_p2m_pfn; /* 1152 OUT: first PFN of a physically mapped p2m (0 if not) */
    uint64_t nr_p2m_frames; /* 1160 OUT: its number of frames */
};
typedef struct start_info start_info_t;
KESTREL_ABI_SIZE(struct start_info, 1168);
KESTREL_ABI_FIELD(struct start_info, magic, 0);
KESTREL_ABI_FIELD(struct start_info, nr_pages, 32);
KESTREL_ABI_FIELD(struct start_info, shared_info, 40);
KESTREL_ABI_FIELD(struct start_info, flags, 48);
KESTREL_ABI_FIELD(struct start_info, store_mfn, 56);
KESTREL_ABI_FIELD(struct start_info, store_evtchn, 64);
KESTREL_ABI_FIELD(struct start_info, console, 72);
KESTREL_ABI_FIELD(struct start_info, console.domU.mfn, 72);
KESTREL_ABI_FIELD(struct start_info, console.domU.evtchn, 80);
KESTREL_ABI_FIELD(struct start_info, console.dom0.info_off, 72);
KESTREL_ABI_FIELD(struct start_info, console.dom0.info_size, 76);
KESTREL_ABI_FIELD(struct start_info, pt_base, 88);
KESTREL_ABI_FIELD(struct start_info, nr_pt_frames, 96);
KESTREL_ABI_FIELD(struct start_info, mfn_list, 104);
KESTREL_ABI_FIELD(struct start_info, mod_start, 112);
KESTREL_ABI_FIELD(struct start_info, mod_len, 120);
KESTREL_ABI_FIELD(struct start_info, cmd_line, 128);
KESTREL_ABI_FIELD(struct start_info, first_p2m_pfn, 1152);
KESTREL_ABI_FIELD(struct start_info, nr_p2m_frames, 1160);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/*
 * start_info.magic as Xen's domain builders write it for a 64-bit PV guest (the "3.0" is the ABI generation and
 * never changed). Guests may check the "xen-" prefix.
 */
#define XEN_START_INFO_MAGIC "xen-3.0-x86_64" /* kestrel-only: the string is a fact, the name is ours */

/* start_info.flags */
#define SIF_PRIVILEGED (1 << 0)      /* the domain may use privileged hypercalls */
#define SIF_INITDOMAIN (1 << 1)      /* the domain is dom0 */
#define SIF_MULTIBOOT_MOD (1 << 2)   /* mod_start is a multiboot module list, not a single initrd */
#define SIF_MOD_START_PFN (1 << 3)   /* mod_start is a PFN rather than a virtual address */
#define SIF_VIRT_P2M_4TOOLS (1 << 4) /* the toolstack understands a virtually mapped p2m */
#define SIF_PM_MASK (0xFF << 8)      /* reserved for power-management options */

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* One entry of a SIF_MULTIBOOT_MOD module list; addresses are relative to the start of the list, and an entry
 * with mod_start == 0 ends it. */
struct xen_multiboot_mod_list {
    uint32_t mod_start; /*  0: first byte of the module */
    uint32_t mod_end;   /*  4: one past its last byte */
    uint32_t cmdline;   /*  8: its NUL-terminated command line */
    uint32_t pad;       /* 12 */
};
KESTREL_ABI_SIZE(struct xen_multiboot_mod_list, 16);
KESTREL_ABI_FIELD(struct xen_multiboot_mod_list, mod_start, 0);
KESTREL_ABI_FIELD(struct xen_multiboot_mod_list, mod_end, 4);
KESTREL_ABI_FIELD(struct xen_multiboot_mod_list, cmdline, 8);
KESTREL_ABI_FIELD(struct xen_multiboot_mod_list, pad, 12);

/* What dom0 needs to keep using the console the firmware or boot loader set up (found via start_info.console.dom0
 * and XENPF_firmware_info). */
typedef struct dom0_vga_console_info {
    uint8_t video_type; /* 0: XEN_VGATYPE_* */
    union {
        struct {
            uint16_t font_height; /*  4: pixel rows per character */
            uint16_t cursor_x;    /*  6 */
            uint16_t cursor_y;    /*  8 */
            uint16_t rows;        /* 10 */
            uint16_t columns;     /* 12 */
        } text_mode_3;
        struct {
            uint16_t width;          /*  4: pixels */
            uint16_t height;         /*  6: pixels */
            uint16_t bytes_per_line; /*  8 */
            uint16_t bits_per_pixel; /* 10 */
            uint32_t lfb_base;       /* 12: frame buffer physical address, low 32 bits */
            uint32_t lfb_size;       /* 16: frame buffer size in 64 KiB units */
            uint8_t red_pos;         /* 20: colour channel bit positions and widths */
            uint8_t red_size;        /* 21 */
            uint8_t green_pos;       /* 22 */
            uint8_t green_size;      /* 23 */
            uint8_t blue_pos;        /* 24 */
            uint8_t blue_size;       /* 25 */
            uint8_t rsvd_pos;        /* 26 */
            uint8_t rsvd_size;       /* 27 */
            uint32_t gbl_caps;       /* 28: VESA capabilities */
            uint16_t mode_attrs;     /* 32: VESA mode attributes */
            uint16_t pad;            /* 34 */
            uint32_t ext_lfb_base;   /* 36: frame buffer physical address, high 32 bits */
        } vesa_lfb;
    } u; /* 4 */
} dom0_vga_console_info_t;
#define XEN_VGATYPE_TEXT_MODE_3 0x03 /* VGA text mode 3 */
#define XEN_VGATYPE_VESA_LFB 0x23    /* VESA linear frame buffer */
#define XEN_VGATYPE_EFI_LFB 0x70     /* EFI GOP frame buffer */
#define xen_vga_console_info dom0_vga_console_info
#define xen_vga_console_info_t dom0_vga_console_info_t
KESTREL_ABI_SIZE(struct dom0_vga_console_info, 40);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, video_type, 0);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u, 4);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.text_mode_3.font_height, 4);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.text_mode_3.cursor_x, 6);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.text_mode_3.cursor_y, 8);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.text_mode_3.rows, 10);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.text_mode_3.columns, 12);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.width, 4);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.height, 6);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.bytes_per_line, 8);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.bits_per_pixel, 10);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.lfb_base, 12);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.lfb_size, 16);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.red_pos, 20);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.red_size, 21);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.green_pos, 22);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.green_size, 23);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.blue_pos, 24);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.blue_size, 25);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.rsvd_pos, 26);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.rsvd_size, 27);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.gbl_caps, 28);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.mode_attrs, 32);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.pad, 34);
KESTREL_ABI_FIELD(struct dom0_vga_console_info, u.vesa_lfb.ext_lfb_base, 36);

/* A domain's UUID as the toolstack assigns it. */
typedef uint8_t xen_domain_handle_t[16];
KESTREL_ABI_SIZE(xen_domain_handle_t, 16);

__DEFINE_XEN_GUEST_HANDLE(uint8, uint8_t);
__DEFINE_XEN_GUEST_HANDLE(uint16, uint16_t);
__DEFINE_XEN_GUEST_HANDLE(uint32, uint32_t);
__DEFINE_XEN_GUEST_HANDLE(uint64, uint64_t);

/* The toolstack's interfaces (domctl, sysctl) use the same layout for 32-bit tools: 8-byte aligned fields. */
#ifndef uint64_aligned_t
#define uint64_aligned_t uint64_t
#endif
#ifndef XEN_GUEST_HANDLE_64
#define XEN_GUEST_HANDLE_64(name) XEN_GUEST_HANDLE(name)
#endif

/* A bitmap of CPUs or nodes passed to the toolstack's hypercalls: the caller's buffer and how many bits it holds. */
struct xenctl_bitmap {
    XEN_GUEST_HANDLE_64(uint8) bitmap; /* 0 IN/OUT: bit n of byte n / 8 for CPU (or node) n */
    uint32_t nr_bits;                  /* 8 IN: bits the buffer holds; missing bits read as clear */
};
typedef struct xenctl_bitmap xenctl_bitmap_t;
KESTREL_ABI_SIZE(struct xenctl_bitmap, 16);
KESTREL_ABI_FIELD(struct xenctl_bitmap, bitmap, 0);
KESTREL_ABI_FIELD(struct xenctl_bitmap, nr_bits, 8);

/* A UUID in byte order, as hypercalls that identify objects by UUID pass it. */
typedef struct {
    uint8_t a[16]; /* 0 */
} xen_uuid_t;
KESTREL_ABI_SIZE(xen_uuid_t, 16);
KESTREL_ABI_FIELD(xen_uuid_t, a, 0);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
