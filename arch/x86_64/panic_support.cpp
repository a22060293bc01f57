// The architecture half of panic(): register dump, frame-pointer backtrace with symbols,
// stopping the other CPUs, and how the machine ends up afterwards.
#include <arch/frame.hpp>
#include <arch/layout.hpp>
#include <arch/panic_support.hpp>
#include <arch/vectors.hpp>

#include "lapic.hpp"
#include "log.hpp"
#include "paging.hpp"
#include "percpu.hpp"
#include "platform.hpp"
#include "symbols.hpp"
#include "tsc.hpp"

namespace arch {

namespace {

constexpr unsigned BACKTRACE_DEPTH = 24;
constexpr uint8_t PANIC_EXIT_CODE = 0x7f;  // QEMU exits with 0xff

void print_frame(const ExceptionFrame& f) {
    log::error("RIP {:#018x} CS {:#06x} RFLAGS {:#018x}", f.rip, f.cs, f.rflags);
    log::error("RSP {:#018x} SS {:#06x} vector {} error {:#x}", f.rsp, f.ss, f.vector, f.error_code);
    log::error("RAX {:#018x} RBX {:#018x} RCX {:#018x}", f.rax, f.rbx, f.rcx);
    log::error("RDX {:#018x} RSI {:#018x} RDI {:#018x}", f.rdx, f.rsi, f.rdi);
    log::error("RBP {:#018x} R8  {:#018x} R9  {:#018x}", f.rbp, f.r8, f.r9);
    log::error("R10 {:#018x} R11 {:#018x} R12 {:#018x}", f.r10, f.r11, f.r12);
    log::error("R13 {:#018x} R14 {:#018x} R15 {:#018x}", f.r13, f.r14, f.r15);
    log::error("CR0 {:#018x} CR2 {:#018x} CR3 {:#018x} CR4 {:#018x}", read_cr0(), read_cr2(), read_cr3(), read_cr4());
}

// Captures the caller's registers when panic() was called directly rather than from a fault.
[[gnu::noinline]] void capture(ExceptionFrame& f) {
    // Offsets from the frame's definition (%c: as plain numbers), so that the layout lives in
    // one place.
#define KESTREL_AT(reg) [reg] "i"(offsetof(ExceptionFrame, reg))
    asm volatile(
        "movq %%rax, %c[rax](%[f]); movq %%rbx, %c[rbx](%[f]); movq %%rcx, %c[rcx](%[f])\n\t"
        "movq %%rdx, %c[rdx](%[f]); movq %%rsi, %c[rsi](%[f]); movq %%rdi, %c[rdi](%[f])\n\t"
        "movq %%r8, %c[r8](%[f]); movq %%r9, %c[r9](%[f]); movq %%r10, %c[r10](%[f])\n\t"
        "movq %%r11, %c[r11](%[f]); movq %%r12, %c[r12](%[f]); movq %%r13, %c[r13](%[f])\n\t"
        "movq %%r14, %c[r14](%[f]); movq %%r15, %c[r15](%[f])\n\t"
        "movq (%%rbp), %%rax; movq %%rax, %c[rbp](%[f])\n\t"      // the caller's frame pointer
        "movq 8(%%rbp), %%rax; movq %%rax, %c[rip](%[f])\n\t"     // and its return address
        "leaq 16(%%rbp), %%rax; movq %%rax, %c[rsp](%[f])\n\t"
        "movw %%cs, %c[cs](%[f]); movw %%ss, %c[ss](%[f])\n\t"
        "pushfq; popq %c[rflags](%[f])"
        :
        : [f] "r"(&f), KESTREL_AT(rax), KESTREL_AT(rbx), KESTREL_AT(rcx), KESTREL_AT(rdx), KESTREL_AT(rsi),
          KESTREL_AT(rdi), KESTREL_AT(r8), KESTREL_AT(r9), KESTREL_AT(r10), KESTREL_AT(r11), KESTREL_AT(r12),
          KESTREL_AT(r13), KESTREL_AT(r14), KESTREL_AT(r15), KESTREL_AT(rbp), KESTREL_AT(rip), KESTREL_AT(rsp),
          KESTREL_AT(cs), KESTREL_AT(ss), KESTREL_AT(rflags)
        : "rax", "memory");
#undef KESTREL_AT
    f.vector = ~uint64_t{0};
    f.error_code = 0;
}

// Return addresses are looked up one byte back: a call to a noreturn function can be the
// last instruction of its caller, leaving the return address just past the caller's end.
void print_location(const char* what, uint64_t addr, bool return_address) {
    auto s = symbols::lookup(symbols::image_table(), return_address ? addr - 1 : addr);
    if (s.name && return_address) ++s.offset;
    if (s.name) log::error("  {} {:#018x} {}+{:#x}", what, addr, s.name, s.offset);
    else log::error("  {} {:#018x} ?", what, addr);
}

// A frame pointer is followed only while it points into mapped hypervisor memory and moves
// up the stack, so a corrupted chain ends the trace instead of faulting inside the panic.
bool plausible_frame(uint64_t rbp, uint64_t previous) {
    return rbp >= layout::IMAGE_OFFSET && rbp % 8 == 0 && rbp > previous && paging::is_mapped(rbp) &&
           paging::is_mapped(rbp + 15);
}

void backtrace(const ExceptionFrame& f) {
    log::error("backtrace:");
    print_location("at", f.rip, false);
    uint64_t rbp = f.rbp, previous = 0;
    for (unsigned depth = 0; depth < BACKTRACE_DEPTH && plausible_frame(rbp, previous); ++depth) {
        auto* fp = reinterpret_cast<const uint64_t*>(rbp);
        if (fp[1] == 0) break;
        print_location("by", fp[1], true);
        previous = rbp;
        rbp = fp[0];
    }
}

kstd::Atomic<uint64_t> dump_requests{0};  // one bit per CPU asked to print itself

// This CPU's side of the TLB-flush handshake (tlb.cpp), seen through its own %gs and through
// the CPU registry that other CPUs use to reach it: the two must be the same object.
void log_flush_state() {
    PerCpu& self = this_cpu();
    log::error("  TLB flush: request {}, done {}, per-CPU area {:#x} (registry: {:#x})", self.flush_request.load(),
               self.flush_done.load(), reinterpret_cast<uint64_t>(&self),
               reinterpret_cast<uint64_t>(percpu_of(self.id)));
}

void dump_this_cpu(const ExceptionFrame& f) {
    if ((f.cs & 3) != 0) {
        log::error("cpu {}: in a guest at rip {:#x} rsp {:#x}", current_cpu_index(), f.rip, f.rsp);
        lapic::log_state();
        log_flush_state();
        return;
    }
    log::error("cpu {}: in Kestrel", current_cpu_index());
    lapic::log_state();
    log_flush_state();
    print_frame(f);
    backtrace(f);
}

}  // namespace

void dump_all_cpus() {
    unsigned self = current_cpu_index();
    for (unsigned i = 0; i < MAX_CPUS && i < 64; ++i) {
        PerCpu* p = percpu_of(CpuId(i));
        if (!p || i == self || !p->online.load()) continue;
        dump_requests.fetch_or(uint64_t{1} << i);
        lapic::send_nmi(p->apic_id);
    }
    ExceptionFrame own;
    capture(own);
    dump_this_cpu(own);
}

bool answer_dump_request(const ExceptionFrame& f) {
    uint64_t bit = uint64_t{1} << (current_cpu_index() & 63);
    if (!(dump_requests.fetch_and(~bit) & bit)) return false;
    dump_this_cpu(f);
    return true;
}

unsigned current_cpu_index() { return percpu_ready() ? this_cpu().id.raw() : 0; }

void stop_other_cpus() {
    if (!percpu_ready()) return;
    unsigned self = current_cpu_index();
    for (unsigned i = 0; i < MAX_CPUS; ++i) {
        PerCpu* p = percpu_of(CpuId(i));
        if (p && i != self && p->online.load()) lapic::send_nmi(p->apic_id);
    }
}

void dump_state(const ExceptionFrame* frame) {
    ExceptionFrame own;
    if (!frame) {
        capture(own);
        frame = &own;
    }
    print_frame(*frame);
    backtrace(*frame);
}

void panic_finish() {
    platform::debug_exit(PANIC_EXIT_CODE);
    if (platform::noreboot()) {
        log::error("manual reset required ('noreboot' given)");
        halt_forever();
    }
    log::error("rebooting in 5 seconds");
    if (tsc::frequency_hz()) {
        uint64_t end = tsc::now_ns() + 5'000'000'000;
        while (tsc::now_ns() < end) cpu_relax();
    } else {
        for (unsigned i = 0; i < 5000000; ++i) outb(0x80, 0);  // about 1 us each
    }
    platform::reboot();
}

}  // namespace arch
