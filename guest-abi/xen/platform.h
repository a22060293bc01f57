/*
 * HYPERVISOR_platform_op(struct xen_platform_op *): machine-wide control for the hardware domain (dom0): wall
 * clock, MTRRs, microcode, firmware tables and EFI runtime services the hypervisor owns, ACPI sleep, physical CPU
 * information and hotplug, power management data and MSR access. Every call carries XENPF_INTERFACE_VERSION.
 */
#ifndef KESTREL_GUEST_ABI_XEN_PLATFORM_H
#define KESTREL_GUEST_ABI_XEN_PLATFORM_H

#include "xen.h"

#define XENPF_INTERFACE_VERSION 0x03000001 /* xen_platform_op.interface_version must hold this */

#define XENPF_settime32 17 /* struct xenpf_settime32: set the wall clock (32-bit seconds) */
#define XENPF_settime64 62 /* struct xenpf_settime64: set the wall clock */
#define XENPF_settime XENPF_settime64
#define xenpf_settime xenpf_settime64
#define XENPF_add_memtype 31       /* struct xenpf_add_memtype: program an MTRR */
#define XENPF_del_memtype 32       /* struct xenpf_del_memtype */
#define XENPF_read_memtype 33      /* struct xenpf_read_memtype */
#define XENPF_microcode_update 35  /* struct xenpf_microcode_update */
#define XENPF_platform_quirk 39    /* struct xenpf_platform_quirk */
#define XENPF_get_cpu_version 48   /* struct xenpf_pcpu_version */
#define XENPF_efi_runtime_call 49  /* struct xenpf_efi_runtime_call */
#define XENPF_firmware_info 50     /* struct xenpf_firmware_info */
#define XENPF_enter_acpi_sleep 51  /* struct xenpf_enter_acpi_sleep */
#define XENPF_change_freq 52       /* struct xenpf_change_freq */
#define XENPF_getidletime 53       /* struct xenpf_getidletime */
#define XENPF_set_processor_pminfo 54 /* struct xenpf_set_processor_pminfo */
#define XENPF_get_cpuinfo 55       /* struct xenpf_pcpuinfo */
#define XENPF_cpu_online 56        /* struct xenpf_cpu_ol */
#define XENPF_cpu_offline 57       /* struct xenpf_cpu_ol */
#define XENPF_cpu_hotadd 58        /* struct xenpf_cpu_hotadd */
#define XENPF_mem_hotadd 59        /* struct xenpf_mem_hotadd */
#define XENPF_core_parking 60      /* struct xenpf_core_parking */
#define XENPF_resource_op 61       /* struct xenpf_resource_op */
#define XENPF_get_symbol 63        /* struct xenpf_symdata */

/* xenpf_platform_quirk.quirk_id */
#define QUIRK_NOIRQBALANCING 1     /* do not balance IRQs across CPUs */
#define QUIRK_IOAPIC_BAD_REGSEL 2  /* the IO-APIC forgets its register select */
#define QUIRK_IOAPIC_GOOD_REGSEL 3 /* it does not */

/* xenpf_efi_runtime_call.function */
#define XEN_EFI_get_time 1
#define XEN_EFI_set_time 2
#define XEN_EFI_get_wakeup_time 3
#define XEN_EFI_set_wakeup_time 4
#define XEN_EFI_get_next_high_monotonic_count 5
#define XEN_EFI_get_variable 6
#define XEN_EFI_set_variable 7
#define XEN_EFI_get_next_variable_name 8
#define XEN_EFI_query_variable_info 9
#define XEN_EFI_query_capsule_capabilities 10
#define XEN_EFI_update_capsule 11

/* xenpf_efi_runtime_call.misc, per function */
#define XEN_EFI_GET_TIME_SET_CLEARS_NS 0x00000001      /* get_time: set_time will clear nanoseconds */
#define XEN_EFI_GET_WAKEUP_TIME_ENABLED 0x00000001     /* get_wakeup_time: the alarm is enabled */
#define XEN_EFI_GET_WAKEUP_TIME_PENDING 0x00000002     /* get_wakeup_time: the alarm fired */
#define XEN_EFI_SET_WAKEUP_TIME_ENABLE 0x00000001      /* set_wakeup_time: enable the alarm */
#define XEN_EFI_SET_WAKEUP_TIME_ENABLE_ONLY 0x00000002 /* set_wakeup_time: only change enablement */
#define XEN_EFI_VARIABLE_NON_VOLATILE 0x00000001       /* variable attributes */
#define XEN_EFI_VARIABLE_BOOTSERVICE_ACCESS 0x00000002
#define XEN_EFI_VARIABLE_RUNTIME_ACCESS 0x00000004
#define XEN_EFI_VARINFO_BOOT_SNAPSHOT 0x00000001       /* query_variable_info: values as at boot */

/* xenpf_firmware_info.type, and for XEN_FW_EFI_INFO the index */
#define XEN_FW_DISK_INFO 1          /* BIOS EDD disk information */
#define XEN_FW_DISK_MBR_SIGNATURE 2 /* BIOS disk MBR signatures */
#define XEN_FW_VBEDDC_INFO 3        /* VBE DDC (monitor EDID) */
#define XEN_FW_EFI_INFO 4           /* EFI system information, selected by index: */
#define XEN_FW_EFI_VERSION 0        /*   firmware version */
#define XEN_FW_EFI_CONFIG_TABLE 1   /*   configuration table address and count */
#define XEN_FW_EFI_VENDOR 2         /*   vendor string */
#define XEN_FW_EFI_MEM_INFO 3       /*   memory map entry containing an address */
#define XEN_FW_EFI_RT_VERSION 4     /*   runtime services version */
#define XEN_FW_EFI_PCI_ROM 5        /*   a PCI option ROM image */
#define XEN_FW_EFI_APPLE_PROPERTIES 6 /* Apple device properties */
#define XEN_FW_KBD_SHIFT_FLAGS 5    /* BIOS keyboard shift state */

