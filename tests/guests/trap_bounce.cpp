// trap_bounce: exceptions raised in guest kernel mode reach the handlers registered with
// set_trap_table through the 64-bit PV exception frame (see runtime/traps.hpp), with the
// faulting rip, the error code where the CPU has one, the guest's rcx and r11, the saved event
// mask in cs bits 32-39, cr2 in vcpu_info for page faults; handlers return with the iret
// hypercall; set_trap_table validates what it is given.
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

constexpr std::uint64_t kernel_cs_seen = FLAT_KERNEL_CS & ~3u;  // RPL 0: "kernel mode"

[[gnu::aligned(4096)]] unsigned char scratch_page[4096];

// Common checks on a frame raised in guest kernel mode with events masked.
void expect_kernel_frame(const kt::TrapRecord& r)
{
    EXPECT_EQ(r.cs & 0xffff, kernel_cs_seen);
    EXPECT_EQ((r.cs >> 32) & 0xff, 1u);  // saved event mask: events were masked
    EXPECT_EQ(r.rflags & kt::rflags_if, 0u);  // IF mirrors the mask
    EXPECT_EQ(r.ss & 0xffff, static_cast<std::uint64_t>(FLAT_KERNEL_SS));
    EXPECT_EQ(r.frame_end % 16, 0u);  // frames start from a 16-byte aligned stack pointer
}

} // namespace

TEST(int3_reports_the_next_rip)
{
    kt::TrapRecord r;
    std::uint64_t at = 0, sp = 0;
    const int how = kt::catch_trap(
        [&] { asm volatile("movq %%rsp, %1\n leaq 1f(%%rip), %%rax\n movq %%rax, %0\n int3\n1:" : "=m"(at), "=m"(sp) : : "rax", "memory"); },
        r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 3u);
    EXPECT_EQ(r.rip, at);  // a trap: rip is past the int3
    EXPECT_EQ(r.error_code, 0u);
    EXPECT_EQ(r.rsp, sp);
    expect_kernel_frame(r);
}

TEST(ud2_reports_its_own_rip_and_keeps_rcx_r11)
{
    kt::TrapRecord r;
    std::uint64_t at = 0;
    const int how = kt::catch_trap(
        [&] {
            asm volatile("movabs $0x1111222233334444, %%rcx\n movabs $0x5555666677778888, %%r11\n"
                         "movabs $0x99990000aaaabbbb, %%rax\n"
                         "leaq 1f(%%rip), %%rdx\n movq %%rdx, %0\n1: ud2"
                         : "=m"(at) : : "rax", "rcx", "rdx", "r11", "memory");
        },
        r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 6u);
    EXPECT_EQ(r.rip, at);  // a fault: rip is the ud2
    // rcx and r11 sit on top of the frame; everything else is untouched by the bounce.
    EXPECT_EQ(r.rcx, 0x1111222233334444u);
    EXPECT_EQ(r.r11, 0x5555666677778888u);
    EXPECT_EQ(r.rax, 0x99990000aaaabbbbu);
    expect_kernel_frame(r);
}

TEST(divide_error)
{
    kt::TrapRecord r;
    std::uint64_t at = 0;
    const int how = kt::catch_trap(
        [&] {
            asm volatile("xor %%ecx, %%ecx\n mov $1, %%eax\n xor %%edx, %%edx\n leaq 1f(%%rip), %%rsi\n movq %%rsi, %0\n"
                         "1: divl %%ecx" : "=m"(at) : : "rax", "rcx", "rdx", "rsi", "memory");
        },
        r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 0u);
    EXPECT_EQ(r.rip, at);
    EXPECT_EQ(r.error_code, 0u);
}

