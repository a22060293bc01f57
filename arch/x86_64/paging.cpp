#include "paging.hpp"

#include <arch/cpu.hpp>
#include <arch/cpuid_bits.hpp>

#include "kstd/string.hpp"
#include "memory_map.hpp"
#include "panic.hpp"
#include "spinlock.hpp"

extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[], __data_start[], __bss_end[];

namespace paging {

namespace {

using kstd::bit;

constexpr uint64_t PTE_P = bit(0);
constexpr uint64_t PTE_RW = bit(1);
constexpr uint64_t PTE_PWT = bit(3);
constexpr uint64_t PTE_PCD = bit(4);
constexpr uint64_t PTE_PS = bit(7);
constexpr uint64_t PTE_G = bit(8);
constexpr uint64_t PTE_NX = bit(63);
constexpr uint64_t PTE_ADDR = 0x000ffffffffff000;
constexpr uint64_t CR4_PGE = bit(7);

constexpr uint64_t SIZE_4K = uint64_t{1} << 12;
constexpr uint64_t SIZE_2M = uint64_t{1} << 21;
constexpr uint64_t SIZE_1G = uint64_t{1} << 30;

TableAllocator allocate_table;
Paddr root_pa;
uint64_t nx;             // PTE_NX where the CPU has NX, else 0 (the bit would be reserved)
bool have_1g_pages;
uint64_t io_next = layout::IO_WINDOW_BASE;
Spinlock lock;
Stats counters;

uint64_t* table_at(Paddr pa) { return static_cast<uint64_t*>(phys_to_virt(pa)); }

unsigned index_at(uint64_t va, unsigned level) { return unsigned(va >> (12 + 9 * (level - 1))) & 511; }

Paddr new_table() {
    Paddr pa = allocate_table();
    memset(phys_to_virt(pa), 0, PAGE_SIZE);
    ++counters.table_frames;
    return pa;
}

// Returns the table at `level` (1 = page table) that covers va, creating tables above it;
// `path` adds entry bits on the way (PTE_US for the one area guests may read).
uint64_t* walk_create(uint64_t va, unsigned level, uint64_t path = 0) {
    uint64_t* t = table_at(root_pa);
    for (unsigned l = 4; l > level; --l) {
        uint64_t& e = t[index_at(va, l)];
        if (!(e & PTE_P)) e = new_table().raw() | PTE_P | PTE_RW;
        e |= path;
        if (e & PTE_PS) panic("paging: {:#x} is inside a large page at level {}", va, l);
        t = table_at(Paddr(e & PTE_ADDR));
    }
    return t;
}

// Maps one page of the largest size the alignment and remaining length allow.
uint64_t map_one(uint64_t va, uint64_t pa, uint64_t left, uint64_t flags, bool large) {
    auto fits = [&](uint64_t size) { return large && (va % size) == 0 && (pa % size) == 0 && left >= size; };
    if (have_1g_pages && fits(SIZE_1G)) {
        walk_create(va, 3)[index_at(va, 3)] = pa | flags | PTE_PS;
        ++counters.pages_1g;
        return SIZE_1G;
    }
    if (fits(SIZE_2M)) {
        walk_create(va, 2)[index_at(va, 2)] = pa | flags | PTE_PS;
        ++counters.pages_2m;
        return SIZE_2M;
    }
    walk_create(va, 1)[index_at(va, 1)] = pa | flags;
    ++counters.pages_4k;
    return SIZE_4K;
}

void map_range(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags, bool large) {
    while (size) {
        uint64_t step = map_one(va, pa, size, flags, large);
        va += step;
        pa += step;
        size -= step;
    }
}

void map_image_section(const char* start, const char* end, uint64_t flags) {
    auto va = reinterpret_cast<uint64_t>(start);
    auto len = kstd::align_up(reinterpret_cast<uint64_t>(end), PAGE_SIZE) - va;
    map_range(va, va - layout::IMAGE_OFFSET, len, flags | PTE_P | PTE_G, false);
}

bool is_ram(RegionType t) {
    return t == RegionType::available || t == RegionType::acpi_reclaimable || t == RegionType::hypervisor ||
           t == RegionType::module || t == RegionType::boot_data;
}

void map_direct(const MemoryMap& map) {
    // Page-table frames for this mapping are carved out of the same map while it is mapped,
    // which reorders its regions: walk a copy.
    struct Range {
        uint64_t base, end;
    };
    Range ranges[MemoryMap::CAPACITY];
    size_t n = 0;
    for (size_t i = 0; i < map.count(); ++i) {
        if (!is_ram(map[i].type)) continue;
        // Adjacent RAM of different kinds is mapped as one range, so large pages can span it.
        if (n && ranges[n - 1].end == map[i].base.raw()) ranges[n - 1].end = map[i].end().raw();
        else ranges[n++] = {map[i].base.raw(), map[i].end().raw()};
    }
    for (size_t i = 0; i < n; ++i) {
        uint64_t base = kstd::align_down(ranges[i].base, PAGE_SIZE);
        uint64_t end = kstd::min(kstd::align_up(ranges[i].end, PAGE_SIZE), layout::DIRECTMAP_SIZE);
        if (base >= end) continue;
        map_range(layout::DIRECTMAP_BASE + base, base, end - base, PTE_P | PTE_RW | PTE_G | nx, true);
        counters.direct_map_bytes += end - base;
    }
}

}  // namespace

void set_table_allocator(TableAllocator a) { allocate_table = a; }

void init(const MemoryMap& map) {
    auto ext = arch::cpuid(0x80000001);
    nx = (ext.edx & cpuid_bits::X1D_NX) ? PTE_NX : 0;
    have_1g_pages = ext.edx & cpuid_bits::X1D_PAGE1GB;
    root_pa = new_table();
    map_image_section(__text_start, __text_end, 0);                  // read + execute
    map_image_section(__rodata_start, __rodata_end, nx);             // read only
    map_image_section(__data_start, __bss_end, PTE_RW | nx);         // read + write
    map_direct(map);
    activate();
}

void activate() {
    arch::write_cr3(root_pa.raw());
    arch::write_cr4(arch::read_cr4() | CR4_PGE);
}

Paddr root() { return root_pa; }

Paddr virt_to_phys(const void* va) {
    auto v = reinterpret_cast<uint64_t>(va);
    if (v >= layout::DIRECTMAP_BASE) return Paddr(v - layout::DIRECTMAP_BASE);
    return Paddr(v - layout::IMAGE_OFFSET);
}

void* map_io(Paddr pa, size_t size, Cache cache) {
    LockGuard g(lock);
    uint64_t first = kstd::align_down(pa.raw(), PAGE_SIZE);
    uint64_t len = kstd::align_up(pa.raw() + size, PAGE_SIZE) - first;
    if (io_next + len > layout::IO_WINDOW_BASE + layout::IO_WINDOW_SIZE) panic("paging: I/O window exhausted");
    uint64_t flags = PTE_P | PTE_RW | PTE_G | nx | (cache == Cache::uncached ? (PTE_PCD | PTE_PWT) : 0);
    uint64_t va = io_next;
    map_range(va, first, len, flags, false);
    io_next += len;
    return reinterpret_cast<void*>(va + (pa.raw() - first));
}

void map_guest_readonly(uint64_t va, Paddr first, size_t n) {
    constexpr uint64_t PTE_US = bit(2);
    for (size_t i = 0; i < n; ++i)
        walk_create(va + i * SIZE_4K, 1, PTE_US)[index_at(va + i * SIZE_4K, 1)] =
            (first.raw() + i * SIZE_4K) | PTE_P | PTE_US | PTE_G | nx;
    counters.pages_4k += n;
}

void set_page(uint64_t va, Paddr pa, bool writable) {
    uint64_t* l1;
    {
        LockGuard g(lock);
        l1 = walk_create(va, 1);
    }
    l1[index_at(va, 1)] = pa.raw() | PTE_P | (writable ? PTE_RW : 0) | PTE_G | nx;
    arch::invlpg(va);
}

void map_frames(uint64_t va, Paddr first, size_t n) {
    LockGuard g(lock);
    map_range(va, first.raw(), n * PAGE_SIZE, PTE_P | PTE_RW | PTE_G | nx, false);
}

bool is_mapped(uint64_t va) {
    if (root_pa.raw() == 0) return va >= layout::IMAGE_OFFSET;  // boot tables: image and direct map
    uint64_t* t = table_at(root_pa);
    for (unsigned l = 4; l >= 1; --l) {
        uint64_t e = t[index_at(va, l)];
        if (!(e & PTE_P)) return false;
        if (l == 1 || (e & PTE_PS)) return true;
        t = table_at(Paddr(e & PTE_ADDR));
    }
    return false;
}

Stats stats() { return counters; }

}  // namespace paging
