#include "memory_map.hpp"

namespace {

// The highest page-aligned address: available ranges never end above it.
constexpr uint64_t TOP_PAGE = kstd::align_down(UINT64_MAX, PAGE_SIZE);

// Where firmware regions overlap the higher rank wins: anything beats available RAM, memory
// the firmware may still use beats memory it merely reserved, and the hypervisor's own
// carve-outs beat everything. A strict order, so the result never depends on input order.
unsigned rank(RegionType t) {
    switch (t) {
    case RegionType::available: return 0;
    case RegionType::acpi_reclaimable: return 1;
    case RegionType::reserved: return 2;
    case RegionType::nvs: return 3;
    case RegionType::bad: return 4;
    case RegionType::boot_data: return 5;
    case RegionType::module: return 6;
    case RegionType::hypervisor: return 7;
    }
    return 2;
}

RegionType stricter(RegionType a, RegionType b) { return rank(a) >= rank(b) ? a : b; }

bool is_ram_in_use(RegionType t) {
    return t == RegionType::available || t == RegionType::hypervisor || t == RegionType::module ||
           t == RegionType::boot_data;
}

// What covers one address of a sorted list of possibly overlapping regions, and the next
// address at which that may change (has_next false: nothing lies beyond).
struct Cover {
    bool covered = false;
    RegionType type = RegionType::available;
    bool has_next = false;
    uint64_t next = 0;

    void bound(uint64_t at) {
        if (!has_next || at < next) next = at;
        has_next = true;
    }
};

Cover cover_at(const Region* regions, size_t count, uint64_t pos) {
    Cover c;
    size_t i = 0;
    for (; i < count && regions[i].base.raw() <= pos; ++i) {
        const Region& r = regions[i];
        if (r.end().raw() <= pos) continue;
        c.type = c.covered ? stricter(c.type, r.type) : r.type;
        c.covered = true;
        c.bound(r.end().raw());
    }
    if (i < count) c.bound(regions[i].base.raw());
    return c;
}

}  // namespace

const char* region_type_name(RegionType t) {
    switch (t) {
    case RegionType::available: return "available";
    case RegionType::reserved: return "reserved";
    case RegionType::acpi_reclaimable: return "ACPI reclaimable";
    case RegionType::nvs: return "ACPI NVS";
    case RegionType::bad: return "bad";
    case RegionType::hypervisor: return "hypervisor";
    case RegionType::module: return "boot module";
    case RegionType::boot_data: return "boot data";
    }
    return "?";
}

bool MemoryMap::insert_at(size_t i, const Region& r) {
    if (count_ == CAPACITY) return false;
    for (size_t j = count_; j > i; --j) regions_[j] = regions_[j - 1];
    regions_[i] = r;
    ++count_;
    return true;
}

void MemoryMap::erase_at(size_t i) {
    for (size_t j = i; j + 1 < count_; ++j) regions_[j] = regions_[j + 1];
    --count_;
}

bool MemoryMap::add(Paddr base, uint64_t size, RegionType t, kstd::Diagnostics& diag) {
    if (size > UINT64_MAX - base.raw()) {
        diag.add("region at {:#x} reaches past the end of the address space: cut short", base);
        size = UINT64_MAX - base.raw();
    }
    if (count_ == CAPACITY) {
        // Resolving overlaps and merging neighbours usually makes room.
        compact(diag);
    }
    if (count_ == CAPACITY) {
        diag.add("memory map full ({} ranges): [{:#x}, {:#x}) {} dropped", CAPACITY, base, base + size,
                 region_type_name(t));
        // Whatever else is dropped, memory the firmware withholds must not stay available.
        if (t != RegionType::available) retype_available(base.raw(), base.raw() + size, t);
        return false;
    }
    regions_[count_++] = Region{base, size, t};
    return true;
}

void MemoryMap::compact(kstd::Diagnostics& diag) {
    drop_empty(diag);
    sort();
    flatten(diag);
}

void MemoryMap::sanitize(kstd::Diagnostics& diag) {
    compact(diag);
    trim_available_to_pages();
}

void MemoryMap::drop_empty(kstd::Diagnostics& diag) {
    for (size_t i = 0; i < count_;) {
        if (regions_[i].size != 0) {
            ++i;
            continue;
        }
        diag.add("zero-length {} region at {:#x} dropped", region_type_name(regions_[i].type), regions_[i].base);
        erase_at(i);
    }
}