TEST(general_protection_on_non_canonical_access)
{
    kt::TrapRecord r;
    std::uint64_t at = 0;
    const int how = kt::catch_trap(
        [&] {
            asm volatile("movabs $0x0000800000000000, %%rcx\n leaq 1f(%%rip), %%rax\n movq %%rax, %0\n"
                         "1: movq (%%rcx), %%rax" : "=m"(at) : : "rax", "rcx", "memory");
        },
        r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(r.error_code, 0u);
    EXPECT_EQ(r.rip, at);
    expect_kernel_frame(r);
}

TEST(page_fault_read_of_unmapped)
{
    kt::TrapRecord r;
    std::uint64_t at = 0;
    const int how = kt::catch_trap(
        [&] {
            asm volatile("mov $0x1238, %%ecx\n leaq 1f(%%rip), %%rax\n movq %%rax, %0\n1: movq (%%rcx), %%rax"
                         : "=m"(at) : : "rax", "rcx", "memory");
        },
        r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 14u);
    EXPECT_EQ(r.rip, at);
    EXPECT_EQ(r.cr2, 0x1238u);
    // Not present, read, and - although the guest kernel really runs in ring 3 - not user.
    EXPECT_EQ(r.error_code, 0u);
    expect_kernel_frame(r);
}

TEST(page_fault_write_of_unmapped)
{
    kt::TrapRecord r;
    const int how = kt::catch_trap([] { *reinterpret_cast<volatile std::uint64_t*>(0x5000) = 1; }, r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 14u);
    EXPECT_EQ(r.cr2, 0x5000u);
    EXPECT_EQ(r.error_code, 2u);  // write, not present
}

TEST(page_fault_write_of_read_only)
{
    auto* page = scratch_page;
    const std::uint64_t va = reinterpret_cast<std::uint64_t>(page);
    const std::uint64_t maddr = kt::virt_to_mfn(page) << 12;
    ASSERT_TRUE(kt::map_machine_page(page, maddr, false));
    kt::TrapRecord r;
    const int how = kt::catch_trap([page] { *reinterpret_cast<volatile unsigned char*>(page + 8) = 1; }, r);
    EXPECT_TRUE(kt::map_machine_page(page, maddr, true));
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 14u);
    EXPECT_EQ(r.cr2, va + 8);
    EXPECT_EQ(r.error_code, 3u);  // present, write
    EXPECT_EQ(page[8], 0u);
}

TEST(handler_can_resume_after_fault)
{
    // Two faults in a row, each caught and returned from with iret: the runtime's catch
    // mechanism itself is the iret path, so surviving both shows iret restores the stack.
    kt::TrapRecord r1, r2;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("ud2"); }, r1), kt::caught_trap);
    EXPECT_EQ(kt::catch_trap([] { asm volatile("int3"); }, r2), kt::caught_trap);
    EXPECT_EQ(r1.vector, 6u);
    EXPECT_EQ(r2.vector, 3u);
}

TEST(iret_hypercall_restores_registers)
{
    // Return to `1:` through the iret hypercall with rax, rcx and r11 set: flags 0 asks for
    // rcx and r11 to be restored from the frame as well.
    std::uint64_t got_rax = 0, got_rcx = 0, got_r11 = 0, got_rsp = 0, sp_before = 0;
    asm volatile(
        "movq %%rsp, %[spb]\n"
        "movq %%rsp, %%rdx\n"
        "pushq %[ss]\n"
        "pushq %%rdx\n"
        "pushq $0x2\n"
        "pushq %[cs]\n"
        "leaq 1f(%%rip), %%rdx\n"
        "pushq %%rdx\n"
        "pushq $0\n"
        "movabs $0x0123456789abcdef, %%rax\n"
        "movabs $0x1122334455667788, %%rcx\n"
        "movabs $0x8877665544332211, %%r11\n"
        "jmp hypercall_page + %c[iret]\n"
        "1:\n"
        "movq %%rax, %[rax]\n movq %%rcx, %[rcx]\n movq %%r11, %[r11]\n movq %%rsp, %[rsp]\n"
        : [rax] "=m"(got_rax), [rcx] "=m"(got_rcx), [r11] "=m"(got_r11), [rsp] "=m"(got_rsp), [spb] "=m"(sp_before)
        : [ss] "i"(FLAT_KERNEL_SS), [cs] "i"(FLAT_KERNEL_CS & ~3u),
          [iret] "i"(__HYPERVISOR_iret * kt::hypercall_stub_size)
        : "rax", "rcx", "rdx", "r11", "memory");
    EXPECT_EQ(got_rax, 0x0123456789abcdefu);
    EXPECT_EQ(got_rcx, 0x1122334455667788u);
    EXPECT_EQ(got_r11, 0x8877665544332211u);
    EXPECT_EQ(got_rsp, sp_before);
}

