/*
 * Xen x86 PV ABI shared by the x86 headers: guest handles, frame and word types, the virtual IDT entry
 * (trap_info), the full vCPU context used by VCPUOP_initialise, and the x86 part of shared_info.
 */
#ifndef KESTREL_GUEST_ABI_XEN_ARCH_X86_XEN_H
#define KESTREL_GUEST_ABI_XEN_ARCH_X86_XEN_H

#include "../kestrel_abi.h"

/*
 * Guest handles: a guest pointer wrapped in a one-member struct, so that the compiler refuses to dereference it or
 * mix handles of different types by accident. The hypervisor treats the value as a guest virtual address and only
 * touches it through checked copies. Each DEFINE_XEN_GUEST_HANDLE(t) also defines the const_t variant.
 */
#ifndef __ASSEMBLY__
#define ___DEFINE_XEN_GUEST_HANDLE(name, type) \
    typedef struct {                           \
        type *p;                               \
    } __guest_handle_##name
#define __DEFINE_XEN_GUEST_HANDLE(name, type) \
    ___DEFINE_XEN_GUEST_HANDLE(name, type);   \
    ___DEFINE_XEN_GUEST_HANDLE(const_##name, const type)
#define DEFINE_XEN_GUEST_HANDLE(name) __DEFINE_XEN_GUEST_HANDLE(name, name)
#define __XEN_GUEST_HANDLE(name) __guest_handle_##name
#define XEN_GUEST_HANDLE(name) __XEN_GUEST_HANDLE(name)
/* On x86 a handle passed directly as a hypercall argument has the same form as one inside a structure. */
#define XEN_GUEST_HANDLE_PARAM(name) XEN_GUEST_HANDLE(name)
#define set_xen_guest_handle_raw(hnd, val) \
    do {                                   \
        (hnd).p = val;                     \
    } while (0)
#define set_xen_guest_handle(hnd, val) set_xen_guest_handle_raw(hnd, val)
/* Reading a handle back; Xen's public headers leave this to each user, Kestrel names it once. */
#define get_xen_guest_handle(hnd) ((hnd).p)
#endif

#include "xen-x86_64.h"

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif
/* A guest or machine frame number, as every hypercall passes it (the unit is always 4 KiB). */
typedef uint64_t xen_pfn_t;
#define PRI_xen_pfn "lx"
#define PRIu_xen_pfn "lu"
#ifdef __cplusplus
}
#endif
#endif

/* Hint for code shared with other architectures: x86 PV guests boot from start_info and have an upcall mask. */
#define XEN_HAVE_PV_GUEST_ENTRY 1
#define XEN_HAVE_PV_UPCALL_MASK 1

/*
 * The top of every guest GDT belongs to the hypervisor: guest descriptors live in the first 14 pages, the flat
 * FLAT_* descriptors and per-CPU entries of the hypervisor after them.
 */
#define FIRST_RESERVED_GDT_PAGE 14
#define FIRST_RESERVED_GDT_BYTE (FIRST_RESERVED_GDT_PAGE * 4096)
#define FIRST_RESERVED_GDT_ENTRY (FIRST_RESERVED_GDT_BYTE / 8)

/* How many vcpu_info slots shared_info holds; later vCPUs must place theirs with VCPUOP_register_vcpu_info. */
#define XEN_LEGACY_MAX_VCPUS 32

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/* The machine word of the ABI: multicall arguments, event-channel bitmap words. */
typedef uint64_t xen_ulong_t;
#define PRI_xen_ulong "lx"

/*
 * trap_info.flags: bits 0-1 are the privilege level allowed to reach the handler with a software INT (0 nobody,
 * 1-2 the kernel, 3 everybody); bit 2 set makes the entry behave like an interrupt gate, masking events on entry.
 * The setters only OR bits in, as Xen's do: start from flags == 0.
 */
#define TI_GET_DPL(_ti) ((_ti)->flags & 3)
#define TI_GET_IF(_ti) ((_ti)->flags & 4)
#define TI_SET_DPL(_ti, _dpl) ((_ti)->flags |= (_dpl))
#define TI_SET_IF(_ti, _if) ((_ti)->flags |= ((!!(_if)) << 2))

