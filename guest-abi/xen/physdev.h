/*
 * HYPERVISOR_physdev_op(cmd, arg): physical devices and interrupts for domains that drive hardware (dom0 and
 * driver domains): routing interrupts to event channels (pirqs), interrupt EOI, I/O privilege and PCI device
 * reporting.
 */
#ifndef KESTREL_GUEST_ABI_XEN_PHYSDEV_H
#define KESTREL_GUEST_ABI_XEN_PHYSDEV_H

#include "xen.h"

#define PHYSDEVOP_eoi 12               /* struct physdev_eoi: end of interrupt for a pirq */
#define PHYSDEVOP_pirq_eoi_gmfn_v1 17  /* struct physdev_pirq_eoi_gmfn: old form, bits had inverted meaning */
#define PHYSDEVOP_pirq_eoi_gmfn_v2 28  /* struct physdev_pirq_eoi_gmfn: register a bitmap of pirqs needing EOI */
#define PHYSDEVOP_pirq_eoi_gmfn PHYSDEVOP_pirq_eoi_gmfn_v2
#define PHYSDEVOP_irq_status_query 5   /* struct physdev_irq_status_query */
#define PHYSDEVOP_set_iopl 6           /* struct physdev_set_iopl */
#define PHYSDEVOP_set_iobitmap 7       /* struct physdev_set_iobitmap */
#define PHYSDEVOP_apic_read 8          /* struct physdev_apic: read an IO-APIC register */
#define PHYSDEVOP_apic_write 9         /* struct physdev_apic: write an IO-APIC register */
#define PHYSDEVOP_alloc_irq_vector 10  /* struct physdev_irq */
#define PHYSDEVOP_free_irq_vector 11   /* struct physdev_irq */
#define PHYSDEVOP_map_pirq 13          /* struct physdev_map_pirq */
#define PHYSDEVOP_unmap_pirq 14        /* struct physdev_unmap_pirq */
#define PHYSDEVOP_manage_pci_add 15    /* struct physdev_manage_pci */
#define PHYSDEVOP_manage_pci_remove 16 /* struct physdev_manage_pci */
#define PHYSDEVOP_restore_msi 19       /* struct physdev_restore_msi: after a device reset */
#define PHYSDEVOP_manage_pci_add_ext 20 /* struct physdev_manage_pci_ext */
#define PHYSDEVOP_setup_gsi 21         /* struct physdev_setup_gsi: trigger mode and polarity of a GSI */
#define PHYSDEVOP_get_free_pirq 23     /* struct physdev_get_free_pirq */
#define PHYSDEVOP_pci_mmcfg_reserved 24 /* struct physdev_pci_mmcfg_reserved */
#define PHYSDEVOP_pci_device_add 25    /* struct physdev_pci_device_add */
#define PHYSDEVOP_pci_device_remove 26 /* struct physdev_pci_device */
#define PHYSDEVOP_restore_msi_ext 27   /* struct physdev_pci_device */
#define PHYSDEVOP_dbgp_op 29           /* struct physdev_dbgp_op: USB debug port resets */
#define PHYSDEVOP_prepare_msix 30      /* struct physdev_pci_device */
#define PHYSDEVOP_release_msix 31      /* struct physdev_pci_device */
#define PHYSDEVOP_IRQ_UNMASK_NOTIFY 4  /* obsolete sub-op number, still reserved */

/* physdev_irq_status_query.flags */
#define _XENIRQSTAT_needs_eoi (0)
#define XENIRQSTAT_needs_eoi (1U << _XENIRQSTAT_needs_eoi) /* the guest must issue PHYSDEVOP_eoi */
#define _XENIRQSTAT_shared (1)
#define XENIRQSTAT_shared (1U << _XENIRQSTAT_shared) /* the interrupt is shared with another domain */

