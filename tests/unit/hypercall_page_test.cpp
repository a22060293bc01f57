// The 64-bit PV hypercall page: every slot decoded instruction by instruction, the iret slot's
// frame-completing pushes, and int3 everywhere else.
#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "hypercall_page.hpp"
#include "xen/xen.h"

namespace {

// A tiny decoder for exactly the instructions a stub may contain.
struct Insn {
    std::string op;  // "push rcx", "mov eax", "syscall", ...
    uint32_t imm = 0;
    size_t length = 0;
};

Insn decode(const uint8_t* p) {
    if (p[0] == 0x50) return {"push rax", 0, 1};
    if (p[0] == 0x51) return {"push rcx", 0, 1};
    if (p[0] == 0x59) return {"pop rcx", 0, 1};
    if (p[0] == 0xc3) return {"ret", 0, 1};
    if (p[0] == 0x41 && p[1] == 0x53) return {"push r11", 0, 2};
    if (p[0] == 0x41 && p[1] == 0x5b) return {"pop r11", 0, 2};
    if (p[0] == 0x0f && p[1] == 0x05) return {"syscall", 0, 2};
    if (p[0] == 0xb8) {
        uint32_t v;
        memcpy(&v, p + 1, 4);
        return {"mov eax", v, 5};
    }
    if (p[0] == 0xcc) return {"int3", 0, 1};
    return {"?", 0, 1};
}

// Decodes a slot up to its first int3; returns the instructions and checks the rest is int3.
std::vector<Insn> decode_slot(const uint8_t* slot, bool* tail_is_int3) {
    std::vector<Insn> out;
    size_t at = 0;
    while (at < hypercall_page::SLOT_SIZE && slot[at] != 0xcc) {
        Insn i = decode(slot + at);
        out.push_back(i);
        at += i.length;
    }
    *tail_is_int3 = true;
    for (; at < hypercall_page::SLOT_SIZE; ++at)
        if (slot[at] != 0xcc) *tail_is_int3 = false;
    return out;
}

std::vector<std::string> ops(const std::vector<Insn>& insns) {
    std::vector<std::string> out;
    for (const Insn& i : insns) out.push_back(i.op);
    return out;
}

std::array<uint8_t, PAGE_SIZE> filled() {
    std::array<uint8_t, PAGE_SIZE> page;
    page.fill(0x00);
    hypercall_page::fill_pv64(std::span<uint8_t, PAGE_SIZE>(page));
    return page;
}

TEST(HypercallPage, EveryOrdinarySlotCallsItsNumber) {
    const auto page = filled();
    for (uint32_t nr = 0; nr < hypercall_page::SLOT_COUNT; ++nr) {
        if (nr == __HYPERVISOR_iret) continue;
        bool tail = false;
        const auto insns = decode_slot(page.data() + nr * 32, &tail);
        EXPECT_EQ(ops(insns), (std::vector<std::string>{"push rcx", "push r11", "mov eax", "syscall", "pop r11",
                                                        "pop rcx", "ret"}))
            << nr;
        ASSERT_GE(insns.size(), 3u);
        EXPECT_EQ(insns[2].imm, nr);
        EXPECT_TRUE(tail) << nr;
    }
}

TEST(HypercallPage, IretSlotCompletesTheFrameAndNeverReturns) {
    const auto page = filled();
    bool tail = false;
    const auto insns = decode_slot(page.data() + __HYPERVISOR_iret * 32, &tail);
    // After these pushes the stack holds rax, r11, rcx, then what the guest pushed: exactly
    // struct iret_context from its first field.
    EXPECT_EQ(ops(insns), (std::vector<std::string>{"push rcx", "push r11", "push rax", "mov eax", "syscall"}));
    ASSERT_EQ(insns.size(), 5u);
    EXPECT_EQ(insns[3].imm, static_cast<uint32_t>(__HYPERVISOR_iret));
    EXPECT_TRUE(tail);
    EXPECT_EQ(offsetof(struct iret_context, rax), 0u);
    EXPECT_EQ(offsetof(struct iret_context, r11), 8u);
    EXPECT_EQ(offsetof(struct iret_context, rcx), 16u);
}

TEST(HypercallPage, ExactBytesOfTwoSlots) {
    const auto page = filled();
    const uint8_t slot1[] = {0x51, 0x41, 0x53, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3};
    EXPECT_EQ(memcmp(page.data() + 32, slot1, sizeof slot1), 0);
    const uint8_t iret[] = {0x51, 0x41, 0x53, 0x50, 0xb8, 23, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xcc};
    EXPECT_EQ(memcmp(page.data() + 23 * 32, iret, sizeof iret), 0);
}

TEST(HypercallPage, OverwritesWhateverWasThere) {
    std::array<uint8_t, PAGE_SIZE> a, b;
    a.fill(0x00);
    b.fill(0x5a);
    hypercall_page::fill_pv64(std::span<uint8_t, PAGE_SIZE>(a));
    hypercall_page::fill_pv64(std::span<uint8_t, PAGE_SIZE>(b));
    EXPECT_EQ(a, b);
}

}  // namespace
