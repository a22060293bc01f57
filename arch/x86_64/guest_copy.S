/*
 * size_t guest::raw_copy_from(void* dst, uint64_t src, size_t n) and raw_copy_to(uint64_t
 * dst, const void* src, size_t n): REP MOVSQ for the whole quadwords, then REP MOVSB for the
 * tail, returning the bytes left (0 when all were copied). A page fault or #GP in either is
 * resumed by the #PF handler at the matching fixup (see apply_fixup), which turns what was left
 * of the count into bytes. Quadwords first because each repetition of a string instruction is
 * one instruction to an emulator counting them, and costs the same as a byte on hardware
 * without fast byte strings. The callers have checked that the guest side lies outside the
 * hypervisor's area.
 */
    .section .text
    .globl _ZN5guest13raw_copy_fromEPvmm
    .globl _ZN5guest11raw_copy_toEmPKvm
    .globl guest_copy_fault_ip, guest_copy_fixup
    .globl guest_copy_tail_fault_ip, guest_copy_tail_fixup
_ZN5guest13raw_copy_fromEPvmm:
_ZN5guest11raw_copy_toEmPKvm:
    mov     %rdx, %rcx
    shr     $3, %rcx
    and     $7, %edx
guest_copy_fault_ip:
    rep movsq
    mov     %rdx, %rcx
guest_copy_tail_fault_ip:
    rep movsb
guest_copy_tail_fixup:
    mov     %rcx, %rax
    ret
guest_copy_fixup:                              /* quadwords left in rcx, tail bytes in rdx */
    lea     (%rdx, %rcx, 8), %rax
    ret
    .section .note.GNU-stack, "", @progbits

/*
 * bool load_gs_selector(uint16_t sel): loads GS, returning false instead of faulting when the
 * selector is not usable (the #GP/#NP handler resumes at load_gs_fixup).
 */
    .section .text
    .globl load_gs_selector
    .globl load_gs_fault_ip
    .globl load_gs_fixup
load_gs_selector:
    mov     %edi, %eax
load_gs_fault_ip:
    mov     %ax, %gs
    mov     $1, %eax
    ret
load_gs_fixup:
    xor     %eax, %eax
    ret

/* The same for DS, ES and FS (a vCPU's saved selectors may have become unusable since, by
   changes to its own GDT): each shares load_gs_fixup's failure return. */
    .globl load_ds_selector, load_es_selector, load_fs_selector
    .globl load_ds_fault_ip, load_es_fault_ip, load_fs_fault_ip
load_ds_selector:
    mov     %edi, %eax
load_ds_fault_ip:
    mov     %ax, %ds
    mov     $1, %eax
    ret
load_es_selector:
    mov     %edi, %eax
load_es_fault_ip:
    mov     %ax, %es
    mov     $1, %eax
    ret
load_fs_selector:
    mov     %edi, %eax
load_fs_fault_ip:
    mov     %ax, %fs
    mov     $1, %eax
    ret
    .section .note.GNU-stack, "", @progbits

/*
 * bool read_msr_safe(uint32_t msr, uint64_t* value): reads an MSR the host may not have,
 * returning false instead of faulting (the #GP handler resumes at read_msr_fixup).
 */
    .section .text
    .globl read_msr_safe
    .globl read_msr_fault_ip
    .globl read_msr_fixup
read_msr_safe:
    mov     %edi, %ecx
read_msr_fault_ip:
    rdmsr
    shl     $32, %rdx
    or      %rdx, %rax
    mov     %rax, (%rsi)
    mov     $1, %eax
    ret
read_msr_fixup:
    xor     %eax, %eax
    ret