#define XENPF_ACPI_SLEEP_EXTENDED 0x00000001 /* xenpf_enter_acpi_sleep.flags: values for the ACPI 5 sleep registers */

/* xenpf_set_processor_pminfo.type */
#define XEN_PM_CX 0  /* C-states */
#define XEN_PM_PX 1  /* P-states */
#define XEN_PM_TX 2  /* T-states */
#define XEN_PM_PDC 3 /* _PDC capabilities */
/* Capabilities dom0 reports processing for (bitmask). */
#define XEN_PROCESSOR_PM_CX 1
#define XEN_PROCESSOR_PM_PX 2
#define XEN_PROCESSOR_PM_TX 4
/* xen_processor_performance.flags: which ACPI objects were filled in. */
#define XEN_PX_PCT 1
#define XEN_PX_PSS 2
#define XEN_PX_PPC 4
#define XEN_PX_PSD 8
/* xen_processor_performance.shared_type */
#define XEN_CPUPERF_SHARED_TYPE_HW 1  /* coordinated by hardware */
#define XEN_CPUPERF_SHARED_TYPE_ALL 2 /* all CPUs of the domain change together */
#define XEN_CPUPERF_SHARED_TYPE_ANY 3 /* any CPU may change for the domain */

/* xenpf_pcpuinfo.flags */
#define XEN_PCPU_FLAGS_ONLINE 1  /* the CPU is online */
#define XEN_PCPU_FLAGS_INVALID 2 /* no CPU with this index */

/* xenpf_core_parking.type */
#define XEN_CORE_PARKING_SET 1
#define XEN_CORE_PARKING_GET 2

/* xenpf_resource_entry.u.cmd */
#define XEN_RESOURCE_OP_MSR_READ 0
#define XEN_RESOURCE_OP_MSR_WRITE 1

#ifndef __ASSEMBLY__
#ifdef __cplusplus
extern "C" {
#endif

struct xenpf_settime32 {
    uint32_t secs;        /*  0 IN: wall-clock seconds at system_time */
    uint32_t nsecs;       /*  4 IN */
    uint64_t system_time; /*  8 IN: hypervisor system time the wall clock refers to */
};
typedef struct xenpf_settime32 xenpf_settime32_t;
KESTREL_ABI_SIZE(struct xenpf_settime32, 16);
KESTREL_ABI_FIELD(struct xenpf_settime32, secs, 0);
KESTREL_ABI_FIELD(struct xenpf_settime32, nsecs, 4);
KESTREL_ABI_FIELD(struct xenpf_settime32, system_time, 8);

struct xenpf_settime64 {
    uint64_t secs;        /*  0 IN */
    uint32_t nsecs;       /*  8 IN */
    uint32_t mbz;         /* 12 IN: must be zero */
    uint64_t system_time; /* 16 IN */
};
typedef struct xenpf_settime64 xenpf_settime64_t;
KESTREL_ABI_SIZE(struct xenpf_settime64, 24);
KESTREL_ABI_FIELD(struct xenpf_settime64, secs, 0);
KESTREL_ABI_FIELD(struct xenpf_settime64, nsecs, 8);
KESTREL_ABI_FIELD(struct xenpf_settime64, mbz, 12);
KESTREL_ABI_FIELD(struct xenpf_settime64, system_time, 16);
typedef struct xenpf_settime xenpf_settime_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_settime_t);

/* Give the range [mfn, mfn + nr_mfns) the MTRR memory type "type". */
struct xenpf_add_memtype {
    xen_pfn_t mfn;    /*  0 IN */
    uint64_t nr_mfns; /*  8 IN */
    uint32_t type;    /* 16 IN: MTRR type */
    uint32_t handle;  /* 20 OUT: for del_memtype */
    uint32_t reg;     /* 24 OUT: MTRR used */
};
typedef struct xenpf_add_memtype xenpf_add_memtype_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_add_memtype_t);
KESTREL_ABI_SIZE(struct xenpf_add_memtype, 32);
KESTREL_ABI_FIELD(struct xenpf_add_memtype, mfn, 0);
KESTREL_ABI_FIELD(struct xenpf_add_memtype, nr_mfns, 8);
KESTREL_ABI_FIELD(struct xenpf_add_memtype, type, 16);
KESTREL_ABI_FIELD(struct xenpf_add_memtype, handle, 20);
KESTREL_ABI_FIELD(struct xenpf_add_memtype, reg, 24);

struct xenpf_del_memtype {
    uint32_t handle; /* 0 IN: from add_memtype */
    uint32_t reg;    /* 4 IN */
};
typedef struct xenpf_del_memtype xenpf_del_memtype_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_del_memtype_t);
KESTREL_ABI_SIZE(struct xenpf_del_memtype, 8);
KESTREL_ABI_FIELD(struct xenpf_del_memtype, handle, 0);
KESTREL_ABI_FIELD(struct xenpf_del_memtype, reg, 4);