/* physdev_map_pirq.type */
#define MAP_PIRQ_TYPE_MSI 0x0       /* an MSI or MSI-X vector of bus:devfn */
#define MAP_PIRQ_TYPE_GSI 0x1       /* a GSI */
#define MAP_PIRQ_TYPE_UNKNOWN 0x2   /* not used */
#define MAP_PIRQ_TYPE_MSI_SEG 0x3   /* MSI with the PCI segment in bus bits 16-31 */
#define MAP_PIRQ_TYPE_MULTI_MSI 0x4 /* several MSI vectors; entry_nr is the count */

#define XEN_PCI_MMCFG_RESERVED 0x1 /* physdev_pci_mmcfg_reserved.flags: the region is reserved in the E820 map */

/* physdev_pci_device_add.flags */
#define XEN_PCI_DEV_EXTFN 0x1  /* an ARI extended function */
#define XEN_PCI_DEV_VIRTFN 0x2 /* an SR-IOV virtual function; physfn names its physical function */
#define XEN_PCI_DEV_PXM 0x4    /* optarr[0] holds the proximity domain */

/* physdev_dbgp_op.op and .bus */
#define PHYSDEVOP_DBGP_RESET_PREPARE 1
#define PHYSDEVOP_DBGP_RESET_DONE 2
#define PHYSDEVOP_DBGP_BUS_UNKNOWN 0
#define PHYSDEVOP_DBGP_BUS_PCI 1

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct physdev_eoi {
    uint32_t irq; /* 0 IN: pirq */
};
typedef struct physdev_eoi physdev_eoi_t;
DEFINE_XEN_GUEST_HANDLE(physdev_eoi_t);
KESTREL_ABI_SIZE(struct physdev_eoi, 4);
KESTREL_ABI_FIELD(struct physdev_eoi, irq, 0);

struct physdev_pirq_eoi_gmfn {
    xen_pfn_t gmfn; /* 0 IN: guest frame of the bitmap the hypervisor keeps, one bit per pirq */
};
typedef struct physdev_pirq_eoi_gmfn physdev_pirq_eoi_gmfn_t;
DEFINE_XEN_GUEST_HANDLE(physdev_pirq_eoi_gmfn_t);
KESTREL_ABI_SIZE(struct physdev_pirq_eoi_gmfn, 8);
KESTREL_ABI_FIELD(struct physdev_pirq_eoi_gmfn, gmfn, 0);

struct physdev_irq_status_query {
    uint32_t irq;   /* 0 IN */
    uint32_t flags; /* 4 OUT: XENIRQSTAT_* */
};
typedef struct physdev_irq_status_query physdev_irq_status_query_t;
DEFINE_XEN_GUEST_HANDLE(physdev_irq_status_query_t);
KESTREL_ABI_SIZE(struct physdev_irq_status_query, 8);
KESTREL_ABI_FIELD(struct physdev_irq_status_query, irq, 0);
KESTREL_ABI_FIELD(struct physdev_irq_status_query, flags, 4);

struct physdev_set_iopl {
    uint32_t iopl; /* 0 IN: I/O privilege level the guest kernel runs with (0-3) */
};
typedef struct physdev_set_iopl physdev_set_iopl_t;
DEFINE_XEN_GUEST_HANDLE(physdev_set_iopl_t);
KESTREL_ABI_SIZE(struct physdev_set_iopl, 4);
KESTREL_ABI_FIELD(struct physdev_set_iopl, iopl, 0);

struct physdev_set_iobitmap {
    XEN_GUEST_HANDLE(uint8) bitmap; /* 0 IN: I/O permission bitmap, TSS format (set bit = denied) */
    uint32_t nr_ports;              /* 8 IN: ports it covers */
};
typedef struct physdev_set_iobitmap physdev_set_iobitmap_t;
DEFINE_XEN_GUEST_HANDLE(physdev_set_iobitmap_t);
KESTREL_ABI_SIZE(struct physdev_set_iobitmap, 16);
KESTREL_ABI_FIELD(struct physdev_set_iobitmap, bitmap, 0);
KESTREL_ABI_FIELD(struct physdev_set_iobitmap, nr_ports, 8);

