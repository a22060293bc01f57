#include "memory.hpp"

#include <arch/layout.hpp>

#include "kstd/string.hpp"
#include "log.hpp"
#include "memory_map.hpp"
#include "memory_op.hpp"
#include "paging.hpp"
#include "panic.hpp"
#include "percpu.hpp"
#include "tlb.hpp"

namespace memory {

namespace {

FrameAllocator allocator;
MemoryMap* early_map;
const MemoryMap* host_map;

constexpr Paddr BELOW_4G(4 * kstd::GiB);
constexpr Paddr LOW_MEMORY_END(1 * kstd::MiB);
Paddr low_page_pa;

Paddr early_table_frame() {
    Paddr pa;
    if (!early_map->take_pages(1, BELOW_4G, pa)) panic("out of memory below 4 GiB for page tables");
    return pa;
}

Paddr buddy_table_frame() { return alloc_frame_below(Paddr(~uint64_t{0})); }

unsigned order_for(size_t bytes) {
    size_t pages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
    return pages <= 1 ? 0 : kstd::log2_floor(pages - 1) + 1;
}

class BuddyPageSource final : public PageSource {
public:
    void* alloc_page() override {
        auto m = allocator.alloc(0);
        return m ? paging::phys_to_virt(mfn_to_paddr(*m)) : nullptr;
    }
    void free_page(void* p) override {
        if (!allocator.free(paddr_to_mfn(paging::virt_to_phys(p)), 0)) panic("object cache returned a page it did not own: {}", p);
    }
};

BuddyPageSource buddy_pages;

void init_allocator(MemoryMap& map) {
    Mfn max = paddr_to_mfn_up(map.highest_available_end());
    size_t meta_pages = (FrameAllocator::metadata_bytes(max) + PAGE_SIZE - 1) / PAGE_SIZE;
    Paddr meta;
    if (!map.take_pages(meta_pages, Paddr(~uint64_t{0}), meta)) panic("no room for frame allocator metadata");
    allocator.init(layout::DIRECTMAP_BASE, max, static_cast<uint8_t*>(paging::phys_to_virt(meta)));
    // Only frames guests gave back carry stamps, so this runs once guests do, never at boot.
    allocator.set_stale_tlb_flush(tlb::flush_stale);
    // The first MiB is I/O memory, as on Xen (the BIOS areas dom0 reads): never allocated.
    for (size_t i = 0; i < map.count(); ++i) {
        if (map[i].type != RegionType::available || map[i].end() <= LOW_MEMORY_END) continue;
        Paddr base = map[i].base < LOW_MEMORY_END ? LOW_MEMORY_END : map[i].base;
        allocator.add_free_range(base, map[i].end());
    }
}

// RAM as Xen's arch_init_memory sees it: whole frames of RAM and unusable regions. Everything
// else below the last RAM frame (holes, firmware and ACPI ranges) is I/O memory.
bool is_ram(RegionType t) {
    return t == RegionType::available || t == RegionType::hypervisor || t == RegionType::module ||
           t == RegionType::boot_data || t == RegionType::bad;
}

void mark_io_frames(FrameTable& table, const MemoryMap& map) {
    table.mark_io(Mfn(0), table.nr_frames());
    for (size_t i = 0; i < map.count(); ++i) {
        if (!is_ram(map[i].type)) continue;
        Mfn first = paddr_to_mfn_up(map[i].base);
        Mfn end = paddr_to_mfn(map[i].end());
        if (end.raw() > first.raw()) table.mark_io(first, end.raw() - first.raw(), false);
    }
    table.mark_io(Mfn(0), LOW_MEMORY_END.raw() / PAGE_SIZE);
}

}  // namespace

void init(MemoryMap& map) {
    early_map = &map;
    host_map = &map;
    // The one page below 1 MiB the hypervisor needs (the APs' real-mode trampoline), taken
    // before the allocator, which never hands out the first MiB.
    if (!map.take_pages(1, LOW_MEMORY_END, low_page_pa)) panic("no free page below 1 MiB for the AP trampoline");
    paging::set_table_allocator(early_table_frame);
    paging::init(map);
    init_allocator(map);
    paging::set_table_allocator(buddy_table_frame);
    early_map = nullptr;
}

FrameAllocator& frames() { return allocator; }
Paddr low_page() { return low_page_pa; }
PageSource& page_source() { return buddy_pages; }

Paddr alloc_frame_below(Paddr limit) {
    auto m = allocator.alloc(0, limit);
    if (!m) panic("out of memory: no free frame below {:#x}", limit);
    return mfn_to_paddr(*m);
}

MachineMemory& machine() {
    static MachineMemory m(allocator, layout::DIRECTMAP_BASE);
    return m;
}

void init_frame_table(const MemoryMap& map) {
    static FrameTable table;
    uint64_t nr = allocator.max_mfn().raw();
    auto* info = static_cast<PageInfo*>(alloc_zeroed(nr * sizeof(PageInfo)));
    auto* m2p = static_cast<uint64_t*>(alloc_zeroed(nr * sizeof(uint64_t)));
    table.init(info, m2p, nr);
    mark_io_frames(table, map);
    size_t m2p_pages = (nr * sizeof(uint64_t) + PAGE_SIZE - 1) / PAGE_SIZE;
    if (layout::M2P_BASE + m2p_pages * PAGE_SIZE > layout::M2P_END) panic("machine-to-phys table too large");
    paging::map_guest_readonly(layout::M2P_BASE, paging::virt_to_phys(m2p), m2p_pages);
    machine().set_table(&table);
}

void* alloc_zeroed(size_t bytes) {
    auto m = allocator.alloc(order_for(bytes));
    if (!m) panic("out of memory allocating {} bytes", bytes);
    void* p = paging::phys_to_virt(mfn_to_paddr(*m));
    memset(p, 0, PAGE_SIZE << order_for(bytes));
    return p;
}

void setup_stacks(arch::PerCpu& p) {
    uint64_t slot = layout::STACKS_BASE + uint64_t(p.id.raw()) * layout::STACK_SLOT_SIZE;
    uint64_t va = slot + PAGE_SIZE;  // the slot's first page is a guard
    for (unsigned i = 0; i < arch::ist::COUNT; ++i) {
        paging::map_frames(va, alloc_frame_below(Paddr(~uint64_t{0})), 1);
        p.ist_bottom[i] = va;
        va += layout::IST_STACK_SIZE + PAGE_SIZE;  // stack, then the next guard
    }
    size_t main_pages = layout::MAIN_STACK_SIZE / PAGE_SIZE;
    auto block = allocator.alloc(order_for(layout::MAIN_STACK_SIZE));
    if (!block) panic("out of memory for CPU{} stack", p.id);
    paging::map_frames(va, mfn_to_paddr(*block), main_pages);
    p.stack_bottom = va;
    p.stack_top = va + layout::MAIN_STACK_SIZE;
}

}  // namespace memory

const MemoryMap& memory_arch::host_memory_map() { return *memory::host_map; }