/* Read MTRR "reg". */
struct xenpf_read_memtype {
    uint32_t reg;     /*  0 IN */
    xen_pfn_t mfn;    /*  8 OUT */
    uint64_t nr_mfns; /* 16 OUT */
    uint32_t type;    /* 24 OUT */
};
typedef struct xenpf_read_memtype xenpf_read_memtype_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_read_memtype_t);
KESTREL_ABI_SIZE(struct xenpf_read_memtype, 32);
KESTREL_ABI_FIELD(struct xenpf_read_memtype, reg, 0);
KESTREL_ABI_FIELD(struct xenpf_read_memtype, mfn, 8);
KESTREL_ABI_FIELD(struct xenpf_read_memtype, nr_mfns, 16);
KESTREL_ABI_FIELD(struct xenpf_read_memtype, type, 24);

struct xenpf_microcode_update {
    XEN_GUEST_HANDLE(const_void) data; /* 0 IN: microcode blob */
    uint32_t length;                   /* 8 IN: its size */
};
typedef struct xenpf_microcode_update xenpf_microcode_update_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_microcode_update_t);
KESTREL_ABI_SIZE(struct xenpf_microcode_update, 16);
KESTREL_ABI_FIELD(struct xenpf_microcode_update, data, 0);
KESTREL_ABI_FIELD(struct xenpf_microcode_update, length, 8);

struct xenpf_platform_quirk {
    uint32_t quirk_id; /* 0 IN: QUIRK_* */
};
typedef struct xenpf_platform_quirk xenpf_platform_quirk_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_platform_quirk_t);
KESTREL_ABI_SIZE(struct xenpf_platform_quirk, 4);
KESTREL_ABI_FIELD(struct xenpf_platform_quirk, quirk_id, 0);

/* EFI_TIME as the firmware defines it. */
struct xenpf_efi_time {
    uint16_t year;    /*  0 */
    uint8_t month;    /*  2 */
    uint8_t day;      /*  3 */
    uint8_t hour;     /*  4 */
    uint8_t min;      /*  5 */
    uint8_t sec;      /*  6 */
    uint32_t ns;      /*  8 */
    int16_t tz;       /* 12: minutes from UTC */
    uint8_t daylight; /* 14 */
};
KESTREL_ABI_SIZE(struct xenpf_efi_time, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_time, year, 0);
KESTREL_ABI_FIELD(struct xenpf_efi_time, month, 2);
KESTREL_ABI_FIELD(struct xenpf_efi_time, day, 3);
KESTREL_ABI_FIELD(struct xenpf_efi_time, hour, 4);
KESTREL_ABI_FIELD(struct xenpf_efi_time, min, 5);
KESTREL_ABI_FIELD(struct xenpf_efi_time, sec, 6);
KESTREL_ABI_FIELD(struct xenpf_efi_time, ns, 8);
KESTREL_ABI_FIELD(struct xenpf_efi_time, tz, 12);
KESTREL_ABI_FIELD(struct xenpf_efi_time, daylight, 14);

/* EFI_GUID. */
struct xenpf_efi_guid {
    uint32_t data1;   /* 0 */
    uint16_t data2;   /* 4 */
    uint16_t data3;   /* 6 */
    uint8_t data4[8]; /* 8 */
};
KESTREL_ABI_SIZE(struct xenpf_efi_guid, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_guid, data1, 0);
KESTREL_ABI_FIELD(struct xenpf_efi_guid, data2, 4);
KESTREL_ABI_FIELD(struct xenpf_efi_guid, data3, 6);
KESTREL_ABI_FIELD(struct xenpf_efi_guid, data4, 8);

/* An EFI runtime service call made by the hypervisor on dom0's behalf. */
struct xenpf_efi_runtime_call {
    uint32_t function;  /*  0 IN: XEN_EFI_* */
    uint32_t misc;      /*  4 IN/OUT: XEN_EFI_* flags of the function */
    xen_ulong_t status; /*  8 OUT: EFI status code */
    union {
        struct {
            struct xenpf_efi_time time; /* OUT */
            uint32_t resolution;        /* OUT */
            uint32_t accuracy;          /* OUT */
        } get_time;
        struct xenpf_efi_time set_time;        /* IN */
        struct xenpf_efi_time get_wakeup_time; /* OUT */
        struct xenpf_efi_time set_wakeup_time; /* IN */
        struct {
            XEN_GUEST_HANDLE(void) name;        /* IN: UCS-2, NUL-terminated */
            xen_ulong_t size;                   /* IN/OUT: data size */
            XEN_GUEST_HANDLE(void) data;        /* IN or OUT */
            struct xenpf_efi_guid vendor_guid;  /* IN */
        } get_variable, set_variable;
        struct {
            xen_ulong_t size;                   /* IN/OUT: name buffer size */
            XEN_GUEST_HANDLE(void) name;        /* IN/OUT */
            struct xenpf_efi_guid vendor_guid;  /* IN/OUT */
        } get_next_variable_name;
        struct {
            uint32_t attr;              /* IN */
            uint64_t max_store_size;    /* OUT */
            uint64_t remain_store_size; /* OUT */
            uint64_t max_size;          /* OUT */
        } query_variable_info;
        struct {
            XEN_GUEST_HANDLE(void) capsule_header_array; /* IN */
            xen_ulong_t capsule_count;                   /* IN */
            uint64_t max_capsule_size;                   /* OUT */
            uint32_t reset_type;                         /* OUT */
        } query_capsule_capabilities;
        struct {
            XEN_GUEST_HANDLE(void) capsule_header_array; /* IN */
            xen_ulong_t capsule_count;                   /* IN */
            uint64_t sg_list;                            /* IN: machine address */
        } update_capsule;
    } u; /* 16 */
};
typedef struct xenpf_efi_runtime_call xenpf_efi_runtime_call_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_efi_runtime_call_t);
KESTREL_ABI_SIZE(struct xenpf_efi_runtime_call, 56);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, function, 0);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, misc, 4);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, status, 8);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_time.time, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_time.resolution, 32);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_time.accuracy, 36);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.set_time, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_wakeup_time, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.set_wakeup_time, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_variable.name, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_variable.size, 24);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_variable.data, 32);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_variable.vendor_guid, 40);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.set_variable.name, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.set_variable.size, 24);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.set_variable.data, 32);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.set_variable.vendor_guid, 40);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_next_variable_name.size, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_next_variable_name.name, 24);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.get_next_variable_name.vendor_guid, 32);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_variable_info.attr, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_variable_info.max_store_size, 24);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_variable_info.remain_store_size, 32);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_variable_info.max_size, 40);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_capsule_capabilities.capsule_header_array, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_capsule_capabilities.capsule_count, 24);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_capsule_capabilities.max_capsule_size, 32);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.query_capsule_capabilities.reset_type, 40);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.update_capsule.capsule_header_array, 16);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.update_capsule.capsule_count, 24);
KESTREL_ABI_FIELD(struct xenpf_efi_runtime_call, u.update_capsule.sg_list, 32);

