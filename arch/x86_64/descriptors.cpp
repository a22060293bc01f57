#include "descriptors.hpp"

#include <arch/vectors.hpp>

#include <arch/layout.hpp>

#include "kstd/types.hpp"
#include "memory.hpp"
#include "paging.hpp"

extern "C" const uint64_t vector_stub_table[256];

namespace arch {

namespace {

using kstd::bit;

IdtGate idt[256];

constexpr uint64_t SEG_CODE64 = 0x00af9a000000ffff;       // present, DPL0, code, L=1
constexpr uint64_t SEG_DATA = 0x00cf92000000ffff;         // present, DPL0, data, writable
constexpr uint64_t SEG_CODE32 = 0x00cf9a000000ffff;       // present, DPL0, code, D=1
constexpr uint64_t SEG_USER_CODE32 = 0x00cffa000000ffff;  // present, DPL3, code, D=1
constexpr uint64_t SEG_USER_DATA = 0x00cff2000000ffff;    // present, DPL3, data, writable
constexpr uint64_t SEG_USER_CODE64 = 0x00affa000000ffff;  // present, DPL3, code, L=1

constexpr size_t slot(uint16_t selector) { return selector >> 3; }

constexpr uint8_t GATE_INTERRUPT = 0x8e;       // present, DPL0, 64-bit interrupt gate
constexpr uint8_t GATE_INTERRUPT_USER = 0xee;  // the same, reachable by INT n from ring 3

// int3, into and int $0x80 (the classic system call) are the vectors a PV guest may raise
// with INT n directly, as on Xen; any other INT n from a guest faults with #GP, whose handler
// bounces it when the guest's trap table allows that vector from the guest's privilege level.
bool user_gate(unsigned v) { return v == 3 || v == 4 || v == vectors::GUEST_INT80; }

// Splits a TSS descriptor across its two GDT slots.
void set_tss_descriptor(uint64_t* slot, const Tss& tss) {
    uint64_t base = reinterpret_cast<uint64_t>(&tss);
    uint64_t limit = sizeof(Tss) - 1;
    slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (uint64_t{0x89} << 40) |
              (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    slot[1] = base >> 32;
}

unsigned ist_for_vector(unsigned v) {
    switch (v) {
    case 2: return ist::NMI;
    case 8: return ist::DOUBLE_FAULT;
    case 18: return ist::MACHINE_CHECK;
    default: return 0;
    }
}

}  // namespace

void init_cpu_tables(CpuTables& t, uint64_t* gdt, const uint64_t (&ist_tops)[ist::COUNT]) {
    t.gdt = gdt;
    gdt[slot(selector::HYPERVISOR_CS)] = SEG_CODE64;
    gdt[slot(selector::HYPERVISOR_DS)] = SEG_DATA;
    gdt[slot(selector::GUEST_CS32)] = SEG_USER_CODE32;
    gdt[slot(selector::GUEST_DS)] = SEG_USER_DATA;
    gdt[slot(selector::GUEST_CS64)] = SEG_USER_CODE64;
    gdt[slot(selector::HYPERVISOR_CS32)] = SEG_CODE32;
    set_tss_descriptor(&gdt[slot(selector::TSS)], t.tss);
    t.tss = Tss{};
    for (unsigned i = 0; i < ist::COUNT; ++i) t.tss.ist[i] = ist_tops[i];
    t.tss.iomap_base = sizeof(Tss);
}

void load_cpu_tables(CpuTables& t) {
    DescriptorPointer gdtr{uint16_t(GDT_BYTES - 1), reinterpret_cast<uint64_t>(t.gdt)};
    DescriptorPointer idtr{uint16_t(sizeof(idt) - 1), reinterpret_cast<uint64_t>(idt)};
    asm volatile("lgdt %0" ::"m"(gdtr));
    // Reload CS with a far return, then the data segments.
    asm volatile(
        "pushq %[cs]\n\t"
        "leaq 1f(%%rip), %%rax\n\t"
        "pushq %%rax\n\t"
        "lretq\n"
        "1:\n\t"
        "movl %[ds], %%eax\n\t"
        "movl %%eax, %%ds\n\t"
        "movl %%eax, %%es\n\t"
        "movl %%eax, %%ss\n\t"
        :
        : [cs] "i"(selector::HYPERVISOR_CS), [ds] "i"(selector::HYPERVISOR_DS)
        : "rax", "memory");
    asm volatile("ltr %w0" ::"r"(selector::TSS));
    // A null LDT: a guest selector naming the LDT then faults cleanly instead of reaching
    // whatever the LDT register held at reset.
    asm volatile("lldt %w0" ::"r"(0));
    asm volatile("lidt %0" ::"m"(idtr));
}

void set_ring0_stack(CpuTables& t, uint64_t top) { t.tss.rsp[0] = top; }

namespace {

Paddr zero_frame() {
    static Paddr frame;
    if (frame.raw() == 0) frame = paging::virt_to_phys(memory::alloc_zeroed(PAGE_SIZE));
    return frame;
}

uint64_t area_of(CpuId id) { return layout::GDT_AREA_BASE + uint64_t(id.raw()) * layout::GDT_AREA_SLOT; }

}  // namespace

uint64_t* prepare_gdt_area(CpuId id) {
    uint64_t area = area_of(id);
    for (size_t page = 0; page < GDT_GUEST_PAGES; ++page) paging::set_page(area + page * PAGE_SIZE, zero_frame(), false);
    for (size_t page = GDT_GUEST_PAGES; page < GDT_PAGES; ++page)
        paging::set_page(area + page * PAGE_SIZE, paging::virt_to_phys(memory::alloc_zeroed(PAGE_SIZE)), true);
    return reinterpret_cast<uint64_t*>(area);
}

void move_to_gdt_area(CpuTables& t, CpuId id) {
    uint64_t* area = prepare_gdt_area(id);
    constexpr size_t first = GDT_GUEST_PAGES * PAGE_SIZE / 8;
    for (size_t i = first; i < GDT_ENTRIES; ++i) area[i] = t.gdt[i];
    // The TSS descriptor in use is marked busy; LTR wants it available again.
    area[slot(selector::TSS)] &= ~(uint64_t{2} << 40);
    t.gdt = area;
    DescriptorPointer gdtr{uint16_t(GDT_BYTES - 1), reinterpret_cast<uint64_t>(area)};
    asm volatile("lgdt %0" ::"m"(gdtr));
    asm volatile("ltr %w0" ::"r"(selector::TSS));
}

void show_guest_ldt(CpuTables& t, CpuId id, const uint64_t* mfns, unsigned n, unsigned entries) {
    uint64_t area = layout::LDT_AREA_BASE + uint64_t(id.raw()) * layout::LDT_AREA_SLOT;
    // Pages the limit covers but the guest did not provide show zeros (a selector there is
    // not present); pages a previous LDT used are cleared the same way.
    unsigned covered = (entries * 8 + PAGE_SIZE - 1) / PAGE_SIZE;
    unsigned shown = covered > t.ldt_pages ? covered : t.ldt_pages;
    for (unsigned page = 0; page < shown; ++page)
        paging::set_page(area + page * PAGE_SIZE, page < n ? Paddr(mfns[page] << PAGE_SHIFT) : zero_frame(), page < n);
    t.ldt_pages = covered;
    if (!entries) {
        asm volatile("lldt %w0" ::"r"(0));
        return;
    }
    // A system descriptor of type 2 (LDT), present, DPL 0, in Kestrel's slot 0xe050.
    uint64_t limit = uint64_t(entries) * 8 - 1;
    uint64_t* slot = &t.gdt[selector::LDT >> 3];
    slot[0] = (limit & 0xffff) | ((area & 0xffffff) << 16) | (uint64_t{0x82} << 40) | (((limit >> 16) & 0xf) << 48) |
              (((area >> 24) & 0xff) << 56);
    slot[1] = area >> 32;
    asm volatile("lldt %w0" ::"r"(selector::LDT));
}

void show_guest_gdt(CpuTables& t, const uint64_t* mfns, unsigned n) {
    uint64_t area = reinterpret_cast<uint64_t>(t.gdt);
    for (unsigned page = 0; page < n; ++page) paging::set_page(area + page * PAGE_SIZE, Paddr(mfns[page] << PAGE_SHIFT), true);
    for (unsigned page = n; page < t.guest_pages; ++page) paging::set_page(area + page * PAGE_SIZE, zero_frame(), false);
    t.guest_pages = n;
}

void init_idt() {
    for (unsigned v = 0; v < 256; ++v) {
        uint64_t target = vector_stub_table[v];
        idt[v] = IdtGate{uint16_t(target), selector::HYPERVISOR_CS, uint8_t(ist_for_vector(v)),
                         user_gate(v) ? GATE_INTERRUPT_USER : GATE_INTERRUPT,
                         uint16_t(target >> 16), uint32_t(target >> 32), 0};
    }
}

}  // namespace arch
