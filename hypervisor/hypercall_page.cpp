// Hypercall stub encodings. Each instruction is written from its opcode bytes (Intel SDM
// vol. 2): push r64 is 50+r (REX.B 41 for r8-r15), mov r32, imm32 is B8+r, syscall is 0F 05.
#include "hypercall_page.hpp"

#include "kstd/string.hpp"
#include "xen/xen.h"

namespace hypercall_page {

namespace {

constexpr uint8_t PUSH_RAX = 0x50;
constexpr uint8_t PUSH_RCX = 0x51;
constexpr uint8_t POP_RCX = 0x59;
constexpr uint8_t REX_B = 0x41;  // selects r8-r15 in the opcode's register field
constexpr uint8_t PUSH_R11[] = {REX_B, 0x53};
constexpr uint8_t POP_R11[] = {REX_B, 0x5b};
constexpr uint8_t MOV_EAX_IMM32 = 0xb8;
constexpr uint8_t SYSCALL[] = {0x0f, 0x05};
constexpr uint8_t RET = 0xc3;

class Writer {
public:
    explicit Writer(uint8_t* at) : at_(at) {}
    void byte(uint8_t b) { *at_++ = b; }
    template <size_t N>
    void bytes(const uint8_t (&b)[N]) {
        for (uint8_t x : b) byte(x);
    }
    void imm32(uint32_t v) {
        for (unsigned i = 0; i < 4; ++i) byte(static_cast<uint8_t>(v >> (8 * i)));
    }

private:
    uint8_t* at_;
};

void write_call_stub(uint8_t* slot, uint32_t nr) {
    Writer w(slot);
    w.byte(PUSH_RCX);
    w.bytes(PUSH_R11);
    w.byte(MOV_EAX_IMM32);
    w.imm32(nr);
    w.bytes(SYSCALL);
    w.bytes(POP_R11);
    w.byte(POP_RCX);
    w.byte(RET);
}

void write_iret_stub(uint8_t* slot) {
    Writer w(slot);
    w.byte(PUSH_RCX);
    w.bytes(PUSH_R11);
    w.byte(PUSH_RAX);
    w.byte(MOV_EAX_IMM32);
    w.imm32(__HYPERVISOR_iret);
    w.bytes(SYSCALL);
}

}  // namespace

void fill_pv64(std::span<uint8_t, PAGE_SIZE> page) {
    memset(page.data(), FILL, page.size());
    for (uint32_t nr = 0; nr < SLOT_COUNT; ++nr) {
        uint8_t* slot = page.data() + nr * SLOT_SIZE;
        if (nr == __HYPERVISOR_iret)
            write_iret_stub(slot);
        else
            write_call_stub(slot, nr);
    }
}

}  // namespace hypercall_page