/* Firmware information the hypervisor collected at boot, which dom0 can no longer ask the firmware for. */
struct xenpf_firmware_info {
    uint32_t type;  /* 0 IN: XEN_FW_* */
    uint32_t index; /* 4 IN: which disk, EFI item, ... */
    union {
        struct {
            uint8_t device;                    /* OUT: BIOS drive number */
            uint8_t version;                   /* OUT: EDD version */
            uint16_t interface_support;        /* OUT */
            uint16_t legacy_max_cylinder;      /* OUT */
            uint8_t legacy_max_head;           /* OUT */
            uint8_t legacy_sectors_per_track;  /* OUT */
            XEN_GUEST_HANDLE(void) edd_params; /* IN: buffer whose first 16 bits give its size */
        } disk_info;
        struct {
            uint8_t device;         /* OUT */
            uint32_t mbr_signature; /* OUT */
        } disk_mbr_signature;
        struct {
            uint8_t capabilities;          /* OUT */
            uint8_t edid_transfer_time;    /* OUT */
            XEN_GUEST_HANDLE(uint8) edid;  /* IN: 128-byte buffer */
        } vbeddc_info;
        union xenpf_efi_info {
            uint32_t version; /* XEN_FW_EFI_VERSION, XEN_FW_EFI_RT_VERSION */
            struct {
                uint64_t addr; /* configuration table address */
                uint32_t nent; /* its entries */
            } cfg;
            struct {
                uint32_t revision;
                uint32_t bufsz;              /* IN: room in name */
                XEN_GUEST_HANDLE(void) name; /* OUT: UCS-2 vendor string */
            } vendor;
            struct {
                uint64_t addr; /* IN: an address; OUT: start of its memory map entry */
                uint64_t size;
                uint64_t attr;
                uint32_t type;
            } mem;
            struct {
                uint16_t segment; /* IN */
                uint8_t bus;      /* IN */
                uint8_t devfn;    /* IN */
                uint16_t vendor;  /* IN */
                uint16_t devid;   /* IN */
                uint64_t address; /* OUT: where the ROM image is */
                xen_ulong_t size; /* OUT */
            } pci_rom;
            struct {
                uint64_t address; /* OUT */
                xen_ulong_t size; /* OUT */
            } apple_properties;
        } efi_info;
        uint8_t kbd_shift_flags; /* OUT */
    } u; /* 8 */
};
typedef struct xenpf_firmware_info xenpf_firmware_info_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_firmware_info_t);
KESTREL_ABI_SIZE(struct xenpf_firmware_info, 40);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, type, 0);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, index, 4);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.device, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.version, 9);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.interface_support, 10);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.legacy_max_cylinder, 12);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.legacy_max_head, 14);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.legacy_sectors_per_track, 15);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_info.edd_params, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_mbr_signature.device, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.disk_mbr_signature.mbr_signature, 12);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.vbeddc_info.capabilities, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.vbeddc_info.edid_transfer_time, 9);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.vbeddc_info.edid, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.version, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.cfg.addr, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.cfg.nent, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.vendor.revision, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.vendor.bufsz, 12);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.vendor.name, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.mem.addr, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.mem.size, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.mem.attr, 24);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.mem.type, 32);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.segment, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.bus, 10);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.devfn, 11);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.vendor, 12);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.devid, 14);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.address, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.pci_rom.size, 24);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.apple_properties.address, 8);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.efi_info.apple_properties.size, 16);
KESTREL_ABI_FIELD(struct xenpf_firmware_info, u.kbd_shift_flags, 8);

/* Enter an ACPI sleep state: dom0 supplies the values for the PM1a/PM1b control (or sleep control) registers. */
struct xenpf_enter_acpi_sleep {
    uint16_t val_a;       /* 0 IN */
    uint16_t val_b;       /* 2 IN */
    uint32_t sleep_state; /* 4 IN: S-state */
    uint32_t flags;       /* 8 IN: XENPF_ACPI_SLEEP_* */
};
typedef struct xenpf_enter_acpi_sleep xenpf_enter_acpi_sleep_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_enter_acpi_sleep_t);
KESTREL_ABI_SIZE(struct xenpf_enter_acpi_sleep, 12);
KESTREL_ABI_FIELD(struct xenpf_enter_acpi_sleep, val_a, 0);
KESTREL_ABI_FIELD(struct xenpf_enter_acpi_sleep, val_b, 2);
KESTREL_ABI_FIELD(struct xenpf_enter_acpi_sleep, sleep_state, 4);
KESTREL_ABI_FIELD(struct xenpf_enter_acpi_sleep, flags, 8);

