// The register frame that entry.S builds on every interrupt and exception.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace arch {

struct ExceptionFrame {
    // The hypercall argument registers of the x86_64 PV convention come first, in argument
    // order, so that a handler can be given them where they lie (HypercallArgs, hypercall.cpp).
    uint64_t rdi;         // 0x00  saved by save_registers, last pushed
    uint64_t rsi;         // 0x08
    uint64_t rdx;         // 0x10
    uint64_t r10;         // 0x18
    uint64_t r8;          // 0x20
    uint64_t r15;         // 0x28
    uint64_t r14;         // 0x30
    uint64_t r13;         // 0x38
    uint64_t r12;         // 0x40
    uint64_t r11;         // 0x48
    uint64_t r9;          // 0x50
    uint64_t rbp;         // 0x58
    uint64_t rcx;         // 0x60
    uint64_t rbx;         // 0x68
    uint64_t rax;         // 0x70  first pushed by save_registers
    uint64_t vector;      // 0x78  pushed by the stub
    uint64_t error_code;  // 0x80  pushed by the CPU, or 0 by the stub
    uint64_t rip;         // 0x88  hardware frame from here on
    uint64_t cs;          // 0x90
    uint64_t rflags;      // 0x98
    uint64_t rsp;         // 0xa0
    uint64_t ss;          // 0xa8
};
static_assert(offsetof(ExceptionFrame, rdi) == 0x00);
static_assert(offsetof(ExceptionFrame, r8) == 0x20);
static_assert(offsetof(ExceptionFrame, r15) == 0x28);
static_assert(offsetof(ExceptionFrame, rbp) == 0x58);
static_assert(offsetof(ExceptionFrame, rax) == 0x70);
static_assert(offsetof(ExceptionFrame, vector) == 0x78);
static_assert(offsetof(ExceptionFrame, error_code) == 0x80);
static_assert(offsetof(ExceptionFrame, rip) == 0x88);
static_assert(offsetof(ExceptionFrame, ss) == 0xa8);
// 22 quadwords: with the CPU's 16-byte alignment of the interrupted stack, the C++ handler
// is entered with the ABI's stack alignment.
static_assert(sizeof(ExceptionFrame) == 0xb0);

}  // namespace arch
