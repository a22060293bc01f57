// The machine frames of the guest-visible M2P table, for XENMEM_machphys_mfn_list: found by
// walking the hypervisor's own page tables at MACH2PHYS_VIRT_START (as Xen walks its idle
// page table), so that nothing else has to remember where init_frame_table put the table.
#include <arch/layout.hpp>

#include "memory.hpp"
#include "memory_op.hpp"
#include "paging.hpp"
#include "panic.hpp"

namespace memory_arch {

namespace {

constexpr uint64_t PTE_PRESENT = 1, PTE_LARGE = 1u << 7;
constexpr uint64_t PTE_ADDR = 0x000ffffffffff000;

uint64_t entry(Paddr table, uint64_t va, unsigned level) {
    auto* t = static_cast<const uint64_t*>(paging::phys_to_virt(table));
    return t[(va >> (PAGE_SHIFT + 9 * (level - 1))) & 511];
}

}  // namespace

uint64_t max_page() { return memory::frames().max_mfn().raw(); }

Mfn m2p_frame(uint64_t index) {
    uint64_t va = layout::M2P_BASE + index * PAGE_SIZE;
    Paddr table = paging::root();
    for (unsigned level = 4; level >= 1; --level) {
        uint64_t e = entry(table, va, level);
        if (!(e & PTE_PRESENT)) panic("M2P page {} not mapped", index);
        uint64_t base = e & PTE_ADDR;
        if (level == 1) return paddr_to_mfn(Paddr(base));
        if (level <= 3 && (e & PTE_LARGE)) {
            // A large page maps 2^(9*(level-1)) frames; the frame is at va's offset within it.
            uint64_t span = uint64_t{1} << (PAGE_SHIFT + 9 * (level - 1));
            return paddr_to_mfn(Paddr((base & ~(span - 1)) + (va & (span - 1))));
        }
        table = Paddr(base);
    }
    panic("unreachable");
}

}  // namespace memory_arch
