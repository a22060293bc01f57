#include "xstate.hpp"

#include <arch/cpu.hpp>

#include "log.hpp"
#include "panic.hpp"

namespace xstate {

namespace {

constexpr uint64_t CR4_OSXSAVE = 1u << 18;
constexpr uint64_t OFFERED = X87 | SSE | AVX | AVX512;

uint64_t mask;  // 0 until the boot CPU found XSAVE

bool cpu_has_xsave() { return (arch::cpuid(1).ecx >> 26) & 1; }

}  // namespace

void set_xcr0(uint64_t value) {
    asm volatile("xsetbv" ::"c"(0), "a"(uint32_t(value)), "d"(uint32_t(value >> 32)) : "memory");
}

void init_cpu(bool boot_cpu) {
    if (!cpu_has_xsave()) return;
    arch::write_cr4(arch::read_cr4() | CR4_OSXSAVE);
    if (boot_cpu) {
        auto leaf = arch::cpuid(0xd, 0);
        uint64_t supported = leaf.eax | (uint64_t(leaf.edx) << 32);
        uint64_t m = supported & OFFERED;
        if ((m & AVX512) != AVX512) m &= ~AVX512;
        set_xcr0(m);
        unsigned size = arch::cpuid(0xd, 0).ebx;  // for the components now enabled
        if (size > AREA_BYTES) panic("XSAVE area of {} bytes for components {:#x} exceeds {}", size, m, AREA_BYTES);
        mask = m;
        log::info("XSAVE: guests may enable components {:#x} ({} bytes of state)", m, size);
    }
    set_xcr0(INITIAL);
}

uint64_t guest_mask() { return mask; }

bool valid_xcr0(uint64_t value) {
    if (!(value & X87) || (value & ~mask)) return false;
    if ((value & AVX) && !(value & SSE)) return false;
    if (value & AVX512) return (value & AVX512) == AVX512 && (value & AVX);
    return true;
}

void save(void* area) {
    if (mask) asm volatile("xsave64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
    else asm volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

void restore(const void* area, uint64_t xcr0) {
    if (mask) {
        set_xcr0(xcr0);
        asm volatile("xrstor64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
    } else {
        asm volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
    }
}

}  // namespace xstate