struct physdev_apic {
    uint64_t apic_physbase; /*  0 IN: IO-APIC base address */
    uint32_t reg;           /*  8 IN: register index */
    uint32_t value;         /* 12 IN/OUT */
};
typedef struct physdev_apic physdev_apic_t;
DEFINE_XEN_GUEST_HANDLE(physdev_apic_t);
KESTREL_ABI_SIZE(struct physdev_apic, 16);
KESTREL_ABI_FIELD(struct physdev_apic, apic_physbase, 0);
KESTREL_ABI_FIELD(struct physdev_apic, reg, 8);
KESTREL_ABI_FIELD(struct physdev_apic, value, 12);

struct physdev_irq {
    uint32_t irq;    /* 0 IN */
    uint32_t vector; /* 4 OUT (alloc) or IN (free) */
};
typedef struct physdev_irq physdev_irq_t;
DEFINE_XEN_GUEST_HANDLE(physdev_irq_t);
KESTREL_ABI_SIZE(struct physdev_irq, 8);
KESTREL_ABI_FIELD(struct physdev_irq, irq, 0);
KESTREL_ABI_FIELD(struct physdev_irq, vector, 4);

/* Give a domain a pirq for a GSI or MSI source. */
struct physdev_map_pirq {
    domid_t domid;       /*  0 IN */
    int32_t type;        /*  4 IN: MAP_PIRQ_TYPE_* */
    int32_t index;       /*  8 IN: GSI number (GSI) or -1 */
    int32_t pirq;        /* 12 IN: wanted pirq or -1 for any; OUT: the pirq */
    int32_t bus;         /* 16 IN: MSI: PCI bus (and segment for MSI_SEG) */
    int32_t devfn;       /* 20 IN: MSI: device and function */
    int32_t entry_nr;    /* 24 IN: MSI-X entry, or vector count for MULTI_MSI */
    uint64_t table_base; /* 32 IN: MSI-X table address */
};
typedef struct physdev_map_pirq physdev_map_pirq_t;
DEFINE_XEN_GUEST_HANDLE(physdev_map_pirq_t);
KESTREL_ABI_SIZE(struct physdev_map_pirq, 40);
KESTREL_ABI_FIELD(struct physdev_map_pirq, domid, 0);
KESTREL_ABI_FIELD(struct physdev_map_pirq, type, 4);
KESTREL_ABI_FIELD(struct physdev_map_pirq, index, 8);
KESTREL_ABI_FIELD(struct physdev_map_pirq, pirq, 12);
KESTREL_ABI_FIELD(struct physdev_map_pirq, bus, 16);
KESTREL_ABI_FIELD(struct physdev_map_pirq, devfn, 20);
KESTREL_ABI_FIELD(struct physdev_map_pirq, entry_nr, 24);
KESTREL_ABI_FIELD(struct physdev_map_pirq, table_base, 32);

struct physdev_unmap_pirq {
    domid_t domid; /* 0 IN */
    int32_t pirq;  /* 4 IN */
};
typedef struct physdev_unmap_pirq physdev_unmap_pirq_t;
DEFINE_XEN_GUEST_HANDLE(physdev_unmap_pirq_t);
KESTREL_ABI_SIZE(struct physdev_unmap_pirq, 8);
KESTREL_ABI_FIELD(struct physdev_unmap_pirq, domid, 0);
KESTREL_ABI_FIELD(struct physdev_unmap_pirq, pirq, 4);

struct physdev_manage_pci {
    uint8_t bus;   /* 0 IN */
    uint8_t devfn; /* 1 IN */
};
typedef struct physdev_manage_pci physdev_manage_pci_t;
DEFINE_XEN_GUEST_HANDLE(physdev_manage_pci_t);
KESTREL_ABI_SIZE(struct physdev_manage_pci, 2);
KESTREL_ABI_FIELD(struct physdev_manage_pci, bus, 0);
KESTREL_ABI_FIELD(struct physdev_manage_pci, devfn, 1);

