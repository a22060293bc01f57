/*
 * Application processor start-up. The boot CPU copies this code to a page below 1 MiB, fills
 * in the fields marked "patched" (see smp.cpp) and sends INIT/SIPI; the AP starts here in
 * real mode with CS = page >> 4, goes through protected mode to long mode on temporary page
 * tables that identity-map low memory, and jumps to ap_entry in the upper half.
 * Code here is position independent: %ebx holds the page's physical address throughout.
 */
#define OFS(label) ((label) - trampoline_start)

    .section .trampoline, "ax"
    .globl trampoline_start, trampoline_end
    .globl tr_gdt_base, tr_pm_target, tr_lm_target, tr_cr3, tr_efer, tr_stack, tr_entry, tr_arg

    .code16
trampoline_start:
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    xor     %ebx, %ebx
    mov     %cs, %bx
    shl     $4, %ebx                          /* physical base of this page */
    lgdtl   OFS(tr_gdt_ptr)
    mov     %cr0, %eax
    or      $1, %eax                          /* PE */
    mov     %eax, %cr0
    ljmpl   *OFS(tr_pm_target)

    .code32
tr_protected:
    mov     $0x18, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %cr4, %eax
    or      $0x20, %eax                       /* PAE */
    mov     %eax, %cr4
    mov     OFS(tr_cr3)(%ebx), %eax
    mov     %eax, %cr3
    mov     $0xc0000080, %ecx                 /* EFER */
    rdmsr
    or      OFS(tr_efer)(%ebx), %eax
    wrmsr
    mov     %cr0, %eax
    or      $0x80010001, %eax                 /* PG | WP | PE */
    mov     %eax, %cr0
    ljmpl   *OFS(tr_lm_target)(%ebx)

    .code64
tr_long:
    mov     %ebx, %ebx                        /* upper half of %rbx is undefined after the switch */
    mov     OFS(tr_stack)(%rbx), %rsp
    mov     OFS(tr_arg)(%rbx), %rdi
    mov     OFS(tr_entry)(%rbx), %rax
    xor     %ebp, %ebp
    jmp     *%rax

    .balign 8
tr_gdt:
    .quad   0
    .quad   0x00cf9a000000ffff                /* 0x08: 32-bit code */
    .quad   0x00af9a000000ffff                /* 0x10: 64-bit code */
    .quad   0x00cf92000000ffff                /* 0x18: data */
tr_gdt_end:
tr_gdt_ptr:
    .word   tr_gdt_end - tr_gdt - 1
tr_gdt_base:
    .long   0                                 /* patched: page + OFS(tr_gdt) */
tr_pm_target:
    .long   0                                 /* patched: page + OFS(tr_protected) */
    .word   0x08
tr_lm_target:
    .long   0                                 /* patched: page + OFS(tr_long) */
    .word   0x10
    .balign 8
tr_cr3:     .quad 0                           /* patched: temporary root, below 4 GiB */
tr_efer:    .quad 0                           /* patched: EFER bits to set (LME, NXE) */
tr_stack:   .quad 0                           /* patched: top of the AP's stack */
tr_entry:   .quad 0                           /* patched: ap_entry */
tr_arg:     .quad 0                           /* patched: the AP's PerCpu */
trampoline_end:

    .globl tr_ofs_protected, tr_ofs_long, tr_ofs_gdt
    .section .rodata
    .balign 8
tr_ofs_protected: .quad OFS(tr_protected)
tr_ofs_long:      .quad OFS(tr_long)
tr_ofs_gdt:       .quad OFS(tr_gdt)

    .section .note.GNU-stack, "", @progbits
