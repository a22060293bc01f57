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
    asm volatile(
        "movq %%rax, 0x70(%0); movq %%rbx, 0x68(%0); movq %%rcx, 0x60(%0); movq %%rdx, 0x58(%0)\n\t"
        "movq %%rsi, 0x50(%0); movq %%rdi, 0x48(%0); movq %%r8, 0x38(%0); movq %%r9, 0x30(%0)\n\t"
        "movq %%r10, 0x28(%0); movq %%r11, 0x20(%0); movq %%r12, 0x18(%0); movq %%r13, 0x10(%0)\n\t"
        "movq %%r14, 0x08(%0); movq %%r15, 0x00(%0)\n\t"
        "movq (%%rbp), %%rax; movq %%rax, 0x40(%0)\n\t"      // the caller's frame pointer
        "movq 8(%%rbp), %%rax; movq %%rax, 0x88(%0)\n\t"     // and its return address
        "leaq 16(%%rbp), %%rax; movq %%rax, 0xa0(%0)\n\t"
        "movw %%cs, 0x90(%0); movw %%ss, 0xa8(%0)\n\t"
        "pushfq; popq 0x98(%0)"
        :
        : "r"(&f)
        : "rax", "memory");
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
