// Hardware layouts of the GDT, TSS and IDT, and the per-CPU copies of the first two.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace arch {

namespace selector {
constexpr uint16_t KERNEL_CS = 0x08;
constexpr uint16_t KERNEL_DS = 0x10;
constexpr uint16_t TSS = 0x20;
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

constexpr size_t GDT_ENTRIES = 6;  // null, code, data, reserved, TSS (two slots)

struct CpuTables {
    alignas(16) uint64_t gdt[GDT_ENTRIES];
    Tss tss;
};

// Fills a CPU's GDT and TSS; ist_tops are the IST stack tops (index 0 = IST1).
void init_cpu_tables(CpuTables& t, const uint64_t (&ist_tops)[ist::COUNT]);
// Loads GDT, segment registers, TSS and the shared IDT on the calling CPU.
void load_cpu_tables(CpuTables& t);
// Builds the shared IDT from entry.S's stubs; once, on the boot CPU.
void init_idt();

}  // namespace arch
