// failsafe: the failsafe callback. When a vCPU is put back on a CPU and one of its saved data
// selectors can no longer be loaded (here ES names a GDT entry the guest made not-present in
// the meantime), the hypervisor loads the null selector instead and enters the failsafe
// callback with this frame on the kernel stack, lowest address first:
//     rcx, r11, ds, es, fs, gs, rip, cs, rflags, rsp, ss
// Kestrel only: the vCPU must lose its CPU to another domain's vCPU and come back, so the test
// runs it as a boot-time domU beside the bystander kernel on one CPU (Xen starts domUs only
// through its toolstack).
#include <xen/callback.h>
#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

extern "C" {
// Written by the failsafe entry stub: the four selectors of the frame, and a flag.
std::uint64_t kt_failsafe_selectors[4];
volatile std::uint64_t kt_failsafe_entered;
void kt_failsafe_entry();
}

// The callback records the selectors, drops them from the stack and returns where the guest
// was through the iret hypercall (whose hypercall-page stub pushes rax, r11 and rcx itself).
asm(R"(
    .text
    .globl kt_failsafe_entry
kt_failsafe_entry:
    pop     %rcx
    pop     %r11
    pushq   %rax
    mov     8(%rsp), %rax
    mov     %rax, kt_failsafe_selectors(%rip)
    mov     16(%rsp), %rax
    mov     %rax, kt_failsafe_selectors+8(%rip)
    mov     24(%rsp), %rax
    mov     %rax, kt_failsafe_selectors+16(%rip)
    mov     32(%rsp), %rax
    mov     %rax, kt_failsafe_selectors+24(%rip)
    movq    $1, kt_failsafe_entered(%rip)
    popq    %rax
    add     $32, %rsp
    pushq   $0
    jmp     hypercall_page + 23 * 32
)");

namespace {

constexpr std::uint64_t data_dpl3 = 0x00cff2000000ffffull;
[[gnu::aligned(4096)]] std::uint64_t gdt[512];

std::uint64_t maddr_of(const void* p)
{
    const std::uint64_t va = reinterpret_cast<std::uint64_t>(p);
    return (kt::virt_to_mfn(p) << 12) | (va & (kt::page_size - 1));
}

std::uint16_t es_selector()
{
    std::uint16_t s;
    asm volatile("mov %%es, %0" : "=r"(s));
    return s;
}

} // namespace

TEST(unloadable_selector_enters_the_failsafe_callback)
{
    callback_register_t cb{};
    cb.type = CALLBACKTYPE_failsafe;
    cb.address = reinterpret_cast<std::uint64_t>(&kt_failsafe_entry);
    ASSERT_EQ(kt::callback_op(CALLBACKOP_register, &cb), 0);

    gdt[1] = data_dpl3;
    ASSERT_TRUE(kt::map_machine_page(gdt, kt::virt_to_mfn(gdt) << 12, false));
    const xen_ulong_t frames[1] = {kt::virt_to_mfn(gdt)};
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_set_gdt, kt::arg(frames), 512), 0);
    asm volatile("mov %0, %%es" : : "r"(std::uint16_t{0x0b}));
    ASSERT_EQ(es_selector(), 0x0bu);

    // Entry 1 becomes not present; ES still holds the old selector until the next reload.
    ASSERT_EQ(kt::hypercall(__HYPERVISOR_update_descriptor, maddr_of(&gdt[1]), 0), 0);
    // Give the CPU to the other domain on it (the test runs us beside the bystander) and
    // come back: being put back on the CPU reloads the selectors.
    for (int i = 0; i < 4 && !kt_failsafe_entered; ++i)
        EXPECT_EQ(kt::sched_op(SCHEDOP_yield, nullptr), 0);

    EXPECT_EQ(kt_failsafe_entered, 1u);
    EXPECT_EQ(kt_failsafe_selectors[1], 0x0bu);  // es as it was
    EXPECT_EQ(es_selector(), 0u);                // now the null selector
}
