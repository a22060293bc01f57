#include "crashtest.hpp"

#include "log.hpp"
#include "panic.hpp"
#include "smp.hpp"

namespace {

// Kept in memory so the compiler cannot prove the faults below and reject or fold them.
volatile uintptr_t unmapped_address = 0x10;  // the lower half is never mapped
volatile uint64_t recursion_limit = ~uint64_t{0};
// A return instruction placed in writable data: executing it must fault (NX).
volatile uint8_t data_code[16] = {0xc3};

}  // namespace

extern "C" {

// Plain C names so the reports' symbols are easy to match in tests.
[[gnu::noinline]] void crash_page_fault(void*) {
    *reinterpret_cast<volatile uint64_t*>(unmapped_address) = 0xdead;
}

[[gnu::noinline]] void crash_invalid_opcode() { asm volatile("ud2"); }

// W^X: the image's text is mapped read-only, its data non-executable.
[[gnu::noinline]] void crash_write_text() {
    auto* code = reinterpret_cast<volatile uint8_t*>(reinterpret_cast<uintptr_t>(&crash_invalid_opcode));
    *code = 0x90;
}

[[gnu::noinline]] void crash_execute_data() {
    auto fn = reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(data_code));
    fn();
    asm volatile("" ::: "memory");  // a real call, not a tail jump, so the caller shows up
}

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
    else if (name == "write_text") crash_write_text();
    else if (name == "exec_data") crash_execute_data();
    else if (name == "panic") panic("crashtest: panic() called on purpose");
    else if (name == "ap_pagefault") smp::call_on(CpuId(1), crash_page_fault, nullptr);
    log::warning("crashtest: '{}' did not crash (unknown name, or no CPU1)", name);
}

}  // namespace crashtest
