/*
 * Interrupt and exception entry. One small stub per vector pushes a dummy error code where
 * the CPU pushes none, then the vector number; the common path saves the general registers
 * in the order of struct ExceptionFrame (arch/frame.hpp, offsets checked there) and calls
 * exception_dispatch(ExceptionFrame*) in C++.
 */

    .section .text

/* Vectors whose exceptions push an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
.macro vector_stub n
    .balign 16
vector_stub_\n:
    .if (\n == 8) || ((\n >= 10) && (\n <= 14)) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
    pushq   $0
    .endif
    pushq   $\n
    jmp     exception_common
.endm

    .altmacro                                 /* lets %vec pass the counter's value */
    .set    vec, 0
    .rept   256
    vector_stub %vec
    .set    vec, vec + 1
    .endr
    .noaltmacro

exception_common:
    cld
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
    pushq   %rbp
    pushq   %r8
    pushq   %r9
    pushq   %r10
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    mov     %rsp, %rdi
    call    exception_dispatch
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r10
    popq    %r9
    popq    %r8
    popq    %rbp
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %rcx
    popq    %rbx
    popq    %rax
    add     $16, %rsp                         /* vector and error code */
    iretq

    .section .rodata
    .balign 8
    .globl vector_stub_table
vector_stub_table:
.macro stub_address n
    .quad   vector_stub_\n
.endm
    .altmacro
    .set    vec, 0
    .rept   256
    stub_address %vec
    .set    vec, vec + 1
    .endr
    .noaltmacro

    .section .note.GNU-stack, "", @progbits