void MemoryMap::sort() {
    // Insertion sort, stable: firmware maps are short and usually sorted already.
    for (size_t i = 1; i < count_; ++i) {
        Region r = regions_[i];
        size_t j = i;
        for (; j > 0 && r.base < regions_[j - 1].base; --j) regions_[j] = regions_[j - 1];
        regions_[j] = r;
    }
}

void MemoryMap::report_overlaps(kstd::Diagnostics& diag) const {
    // Sorted by base, so the ranges overlapping regions_[i] from above follow it directly.
    for (size_t i = 0; i < count_; ++i)
        for (size_t j = i + 1; j < count_ && regions_[j].base < regions_[i].end(); ++j) {
            const Region& a = regions_[i];
            const Region& b = regions_[j];
            diag.add("overlap [{:#x}, {:#x}) {} / [{:#x}, {:#x}) {}: {} kept", a.base, a.end(),
                     region_type_name(a.type), b.base, b.end(), region_type_name(b.type),
                     region_type_name(stricter(a.type, b.type)));
        }
}

bool MemoryMap::append_piece(size_t& n, uint64_t base, uint64_t end, RegionType t) {
    if (n > 0 && scratch_[n - 1].type == t && scratch_[n - 1].end().raw() == base) {
        scratch_[n - 1].size += end - base;
        return true;
    }
    if (n == CAPACITY) return false;
    scratch_[n++] = Region{Paddr(base), end - base, t};
    return true;
}

// Sweeps the sorted, possibly overlapping regions from the lowest address up into scratch_:
// between two consecutive region boundaries one type applies, the strictest of the regions
// covering it; neighbours of one type are merged. At most 2 * count_ boundaries, each found
// in O(count_). The result replaces the list once the overlaps have been reported, and a
// loss to the capacity is reported first, so that overlap warnings cannot crowd it out.
void MemoryMap::flatten(kstd::Diagnostics& diag) {
    size_t n = 0, dropped = 0;
    uint64_t dropped_from = 0;
    uint64_t pos = count_ ? regions_[0].base.raw() : 0;
    for (Cover c = cover_at(regions_, count_, pos); c.has_next; c = cover_at(regions_, count_, pos)) {
        if (c.covered && !append_piece(n, pos, c.next, c.type)) {
            // Pieces come in address order, so what is lost is everything above some address.
            if (dropped++ == 0) dropped_from = pos;
            if (c.type == RegionType::available) lost_bytes_ += c.next - pos;
        }
        pos = c.next;
    }
    if (dropped)
        diag.add("memory map full ({} ranges): {} pieces from {:#x} up dropped", CAPACITY, dropped, dropped_from);
    report_overlaps(diag);
    for (size_t i = 0; i < n; ++i) regions_[i] = scratch_[i];
    count_ = n;
}

void MemoryMap::trim_available_to_pages() {
    for (size_t i = 0; i < count_;) {
        Region& r = regions_[i];
        uint64_t end = kstd::align_down(r.end().raw(), PAGE_SIZE);
        bool whole = r.base.raw() <= TOP_PAGE && kstd::align_up(r.base.raw(), PAGE_SIZE) < end;
        if (r.type != RegionType::available) {
            ++i;
        } else if (!whole) {
            erase_at(i);
        } else {
            r.base = Paddr(kstd::align_up(r.base.raw(), PAGE_SIZE));
            r.size = end - r.base.raw();
            ++i;
        }
    }
}

void MemoryMap::merge_adjacent() {
    for (size_t i = 0; i + 1 < count_;) {
        Region& a = regions_[i];
        const Region& b = regions_[i + 1];
        if (a.type == b.type && a.end() == b.base) {
            a.size += b.size;
            erase_at(i + 1);
        } else {
            ++i;
        }
    }
}

// If [lo, hi) touches an edge of available range i and the range beyond that edge already
// has type t, grows that neighbour over [lo, hi) and shrinks range i: no new slot is needed.
bool MemoryMap::join_neighbour(size_t i, uint64_t lo, uint64_t hi, RegionType t) {
    Region& r = regions_[i];
    uint64_t rb = r.base.raw(), re = r.end().raw();
    bool prev = lo == rb && i > 0 && regions_[i - 1].type == t && regions_[i - 1].end().raw() == lo;
    bool next = !prev && hi == re && i + 1 < count_ && regions_[i + 1].type == t && regions_[i + 1].base.raw() == hi;
    if (prev) {
        regions_[i - 1].size += hi - lo;
        r = Region{Paddr(hi), re - hi, RegionType::available};
    } else if (next) {
        regions_[i + 1] = Region{Paddr(lo), regions_[i + 1].end().raw() - lo, t};
        r.size = lo - rb;
    } else {
        return false;
    }
    if (r.size == 0) erase_at(i);
    return true;
}