/* One virtual IDT entry; HYPERVISOR_set_trap_table takes an array ended by an entry whose address is 0. */
struct trap_info {
    uint8_t vector;   /* 0 IN: exception or interrupt vector */
    uint8_t flags;    /* 1 IN: TI_* privilege level and event-mask bit */
    uint16_t cs;      /* 2 IN: code selector of the handler */
    uint64_t address; /* 8 IN: handler address; 0 removes the entry */
};
typedef struct trap_info trap_info_t;
DEFINE_XEN_GUEST_HANDLE(trap_info_t);
KESTREL_ABI_SIZE(struct trap_info, 16);
KESTREL_ABI_FIELD(struct trap_info, vector, 0);
KESTREL_ABI_FIELD(struct trap_info, flags, 1);
KESTREL_ABI_FIELD(struct trap_info, cs, 2);
KESTREL_ABI_FIELD(struct trap_info, address, 8);

typedef uint64_t tsc_timestamp_t; /* a raw RDTSC value */

/* vcpu_guest_context.flags */
#define VGCF_I387_VALID (1 << 0) /* fpu_ctxt holds valid state to load */
#define VGCF_IN_KERNEL (1 << 2)  /* the vCPU is in guest kernel mode */
#define _VGCF_i387_valid 0
#define VGCF_i387_valid (1 << _VGCF_i387_valid)
#define _VGCF_in_kernel 2
#define VGCF_in_kernel (1 << _VGCF_in_kernel)
#define _VGCF_failsafe_disables_events 3 /* entering the failsafe callback masks events */
#define VGCF_failsafe_disables_events (1 << _VGCF_failsafe_disables_events)
#define _VGCF_syscall_disables_events 4 /* entering the syscall callback masks events */
#define VGCF_syscall_disables_events (1 << _VGCF_syscall_disables_events)
#define _VGCF_online 5 /* the vCPU is up (get only) */
#define VGCF_online (1 << _VGCF_online)

/*
 * Complete state of a PV vCPU, given to VCPUOP_initialise to start a secondary vCPU. The FPU area comes first so
 * that it can be 16-byte aligned for FXSAVE/FXRSTOR.
 */
