/*
 * HVM_PARAM_* indices for HVMOP_set_param/HVMOP_get_param: per-domain values set by the toolstack and read by
 * the guest (ring locations, callback routing, emulation options).
 */
#ifndef KESTREL_GUEST_ABI_XEN_HVM_PARAMS_H
#define KESTREL_GUEST_ABI_XEN_HVM_PARAMS_H

#include "hvm_op.h"

/*
 * How event upcalls reach an HVM guest: value[63:56] is the type, the rest depends on it. GSI: value[55:0] is
 * the GSI. PCI_INTX: bus in [15:8], device in [7:3], INTx pin in [1:0]. VECTOR: the vector in [7:0].
 */
#define HVM_PARAM_CALLBACK_IRQ 0
#define HVM_PARAM_CALLBACK_IRQ_TYPE_MASK xen_mk_ullong(0xFF00000000000000)
#define HVM_PARAM_CALLBACK_TYPE_GSI 0
#define HVM_PARAM_CALLBACK_TYPE_PCI_INTX 1
#define HVM_PARAM_CALLBACK_TYPE_VECTOR 2

#define HVM_PARAM_STORE_PFN 1     /* guest frame of the xenstore ring */
#define HVM_PARAM_STORE_EVTCHN 2  /* its event channel */
#define HVM_PARAM_PAE_ENABLED 4   /* toolstack: guest has PAE */
#define HVM_PARAM_IOREQ_PFN 5     /* device-model I/O request page */
#define HVM_PARAM_BUFIOREQ_PFN 6  /* buffered I/O request page */
#define HVM_PARAM_VIRIDIAN 9      /* Hyper-V enlightenments enabled (HVMPV_* bits) */

/* HVM_PARAM_VIRIDIAN bits. */
#define _HVMPV_base_freq 0
#define HVMPV_base_freq (1 << _HVMPV_base_freq)
#define _HVMPV_no_freq 1
#define HVMPV_no_freq (1 << _HVMPV_no_freq)
#define _HVMPV_time_ref_count 2
#define HVMPV_time_ref_count (1 << _HVMPV_time_ref_count)
#define _HVMPV_reference_tsc 3
#define HVMPV_reference_tsc (1 << _HVMPV_reference_tsc)
#define _HVMPV_hcall_remote_tlb_flush 4
#define HVMPV_hcall_remote_tlb_flush (1 << _HVMPV_hcall_remote_tlb_flush)
#define _HVMPV_apic_assist 5
#define HVMPV_apic_assist (1 << _HVMPV_apic_assist)
#define _HVMPV_crash_ctl 6
#define HVMPV_crash_ctl (1 << _HVMPV_crash_ctl)
#define _HVMPV_synic 7
#define HVMPV_synic (1 << _HVMPV_synic)
#define _HVMPV_stimer 8
#define HVMPV_stimer (1 << _HVMPV_stimer)
#define _HVMPV_hcall_ipi 9
#define HVMPV_hcall_ipi (1 << _HVMPV_hcall_ipi)
#define _HVMPV_ex_processor_masks 10
#define HVMPV_ex_processor_masks (1 << _HVMPV_ex_processor_masks)
#define _HVMPV_no_vp_limit 11
#define HVMPV_no_vp_limit (1 << _HVMPV_no_vp_limit)
#define _HVMPV_cpu_hotplug 12
#define HVMPV_cpu_hotplug (1 << _HVMPV_cpu_hotplug)
#define HVMPV_feature_mask (HVMPV_base_freq | HVMPV_no_freq | HVMPV_time_ref_count | HVMPV_reference_tsc | HVMPV_hcall_remote_tlb_flush | HVMPV_apic_assist | HVMPV_crash_ctl | HVMPV_synic | HVMPV_stimer | HVMPV_hcall_ipi | HVMPV_ex_processor_masks | HVMPV_no_vp_limit | HVMPV_cpu_hotplug)

#define HVM_PARAM_TIMER_MODE 10 /* how missed virtual timer ticks are delivered: */
#define HVMPTM_delay_for_missed_ticks 0
#define HVMPTM_no_delay_for_missed_ticks 1
#define HVMPTM_no_missed_ticks_pending 2
#define HVMPTM_one_missed_tick_pending 3

#define HVM_PARAM_HPET_ENABLED 11          /* an HPET is emulated */
#define HVM_PARAM_IDENT_PT 12              /* identity page table for real mode on old VMX */
#define HVM_PARAM_DM_DOMAIN 13             /* toolstack: domain running the device model */
#define HVM_PARAM_ACPI_S_STATE 14          /* current ACPI sleep state */
#define HVM_PARAM_VM86_TSS 15              /* TSS for emulated real mode */
#define HVM_PARAM_VPT_ALIGN 16             /* align virtual timers */
#define HVM_PARAM_CONSOLE_PFN 17           /* guest frame of the PV console ring */
#define HVM_PARAM_CONSOLE_EVTCHN 18        /* its event channel */
#define HVM_PARAM_ACPI_IOPORTS_LOCATION 19 /* which ACPI PM register block layout is emulated */
#define HVM_PARAM_MEMORY_EVENT_CR0 20      /* toolstack: obsolete monitoring parameters 20-25 and 30 */
#define HVM_PARAM_MEMORY_EVENT_CR3 21
#define HVM_PARAM_MEMORY_EVENT_CR4 22
#define HVM_PARAM_MEMORY_EVENT_INT3 23
#define HVM_PARAM_NESTEDHVM 24             /* toolstack: nested virtualisation enabled */
#define HVM_PARAM_MEMORY_EVENT_SINGLE_STEP 25
#define HVM_PARAM_BUFIOREQ_EVTCHN 26       /* toolstack: event channel of the buffered I/O ring */
#define HVM_PARAM_PAGING_RING_PFN 27       /* vm_event ring for paging */
#define HVM_PARAM_MONITOR_RING_PFN 28      /* vm_event ring for monitoring */
#define HVM_PARAM_SHARING_RING_PFN 29      /* vm_event ring for sharing */
#define HVM_PARAM_MEMORY_EVENT_MSR 30
#define HVM_PARAM_TRIPLE_FAULT_REASON 31   /* SHUTDOWN_* reason reported on a triple fault */
#define HVM_PARAM_IOREQ_SERVER_PFN 32      /* first frame reserved for ioreq servers */
#define HVM_PARAM_NR_IOREQ_SERVER_PAGES 33 /* how many */
#define HVM_PARAM_VM_GENERATION_ID_ADDR 34 /* where the VM generation id lives */
#define HVM_PARAM_ALTP2M 35                /* alternate p2m mode: */
#define XEN_ALTP2M_disabled 0
#define XEN_ALTP2M_mixed 1
#define XEN_ALTP2M_external 2
#define XEN_ALTP2M_limited 3
#define HVM_PARAM_X87_FIP_WIDTH 36         /* width of the saved x87 FIP/FDP */
#define HVM_PARAM_VM86_TSS_SIZED 37        /* VM86 TSS with its size */
#define HVM_PARAM_MCA_CAP 38               /* machine-check capabilities offered: */
#define XEN_HVM_MCA_CAP_LMCE (xen_mk_ullong(1) << 0)
#define XEN_HVM_MCA_CAP_MASK XEN_HVM_MCA_CAP_LMCE

#define HVM_NR_PARAMS 39 /* one past the last index */

#endif
