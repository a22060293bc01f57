/*
 * Multiboot2 entry. GRUB leaves the CPU in 32-bit protected mode with paging off, the
 * boot information's physical address in %ebx and the loader magic in %eax.
 *
 * Nothing is computed here: the boot page tables are static data that map the first 4 GiB
 * three times (identity for the switch itself, the image window, the direct map), so the
 * path to long mode is a handful of control-register writes. The C++ boot path replaces
 * these tables as soon as it knows the memory map.
 *
 * The .boot sections are linked at their physical addresses; everything else is linked in
 * the upper half (see arch/x86_64/kestrel.ld).
 */

#define MB2_HEADER_MAGIC 0xe85250d6
#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_PS  0x080
#define CR0_PE  0x00000001
#define CR0_WP  0x00010000
#define CR0_PG  0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define EFER_NXE 0x800
#define COM1    0x3f8

    .section .boot.header, "a"
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long 0                                   /* architecture: 32-bit protected mode i386 */
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_HEADER_MAGIC + (mb2_header_end - mb2_header))
    .balign 8                                 /* end tag */
    .short 0, 0
    .long 8
mb2_header_end:

    .section .boot.text, "ax"
    .code32
    .globl kestrel_start32
kestrel_start32:
    cli
    cld
    mov     $boot_stack32_top, %esp
    mov     %eax, boot_magic
    mov     %ebx, boot_info_pa

    /* Long mode is all we run in: say so and stop if the CPU lacks it. */
    mov     $0x80000000, %eax
    cpuid
    cmp     $0x80000001, %eax
    jb      no_long_mode
    mov     $0x80000001, %eax
    cpuid
    test    $(1 << 29), %edx
    jz      no_long_mode
    mov     %edx, %edi                        /* keep: NX is bit 20 */

    mov     %cr4, %eax
    or      $CR4_PAE, %eax
    mov     %eax, %cr4
    mov     $boot_pml4, %eax
    mov     %eax, %cr3

    mov     $MSR_EFER, %ecx
    rdmsr
    or      $EFER_LME, %eax
    test    $(1 << 20), %edi
    jz      1f
    or      $EFER_NXE, %eax
1:  wrmsr

    mov     %cr0, %eax
    or      $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov     %eax, %cr0
    lgdt    boot_gdt_ptr
    ljmp    $0x08, $start64_low

    /* Writes a fixed message to COM1 at 115200 8n1, then halts for good. */
no_long_mode:
    mov     $COM1 + 3, %dx
    mov     $0x80, %al                        /* DLAB on: set the divisor */
    out     %al, %dx
    mov     $COM1, %dx
    mov     $1, %al
    out     %al, %dx
    mov     $COM1 + 1, %dx
    xor     %al, %al
    out     %al, %dx
    mov     $COM1 + 3, %dx
    mov     $0x03, %al                        /* 8 data bits, no parity, 1 stop bit */
    out     %al, %dx
    mov     $no_long_mode_msg, %esi
2:  lodsb
    test    %al, %al
    jz      4f
    mov     %al, %bl
    mov     $COM1 + 5, %dx
3:  in      %dx, %al
    test    $0x20, %al                        /* transmitter holding register empty */
    jz      3b
    mov     $COM1, %dx
    mov     %bl, %al
    out     %al, %dx
    jmp     2b
4:  cli
    hlt
    jmp     4b

    .code64
start64_low:
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    /* The boot values live in low memory, out of RIP-relative reach of the upper half. */
    mov     boot_magic, %edi
    mov     boot_info_pa, %esi
    movabs  $kestrel_start64, %rax
    jmp     *%rax

    .section .boot.rodata, "a"
no_long_mode_msg:
    .asciz  "Kestrel: this CPU does not support x86_64 long mode; cannot boot.\r\n"

    .balign 8
boot_gdt:
    .quad   0                                 /* null */
    .quad   0x00af9a000000ffff                /* 0x08: 64-bit code, ring 0 */
    .quad   0x00cf92000000ffff                /* 0x10: data, ring 0 */
boot_gdt_end:
boot_gdt_ptr:
    .word   boot_gdt_end - boot_gdt - 1
    .long   boot_gdt

    .section .boot.data, "aw"
    .balign 4096
    .globl boot_pml4, boot_pdpt_low
boot_pml4:
    .quad   boot_pdpt_low + PTE_P + PTE_RW     /* slot 0: identity, for the switch only */
    .fill   260, 8, 0
    .quad   boot_pdpt_low + PTE_P + PTE_RW     /* slot 261: image window */
    .quad   boot_pdpt_low + PTE_P + PTE_RW     /* slot 262: start of the direct map */
    .fill   249, 8, 0
boot_pdpt_low:
    .quad   boot_pd + 0x0000 + PTE_P + PTE_RW
    .quad   boot_pd + 0x1000 + PTE_P + PTE_RW
    .quad   boot_pd + 0x2000 + PTE_P + PTE_RW
    .quad   boot_pd + 0x3000 + PTE_P + PTE_RW
    .fill   508, 8, 0
boot_pd:                                      /* 2048 x 2 MiB = the first 4 GiB */
    .set    i, 0
    .rept   2048
    .quad   (i << 21) + PTE_P + PTE_RW + PTE_PS
    .set    i, i + 1
    .endr

boot_magic:
    .long   0
boot_info_pa:
    .long   0
    .balign 16
    .fill   256, 1, 0
boot_stack32_top:

    /* The boot identity map's physical address, for the AP trampoline's temporary tables;
       kept as data because upper-half code cannot reach low symbols RIP-relative. */
    .section .rodata
    .balign 8
    .globl boot_pdpt_low_pa
boot_pdpt_low_pa:
    .quad   boot_pdpt_low
    .globl image_phys_bounds
image_phys_bounds:                            /* [start, end) of the loaded image, physical */
    .quad   __image_phys_start
    .quad   __image_phys_end