TEST(iret_if_flag_sets_event_mask)
{
    // rflags.IF in the iret frame becomes the inverse of the event mask.
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);  // nothing would be delivered
    std::uint8_t mask_after = 0xff;
    asm volatile(
        "movq %%rsp, %%rdx\n"
        "pushq %[ss]\n pushq %%rdx\n pushq $0x202\n pushq %[cs]\n"
        "leaq 1f(%%rip), %%rdx\n pushq %%rdx\n pushq $0\n"
        "jmp hypercall_page + %c[iret]\n"
        "1:\n"
        "movb (%[mask]), %%dl\n movb $1, (%[mask])\n movb %%dl, %[after]\n"
        : [after] "=m"(mask_after)
        : [ss] "i"(FLAT_KERNEL_SS), [cs] "i"(FLAT_KERNEL_CS & ~3u),
          [iret] "i"(__HYPERVISOR_iret * kt::hypercall_stub_size), [mask] "r"(&kt::vcpu0()->evtchn_upcall_mask)
        : "rax", "rcx", "rdx", "r11", "memory");
    EXPECT_EQ(mask_after, 0u);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_mask, 1u);
}

TEST(events_unmasked_at_the_fault_show_in_the_frame)
{
    // With events unmasked when #UD hits, the frame says so (saved mask 0 in cs bits 32-39,
    // rflags.IF set) and, with flags bit 2 clear in the trap table, the handler runs with
    // events still unmasked; with bit 2 set the bounce masks them, like an interrupt gate.
    ASSERT_EQ(kt::vcpu0()->evtchn_upcall_pending, 0u);  // nothing would be delivered
    trap_info table[2] = {};
    table[0].vector = 6;
    table[0].cs = FLAT_KERNEL_CS;
    table[0].address = kt::trap_entry(6);
    kt::TrapRecord plain, masking;
    ASSERT_EQ(kt::set_trap_table(table), 0);
    kt::vcpu0()->evtchn_upcall_mask = 0;
    kt::catch_trap([] { asm volatile("ud2"); }, plain);
    table[0].flags = 4;
    ASSERT_EQ(kt::set_trap_table(table), 0);
    kt::vcpu0()->evtchn_upcall_mask = 0;
    kt::catch_trap([] { asm volatile("ud2"); }, masking);
    kt::vcpu0()->evtchn_upcall_mask = 1;
    kt::install_default_traps();

    EXPECT_EQ(plain.vector, 6u);
    EXPECT_EQ((plain.cs >> 32) & 0xff, 0u);
    EXPECT_NE(plain.rflags & kt::rflags_if, 0u);
    EXPECT_EQ(plain.upcall_mask, 0u);
    EXPECT_EQ(masking.vector, 6u);
    EXPECT_EQ((masking.cs >> 32) & 0xff, 0u);
    EXPECT_NE(masking.rflags & kt::rflags_if, 0u);
    EXPECT_EQ(masking.upcall_mask, 1u);
    // The catch point returned with IF clear in its iret frame: events are masked again.
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_mask, 1u);
}

TEST(set_trap_table_rejects_non_canonical_handler)
{
    trap_info table[2] = {};
    table[0].vector = 6;
    table[0].cs = FLAT_KERNEL_CS;
    table[0].address = 0x0000800000000000ull;
    EXPECT_EQ(kt::set_trap_table(table), -XEN_EINVAL);
    // The default handlers are still in place.
    kt::TrapRecord r;
    EXPECT_EQ(kt::catch_trap([] { asm volatile("ud2"); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 6u);
}

TEST(set_trap_table_bad_pointer_is_efault)
{
    for (const auto& b : kt::bad_pointers) {
        kt::print("table: {} {x}\n", b.what, b.address);
        EXPECT_EQ(kt::set_trap_table(kt::bad<trap_info>(b)), -XEN_EFAULT);
    }
}

TEST(set_trap_table_replaces_entries)
{
    // Point #UD at the int3 stub: the handler then sees vector 3 for a ud2 (the stub says
    // which vector it is), showing the new entry took effect and only it changed.
    trap_info table[2] = {};
    table[0].vector = 6;
    table[0].cs = FLAT_KERNEL_CS;
    table[0].address = kt::trap_entry(3);
    ASSERT_EQ(kt::set_trap_table(table), 0);
    kt::TrapRecord r1, r2;
    kt::catch_trap([] { asm volatile("ud2"); }, r1);
    kt::catch_trap([] { asm volatile("movabs $0x0000800000000000, %%rcx\n movq (%%rcx), %%rax" : : : "rax", "rcx"); }, r2);
    kt::install_default_traps();
    EXPECT_EQ(r1.vector, 3u);
    EXPECT_EQ(r2.vector, 13u);
}
