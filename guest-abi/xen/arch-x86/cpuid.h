/*
 * The hypervisor CPUID leaves a guest reads to detect Xen (and therefore Kestrel) and its parameters. They start
 * at 0x40000000 but may be moved up in steps of 0x100 when another hypervisor's leaves come first; a guest scans
 * for the signature. Leaf numbers below are relative to the base found.
 *   leaf 0: EAX = last leaf offered, EBX/ECX/EDX = "XenVMMXenVMM"
 *   leaf 1: EAX = major << 16 | minor version
 *   leaf 2: EAX = number of hypercall pages, EBX = MSR that installs them, ECX/EDX = feature bits
 *   leaf 3: time and TSC parameters (sub-leaves 0-2)
 *   leaf 4: HVM features (XEN_HVM_CPUID_*), vCPU and domain id
 *   leaf 5: PV parameters; sub-leaf 0 EBX bits 0-7 = machine address width
 */
#ifndef KESTREL_GUEST_ABI_XEN_ARCH_X86_CPUID_H
#define KESTREL_GUEST_ABI_XEN_ARCH_X86_CPUID_H

#define XEN_CPUID_FIRST_LEAF 0x40000000 /* first place to look for the signature */
#define XEN_CPUID_LEAF(i) (XEN_CPUID_FIRST_LEAF + (i))

/* "XenVMMXenVMM" as it appears in EBX, ECX and EDX. */
#define XEN_CPUID_SIGNATURE_EBX 0x566e6558 /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4d /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566e /* "nVMM" */

/* Leaf 2, ECX: MMU_PT_UPDATE_PRESERVE_AD is available. */
#define _XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD 0
#define XEN_CPUID_FEAT1_MMU_PT_UPDATE_PRESERVE_AD (1u << 0)

/* Leaf 4, sub-leaf 0, EAX (HVM guests). */
#define XEN_HVM_CPUID_APIC_ACCESS_VIRT (1u << 0) /* APIC register accesses are virtualised */
#define XEN_HVM_CPUID_X2APIC_VIRT (1u << 1)      /* x2APIC accesses are virtualised */
#define XEN_HVM_CPUID_IOMMU_MAPPINGS (1u << 2)   /* foreign mappings also get IOMMU entries */
#define XEN_HVM_CPUID_VCPU_ID_PRESENT (1u << 3)  /* EBX holds the vCPU id */
#define XEN_HVM_CPUID_DOMID_PRESENT (1u << 4)    /* ECX holds the domain id */
#define XEN_HVM_CPUID_EXT_DEST_ID (1u << 5)      /* 15-bit destination ids in IO-APIC/MSI formats */
#define XEN_HVM_CPUID_UPCALL_VECTOR (1u << 6)    /* per-vCPU upcall vectors work with physical IRQs */

/* Leaf 5, sub-leaf 0, EBX. */
#define XEN_CPUID_MACHINE_ADDRESS_WIDTH_MASK (0xffu << 0) /* machine address bits, memory hotplug included */

#define XEN_CPUID_MAX_NUM_LEAVES 5 /* highest leaf offset defined */

#endif
