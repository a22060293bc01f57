/*
 * Interrupt, exception and SYSCALL entry. One small stub per vector pushes a dummy error code
 * where the CPU pushes none, then the vector number; the common path saves the general
 * registers in the order of struct ExceptionFrame (arch/frame.hpp, offsets checked there).
 *
 * Three ways in:
 *  - from the hypervisor (ring 0): exception_dispatch(frame), then back with iretq;
 *  - from a PV guest (ring 3): SWAPGS first, because while a guest runs GS_BASE is the
 *    guest's and KERNEL_GS_BASE holds this CPU's PerCpu; the frame sits at the top of the
 *    CPU's stack (TSS.rsp0) and guest_trap(frame) leaves through guest_restore;
 *  - NMI, #DF and #MC on IST stacks: they can strike between SYSCALL and its SWAPGS, where
 *    CS says ring 0 but GS is still the guest's, so they save GS_BASE, load this CPU's from
 *    the IST stack's top (percpu.hpp, ist_top_with_owner) and put it back on the way out.
 */

#define FRAME_RIP       0x88
#define FRAME_CS        0x90
#define FRAME_SIZE      0xb0
#define PERCPU_SCRATCH  8     /* PerCpu::syscall_scratch, offset checked in percpu.hpp */
#define PERCPU_FRAME_TOP 16   /* PerCpu::guest_frame_top */
#define MSR_GS_BASE     0xc0000101
#define VECTOR_SYSCALL  0x100 /* not a hardware vector: marks a frame built by SYSCALL entry */
#define VECTOR_SYSCALL32 0x101
#define VECTOR_SYSENTER 0x102
#define GUEST_CS64      0xe033
#define GUEST_CS32      0xe023
#define GUEST_DS        0xe02b

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
    .if (\n == 2) || (\n == 8) || (\n == 18)
    jmp     paranoid_common
    .else
    jmp     exception_common
    .endif
.endm

    .altmacro                                 /* lets %vec pass the counter's value */
    .set    vec, 0
    .rept   256
    vector_stub %vec
    .set    vec, vec + 1
    .endr
    .noaltmacro

/* The order of struct ExceptionFrame: the hypercall argument registers (rdi, rsi, rdx, r10,
   r8) pushed last, so that they lie at the frame's bottom in argument order. */
.macro save_registers
    pushq   %rax
    pushq   %rbx
    pushq   %rcx
    pushq   %rbp
    pushq   %r9
    pushq   %r11
    pushq   %r12
    pushq   %r13
    pushq   %r14
    pushq   %r15
    pushq   %r8
    pushq   %r10
    pushq   %rdx
    pushq   %rsi
    pushq   %rdi
.endm

.macro restore_registers
    popq    %rdi
    popq    %rsi
    popq    %rdx
    popq    %r10
    popq    %r8
    popq    %r15
    popq    %r14
    popq    %r13
    popq    %r12
    popq    %r11
    popq    %r9
    popq    %rbp
    popq    %rcx
    popq    %rbx
    popq    %rax
    add     $16, %rsp                         /* vector and error code */
.endm

exception_common:
    cld
    save_registers
    testb   $3, FRAME_CS(%rsp)
    jnz     1f
    /* A fault of the IRETQ back to a guest (a selector the guest named is unusable): GS is
       already the guest's, so switch back before any C++ runs. */
    lea     guest_iret_ip(%rip), %rax
    cmp     %rax, FRAME_RIP(%rsp)
    je      2f
    mov     %rsp, %rdi
    call    exception_dispatch
    restore_registers
    iretq
2:  swapgs
    xor     %ebp, %ebp
    mov     %rsp, %rdi
    call    guest_iret_fault                  /* does not return */
    ud2
1:  swapgs
    xor     %ebp, %ebp                        /* backtraces end at the guest boundary */
    mov     %rsp, %rdi
    call    guest_trap                        /* does not return */
    ud2

paranoid_common:
    cld
    save_registers
    mov     $MSR_GS_BASE, %ecx
    rdmsr
    mov     %eax, %r12d                       /* r12/r13 are preserved by the C++ call */
    mov     %edx, %r13d
    mov     FRAME_SIZE(%rsp), %rax            /* this CPU's PerCpu, above the IST frame */
    mov     %rax, %rdx
    shr     $32, %rdx
    wrmsr
    mov     %rsp, %rdi
    call    exception_dispatch
    mov     $MSR_GS_BASE, %ecx
    mov     %r12d, %eax
    mov     %r13d, %edx
    wrmsr
    restore_registers
    iretq

/*
 * SYSCALL from a PV guest: a hypercall from its kernel, or a system call from its user
 * space to be bounced to the kernel's callback. SFMASK cleared IF, so nothing interrupts
 * the stack switch; the frame looks like an exception's so that one restore path serves all.
 */
.macro syscall_entry name, cs, vector
    .globl \name
    .balign 16
\name:
    swapgs
    mov     %rsp, %gs:PERCPU_SCRATCH
    mov     %gs:PERCPU_FRAME_TOP, %rsp
    pushq   $GUEST_DS                         /* ss */
    pushq   %gs:PERCPU_SCRATCH                /* rsp */
    pushq   %r11                              /* rflags */
    pushq   $\cs                              /* cs */
    pushq   %rcx                              /* rip */
    pushq   $0                                /* error code */
    pushq   $\vector
    save_registers                            /* DF is clear: SFMASK masks it */
    xor     %ebp, %ebp
    mov     %rsp, %rdi
    call    guest_syscall                     /* does not return */
    ud2
.endm

    syscall_entry syscall_entry64, GUEST_CS64, VECTOR_SYSCALL
    syscall_entry syscall_entry32, GUEST_CS32, VECTOR_SYSCALL32

/*
 * SYSENTER from a PV guest (Intel CPUs; AMD ones raise #UD for it in long mode). It saves
 * nothing: the stack is this CPU's frame top (SYSENTER_ESP), IF is clear, and the frame gets
 * what Xen puts there: the user stack selector, a null rsp, the flags, a null ring-3 cs and a
 * null rip (the guest's SYSENTER convention passes return addresses in registers).
 */
    .globl sysenter_entry
    .balign 16
sysenter_entry:
    swapgs
    pushq   $GUEST_DS                         /* ss */
    pushq   $0                                /* rsp */
    pushfq                                    /* rflags (IF clear: set again in C++) */
    pushq   $3                                /* cs: ring 3 null selector */
    pushq   $0                                /* rip */
    pushq   $0                                /* error code */
    pushq   $VECTOR_SYSENTER
    cld
    save_registers
    xor     %ebp, %ebp
    mov     %rsp, %rdi
    call    guest_sysenter                    /* does not return */
    ud2

/*
 * void guest_restore(ExceptionFrame* frame): back to the guest with the registers in frame,
 * which the caller has validated (canonical rip, guest selectors, sane rflags). The caller
 * turned interrupts off; they stay off to IRETQ, which sets the guest's IF.
 */
    .globl guest_restore
guest_restore:
    mov     %rdi, %rsp
    restore_registers
    swapgs
    .globl guest_iret_ip
guest_iret_ip:
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
