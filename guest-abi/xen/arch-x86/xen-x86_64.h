/*
 * Xen x86_64 PV ABI, the parts specific to 64-bit guests: the flat segment selectors a PV guest runs with, the
 * hypervisor hole in the guest address space, the frame HYPERVISOR_iret consumes and the saved register layout.
 * Included by arch-x86/xen.h; not meant to be included on its own.
 */
#ifndef KESTREL_GUEST_ABI_XEN_ARCH_X86_XEN_X86_64_H
#define KESTREL_GUEST_ABI_XEN_ARCH_X86_XEN_X86_64_H

#include "../kestrel_abi.h"

/*
 * Selectors of the flat descriptors Xen keeps in the reserved part of every guest GDT (see
 * FIRST_RESERVED_GDT_ENTRY). A 64-bit PV kernel runs in ring 3 like its user space, so kernel and user selectors
 * are the same values and all carry RPL 3.
 */
#define FLAT_RING3_CS32 0xe023 /* 32-bit code, for compatibility-mode user processes */
#define FLAT_RING3_CS64 0xe033 /* 64-bit code */
#define FLAT_RING3_DS32 0xe02b /* flat data for 32-bit code */
#define FLAT_RING3_DS64 0x0000 /* 64-bit code runs with a null data selector */
#define FLAT_RING3_SS32 0xe02b /* stack for 32-bit code */
#define FLAT_RING3_SS64 0xe02b /* stack for 64-bit code: a null SS is not allowed in ring 3 */

#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_DS32 FLAT_RING3_DS32
#define FLAT_KERNEL_DS FLAT_KERNEL_DS64 /* what a 64-bit PV kernel loads into DS/ES */
#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_CS32 FLAT_RING3_CS32
#define FLAT_KERNEL_CS FLAT_KERNEL_CS64 /* CS of kernel entry points (callbacks, trap handlers) */
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_SS32 FLAT_RING3_SS32
#define FLAT_KERNEL_SS FLAT_KERNEL_SS64 /* SS of the kernel stack */
#define FLAT_USER_DS64 FLAT_RING3_DS64
#define FLAT_USER_DS32 FLAT_RING3_DS32
#define FLAT_USER_DS FLAT_USER_DS64
#define FLAT_USER_CS64 FLAT_RING3_CS64
#define FLAT_USER_CS32 FLAT_RING3_CS32
#define FLAT_USER_CS FLAT_USER_CS64
#define FLAT_USER_SS64 FLAT_RING3_SS64
#define FLAT_USER_SS32 FLAT_RING3_SS32
#define FLAT_USER_SS FLAT_USER_SS64

/*
 * The range of guest virtual addresses the hypervisor owns in every 64-bit PV address space: guests may not map
 * anything there. Its first part is the read-only machine-to-physical table every guest can read.
 */
#define __HYPERVISOR_VIRT_START 0xFFFF800000000000
#define __HYPERVISOR_VIRT_END 0xFFFF880000000000
#define __MACH2PHYS_VIRT_START 0xFFFF800000000000
#define __MACH2PHYS_VIRT_END 0xFFFF804000000000
#ifndef HYPERVISOR_VIRT_START
#define HYPERVISOR_VIRT_START xen_mk_ulong(__HYPERVISOR_VIRT_START)
#define HYPERVISOR_VIRT_END xen_mk_ulong(__HYPERVISOR_VIRT_END)
#endif
#define MACH2PHYS_VIRT_START xen_mk_ulong(__MACH2PHYS_VIRT_START)
#define MACH2PHYS_VIRT_END xen_mk_ulong(__MACH2PHYS_VIRT_END)
/* One 8-byte entry per machine frame: how many frames the read-only M2P window can describe. */
#define MACH2PHYS_NR_ENTRIES ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3)

