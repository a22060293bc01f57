#include "crashtest.hpp"

#include "log.hpp"
#include "panic.hpp"
#include "smp.hpp"

namespace {

// Kept in memory so the compiler cannot prove the faults below and reject or fold them.
volatile uintptr_t unmapped_address = 0x10;  // the lower half is never mapped
volatile uint64_t recursion_limit = ~uint64_t{0};

}  // namespace

extern "C" {

// Plain C names so the reports' symbols are easy to match in tests.
[[gnu::noinline]] void crash_page_fault(void*) {
    *reinterpret_cast<volatile uint64_t*>(unmapped_address) = 0xdead;
}

[[gnu::noinline]] void crash_invalid_opcode() { asm volatile("ud2"); }

[[gnu::noinline]] uint64_t crash_stack_overflow(uint64_t depth) {
    volatile uint8_t frame[512];
    frame[0] = uint8_t(depth);
    if (depth == recursion_limit) return 0;
    uint64_t r = crash_stack_overflow(depth + 1) + frame[0];
    asm volatile("" ::: "memory");  // keeps the recursion a real call, not a loop
    return r;
}

}

namespace crashtest {

void run(kstd::StringView name) {
    log::info("crashtest: {} (a fault report follows)", name);
    if (name == "pagefault") crash_page_fault(nullptr);
    else if (name == "ud") crash_invalid_opcode();
    else if (name == "stack") crash_stack_overflow(0);
    else if (name == "panic") panic("crashtest: panic() called on purpose");
    else if (name == "ap_pagefault") smp::call_on(CpuId(1), crash_page_fault, nullptr);
    log::warning("crashtest: '{}' did not crash (unknown name, or no CPU1)", name);
}

}  // namespace crashtest
