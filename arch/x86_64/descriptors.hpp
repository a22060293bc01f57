// Hardware layouts of the GDT, TSS and IDT, and the per-CPU copies of the first two.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "types.hpp"

namespace arch {

// The Xen x86_64 PV ABI fixes the selectors guests load (FLAT_RING3_*, FLAT_KERNEL_*) and
// reserves the top two pages of a 16-page GDT for the hypervisor; the first 14 pages are the
// guest's own (set_gdt). So Kestrel's descriptors sit where Xen's do, and SYSCALL/SYSRET's
// fixed selector arithmetic (STAR) lands on the guest's ring-3 entries.
namespace selector {
constexpr uint16_t HYPERVISOR_CS = 0xe008;    // ring 0, 64-bit code (STAR's SYSCALL CS)
constexpr uint16_t HYPERVISOR_DS = 0xe010;    // ring 0 data, SYSCALL's SS
constexpr uint16_t GUEST_CS32 = 0xe023;       // ring 3, 32-bit code: STAR's SYSRET base
constexpr uint16_t GUEST_DS = 0xe02b;         // ring 3 data and stack (FLAT_KERNEL_SS)
constexpr uint16_t GUEST_CS64 = 0xe033;       // ring 3, 64-bit code (FLAT_KERNEL_CS)
constexpr uint16_t HYPERVISOR_CS32 = 0xe038;  // ring 0, 32-bit code
constexpr uint16_t TSS = 0xe040;              // two slots
constexpr uint16_t LDT = 0xe050;              // two slots, for a guest's LDT
}  // namespace selector

// IST slots (1-based as the IDT encodes them) for exceptions that must not use a possibly
// broken stack.
namespace ist {
constexpr unsigned DOUBLE_FAULT = 1;
constexpr unsigned NMI = 2;
constexpr unsigned MACHINE_CHECK = 3;
constexpr unsigned COUNT = 3;
}  // namespace ist

struct [[gnu::packed]] Tss {
    uint32_t reserved0;    // 0x00
    uint64_t rsp[3];       // 0x04 stack for a switch to ring 0..2
    uint64_t reserved1;    // 0x1c
    uint64_t ist[7];       // 0x24 IST1..IST7
    uint64_t reserved2;    // 0x5c
    uint16_t reserved3;    // 0x64
    uint16_t iomap_base;   // 0x66 past the limit: no I/O bitmap
};
static_assert(offsetof(Tss, rsp) == 0x04);
static_assert(offsetof(Tss, ist) == 0x24);
static_assert(offsetof(Tss, iomap_base) == 0x66);
static_assert(sizeof(Tss) == 0x68);

struct IdtGate {
    uint16_t offset_low;   // 0x00
    uint16_t selector;     // 0x02
    uint8_t ist;           // 0x04 bits 0..2
    uint8_t type_attr;     // 0x05 P, DPL, type
    uint16_t offset_mid;   // 0x06
    uint32_t offset_high;  // 0x08
    uint32_t reserved;     // 0x0c
};
static_assert(sizeof(IdtGate) == 16);

struct [[gnu::packed]] DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};
static_assert(sizeof(DescriptorPointer) == 10);

constexpr size_t GDT_PAGES = 16;
constexpr size_t GDT_GUEST_PAGES = 14;  // FIRST_RESERVED_GDT_PAGE of the Xen ABI
constexpr size_t GDT_BYTES = GDT_PAGES * 4096;
constexpr size_t GDT_ENTRIES = GDT_BYTES / 8;

struct CpuTables {
    uint64_t* gdt;         // GDT_BYTES, page aligned: the per-CPU area once paging is up
    Tss tss;
    unsigned guest_pages;  // GDT pages now showing a guest's frames (the rest show zeros)
    unsigned ldt_pages;    // LDT area pages now showing a guest's frames
};

// Fills a CPU's GDT (gdt: GDT_BYTES of zeroed, page-aligned memory) and TSS; ist_tops are
// the IST stack tops (index 0 = IST1).
void init_cpu_tables(CpuTables& t, uint64_t* gdt, const uint64_t (&ist_tops)[ist::COUNT]);
// Loads GDT, segment registers, TSS and the shared IDT on the calling CPU.
void load_cpu_tables(CpuTables& t);
// Maps CPU id's GDT area: the guest pages show a zero page, Kestrel's two pages get frames of
// their own. Call before init_cpu_tables for APs; the boot CPU moves into it with
// move_to_gdt_area once paging is up.
uint64_t* prepare_gdt_area(CpuId id);
void move_to_gdt_area(CpuTables& t, CpuId id);
// Shows a vCPU's LDT (n frames, entries descriptors) in this CPU's LDT area and loads it
// (entries 0: no LDT).
void show_guest_ldt(CpuTables& t, CpuId id, const uint64_t* mfns, unsigned n, unsigned entries);
// Shows a vCPU's GDT frames (n of them, n <= GDT_GUEST_PAGES) in this CPU's area.
void show_guest_gdt(CpuTables& t, const uint64_t* mfns, unsigned n);
// Where the CPU saves a guest's frame when it enters the hypervisor from ring 3.
void set_ring0_stack(CpuTables& t, uint64_t top);
// Builds the shared IDT from entry.S's stubs; once, on the boot CPU.
void init_idt();

}  // namespace arch