// Re-types [lo, hi), which lies inside available range i, as t. Splitting the range needs
// up to two more slots; when the map has fewer free, the smaller remaining side is given
// up to t as well (counted in lost_bytes_): the map never overflows, and memory is only ever
// lost to the allocator, never handed out twice.
void MemoryMap::retype_part(size_t i, uint64_t lo, uint64_t hi, RegionType t) {
    const uint64_t rb = regions_[i].base.raw(), re = regions_[i].end().raw();
    for (;;) {
        if (join_neighbour(i, lo, hi, t)) return;
        size_t extra = size_t(rb < lo) + size_t(hi < re);
        if (extra <= CAPACITY - count_) break;
        bool give_left = rb < lo && (hi == re || lo - rb <= re - hi);
        lost_bytes_ += give_left ? lo - rb : re - hi;
        if (give_left) lo = rb;
        else hi = re;
    }
    const Region mid{Paddr(lo), hi - lo, t};
    if (rb < lo) {
        regions_[i].size = lo - rb;
        insert_at(++i, mid);
    } else {
        regions_[i] = mid;
    }
    if (hi < re) insert_at(i + 1, Region{Paddr(hi), re - hi, RegionType::available});
}

void MemoryMap::retype_available(uint64_t base, uint64_t end, RegionType t) {
    for (uint64_t pos = base; pos < end;) {
        // Ranges are sorted and disjoint: the first available one ending above pos is next.
        size_t i = 0;
        while (i < count_ && (regions_[i].type != RegionType::available || regions_[i].end().raw() <= pos)) ++i;
        if (i == count_ || regions_[i].base.raw() >= end) break;
        uint64_t hi = kstd::min(regions_[i].end().raw(), end);
        retype_part(i, kstd::max(regions_[i].base.raw(), pos), hi, t);
        pos = hi;
    }
    merge_adjacent();
}

void MemoryMap::reserve(Paddr base, uint64_t size, RegionType t) {
    if (size == 0 || t == RegionType::available) return;
    uint64_t end = size > UINT64_MAX - base.raw() ? UINT64_MAX : base.raw() + size;
    // Widened to whole pages: a page the hypervisor uses in part cannot be given out.
    uint64_t hi = end > TOP_PAGE ? TOP_PAGE : kstd::align_up(end, PAGE_SIZE);
    retype_available(kstd::align_down(base.raw(), PAGE_SIZE), hi, t);
}

void MemoryMap::limit(Paddr top) {
    uint64_t cut = kstd::align_down(top.raw(), PAGE_SIZE);
    for (size_t i = 0; i < count_;) {
        Region& r = regions_[i];
        if (r.type != RegionType::available || r.end().raw() <= cut) {
            ++i;
        } else if (r.base.raw() >= cut) {
            erase_at(i);
        } else {
            r.size = cut - r.base.raw();
            ++i;
        }
    }
}

bool MemoryMap::take_pages(size_t n, Paddr below, Paddr& out) {
    if (n == 0 || n > (UINT64_MAX >> PAGE_SHIFT)) return false;
    uint64_t want = uint64_t(n) << PAGE_SHIFT;
    for (size_t i = count_; i-- > 0;) {
        const Region& r = regions_[i];
        if (r.type != RegionType::available || r.base >= below || r.base.raw() > TOP_PAGE) continue;
        uint64_t lo = kstd::align_up(r.base.raw(), PAGE_SIZE);
        uint64_t hi = kstd::align_down(kstd::min(r.end().raw(), below.raw()), PAGE_SIZE);
        if (hi < lo || hi - lo < want) continue;
        out = Paddr(hi - want);
        retype_part(i, hi - want, hi, RegionType::boot_data);
        merge_adjacent();
        return true;
    }
    return false;
}

uint64_t MemoryMap::total(RegionType t) const {
    uint64_t sum = 0;
    for (size_t i = 0; i < count_; ++i)
        if (regions_[i].type == t) sum += regions_[i].size;
    return sum;
}

Paddr MemoryMap::highest_available_end() const {
    for (size_t i = count_; i-- > 0;)
        if (is_ram_in_use(regions_[i].type)) return regions_[i].end();
    return Paddr(0);
}
