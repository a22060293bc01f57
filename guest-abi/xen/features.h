/*
 * Feature bits reported by XENVER_get_features (submap 0) and listed by kernels in XEN_ELFNOTE_FEATURES /
 * XEN_ELFNOTE_SUPPORTED_FEATURES. A set bit means the hypervisor provides the behaviour to this guest.
 */
#ifndef KESTREL_GUEST_ABI_XEN_FEATURES_H
#define KESTREL_GUEST_ABI_XEN_FEATURES_H

#define XENFEAT_writable_page_tables 0       /* the guest may write its page tables directly (trapped) */
#define XENFEAT_writable_descriptor_tables 1 /* the guest may write GDT/LDT pages directly */
#define XENFEAT_auto_translated_physmap 2    /* the hypervisor translates guest-physical addresses (not PV) */
#define XENFEAT_supervisor_mode_kernel 3     /* the kernel runs in ring 0 (obsolete) */
#define XENFEAT_pae_pgdir_above_4gb 4        /* 32-bit PAE: page directories may be above 4 GiB */
#define XENFEAT_mmu_pt_update_preserve_ad 5  /* MMU_PT_UPDATE_PRESERVE_AD is available */
#define XENFEAT_highmem_assist 6             /* MMUEXT_{CLEAR,COPY}_PAGE are available */
#define XENFEAT_gnttab_map_avail_bits 7      /* GNTMAP_* accept available-bits in grant mappings */
#define XENFEAT_hvm_callback_vector 8        /* HVM: events can arrive on an interrupt vector */
#define XENFEAT_hvm_safe_pvclock 9           /* HVM: PV clock usable across migration */
#define XENFEAT_hvm_pirqs 10                 /* HVM: physical interrupts through event channels */
#define XENFEAT_dom0 11                      /* the guest is the hardware domain */
#define XENFEAT_memory_op_vnode_supported 13 /* XENMEM_get_vnumainfo and vnode fields work */
#define XENFEAT_ARM_SMCCC_supported 14       /* Arm only */
#define XENFEAT_linux_rsdp_unrestricted 15   /* PVH dom0 may place the RSDP anywhere */
#define XENFEAT_not_direct_mapped 16         /* Arm only: guest RAM is not 1:1 mapped */
#define XENFEAT_direct_mapped 17             /* Arm only: guest RAM is 1:1 mapped */

#define XENFEAT_NR_SUBMAPS 1 /* how many 32-bit submaps exist */

#endif