struct xenpf_change_freq {
    uint32_t flags; /* 0 IN: must be zero */
    uint32_t cpu;   /* 4 IN: physical CPU */
    uint64_t freq;  /* 8 IN: new frequency in Hz */
};
typedef struct xenpf_change_freq xenpf_change_freq_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_change_freq_t);
KESTREL_ABI_SIZE(struct xenpf_change_freq, 16);
KESTREL_ABI_FIELD(struct xenpf_change_freq, flags, 0);
KESTREL_ABI_FIELD(struct xenpf_change_freq, cpu, 4);
KESTREL_ABI_FIELD(struct xenpf_change_freq, freq, 8);

/* Idle time of physical CPUs. */
struct xenpf_getidletime {
    XEN_GUEST_HANDLE(uint8) cpumap_bitmap; /*  0 IN: CPUs asked for; OUT: those that exist */
    uint32_t cpumap_nr_cpus;               /*  8 IN: bits in the bitmap */
    XEN_GUEST_HANDLE(uint64) idletime;     /* 16 OUT: ns idle per CPU */
    uint64_t now;                          /* 24 OUT: system time of the sample */
};
typedef struct xenpf_getidletime xenpf_getidletime_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_getidletime_t);
KESTREL_ABI_SIZE(struct xenpf_getidletime, 32);
KESTREL_ABI_FIELD(struct xenpf_getidletime, cpumap_bitmap, 0);
KESTREL_ABI_FIELD(struct xenpf_getidletime, cpumap_nr_cpus, 8);
KESTREL_ABI_FIELD(struct xenpf_getidletime, idletime, 16);
KESTREL_ABI_FIELD(struct xenpf_getidletime, now, 24);

/* An ACPI generic address. */
struct xen_power_register {
    uint32_t space_id;    /*  0 */
    uint32_t bit_width;   /*  4 */
    uint32_t bit_offset;  /*  8 */
    uint32_t access_size; /* 12 */
    uint64_t address;     /* 16 */
};
KESTREL_ABI_SIZE(struct xen_power_register, 24);
KESTREL_ABI_FIELD(struct xen_power_register, space_id, 0);
KESTREL_ABI_FIELD(struct xen_power_register, bit_width, 4);
KESTREL_ABI_FIELD(struct xen_power_register, bit_offset, 8);
KESTREL_ABI_FIELD(struct xen_power_register, access_size, 12);
KESTREL_ABI_FIELD(struct xen_power_register, address, 16);

/* ACPI _CSD: C-state dependency. */
struct xen_processor_csd {
    uint32_t domain;     /* 0 */
    uint32_t coord_type; /* 4 */
    uint32_t num;        /* 8 */
};
typedef struct xen_processor_csd xen_processor_csd_t;
DEFINE_XEN_GUEST_HANDLE(xen_processor_csd_t);
KESTREL_ABI_SIZE(struct xen_processor_csd, 12);
KESTREL_ABI_FIELD(struct xen_processor_csd, domain, 0);
KESTREL_ABI_FIELD(struct xen_processor_csd, coord_type, 4);
KESTREL_ABI_FIELD(struct xen_processor_csd, num, 8);

/* One ACPI _CST C-state. */
struct xen_processor_cx {
    struct xen_power_register reg;       /*  0: how to enter it */
    uint8_t type;                        /* 24: C1, C2, ... */
    uint32_t latency;                    /* 28: us */
    uint32_t power;                      /* 32: mW */
    uint32_t dpcnt;                      /* 36: entries in dp */
    XEN_GUEST_HANDLE(xen_processor_csd_t) dp; /* 40 */
};
typedef struct xen_processor_cx xen_processor_cx_t;
DEFINE_XEN_GUEST_HANDLE(xen_processor_cx_t);
KESTREL_ABI_SIZE(struct xen_processor_cx, 48);
KESTREL_ABI_FIELD(struct xen_processor_cx, reg, 0);
KESTREL_ABI_FIELD(struct xen_processor_cx, type, 24);
KESTREL_ABI_FIELD(struct xen_processor_cx, latency, 28);
KESTREL_ABI_FIELD(struct xen_processor_cx, power, 32);
KESTREL_ABI_FIELD(struct xen_processor_cx, dpcnt, 36);
KESTREL_ABI_FIELD(struct xen_processor_cx, dp, 40);

/*
 * Xen declares these five flags as C bit-fields of one uint32_t, allocated from bit 0 upwards (the x86 psABI
 * rule). Kestrel keeps the word and names the bits, which gives the same bytes without bit-fields.
 */
struct xen_processor_flags {
    uint32_t bits; /* 0: XEN_PROCESSOR_FLAG_* */ /* kestrel-only: Xen names the bits as bit-fields */
};
#define XEN_PROCESSOR_FLAG_bm_control (1u << 0)       /* kestrel-only: bus-master control available */
#define XEN_PROCESSOR_FLAG_bm_check (1u << 1)         /* kestrel-only: bus-master activity must be checked */
#define XEN_PROCESSOR_FLAG_has_cst (1u << 2)          /* kestrel-only: _CST present */
#define XEN_PROCESSOR_FLAG_power_setup_done (1u << 3) /* kestrel-only */
#define XEN_PROCESSOR_FLAG_bm_rld_set (1u << 4)       /* kestrel-only: bus-master reload set */
KESTREL_ABI_SIZE(struct xen_processor_flags, 4);
KESTREL_ABI_FIELD(struct xen_processor_flags, bits, 0); /* kestrel-only: Xen has no member of this name */

