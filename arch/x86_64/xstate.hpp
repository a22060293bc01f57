// The CPU's extended state (x87, SSE, AVX, AVX-512) of the vCPUs: XSAVE when the CPU has it,
// with the components a guest may enable (Kestrel's own code never touches them: it is built
// for general registers only); FXSAVE otherwise.
#pragma once

#include <stdint.h>

namespace xstate {

constexpr uint64_t X87 = 1u << 0, SSE = 1u << 1, AVX = 1u << 2;
constexpr uint64_t AVX512 = 7u << 5;  // opmask, ZMM upper halves, ZMM16-31
// What a new vCPU starts with, as on Xen.
constexpr uint64_t INITIAL = X87 | SSE;
// Bytes of save area every vCPU has room for.
constexpr unsigned AREA_BYTES = 4096;

// Each CPU: turns XSAVE on (CR4.OSXSAVE) when the CPU has it; the boot CPU also works out
// which components guests get. Panics if their save area would not fit AREA_BYTES.
void init_cpu(bool boot_cpu);
// Components guests may enable (0: no XSAVE; FXSAVE is used).
uint64_t guest_mask();
// Whether v may set XCR0 to value: x87 always on, AVX only with SSE, AVX-512 all or nothing
// and only with AVX, nothing outside guest_mask().
bool valid_xcr0(uint64_t value);

void set_xcr0(uint64_t value);
void save(void* area);
void restore(const void* area, uint64_t xcr0);

}  // namespace xstate