struct physdev_restore_msi {
    uint8_t bus;   /* 0 IN */
    uint8_t devfn; /* 1 IN */
};
typedef struct physdev_restore_msi physdev_restore_msi_t;
DEFINE_XEN_GUEST_HANDLE(physdev_restore_msi_t);
KESTREL_ABI_SIZE(struct physdev_restore_msi, 2);
KESTREL_ABI_FIELD(struct physdev_restore_msi, bus, 0);
KESTREL_ABI_FIELD(struct physdev_restore_msi, devfn, 1);

struct physdev_manage_pci_ext {
    uint8_t bus;        /*  0 IN */
    uint8_t devfn;      /*  1 IN */
    uint32_t is_extfn;  /*  4 IN: ARI extended function */
    uint32_t is_virtfn; /*  8 IN: SR-IOV virtual function */
    struct {
        uint8_t bus;   /* 12 IN */
        uint8_t devfn; /* 13 IN */
    } physfn;           /* 12 IN: the physical function of a virtual one */
};
typedef struct physdev_manage_pci_ext physdev_manage_pci_ext_t;
DEFINE_XEN_GUEST_HANDLE(physdev_manage_pci_ext_t);
KESTREL_ABI_SIZE(struct physdev_manage_pci_ext, 16);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, bus, 0);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, devfn, 1);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, is_extfn, 4);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, is_virtfn, 8);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, physfn, 12);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, physfn.bus, 12);
KESTREL_ABI_FIELD(struct physdev_manage_pci_ext, physfn.devfn, 13);

/* Argument of the old __HYPERVISOR_physdev_op_compat: the sub-op and its structure in one. */
struct physdev_op {
    uint32_t cmd; /* 0 IN: PHYSDEVOP_* */
    union {
        physdev_irq_status_query_t irq_status_query;
        physdev_set_iopl_t set_iopl;
        physdev_set_iobitmap_t set_iobitmap;
        physdev_apic_t apic_op;
        physdev_irq_t irq_op;
    } u; /* 8 */
};
typedef struct physdev_op physdev_op_t;
DEFINE_XEN_GUEST_HANDLE(physdev_op_t);
KESTREL_ABI_SIZE(struct physdev_op, 24);
KESTREL_ABI_FIELD(struct physdev_op, cmd, 0);
KESTREL_ABI_FIELD(struct physdev_op, u, 8);

struct physdev_setup_gsi {
    int32_t gsi;        /* 0 IN */
    uint8_t triggering; /* 4 IN: 0 edge, 1 level */
    uint8_t polarity;   /* 5 IN: 0 active high, 1 active low */
};
typedef struct physdev_setup_gsi physdev_setup_gsi_t;
DEFINE_XEN_GUEST_HANDLE(physdev_setup_gsi_t);
KESTREL_ABI_SIZE(struct physdev_setup_gsi, 8);
KESTREL_ABI_FIELD(struct physdev_setup_gsi, gsi, 0);
KESTREL_ABI_FIELD(struct physdev_setup_gsi, triggering, 4);
KESTREL_ABI_FIELD(struct physdev_setup_gsi, polarity, 5);

struct physdev_get_free_pirq {
    int32_t type;  /* 0 IN: MAP_PIRQ_TYPE_* */
    uint32_t pirq; /* 4 OUT */
};
typedef struct physdev_get_free_pirq physdev_get_free_pirq_t;
DEFINE_XEN_GUEST_HANDLE(physdev_get_free_pirq_t);
KESTREL_ABI_SIZE(struct physdev_get_free_pirq, 8);
KESTREL_ABI_FIELD(struct physdev_get_free_pirq, type, 0);
KESTREL_ABI_FIELD(struct physdev_get_free_pirq, pirq, 4);