struct vcpu_guest_context {
    struct {
        char x[512];
    } fpu_ctxt;                        /*    0 IN: FXSAVE image, used if VGCF_I387_VALID */
    uint64_t flags;                    /*  512 IN: VGCF_* */
    struct cpu_user_regs user_regs;    /*  520 IN: initial integer registers */
    struct trap_info trap_ctxt[256];   /*  720 IN: virtual IDT, indexed by vector */
    uint64_t ldt_base;                 /* 4816 IN: linear address of the LDT */
    uint64_t ldt_ents;                 /* 4824 IN: LDT entries */
    uint64_t gdt_frames[16];           /* 4832 IN: machine frames of the GDT */
    uint64_t gdt_ents;                 /* 4960 IN: GDT entries */
    uint64_t kernel_ss;                /* 4968 IN: kernel stack selector (the virtual TSS's SS1) */
    uint64_t kernel_sp;                /* 4976 IN: kernel stack pointer used on a switch from user mode */
    uint64_t ctrlreg[8];               /* 4984 IN: CR0-CR7; ctrlreg[3] kernel and ctrlreg[1] user page tables */
    uint64_t debugreg[8];              /* 5048 IN: DR0-DR7 */
    uint64_t event_callback_eip;       /* 5112 IN: event upcall entry point */
    uint64_t failsafe_callback_eip;    /* 5120 IN: entry for faults while restoring guest segments */
    uint64_t syscall_callback_eip;     /* 5128 IN: SYSCALL entry point */
    uint64_t vm_assist;                /* 5136 IN: bitmap of VMASST_TYPE_* to enable */
    uint64_t fs_base;                  /* 5144 IN */
    uint64_t gs_base_kernel;           /* 5152 IN */
    uint64_t gs_base_user;             /* 5160 IN */
};
typedef struct vcpu_guest_context vcpu_guest_context_t;
DEFINE_XEN_GUEST_HANDLE(vcpu_guest_context_t);
KESTREL_ABI_SIZE(struct vcpu_guest_context, 5168);
KESTREL_ABI_FIELD(struct vcpu_guest_context, fpu_ctxt, 0);
KESTREL_ABI_FIELD(struct vcpu_guest_context, fpu_ctxt.x, 0);
KESTREL_ABI_FIELD(struct vcpu_guest_context, flags, 512);
KESTREL_ABI_FIELD(struct vcpu_guest_context, user_regs, 520);
KESTREL_ABI_FIELD(struct vcpu_guest_context, trap_ctxt, 720);
KESTREL_ABI_FIELD(struct vcpu_guest_context, ldt_base, 4816);
KESTREL_ABI_FIELD(struct vcpu_guest_context, ldt_ents, 4824);
KESTREL_ABI_FIELD(struct vcpu_guest_context, gdt_frames, 4832);
KESTREL_ABI_FIELD(struct vcpu_guest_context, gdt_ents, 4960);
KESTREL_ABI_FIELD(struct vcpu_guest_context, kernel_ss, 4968);
KESTREL_ABI_FIELD(struct vcpu_guest_context, kernel_sp, 4976);
KESTREL_ABI_FIELD(struct vcpu_guest_context, ctrlreg, 4984);
KESTREL_ABI_FIELD(struct vcpu_guest_context, debugreg, 5048);
KESTREL_ABI_FIELD(struct vcpu_guest_context, event_callback_eip, 5112);
KESTREL_ABI_FIELD(struct vcpu_guest_context, failsafe_callback_eip, 5120);
KESTREL_ABI_FIELD(struct vcpu_guest_context, syscall_callback_eip, 5128);
KESTREL_ABI_FIELD(struct vcpu_guest_context, vm_assist, 5136);
KESTREL_ABI_FIELD(struct vcpu_guest_context, fs_base, 5144);
KESTREL_ABI_FIELD(struct vcpu_guest_context, gs_base_kernel, 5152);
KESTREL_ABI_FIELD(struct vcpu_guest_context, gs_base_user, 5160);

/*
 * The x86 part of shared_info: where the guest publishes its pseudo-physical-to-machine (p2m) table so that
 * tools can find it (save/restore, dumps), and the NMI reason.
 */
struct arch_shared_info {
    uint64_t max_pfn;                     /*  0 IN: entries in the p2m */
    xen_pfn_t pfn_to_mfn_frame_list_list; /*  8 IN: frame listing the frames that list the p2m frames;
                                                    ~0 means "use p2m_vaddr instead" */
    uint64_t nmi_reason;                  /* 16 OUT: why the last NMI was raised */
    uint64_t p2m_cr3;                     /* 24 IN: page-table root (as a CR3 value) where p2m_vaddr is mapped;
                                                    0 means the next two fields are unused */
    uint64_t p2m_vaddr;                   /* 32 IN: virtual address of the linear p2m list */
    uint64_t p2m_generation;              /* 40 IN: odd while the guest changes the p2m mappings */
};
typedef struct arch_shared_info arch_shared_info_t;
KESTREL_ABI_SIZE(struct arch_shared_info, 48);
KESTREL_ABI_FIELD(struct arch_shared_info, max_pfn, 0);
KESTREL_ABI_FIELD(struct arch_shared_info, pfn_to_mfn_frame_list_list, 8);
KESTREL_ABI_FIELD(struct arch_shared_info, nmi_reason, 16);
KESTREL_ABI_FIELD(struct arch_shared_info, p2m_cr3, 24);
KESTREL_ABI_FIELD(struct arch_shared_info, p2m_vaddr, 32);
KESTREL_ABI_FIELD(struct arch_shared_info, p2m_generation, 40);

