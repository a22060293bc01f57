// The hypercall page of a 64-bit PV guest: 128 stubs of 32 bytes, stub n making hypercall n,
// written where the kernel's XEN_ELFNOTE_HYPERCALL_PAGE note asks (or where it asks later by
// writing the hypercall MSR, for the same content).
//
// Bytes as Xen 4.17 writes them for a 64-bit PV guest (pv_ring3_init_hypercall_page): the
// page starts as int3 (0xcc), so the unused tail of every slot traps; every one of the 128
// slots holds a stub, even for numbers the hypervisor does not implement (those answer
// -ENOSYS at run time, they do not trap). A stub saves rcx and r11, which `syscall` clobbers,
// puts the number in eax, enters the hypervisor with `syscall`, restores r11 and rcx and
// returns. Slot __HYPERVISOR_iret is different: the guest jumps to it (never calls it) with
// the tail of struct iret_context already pushed (ss, rsp, rflags, cs, rip, flags); the stub
// pushes rcx, r11 and rax to complete the frame, and the hypercall never returns there.
#pragma once

#include <span>

#include "types.hpp"

namespace hypercall_page {

constexpr size_t SLOT_SIZE = 32;
constexpr size_t SLOT_COUNT = PAGE_SIZE / SLOT_SIZE;
constexpr uint8_t FILL = 0xcc;  // int3

void fill_pv64(std::span<uint8_t, PAGE_SIZE> page);

}  // namespace hypercall_page