/* Which segment base HYPERVISOR_set_segment_base writes (64-bit guests cannot write the MSRs themselves). */
#define SEGBASE_FS 0          /* FS base */
#define SEGBASE_GS_USER 1     /* the GS base user space sees (swapped in on return to user) */
#define SEGBASE_GS_KERNEL 2   /* the GS base the kernel sees */
#define SEGBASE_GS_USER_SEL 3 /* load a selector into user GS (its base comes from the descriptor) */

/*
 * HYPERVISOR_iret flag: the frame was built by a SYSCALL entry, so RCX and R11 are scratch and CS/SS are implied
 * (the return restores RAX, RIP, RFLAGS and RSP only).
 */
#define _VGCF_in_syscall 8
#define VGCF_in_syscall (1 << _VGCF_in_syscall)
#define VGCF_IN_SYSCALL VGCF_in_syscall

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

/*
 * The frame HYPERVISOR_iret pops from the guest kernel stack (lowest address first): a 64-bit PV kernel cannot
 * execute IRET to drop to user mode itself, so it pushes this and asks the hypervisor.
 */
struct iret_context {
    uint64_t rax;    /*  0 IN: restored; the hypercall clobbered it with its number */
    uint64_t r11;    /*  8 IN: restored unless VGCF_in_syscall */
    uint64_t rcx;    /* 16 IN: restored unless VGCF_in_syscall */
    uint64_t flags;  /* 24 IN: VGCF_in_syscall */
    uint64_t rip;    /* 32 IN: return address */
    uint64_t cs;     /* 40 IN: return code selector */
    uint64_t rflags; /* 48 IN: return flags (IF becomes the event mask) */
    uint64_t rsp;    /* 56 IN: return stack pointer */
    uint64_t ss;     /* 64 IN: return stack selector */
};
KESTREL_ABI_SIZE(struct iret_context, 72);
KESTREL_ABI_FIELD(struct iret_context, rax, 0);
KESTREL_ABI_FIELD(struct iret_context, r11, 8);
KESTREL_ABI_FIELD(struct iret_context, rcx, 16);
KESTREL_ABI_FIELD(struct iret_context, flags, 24);
KESTREL_ABI_FIELD(struct iret_context, rip, 32);
KESTREL_ABI_FIELD(struct iret_context, cs, 40);
KESTREL_ABI_FIELD(struct iret_context, rflags, 48);
KESTREL_ABI_FIELD(struct iret_context, rsp, 56);
KESTREL_ABI_FIELD(struct iret_context, ss, 64);

/*
 * A vCPU's integer registers as VCPUOP_initialise and the toolstack exchange them. The order is the push order
 * of Xen's entry path, which is why it looks arbitrary; it is ABI regardless. 16-bit selectors sit in 8-byte
 * slots.
 */