/* The x86 part of a domain's configuration at XEN_DOMCTL_createdomain. */
#define _XEN_X86_EMU_LAPIC 0 /* emulation_flags: the devices the hypervisor emulates for an HVM domain */
#define XEN_X86_EMU_LAPIC (1U << _XEN_X86_EMU_LAPIC)
#define _XEN_X86_EMU_HPET 1
#define XEN_X86_EMU_HPET (1U << _XEN_X86_EMU_HPET)
#define _XEN_X86_EMU_PM 2
#define XEN_X86_EMU_PM (1U << _XEN_X86_EMU_PM)
#define _XEN_X86_EMU_RTC 3
#define XEN_X86_EMU_RTC (1U << _XEN_X86_EMU_RTC)
#define _XEN_X86_EMU_IOAPIC 4
#define XEN_X86_EMU_IOAPIC (1U << _XEN_X86_EMU_IOAPIC)
#define _XEN_X86_EMU_PIC 5
#define XEN_X86_EMU_PIC (1U << _XEN_X86_EMU_PIC)
#define _XEN_X86_EMU_VGA 6
#define XEN_X86_EMU_VGA (1U << _XEN_X86_EMU_VGA)
#define _XEN_X86_EMU_IOMMU 7
#define XEN_X86_EMU_IOMMU (1U << _XEN_X86_EMU_IOMMU)
#define _XEN_X86_EMU_PIT 8 /* the only one a PV domain may ask for, and only the hardware domain */
#define XEN_X86_EMU_PIT (1U << _XEN_X86_EMU_PIT)
#define _XEN_X86_EMU_USE_PIRQ 9
#define XEN_X86_EMU_USE_PIRQ (1U << _XEN_X86_EMU_USE_PIRQ)
#define _XEN_X86_EMU_VPCI 10
#define XEN_X86_EMU_VPCI (1U << _XEN_X86_EMU_VPCI)
#define XEN_X86_EMU_ALL                                                                                                \
    (XEN_X86_EMU_LAPIC | XEN_X86_EMU_HPET | XEN_X86_EMU_PM | XEN_X86_EMU_RTC | XEN_X86_EMU_IOAPIC | XEN_X86_EMU_PIC |  \
     XEN_X86_EMU_VGA | XEN_X86_EMU_IOMMU | XEN_X86_EMU_PIT | XEN_X86_EMU_USE_PIRQ | XEN_X86_EMU_VPCI)
#define XEN_X86_MSR_RELAXED (1U << 0) /* misc_flags: unknown MSRs read as 0 and ignore writes instead of #GP */
#define XEN_X86_MISC_FLAGS_MAX XEN_X86_MSR_RELAXED

struct xen_arch_domainconfig {
    uint32_t emulation_flags; /* 0 IN/OUT: XEN_X86_EMU_* */
    uint32_t misc_flags;      /* 4 IN: XEN_X86_MSR_RELAXED */
};
KESTREL_ABI_SIZE(struct xen_arch_domainconfig, 8);
KESTREL_ABI_FIELD(struct xen_arch_domainconfig, emulation_flags, 0);
KESTREL_ABI_FIELD(struct xen_arch_domainconfig, misc_flags, 4);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

/*
 * Forced emulation prefix: "ud2; .ascii 'xen'" in front of an instruction makes the hypervisor emulate it. PV
 * guests put it before CPUID to see the hypervisor's filtered CPUID leaves instead of the raw hardware ones.
 */
#ifdef __ASSEMBLY__
#define XEN_EMULATE_PREFIX .byte 0x0f, 0x0b, 0x78, 0x65, 0x6e;
#define XEN_CPUID XEN_EMULATE_PREFIX cpuid
#else
#define XEN_EMULATE_PREFIX ".byte 0x0f,0x0b,0x78,0x65,0x6e ; "
#define XEN_CPUID XEN_EMULATE_PREFIX "cpuid"
#endif

/* I/O port of the debug console: bytes written there end up in the hypervisor log. */
#define XEN_HVM_DEBUGCONS_IOPORT 0xe9

#endif
