// hypercalls: the calling convention itself. Numbers with no hypercall behind them - holes in
// the table, removed ones, and everything from 64 up to the page's 128 stubs - answer -ENOSYS;
// a hypercall changes rax (its result), may change rcx and r11 (lost to `syscall`) and the
// argument registers, and leaves every other register alone.
#include <xen/errno.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/test.hpp"

TEST(unknown_numbers_are_enosys)
{
    // 11 and 43-47 are holes, 38 was tmem_op (removed), 56-63 are unassigned, and the table
    // ends at 64; the page still has stubs up to 127.
    const unsigned numbers[] = {11, 38, 43, 47, 56, 63, 64, 100, 127};
    for (unsigned nr : numbers) {
        const long rc = kt::hypercall(nr, 1, 2, 3, 4, 5);
        if (rc != -XEN_ENOSYS)
            kt::print("hypercall {} answered {}\n", nr, rc);
        EXPECT_EQ(rc, -XEN_ENOSYS);
    }
}

extern "C" std::uint64_t kt_hc_saved[7];
std::uint64_t kt_hc_saved[7];

TEST(other_registers_survive_a_hypercall)
{
    // rbx, rbp, r9 and r12-r15 are neither arguments nor lost to `syscall`.
    const std::uint64_t* out = kt_hc_saved;
    long rc = 0;
    asm volatile(
        "push %%rbp\n"
        "movabs $0x1111111111111111, %%rbx\n"
        "movabs $0x2222222222222222, %%rbp\n"
        "movabs $0x3333333333333333, %%r9\n"
        "movabs $0x4444444444444444, %%r12\n"
        "movabs $0x5555555555555555, %%r13\n"
        "movabs $0x6666666666666666, %%r14\n"
        "movabs $0x7777777777777777, %%r15\n"
        "xor %%edi, %%edi\n xor %%esi, %%esi\n"
        "call hypercall_page + %c[off]\n"
        "mov %%rbx, kt_hc_saved(%%rip)\n mov %%rbp, kt_hc_saved+8(%%rip)\n mov %%r9, kt_hc_saved+16(%%rip)\n"
        "mov %%r12, kt_hc_saved+24(%%rip)\n mov %%r13, kt_hc_saved+32(%%rip)\n mov %%r14, kt_hc_saved+40(%%rip)\n"
        "mov %%r15, kt_hc_saved+48(%%rip)\n"
        "pop %%rbp\n"
        : "=a"(rc)
        : [off] "i"(__HYPERVISOR_xen_version * kt::hypercall_stub_size)
        : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "memory");
    EXPECT_GE(rc, 3L << 16);
    EXPECT_EQ(out[0], 0x1111111111111111u);
    EXPECT_EQ(out[1], 0x2222222222222222u);
    EXPECT_EQ(out[2], 0x3333333333333333u);
    EXPECT_EQ(out[3], 0x4444444444444444u);
    EXPECT_EQ(out[4], 0x5555555555555555u);
    EXPECT_EQ(out[5], 0x6666666666666666u);
    EXPECT_EQ(out[6], 0x7777777777777777u);
}

TEST(stubs_are_32_bytes_apart)
{
    // Calling through each documented stub reaches the hypercall of that number: xen_version
    // and console_io through their stubs give their own answers.
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_xen_version, XENVER_pagesize, 0), 4096);
    static const char text[] = "hypercalls: console_io through its stub\n";
    EXPECT_EQ(kt::hypercall(__HYPERVISOR_console_io, CONSOLEIO_write, sizeof text - 1, kt::arg(text)), 0);
}
