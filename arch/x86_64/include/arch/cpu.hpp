// Thin wrappers over privileged x86 instructions. Nothing here keeps state.
#pragma once

#include <stdint.h>

#include <arch/cpu_relax.hpp>

namespace arch {

struct CpuidResult {
    uint32_t eax, ebx, ecx, edx;
};

inline CpuidResult cpuid(uint32_t leaf, uint32_t subleaf = 0) {
    CpuidResult r;
    asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(subleaf));
    return r;
}

// CPUID leaf 1's processor signature, the extended family and model folded in as the SDM
// and AMD's manual define the displayed values.
struct CpuSignature {
    uint32_t family, model, stepping;
};

inline CpuSignature cpu_signature() {
    uint32_t eax = cpuid(1).eax;
    CpuSignature s{(eax >> 8) & 0xf, (eax >> 4) & 0xf, eax & 0xf};
    if (s.family == 0xf) s.family += (eax >> 20) & 0xff;
    if (s.family >= 6) s.model |= (eax >> 12) & 0xf0;
    return s;
}

inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t{hi} << 32) | lo;
}

inline void wrmsr(uint32_t msr, uint64_t v) {
    asm volatile("wrmsr" ::"c"(msr), "a"(uint32_t(v)), "d"(uint32_t(v >> 32)) : "memory");
}

inline uint64_t rdtsc() {
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t{hi} << 32) | lo;
}

inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
inline uint8_t inb(uint16_t port) {
    uint8_t v;
    asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
inline uint16_t inw(uint16_t port) {
    uint16_t v;
    asm volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
inline uint32_t inl(uint16_t port) {
    uint32_t v;
    asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

#define KESTREL_CR_ACCESSORS(n)                                              \
    inline uint64_t read_cr##n() {                                           \
        uint64_t v;                                                          \
        asm volatile("mov %%cr" #n ", %0" : "=r"(v));                        \
        return v;                                                            \
    }                                                                        \
    inline void write_cr##n(uint64_t v) { asm volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); }
KESTREL_CR_ACCESSORS(0)
KESTREL_CR_ACCESSORS(3)
KESTREL_CR_ACCESSORS(4)
#undef KESTREL_CR_ACCESSORS

inline uint64_t read_cr2() {
    uint64_t v;
    asm volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

inline void invlpg(uint64_t va) { asm volatile("invlpg (%0)" ::"r"(va) : "memory"); }
inline void flush_tlb_local() { write_cr3(read_cr3()); }

inline void interrupts_on() { asm volatile("sti" ::: "memory"); }
inline void interrupts_off() { asm volatile("cli" ::: "memory"); }
inline bool interrupts_enabled() {
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return flags & (1u << 9);
}
inline void halt() { asm volatile("hlt" ::: "memory"); }
// Enables interrupts and halts with no window in between: an interrupt that arrives after the
// decision to sleep still wakes the CPU.
inline void safe_halt() { asm volatile("sti; hlt" ::: "memory"); }

[[noreturn]] inline void halt_forever() {
    for (;;) asm volatile("cli; hlt" ::: "memory");
}

// Saves and disables interrupts for a scope.
class InterruptGuard final {
public:
    InterruptGuard() : was_on_(interrupts_enabled()) { interrupts_off(); }
    ~InterruptGuard() {
        if (was_on_) interrupts_on();
    }
    InterruptGuard(const InterruptGuard&) = delete;
    InterruptGuard& operator=(const InterruptGuard&) = delete;

private:
    bool was_on_;
};

}  // namespace arch
