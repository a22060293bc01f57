#include "context.hpp"

#include <arch/cpu.hpp>
#include <arch/layout.hpp>
#include <arch/msr.hpp>

#include "descriptors.hpp"
#include "paging.hpp"
#include "percpu.hpp"
#include "smp.hpp"
#include "runstate.hpp"
#include "tlb.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "pv_arch.hpp"
#include "pv_traps.hpp"
#include "pv_time.hpp"
#include "tsc.hpp"
#include "vcpu.hpp"
#include "xstate.hpp"

extern "C" bool load_gs_selector(uint16_t sel);
extern "C" bool load_ds_selector(uint16_t sel);
extern "C" bool load_es_selector(uint16_t sel);
extern "C" bool load_fs_selector(uint16_t sel);

namespace {

constexpr uint64_t CR0_TS = 1u << 3;

void clts() { asm volatile("clts" ::: "memory"); }
void stts() { arch::write_cr0(arch::read_cr0() | CR0_TS); }

// A new vCPU's FPU: the state FNINIT and the reset MXCSR give.
void default_fpu_state(uint8_t (&area)[4096]) {
    for (auto& b : area) b = 0;  // XSAVE header included: every component in its initial state
    area[0] = 0x7f;  // FCW 0x037f: all exceptions masked, extended precision
    area[1] = 0x03;
    area[24] = 0x80;  // MXCSR 0x1f80: all SIMD exceptions masked
    area[25] = 0x1f;
}

uint16_t read_selector_ds() { uint16_t s; asm volatile("mov %%ds, %0" : "=r"(s)); return s; }
uint16_t read_selector_es() { uint16_t s; asm volatile("mov %%es, %0" : "=r"(s)); return s; }
uint16_t read_selector_fs() { uint16_t s; asm volatile("mov %%fs, %0" : "=r"(s)); return s; }
uint16_t read_selector_gs() { uint16_t s; asm volatile("mov %%gs, %0" : "=r"(s)); return s; }

void write_dr(unsigned reg, uint64_t v) {
    switch (reg) {
    case 0: asm volatile("mov %0, %%db0" ::"r"(v)); break;
    case 1: asm volatile("mov %0, %%db1" ::"r"(v)); break;
    case 2: asm volatile("mov %0, %%db2" ::"r"(v)); break;
    case 3: asm volatile("mov %0, %%db3" ::"r"(v)); break;
    case 6: asm volatile("mov %0, %%db6" ::"r"(v)); break;
    case 7: asm volatile("mov %0, %%db7" ::"r"(v)); break;
    default: break;
    }
}

constexpr uint64_t DR7_ENABLES = 0xff;
constexpr uint64_t DR7_RESET = 0x400;

// A guest's breakpoints are armed only while it runs. DR7 last, once the addresses are in.
void load_debugregs(const Vcpu& v) {
    if (!(v.debugreg[7] & DR7_ENABLES)) {
        write_dr(7, DR7_RESET);
        return;
    }
    constexpr unsigned REGS[] = {0, 1, 2, 3, 6};
    for (unsigned r : REGS) write_dr(r, v.debugreg[r]);
    write_dr(7, v.debugreg[7]);
}

// The vCPU's PV clock, refreshed whenever it is put on a CPU (and by its time slices): the
// same TSC and calibration as the hypervisor's own clock, so the two agree.
void publish_time(Vcpu& v) {
    static pv_time::Scale scale = pv_time::scale_for(tsc::frequency_hz());
    uint64_t now_tsc = arch::rdtsc();
    pv_time::publish(v, now_tsc, tsc::ticks_to_ns(now_tsc - tsc::boot_tsc()), scale, true);
}

Paddr root_of(const Vcpu& v) { return mfn_to_paddr(v.kernel_mode ? v.cr3_kernel : v.cr3_user); }

uint64_t percpu_base() { return reinterpret_cast<uint64_t>(&arch::this_cpu()); }

// Loads a GS selector for the guest, leaving the hypervisor's GS base in place; false (and
// the null selector) if it cannot be loaded. Interrupts are off.
bool load_guest_gs(uint16_t sel) {
    uint64_t mine = percpu_base();
    bool ok = load_gs_selector(sel);
    if (!ok) load_gs_selector(0);
    arch::wrmsr(msr::GS_BASE, mine);
    return ok;
}

// Loads the vCPU's data selectors. One that is no longer usable (the guest changed its GDT
// since) is replaced by the null selector, and the guest's failsafe callback is told, as on
// Xen; without a failsafe callback the domain is crashed.
void load_selectors(Vcpu& v) {
    const uint16_t saved[4] = {v.ds, v.es, v.fs, v.gs};
    bool ok = true;
    auto load = [&](bool (*loader)(uint16_t), uint16_t& sel) {
        if (loader(sel)) return;
        sel = 0;
        loader(0);
        ok = false;
    };
    load(load_ds_selector, v.ds);
    load(load_es_selector, v.es);
    load(load_fs_selector, v.fs);
    if (!load_guest_gs(v.gs)) {
        v.gs = 0;
        ok = false;
    }
    if (!ok && !pv::queue_failsafe(v, saved))
        domain_control::crash(v, "segment selectors ds {:#x} es {:#x} fs {:#x} gs {:#x} unusable and no failsafe callback",
                              saved[0], saved[1], saved[2], saved[3]);
}

}  // namespace