struct cpu_user_regs {
    uint64_t r15;              /*   0 */
    uint64_t r14;              /*   8 */
    uint64_t r13;              /*  16 */
    uint64_t r12;              /*  24 */
    uint64_t rbp;              /*  32 */
    uint64_t rbx;              /*  40 */
    uint64_t r11;              /*  48 */
    uint64_t r10;              /*  56 */
    uint64_t r9;               /*  64 */
    uint64_t r8;               /*  72 */
    uint64_t rax;              /*  80 */
    uint64_t rcx;              /*  88 */
    uint64_t rdx;              /*  96 */
    uint64_t rsi;              /* 104 */
    uint64_t rdi;              /* 112 */
    uint32_t error_code;       /* 120: hardware error code of the exception being delivered, if any */
    uint32_t entry_vector;     /* 124: vector the frame was saved for (hypervisor bookkeeping) */
    uint64_t rip;              /* 128 */
    uint16_t cs;               /* 136 */
    uint16_t _pad0[1];         /* 138 */
    uint8_t saved_upcall_mask; /* 140: the guest's event mask at the time the frame was saved */
    uint8_t _pad1[3];          /* 141 */
    uint64_t rflags;           /* 144 */
    uint64_t rsp;              /* 152 */
    uint16_t ss;               /* 160 */
    uint16_t _pad2[3];         /* 162 */
    uint16_t es;               /* 168 */
    uint16_t _pad3[3];         /* 170 */
    uint16_t ds;               /* 176 */
    uint16_t _pad4[3];         /* 178 */
    uint16_t fs;               /* 184 */
    uint16_t _pad5[3];         /* 186 */
    uint16_t gs;               /* 192 */
    uint16_t _pad6[3];         /* 194 */
};
typedef struct cpu_user_regs cpu_user_regs_t;
KESTREL_ABI_SIZE(struct cpu_user_regs, 200);
KESTREL_ABI_FIELD(struct cpu_user_regs, r15, 0);
KESTREL_ABI_FIELD(struct cpu_user_regs, r14, 8);
KESTREL_ABI_FIELD(struct cpu_user_regs, r13, 16);
KESTREL_ABI_FIELD(struct cpu_user_regs, r12, 24);
KESTREL_ABI_FIELD(struct cpu_user_regs, rbp, 32);
KESTREL_ABI_FIELD(struct cpu_user_regs, rbx, 40);
KESTREL_ABI_FIELD(struct cpu_user_regs, r11, 48);
KESTREL_ABI_FIELD(struct cpu_user_regs, r10, 56);
KESTREL_ABI_FIELD(struct cpu_user_regs, r9, 64);
KESTREL_ABI_FIELD(struct cpu_user_regs, r8, 72);
KESTREL_ABI_FIELD(struct cpu_user_regs, rax, 80);
KESTREL_ABI_FIELD(struct cpu_user_regs, rcx, 88);
KESTREL_ABI_FIELD(struct cpu_user_regs, rdx, 96);
KESTREL_ABI_FIELD(struct cpu_user_regs, rsi, 104);
KESTREL_ABI_FIELD(struct cpu_user_regs, rdi, 112);
KESTREL_ABI_FIELD(struct cpu_user_regs, error_code, 120);
KESTREL_ABI_FIELD(struct cpu_user_regs, entry_vector, 124);
KESTREL_ABI_FIELD(struct cpu_user_regs, rip, 128);
KESTREL_ABI_FIELD(struct cpu_user_regs, cs, 136);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad0, 138);
KESTREL_ABI_FIELD(struct cpu_user_regs, saved_upcall_mask, 140);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad1, 141);
KESTREL_ABI_FIELD(struct cpu_user_regs, rflags, 144);
KESTREL_ABI_FIELD(struct cpu_user_regs, rsp, 152);
KESTREL_ABI_FIELD(struct cpu_user_regs, ss, 160);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad2, 162);
KESTREL_ABI_FIELD(struct cpu_user_regs, es, 168);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad3, 170);
KESTREL_ABI_FIELD(struct cpu_user_regs, ds, 176);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad4, 178);
KESTREL_ABI_FIELD(struct cpu_user_regs, fs, 184);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad5, 186);
KESTREL_ABI_FIELD(struct cpu_user_regs, gs, 192);
KESTREL_ABI_FIELD(struct cpu_user_regs, _pad6, 194);

/* CR3 values of PV guests are plain frame numbers shifted into place (no PCID or flag bits in the ABI). */
#define xen_pfn_to_cr3(pfn) ((unsigned long)(pfn) << 12)
#define xen_cr3_to_pfn(cr3) ((unsigned long)(cr3) >> 12)

/* Per-vCPU architectural state the guest reads from its vcpu_info. */
struct arch_vcpu_info {
    uint64_t cr2; /* 0 OUT: faulting address of the last page fault delivered to this vCPU */
    uint64_t pad; /* 8 */
};
typedef struct arch_vcpu_info arch_vcpu_info_t;
KESTREL_ABI_SIZE(struct arch_vcpu_info, 16);
KESTREL_ABI_FIELD(struct arch_vcpu_info, cr2, 0);
KESTREL_ABI_FIELD(struct arch_vcpu_info, pad, 8);

/* A callback entry point: 64-bit guests give only the address, CS is always FLAT_KERNEL_CS. */
typedef uint64_t xen_callback_t;

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