struct xen_processor_power {
    uint32_t count;                            /* 0: entries in states */
    struct xen_processor_flags flags;          /* 4 */
    XEN_GUEST_HANDLE(xen_processor_cx_t) states; /* 8 */
};
KESTREL_ABI_SIZE(struct xen_processor_power, 16);
KESTREL_ABI_FIELD(struct xen_processor_power, count, 0);
KESTREL_ABI_FIELD(struct xen_processor_power, flags, 4);
KESTREL_ABI_FIELD(struct xen_processor_power, states, 8);

/* ACPI _PCT register description. */
struct xen_pct_register {
    uint8_t descriptor;  /* 0 */
    uint16_t length;     /* 2 */
    uint8_t space_id;    /* 4 */
    uint8_t bit_width;   /* 5 */
    uint8_t bit_offset;  /* 6 */
    uint8_t reserved;    /* 7 */
    uint64_t address;    /* 8 */
};
KESTREL_ABI_SIZE(struct xen_pct_register, 16);
KESTREL_ABI_FIELD(struct xen_pct_register, descriptor, 0);
KESTREL_ABI_FIELD(struct xen_pct_register, length, 2);
KESTREL_ABI_FIELD(struct xen_pct_register, space_id, 4);
KESTREL_ABI_FIELD(struct xen_pct_register, bit_width, 5);
KESTREL_ABI_FIELD(struct xen_pct_register, bit_offset, 6);
KESTREL_ABI_FIELD(struct xen_pct_register, reserved, 7);
KESTREL_ABI_FIELD(struct xen_pct_register, address, 8);

/* One ACPI _PSS P-state. */
struct xen_processor_px {
    uint64_t core_frequency;     /*  0: MHz */
    uint64_t power;              /*  8: mW */
    uint64_t transition_latency; /* 16: us */
    uint64_t bus_master_latency; /* 24: us */
    uint64_t control;            /* 32: value to write to enter it */
    uint64_t status;             /* 40: value read back once in it */
};
typedef struct xen_processor_px xen_processor_px_t;
DEFINE_XEN_GUEST_HANDLE(xen_processor_px_t);
KESTREL_ABI_SIZE(struct xen_processor_px, 48);
KESTREL_ABI_FIELD(struct xen_processor_px, core_frequency, 0);
KESTREL_ABI_FIELD(struct xen_processor_px, power, 8);
KESTREL_ABI_FIELD(struct xen_processor_px, transition_latency, 16);
KESTREL_ABI_FIELD(struct xen_processor_px, bus_master_latency, 24);
KESTREL_ABI_FIELD(struct xen_processor_px, control, 32);
KESTREL_ABI_FIELD(struct xen_processor_px, status, 40);

/* ACPI _PSD package. */
struct xen_psd_package {
    uint64_t num_entries;    /*  0 */
    uint64_t revision;       /*  8 */
    uint64_t domain;         /* 16 */
    uint64_t coord_type;     /* 24 */
    uint64_t num_processors; /* 32 */
};
KESTREL_ABI_SIZE(struct xen_psd_package, 40);
KESTREL_ABI_FIELD(struct xen_psd_package, num_entries, 0);
KESTREL_ABI_FIELD(struct xen_psd_package, revision, 8);
KESTREL_ABI_FIELD(struct xen_psd_package, domain, 16);
KESTREL_ABI_FIELD(struct xen_psd_package, coord_type, 24);
KESTREL_ABI_FIELD(struct xen_psd_package, num_processors, 32);

/* A CPU's P-state data, from ACPI. */
struct xen_processor_performance {
    uint32_t flags;                              /*  0: XEN_PX_* present */
    uint32_t platform_limit;                     /*  4: _PPC */
    struct xen_pct_register control_register;    /*  8 */
    struct xen_pct_register status_register;     /* 24 */
    uint32_t state_count;                        /* 40: entries in states */
    XEN_GUEST_HANDLE(xen_processor_px_t) states; /* 48 */
    struct xen_psd_package domain_info;          /* 56 */
    uint32_t shared_type;                        /* 96: XEN_CPUPERF_SHARED_TYPE_* */
};
typedef struct xen_processor_performance xen_processor_performance_t;
DEFINE_XEN_GUEST_HANDLE(xen_processor_performance_t);
KESTREL_ABI_SIZE(struct xen_processor_performance, 104);
KESTREL_ABI_FIELD(struct xen_processor_performance, flags, 0);
KESTREL_ABI_FIELD(struct xen_processor_performance, platform_limit, 4);
KESTREL_ABI_FIELD(struct xen_processor_performance, control_register, 8);
KESTREL_ABI_FIELD(struct xen_processor_performance, status_register, 24);
KESTREL_ABI_FIELD(struct xen_processor_performance, state_count, 40);
KESTREL_ABI_FIELD(struct xen_processor_performance, states, 48);
KESTREL_ABI_FIELD(struct xen_processor_performance, domain_info, 56);
KESTREL_ABI_FIELD(struct xen_processor_performance, shared_type, 96);