/* Report an MMCONFIG (ECAM) region found in ACPI. */
struct physdev_pci_mmcfg_reserved {
    uint64_t address;  /*  0 IN */
    uint16_t segment;  /*  8 IN */
    uint8_t start_bus; /* 10 IN */
    uint8_t end_bus;   /* 11 IN */
    uint32_t flags;    /* 12 IN: XEN_PCI_MMCFG_* */
};
typedef struct physdev_pci_mmcfg_reserved physdev_pci_mmcfg_reserved_t;
DEFINE_XEN_GUEST_HANDLE(physdev_pci_mmcfg_reserved_t);
KESTREL_ABI_SIZE(struct physdev_pci_mmcfg_reserved, 16);
KESTREL_ABI_FIELD(struct physdev_pci_mmcfg_reserved, address, 0);
KESTREL_ABI_FIELD(struct physdev_pci_mmcfg_reserved, segment, 8);
KESTREL_ABI_FIELD(struct physdev_pci_mmcfg_reserved, start_bus, 10);
KESTREL_ABI_FIELD(struct physdev_pci_mmcfg_reserved, end_bus, 11);
KESTREL_ABI_FIELD(struct physdev_pci_mmcfg_reserved, flags, 12);

/* Report a PCI device dom0 found. */
struct physdev_pci_device_add {
    uint16_t seg;   /* 0 IN */
    uint8_t bus;    /* 2 IN */
    uint8_t devfn;  /* 3 IN */
    uint32_t flags; /* 4 IN: XEN_PCI_DEV_* */
    struct {
        uint8_t bus;   /* 8 IN */
        uint8_t devfn; /* 9 IN */
    } physfn;          /* 8 IN: with XEN_PCI_DEV_VIRTFN */
    __extension__ uint32_t optarr[XEN_FLEX_ARRAY_DIM]; /* 12 IN: optional values selected by flags */
};
typedef struct physdev_pci_device_add physdev_pci_device_add_t;
DEFINE_XEN_GUEST_HANDLE(physdev_pci_device_add_t);
KESTREL_ABI_SIZE(struct physdev_pci_device_add, 12);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, seg, 0);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, bus, 2);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, devfn, 3);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, flags, 4);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, physfn, 8);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, physfn.bus, 8);
KESTREL_ABI_FIELD(struct physdev_pci_device_add, physfn.devfn, 9);
KESTREL_ABI_FLEX(struct physdev_pci_device_add, optarr, 12);

/* A PCI device by segment, bus and devfn. */
struct physdev_pci_device {
    uint16_t seg;  /* 0 IN */
    uint8_t bus;   /* 2 IN */
    uint8_t devfn; /* 3 IN */
};
typedef struct physdev_pci_device physdev_pci_device_t;
DEFINE_XEN_GUEST_HANDLE(physdev_pci_device_t);
KESTREL_ABI_SIZE(struct physdev_pci_device, 4);
KESTREL_ABI_FIELD(struct physdev_pci_device, seg, 0);
KESTREL_ABI_FIELD(struct physdev_pci_device, bus, 2);
KESTREL_ABI_FIELD(struct physdev_pci_device, devfn, 3);

struct physdev_dbgp_op {
    uint8_t op;  /* 0 IN: PHYSDEVOP_DBGP_RESET_* */
    uint8_t bus; /* 1 IN: PHYSDEVOP_DBGP_BUS_* */
    union {
        physdev_pci_device_t pci;
    } u; /* 2 IN */
};
typedef struct physdev_dbgp_op physdev_dbgp_op_t;
DEFINE_XEN_GUEST_HANDLE(physdev_dbgp_op_t);
KESTREL_ABI_SIZE(struct physdev_dbgp_op, 6);
KESTREL_ABI_FIELD(struct physdev_dbgp_op, op, 0);
KESTREL_ABI_FIELD(struct physdev_dbgp_op, bus, 1);
KESTREL_ABI_FIELD(struct physdev_dbgp_op, u, 2);
KESTREL_ABI_FIELD(struct physdev_dbgp_op, u.pci, 2);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
