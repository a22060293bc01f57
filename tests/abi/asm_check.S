/*
 * Proves xen.h and the arch headers can be included from assembly (with __ASSEMBLY__ defined, as the
 * hypervisor's entry code does) and that their constants assemble.
 */
#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>

    .text
    .globl abi_asm_flat_kernel_cs
    .type abi_asm_flat_kernel_cs, @function
/* int abi_asm_flat_kernel_cs(void): FLAT_KERNEL_CS + __HYPERVISOR_iret, computed by the assembler. */
abi_asm_flat_kernel_cs:
    movl $(FLAT_KERNEL_CS + __HYPERVISOR_iret), %eax
    ret
    .size abi_asm_flat_kernel_cs, . - abi_asm_flat_kernel_cs

    .section .note.GNU-stack, "", @progbits
