#include "interrupts.hpp"

#include <arch/cpu.hpp>
#include <arch/panic_support.hpp>
#include <arch/vectors.hpp>

#include "lapic.hpp"
#include "log.hpp"
#include "panic.hpp"
#include "percpu.hpp"

namespace arch {

namespace {

InterruptHandler handlers[256];

constexpr const char* EXCEPTION_NAMES[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check", "#MC machine check",
    "#XM SIMD error", "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

constexpr uint64_t VECTOR_NMI = 2;
constexpr uint64_t VECTOR_GENERAL_PROTECTION = 13;
constexpr uint64_t VECTOR_PAGE_FAULT = 14;
constexpr uint64_t VECTOR_SEGMENT_NOT_PRESENT = 11;

// Instructions that touch guest-controlled state and may fault by design; the handler resumes
// at the fixup, which reports failure to the caller (guest_copy.S).
extern "C" char guest_copy_fault_ip[], guest_copy_fixup[], guest_copy_tail_fault_ip[], guest_copy_tail_fixup[],
    load_gs_fault_ip[], load_gs_fixup[],
    load_ds_fault_ip[], load_es_fault_ip[], load_fs_fault_ip[], read_msr_fault_ip[], read_msr_fixup[];

bool is_selector_load(uint64_t rip) {
    return rip == reinterpret_cast<uint64_t>(load_gs_fault_ip) || rip == reinterpret_cast<uint64_t>(load_ds_fault_ip) ||
           rip == reinterpret_cast<uint64_t>(load_es_fault_ip) || rip == reinterpret_cast<uint64_t>(load_fs_fault_ip);
}

constexpr uint64_t VECTOR_DEBUG = 1;

// A guest's data breakpoint can fire while the hypervisor copies to or from that guest's
// memory for it. The hit belongs to the guest (recorded in its DR6); the hypervisor goes on.
bool guest_watchpoint_in_hypervisor() {
    PerCpu& cpu = this_cpu();
    if (!cpu.current) return false;
    uint64_t dr6;
    asm volatile("mov %%db6, %0" : "=r"(dr6));
    if (!(dr6 & 0xf)) return false;
    cpu.current->debugreg[6] |= dr6 & 0xf;
    asm volatile("mov %0, %%db6" ::"r"(uint64_t{0xffff0ff0}));
    return true;
}

bool apply_fixup(ExceptionFrame& f) {
    uint64_t rip = f.rip;
    const bool copy_fault = f.vector == VECTOR_PAGE_FAULT || f.vector == VECTOR_GENERAL_PROTECTION;
    if (copy_fault && rip == reinterpret_cast<uint64_t>(guest_copy_fault_ip)) {
        f.rip = reinterpret_cast<uint64_t>(guest_copy_fixup);
        return true;
    }
    if (copy_fault && rip == reinterpret_cast<uint64_t>(guest_copy_tail_fault_ip)) {
        f.rip = reinterpret_cast<uint64_t>(guest_copy_tail_fixup);
        return true;
    }
    if (rip == reinterpret_cast<uint64_t>(read_msr_fault_ip) && f.vector == VECTOR_GENERAL_PROTECTION) {
        f.rip = reinterpret_cast<uint64_t>(read_msr_fixup);
        return true;
    }
    if (is_selector_load(rip) &&
        (f.vector == VECTOR_GENERAL_PROTECTION || f.vector == VECTOR_SEGMENT_NOT_PRESENT ||
         f.vector == VECTOR_PAGE_FAULT)) {
        f.rip = reinterpret_cast<uint64_t>(load_gs_fixup);
        return true;
    }
    return false;
}

// NMIs stop this CPU when another one is panicking (stop_other_cpus sends them); any other
// NMI (a watchdog, a front-panel button) is logged and survived.
void nmi(const ExceptionFrame& f) {
    if (panic_in_progress()) halt_forever();
    if (answer_dump_request(f)) return;
    log::warning("NMI on this CPU at rip {:#x}: ignored", f.rip);
}

[[noreturn]] void hypervisor_exception(const ExceptionFrame& f) {
    if (f.vector == VECTOR_PAGE_FAULT)
        panic_with_frame(f, "{} at rip {:#x}: {} {} address {:#x} (error {:#x})", exception_name(f.vector), f.rip,
                         (f.error_code & 1) ? "protection violation on" : "no mapping for",
                         (f.error_code & 16) ? "fetch at" : (f.error_code & 2) ? "write to" : "read of", read_cr2(),
                         f.error_code);
    panic_with_frame(f, "{} at rip {:#x} (error {:#x})", exception_name(f.vector), f.rip, f.error_code);
}

}  // namespace

void set_interrupt_handler(uint8_t vector, InterruptHandler h) { handlers[vector] = h; }

const char* exception_name(uint64_t vector) { return vector < 32 ? EXCEPTION_NAMES[vector] : "interrupt"; }

void dispatch_interrupt(ExceptionFrame& f) {
    // A spurious interrupt is not in service: it must not be acknowledged.
    if (f.vector == vectors::SPURIOUS) return;
    InterruptHandler h = handlers[f.vector];
    if (h) h(f);
    else log::warning("unexpected interrupt vector {:#x}", f.vector);
    lapic::eoi();
}

}  // namespace arch

extern "C" void exception_dispatch(arch::ExceptionFrame* f) {
    using namespace arch;
    if (f->vector == VECTOR_NMI) {
        nmi(*f);
        return;
    }
    if (f->vector < 32) {
        if (apply_fixup(*f)) return;
        if (f->vector == VECTOR_DEBUG && guest_watchpoint_in_hypervisor()) return;
        hypervisor_exception(*f);
    }
    dispatch_interrupt(*f);
}