/* Power-management data dom0 parsed from ACPI for physical CPU "id". */
struct xenpf_set_processor_pminfo {
    uint32_t id;   /* 0 IN: ACPI processor id */
    uint32_t type; /* 4 IN: XEN_PM_* */
    union {
        struct xen_processor_power power;       /* XEN_PM_CX */
        struct xen_processor_performance perf;  /* XEN_PM_PX */
        XEN_GUEST_HANDLE(uint32) pdc;           /* XEN_PM_PDC */
    } u; /* 8 IN */
};
typedef struct xenpf_set_processor_pminfo xenpf_set_processor_pminfo_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_set_processor_pminfo_t);
KESTREL_ABI_SIZE(struct xenpf_set_processor_pminfo, 112);
KESTREL_ABI_FIELD(struct xenpf_set_processor_pminfo, id, 0);
KESTREL_ABI_FIELD(struct xenpf_set_processor_pminfo, type, 4);
KESTREL_ABI_FIELD(struct xenpf_set_processor_pminfo, u, 8);
KESTREL_ABI_FIELD(struct xenpf_set_processor_pminfo, u.power, 8);
KESTREL_ABI_FIELD(struct xenpf_set_processor_pminfo, u.perf, 8);
KESTREL_ABI_FIELD(struct xenpf_set_processor_pminfo, u.pdc, 8);

/* Physical CPU "xen_cpuid": its ids and state. */
struct xenpf_pcpuinfo {
    uint32_t xen_cpuid;   /*  0 IN: hypervisor CPU index */
    uint32_t max_present; /*  4 OUT: highest index present */
    uint32_t flags;       /*  8 OUT: XEN_PCPU_FLAGS_* */
    uint32_t apic_id;     /* 12 OUT */
    uint32_t acpi_id;     /* 16 OUT */
};
typedef struct xenpf_pcpuinfo xenpf_pcpuinfo_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_pcpuinfo_t);
KESTREL_ABI_SIZE(struct xenpf_pcpuinfo, 20);
KESTREL_ABI_FIELD(struct xenpf_pcpuinfo, xen_cpuid, 0);
KESTREL_ABI_FIELD(struct xenpf_pcpuinfo, max_present, 4);
KESTREL_ABI_FIELD(struct xenpf_pcpuinfo, flags, 8);
KESTREL_ABI_FIELD(struct xenpf_pcpuinfo, apic_id, 12);
KESTREL_ABI_FIELD(struct xenpf_pcpuinfo, acpi_id, 16);

/* CPUID identity of physical CPU "xen_cpuid". */
struct xenpf_pcpu_version {
    uint32_t xen_cpuid;   /*  0 IN */
    uint32_t max_present; /*  4 OUT */
    char vendor_id[12];   /*  8 OUT: CPUID vendor string, not NUL-terminated */
    uint32_t family;      /* 20 OUT */
    uint32_t model;       /* 24 OUT */
    uint32_t stepping;    /* 28 OUT */
};
typedef struct xenpf_pcpu_version xenpf_pcpu_version_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_pcpu_version_t);
KESTREL_ABI_SIZE(struct xenpf_pcpu_version, 32);
KESTREL_ABI_FIELD(struct xenpf_pcpu_version, xen_cpuid, 0);
KESTREL_ABI_FIELD(struct xenpf_pcpu_version, max_present, 4);
KESTREL_ABI_FIELD(struct xenpf_pcpu_version, vendor_id, 8);
KESTREL_ABI_FIELD(struct xenpf_pcpu_version, family, 20);
KESTREL_ABI_FIELD(struct xenpf_pcpu_version, model, 24);
KESTREL_ABI_FIELD(struct xenpf_pcpu_version, stepping, 28);

/* Bring a physical CPU on- or offline. */
struct xenpf_cpu_ol {
    uint32_t cpuid; /* 0 IN: hypervisor CPU index */
};
typedef struct xenpf_cpu_ol xenpf_cpu_ol_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_cpu_ol_t);
KESTREL_ABI_SIZE(struct xenpf_cpu_ol, 4);
KESTREL_ABI_FIELD(struct xenpf_cpu_ol, cpuid, 0);

/* A hot-added physical CPU, as ACPI describes it. */
struct xenpf_cpu_hotadd {
    uint32_t apic_id; /* 0 IN */
    uint32_t acpi_id; /* 4 IN */
    uint32_t pxm;     /* 8 IN: proximity domain */
};
typedef struct xenpf_cpu_hotadd xenpf_cpu_hotadd_t;
KESTREL_ABI_SIZE(struct xenpf_cpu_hotadd, 12);
KESTREL_ABI_FIELD(struct xenpf_cpu_hotadd, apic_id, 0);
KESTREL_ABI_FIELD(struct xenpf_cpu_hotadd, acpi_id, 4);
KESTREL_ABI_FIELD(struct xenpf_cpu_hotadd, pxm, 8);

/* Hot-added memory [spfn, epfn). */
struct xenpf_mem_hotadd {
    uint64_t spfn;  /*  0 IN */
    uint64_t epfn;  /*  8 IN */
    uint32_t pxm;   /* 16 IN */
    uint32_t flags; /* 20 IN */
};
typedef struct xenpf_mem_hotadd xenpf_mem_hotadd_t;
KESTREL_ABI_SIZE(struct xenpf_mem_hotadd, 24);
KESTREL_ABI_FIELD(struct xenpf_mem_hotadd, spfn, 0);
KESTREL_ABI_FIELD(struct xenpf_mem_hotadd, epfn, 8);
KESTREL_ABI_FIELD(struct xenpf_mem_hotadd, pxm, 16);
KESTREL_ABI_FIELD(struct xenpf_mem_hotadd, flags, 20);

struct xenpf_core_parking {
    uint32_t type;      /* 0 IN: XEN_CORE_PARKING_* */
    uint32_t idle_nums; /* 4 IN (set) or OUT (get): cores to park */
};
typedef struct xenpf_core_parking xenpf_core_parking_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_core_parking_t);
KESTREL_ABI_SIZE(struct xenpf_core_parking, 8);
KESTREL_ABI_FIELD(struct xenpf_core_parking, type, 0);
KESTREL_ABI_FIELD(struct xenpf_core_parking, idle_nums, 4);