namespace context {

void save(Vcpu& v, const arch::ExceptionFrame& frame) {
    v.regs = frame;
    v.fs_base = arch::rdmsr(msr::FS_BASE);
    uint64_t active_gs = arch::rdmsr(msr::KERNEL_GS_BASE);  // the guest's, swapped out on entry
    (v.kernel_mode ? v.gs_base_kernel : v.gs_base_user) = active_gs;
    v.ds = read_selector_ds();
    v.es = read_selector_es();
    v.fs = read_selector_fs();
    v.gs = read_selector_gs();
    clts();
    xstate::save(v.fpu_state);
}

void load(Vcpu& v, arch::ExceptionFrame& frame) {
    tlb::switch_address_space(&v.domain());
    tlb::load_root(root_of(v));
    // The descriptor tables first: the selectors loaded next may name their entries.
    arch::show_guest_gdt(arch::this_cpu().tables, v.gdt_frames, v.gdt_pages());
    pv_arch::load_ldt(v);
    load_selectors(v);
    arch::wrmsr(msr::FS_BASE, v.fs_base);
    arch::wrmsr(msr::KERNEL_GS_BASE, v.kernel_mode ? v.gs_base_kernel : v.gs_base_user);
    if (!v.fpu_initialised) {
        default_fpu_state(v.fpu_state);
        v.fpu_initialised = true;
    }
    clts();
    xstate::restore(v.fpu_state, v.xcr0);
    if (v.virtual_ts) stts();
    load_debugregs(v);
    load_msrs(v);
    publish_time(v);
    frame = v.regs;
}

void load_idle_page_tables() {
    write_dr(7, DR7_RESET);
    arch::show_guest_gdt(arch::this_cpu().tables, nullptr, 0);
    arch::show_guest_ldt(arch::this_cpu().tables, arch::this_cpu().id, nullptr, 0, 0);
    tlb::switch_address_space(nullptr);
    tlb::load_root(paging::root());
}

}  // namespace context

