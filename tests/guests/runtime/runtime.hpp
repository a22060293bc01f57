// What the runtime knows about the domain it runs in: the start_info page the hypervisor handed
// over, the shared_info page (mapped by the runtime at start-up), and the registers at entry.
// The bootstrap virtual area begins at virt_base: pseudo-physical frame p is mapped at
// virt_base + p * 4096 for every frame of the initial mapping (Xen's documented PV layout).
#pragma once

#include <cstddef>
#include <cstdint>

#include <xen/xen.h>

#define KT_BOOT_STACK_SIZE 32768
#define KT_STR_(x) #x
#define KT_STR(x) KT_STR_(x)

extern "C" {
extern std::uint64_t kt_entry_rsp;
extern std::uint64_t kt_entry_rsi;
extern std::uint64_t kt_entry_rflags;
extern std::uint64_t kt_entry_regs_or;
extern std::uint64_t kt_entry_tsc;  // the TSC at the kernel's first instructions
extern unsigned char kt_image_start[];
extern unsigned char kt_image_end[];
extern unsigned char kt_load_end[];
}

namespace kt {

inline constexpr std::size_t boot_stack_size = KT_BOOT_STACK_SIZE;
inline constexpr std::uint64_t page_size = 4096;
// Must equal KT_VIRT_BASE in kernel.ld (checked at start-up against kt_image_start).
inline constexpr std::uint64_t virt_base = 0xffffffff80000000;

// Page-table entry bits (hardware, Intel SDM vol. 3 4.5).
inline constexpr std::uint64_t pte_present = 1u << 0;
inline constexpr std::uint64_t pte_rw = 1u << 1;
inline constexpr std::uint64_t pte_user = 1u << 2;
inline constexpr std::uint64_t pte_accessed = 1u << 5;
inline constexpr std::uint64_t pte_dirty = 1u << 6;
inline constexpr std::uint64_t pte_large = 1u << 7;
inline constexpr std::uint64_t pte_addr_mask = 0x000ffffffffff000ull;

// RFLAGS bits.
inline constexpr std::uint64_t rflags_if = 1u << 9;
inline constexpr std::uint64_t rflags_iopl = 3u << 12;

start_info_t* start_info();
// The kernel's command line (start_info's cmd_line).
inline const char* command_line() { return reinterpret_cast<const char*>(start_info()->cmd_line); }
shared_info_t* shared_info();
vcpu_info_t* vcpu0();

// Pseudo-physical <-> machine frame numbers through the guest's p2m list (mfn_list) and the
// hypervisor's read-only machine-to-phys table at MACH2PHYS_VIRT_START.
std::uint64_t pfn_to_mfn(std::uint64_t pfn);
std::uint64_t mfn_to_pfn(std::uint64_t mfn);
// Machine frame behind a virtual address of the bootstrap area.
std::uint64_t virt_to_mfn(const void* va);
// Virtual address in the bootstrap area of a machine frame that belongs to the initial mapping.
void* mfn_to_virt(std::uint64_t mfn);

// Walks the current page tables (from pt_base). Returns false with *pte = 0 if any level is
// not present; reads tables through the bootstrap area, so tables outside it are not walked.
bool lookup_pte(std::uint64_t va, std::uint64_t* pte);
// Machine address of the entry at `level` (1-4) on the way to p (tables read through the
// bootstrap area), for mmu_update requests; l1e_maddr: the L1 entry that maps p. read_entry
// reads the entry at such an address.
std::uint64_t entry_maddr(const void* p, int level);
std::uint64_t l1e_maddr(const void* p);
std::uint64_t read_entry(std::uint64_t maddr);

// A page of our own image re-mapped onto a machine frame (e.g. the shared_info page).
bool map_machine_page(void* page_va, std::uint64_t maddr, bool writable);

// vcpu_info[0].evtchn_upcall_mask as the hypervisor left it, before the runtime masked events.
std::uint8_t initial_upcall_mask();

// Called once by the runtime before any test.
void runtime_init(start_info_t* si);

[[noreturn]] void fatal(const char* why);

} // namespace kt
