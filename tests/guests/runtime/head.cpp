// Entry point, boot stack, hypercall page and Xen ELF notes of a test kernel.
//
// The hypervisor enters a 64-bit PV kernel at XEN_ELFNOTE_ENTRY in guest kernel mode with
// rsi = start_info (a virtual address inside the bootstrap area) and rsp at the top of a
// one-page bootstrap stack, every other general register zero. We record rsp and rsi exactly
// as they arrived (tests check them against the documented bootstrap layout), then move to a
// stack of our own inside the image.
//
// The notes are emitted from extended asm inside a never-called function: that is the one way
// to feed the note numbers from <xen/elfnote.h> (C constants) and symbol addresses (link-time
// constants) into one .note.Xen section without restating any ABI number here.
#include <cstdint>

#include <xen/elfnote.h>
#include <xen/xen.h>

#include "runtime.hpp"

extern "C" {
[[gnu::aligned(4096), gnu::section(".hypercall_page")]] unsigned char hypercall_page[4096];
[[gnu::aligned(16)]] unsigned char kt_boot_stack[kt::boot_stack_size];
std::uint64_t kt_entry_rsp;
std::uint64_t kt_entry_rsi;
std::uint64_t kt_entry_rflags;
std::uint64_t kt_entry_regs_or;  // OR of the registers the ABI says are zero at entry
std::uint64_t kt_entry_tsc;      // the TSC at the kernel's first instructions
[[noreturn]] void kt_start(start_info_t* si);
}

asm(R"(
    .pushsection .text.entry, "ax"
    .globl _start
_start:
    mov %rsp, kt_entry_rsp(%rip)
    mov %rsi, kt_entry_rsi(%rip)
    pushfq
    popq kt_entry_rflags(%rip)
    or %rbx, %rax
    or %rcx, %rax
    or %rdx, %rax
    or %rdi, %rax
    or %rbp, %rax
    or %r8, %rax
    or %r9, %rax
    or %r10, %rax
    or %r11, %rax
    or %r12, %rax
    or %r13, %rax
    or %r14, %rax
    or %r15, %rax
    mov %rax, kt_entry_regs_or(%rip)
    rdtsc
    shl $32, %rdx
    or %rdx, %rax
    mov %rax, kt_entry_tsc(%rip)
    lea kt_boot_stack + )" KT_STR(KT_BOOT_STACK_SIZE) R"((%rip), %rsp
    xor %ebp, %ebp
    mov %rsi, %rdi
    call kt_start
    ud2
    .popsection
)");

namespace {

// One Xen note: namesz 4 ("Xen\0"), descsz, type, name, then the description padded to 4.
#define KT_NOTE_BEGIN(type_op)                                                                   \
    ".balign 4\n .long 4, 2f - 1f, %c[" type_op "]\n .asciz \"Xen\"\n 1: "
#define KT_NOTE_END "\n 2: .balign 4\n"

[[gnu::used]] void kt_xen_notes()
{
    asm volatile(".pushsection .note.Xen, \"a\", @note\n"
                 KT_NOTE_BEGIN("os") ".asciz \"KestrelTestKernel\"" KT_NOTE_END
                 KT_NOTE_BEGIN("gver") ".asciz \"0.1\"" KT_NOTE_END
                 KT_NOTE_BEGIN("xver") ".asciz \"xen-3.0\"" KT_NOTE_END
                 KT_NOTE_BEGIN("loader") ".asciz \"generic\"" KT_NOTE_END
                 KT_NOTE_BEGIN("vbase") ".quad kt_image_start" KT_NOTE_END
                 KT_NOTE_BEGIN("poff") ".quad 0" KT_NOTE_END
                 KT_NOTE_BEGIN("entry") ".quad _start" KT_NOTE_END
                 KT_NOTE_BEGIN("hpage") ".quad hypercall_page" KT_NOTE_END
                 // Like Linux: page tables are updated through hypercalls or writes the
                 // hypervisor emulates, and the top level may live above 4 GiB.
                 KT_NOTE_BEGIN("feat") ".asciz \"!writable_page_tables|pae_pgdir_above_4gb\"" KT_NOTE_END
                 ".popsection\n"
                 :
                 : [os] "i"(XEN_ELFNOTE_GUEST_OS), [gver] "i"(XEN_ELFNOTE_GUEST_VERSION),
                   [xver] "i"(XEN_ELFNOTE_XEN_VERSION), [loader] "i"(XEN_ELFNOTE_LOADER),
                   [vbase] "i"(XEN_ELFNOTE_VIRT_BASE), [poff] "i"(XEN_ELFNOTE_PADDR_OFFSET),
                   [entry] "i"(XEN_ELFNOTE_ENTRY), [hpage] "i"(XEN_ELFNOTE_HYPERCALL_PAGE),
                   [feat] "i"(XEN_ELFNOTE_FEATURES));
}

} // namespace
