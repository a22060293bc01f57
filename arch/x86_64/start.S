/*
 * First code in the upper half: clear .bss, take the boot stack, enter C++.
 * %edi = multiboot2 magic, %esi = boot information physical address (from head.S).
 */
    .section .text
    .globl kestrel_start64
kestrel_start64:
    mov     %rdi, %r12
    mov     %rsi, %r13
    lea     __bss_start(%rip), %rdi
    lea     __bss_end(%rip), %rcx
    sub     %rdi, %rcx
    xor     %eax, %eax
    rep stosb
    lea     boot_stack_top(%rip), %rsp
    xor     %ebp, %ebp                        /* terminates backtraces */
    mov     %r12, %rdi
    mov     %r13, %rsi
    call    kestrel_main
1:  cli
    hlt
    jmp     1b

    .section .bss
    .balign 4096
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip   32768
boot_stack_top:
    .section .note.GNU-stack, "", @progbits

/* void run_on_stack(uint64_t top, void (*fn)(void)): calls fn on another stack; fn must not
   return. The return address pushed is 0, which ends backtraces there. */
    .section .text
    .globl run_on_stack
run_on_stack:
    mov     %rdi, %rsp
    xor     %ebp, %ebp
    pushq   $0
    jmp     *%rsi