/* One MSR access of a resource_op batch. */
struct xenpf_resource_entry {
    union {
        uint32_t cmd; /* IN: XEN_RESOURCE_OP_* */
        int32_t ret;  /* OUT: 0 or -errno */
    } u;           /*  0 */
    uint32_t rsvd; /*  4 IN: must be zero */
    uint64_t idx;  /*  8 IN: MSR index */
    uint64_t val;  /* 16 IN/OUT */
};
typedef struct xenpf_resource_entry xenpf_resource_entry_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_resource_entry_t);
KESTREL_ABI_SIZE(struct xenpf_resource_entry, 24);
KESTREL_ABI_FIELD(struct xenpf_resource_entry, u, 0);
KESTREL_ABI_FIELD(struct xenpf_resource_entry, u.cmd, 0);
KESTREL_ABI_FIELD(struct xenpf_resource_entry, u.ret, 0);
KESTREL_ABI_FIELD(struct xenpf_resource_entry, rsvd, 4);
KESTREL_ABI_FIELD(struct xenpf_resource_entry, idx, 8);
KESTREL_ABI_FIELD(struct xenpf_resource_entry, val, 16);

/* Run a batch of MSR accesses on physical CPU "cpu"; returns the number of entries done. */
struct xenpf_resource_op {
    uint32_t nr_entries;                             /* 0 IN */
    uint32_t cpu;                                    /* 4 IN */
    XEN_GUEST_HANDLE(xenpf_resource_entry_t) entries; /* 8 IN/OUT */
};
typedef struct xenpf_resource_op xenpf_resource_op_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_resource_op_t);
KESTREL_ABI_SIZE(struct xenpf_resource_op, 16);
KESTREL_ABI_FIELD(struct xenpf_resource_op, nr_entries, 0);
KESTREL_ABI_FIELD(struct xenpf_resource_op, cpu, 4);
KESTREL_ABI_FIELD(struct xenpf_resource_op, entries, 8);

/* Walk the hypervisor's symbol table one entry per call. */
struct xenpf_symdata {
    uint32_t namelen;            /*  0 IN: room in name; OUT: length needed */
    uint32_t symnum;             /*  4 IN: symbol to read; OUT: the next one */
    XEN_GUEST_HANDLE(char) name; /*  8 OUT */
    uint64_t address;            /* 16 OUT */
    char type;                   /* 24 OUT: nm-style type letter */
};
typedef struct xenpf_symdata xenpf_symdata_t;
DEFINE_XEN_GUEST_HANDLE(xenpf_symdata_t);
KESTREL_ABI_SIZE(struct xenpf_symdata, 32);
KESTREL_ABI_FIELD(struct xenpf_symdata, namelen, 0);
KESTREL_ABI_FIELD(struct xenpf_symdata, symnum, 4);
KESTREL_ABI_FIELD(struct xenpf_symdata, name, 8);
KESTREL_ABI_FIELD(struct xenpf_symdata, address, 16);
KESTREL_ABI_FIELD(struct xenpf_symdata, type, 24);

/* The hypercall's argument: command, interface version and the command's structure. */
struct xen_platform_op {
    uint32_t cmd;               /* 0 IN: XENPF_* */
    uint32_t interface_version; /* 4 IN: XENPF_INTERFACE_VERSION */
    union {
        xenpf_settime_t settime;
        xenpf_settime32_t settime32;
        xenpf_settime64_t settime64;
        xenpf_add_memtype_t add_memtype;
        xenpf_del_memtype_t del_memtype;
        xenpf_read_memtype_t read_memtype;
        xenpf_microcode_update_t microcode;
        xenpf_platform_quirk_t platform_quirk;
        xenpf_efi_runtime_call_t efi_runtime_call;
        xenpf_firmware_info_t firmware_info;
        xenpf_enter_acpi_sleep_t enter_acpi_sleep;
        xenpf_change_freq_t change_freq;
        xenpf_getidletime_t getidletime;
        xenpf_set_processor_pminfo_t set_pminfo;
        xenpf_pcpuinfo_t pcpu_info;
        xenpf_pcpu_version_t pcpu_version;
        xenpf_cpu_ol_t cpu_ol;
        xenpf_cpu_hotadd_t cpu_add;
        xenpf_mem_hotadd_t mem_add;
        xenpf_core_parking_t core_parking;
        xenpf_resource_op_t resource_op;
        xenpf_symdata_t symdata;
        uint8_t pad[128]; /* fixes the union's size for future commands */
    } u;                  /* 8 IN/OUT */
};
typedef struct xen_platform_op xen_platform_op_t;
DEFINE_XEN_GUEST_HANDLE(xen_platform_op_t);
KESTREL_ABI_SIZE(struct xen_platform_op, 136);
KESTREL_ABI_FIELD(struct xen_platform_op, cmd, 0);
KESTREL_ABI_FIELD(struct xen_platform_op, interface_version, 4);
KESTREL_ABI_FIELD(struct xen_platform_op, u, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.settime, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.settime32, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.settime64, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.add_memtype, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.del_memtype, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.read_memtype, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.microcode, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.platform_quirk, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.efi_runtime_call, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.firmware_info, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.enter_acpi_sleep, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.change_freq, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.getidletime, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.set_pminfo, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.pcpu_info, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.pcpu_version, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.cpu_ol, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.cpu_add, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.mem_add, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.core_parking, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.resource_op, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.symdata, 8);
KESTREL_ABI_FIELD(struct xen_platform_op, u.pad, 8);

#ifdef __cplusplus
}
#endif
#endif /* __ASSEMBLY__ */

#endif