namespace pv_arch {

void toggle_guest_mode(Vcpu& v) {
    uint64_t active = arch::rdmsr(msr::KERNEL_GS_BASE);
    if (v.kernel_mode) {
        v.gs_base_kernel = active;
        arch::wrmsr(msr::KERNEL_GS_BASE, v.gs_base_user);
    } else {
        v.gs_base_user = active;
        arch::wrmsr(msr::KERNEL_GS_BASE, v.gs_base_kernel);
    }
    v.kernel_mode = !v.kernel_mode;
    tlb::load_root(root_of(v));
    // A runstate copy that failed in user mode is written now that the kernel's tables are in.
    if (v.kernel_mode && v.runstate_pending) runstate::publish_or_defer(v);
    if (v.kernel_mode) pv_time::flush_pending(v);
}

void write_fs_base(Vcpu& v, uint64_t base) {
    v.fs_base = base;
    arch::wrmsr(msr::FS_BASE, base);
}

void write_gs_base_kernel(Vcpu&, uint64_t base) { arch::wrmsr(msr::KERNEL_GS_BASE, base); }

void load_user_gs_selector(Vcpu& v, uint16_t sel) {
    arch::InterruptGuard irq;
    // From the first GS load on, %gs no longer reaches the per-CPU data: read it before.
    uint64_t mine = percpu_base();
    // A non-null selector gets guest privilege. Loading a null selector keeps the old base on
    // some CPUs, so a flat selector goes first to clear it (as Xen does on AMD).
    if (sel > 3) sel |= 3;
    else load_gs_selector(arch::selector::GUEST_DS);
    if (!load_gs_selector(sel)) {
        load_gs_selector(arch::selector::GUEST_DS);
        load_gs_selector(0);
    }
    v.gs_base_user = arch::rdmsr(msr::GS_BASE);
    arch::wrmsr(msr::GS_BASE, mine);
}

void flush_tlb(Vcpu& v) { tlb::flush(v.domain().dirty_cpus); }
void flush_tlb_domain(Domain& d) { tlb::flush(d.dirty_cpus); }
void flush_tlb_local(Vcpu&) { tlb::flush_local(); }
void flush_guest_tlbs() { tlb::flush_guest_cpus(); }
void flush_stale_tlbs(TlbTime stamp) { tlb::flush_stale(stamp); }
void service_tlb_flush() { tlb::service(); }

void flush_caches(bool all_cpus) {
    auto wbinvd = [](void*) { asm volatile("wbinvd" ::: "memory"); };
    if (all_cpus) smp::call_on_others(wbinvd, nullptr);
    wbinvd(nullptr);
}

void install_hypervisor_slots(uint64_t* l4) {
    const auto* root = static_cast<const uint64_t*>(paging::phys_to_virt(paging::root()));
    for (uint64_t s = layout::HYPERVISOR_SLOT_FIRST; s <= layout::HYPERVISOR_SLOT_LAST; ++s) l4[s] = root[s];
}
void load_gdt(Vcpu& v) { arch::show_guest_gdt(arch::this_cpu().tables, v.gdt_frames, v.gdt_pages()); }
void load_ldt(Vcpu& v) {
    arch::PerCpu& cpu = arch::this_cpu();
    arch::show_guest_ldt(cpu.tables, cpu.id, v.ldt_frames, v.ldt_frames_held, v.ldt_ents);
}

uint32_t port_in(uint16_t port, unsigned bytes) {
    return bytes == 1 ? arch::inb(port) : bytes == 2 ? arch::inw(port) : arch::inl(port);
}

void port_out(uint16_t port, unsigned bytes, uint32_t value) {
    if (bytes == 1) arch::outb(port, uint8_t(value));
    else if (bytes == 2) arch::outw(port, uint16_t(value));
    else arch::outl(port, value);
}

uint64_t read_cr0() { return arch::read_cr0(); }

// What a PV guest may know of CR4: physical-address extension and the FPU/SSE controls it
// relies on; nothing about the hypervisor's own protections.
uint64_t guest_cr4() {
    constexpr uint64_t PAE = 1u << 5, OSFXSR = 1u << 9, OSXMMEXCPT = 1u << 10, OSXSAVE = 1u << 18;
    return arch::read_cr4() & (PAE | OSFXSR | OSXMMEXCPT | OSXSAVE);
}
void load_page_tables(Vcpu& v) { tlb::load_root(root_of(v)); }
void invalidate_page(Vcpu&, uint64_t va) { arch::invlpg(va); }

void write_debugreg(Vcpu& v, unsigned reg, uint64_t value) {
    if (reg == 7) load_debugregs(v);
    else write_dr(reg, value);
}

uint64_t xstate_mask() { return xstate::guest_mask(); }

bool set_xcr0(Vcpu& v, uint64_t value) {
    if (!xstate::guest_mask() || !xstate::valid_xcr0(value)) return false;
    v.xcr0 = value;
    xstate::set_xcr0(value);
    return true;
}

void set_fpu_trap(bool on) {
    if (on) stts();
    else clts();
}

}  // namespace pv_arch
