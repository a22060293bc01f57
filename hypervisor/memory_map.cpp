#include "memory_map.hpp"

namespace {

// Higher wins where firmware regions overlap: anything beats available RAM, and memory
// the firmware may still use beats memory it merely reserved.
int restrictiveness(RegionType t) {
    switch (t) {
    case RegionType::available: return 0;
    case RegionType::acpi_reclaimable: return 1;
    case RegionType::reserved: return 2;
    case RegionType::nvs: return 3;
    case RegionType::bad: return 4;
    default: return 5;
    }
}

bool is_ram_in_use(RegionType t) {
    return t == RegionType::available || t == RegionType::hypervisor || t == RegionType::module ||
           t == RegionType::boot_data;
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
    if (count_ == CAPACITY) {
        overflowed_ = true;
        return false;
    }
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
    if (base.raw() + size < base.raw()) {
        diag.add("region at {:#x} wraps past the end of the address space: dropped", base);
        return false;
    }
    if (!insert_at(count_, Region{base, size, t})) {
        diag.add("memory map full ({} regions): region [{:#x}, {:#x}) dropped", CAPACITY, base, base + size);
        return false;
    }
    return true;
}

void MemoryMap::sanitize(kstd::Diagnostics& diag) {
    for (size_t i = 0; i < count_;) {
        if (regions_[i].size == 0) {
            diag.add("zero-length region at {:#x} dropped", regions_[i].base);
            erase_at(i);
        } else {
            ++i;
        }
    }
    sort();
    // Resolve overlaps pairwise between neighbours until none is left.
    for (size_t i = 0; i + 1 < count_;) {
        Region& a = regions_[i];
        Region& b = regions_[i + 1];
        if (a.end() <= b.base) {
            ++i;
            continue;
        }
        diag.add("regions [{:#x}, {:#x}) {} and [{:#x}, {:#x}) {} overlap: the overlap is {}", a.base, a.end(),
                 region_type_name(a.type), b.base, b.end(), region_type_name(b.type),
                 region_type_name(restrictiveness(a.type) >= restrictiveness(b.type) ? a.type : b.type));
        Region first = a, second = b;
        Paddr end = kstd::max(first.end(), second.end());
        Paddr overlap_end = kstd::min(first.end(), second.end());
        RegionType winner = restrictiveness(first.type) >= restrictiveness(second.type) ? first.type : second.type;
        // Rebuild as up to three pieces: before the overlap, the overlap, after it.
        Region pieces[3] = {
            {first.base, second.base - first.base, first.type},
            {second.base, overlap_end - second.base, winner},
            {overlap_end, end - overlap_end, first.end() > second.end() ? first.type : second.type},
        };
        erase_at(i + 1);
        erase_at(i);
        size_t at = i;
        for (const Region& p : pieces)
            if (p.size && insert_at(at, p)) ++at;
        // The last piece may start after later regions: restore the order and look again
        // from the previous pair. Each step removes overlap, so this ends.
        sort();
        i = i > 0 ? i - 1 : 0;
    }
    merge_adjacent();
    if (overflowed_) diag.add("memory map capacity ({}) exceeded while sanitizing: some regions were lost", CAPACITY);
}

void MemoryMap::sort() {
    // Insertion sort: firmware maps are short and usually sorted already.
    for (size_t i = 1; i < count_; ++i)
        for (size_t j = i; j > 0 && regions_[j].base < regions_[j - 1].base; --j) {
            Region tmp = regions_[j];
            regions_[j] = regions_[j - 1];
            regions_[j - 1] = tmp;
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

void MemoryMap::retype_available(uint64_t base, uint64_t end, RegionType t) {
    for (size_t i = 0; i < count_ && base < end; ++i) {
        Region r = regions_[i];
        uint64_t rb = r.base.raw(), re = r.end().raw();
        if (r.type != RegionType::available || re <= base || rb >= end) continue;
        uint64_t cut_b = kstd::max(rb, base), cut_e = kstd::min(re, end);
        erase_at(i);
        size_t at = i;
        if (rb < cut_b && insert_at(at, Region{Paddr(rb), cut_b - rb, RegionType::available})) ++at;
        if (insert_at(at, Region{Paddr(cut_b), cut_e - cut_b, t})) ++at;
        if (cut_e < re && insert_at(at, Region{Paddr(cut_e), re - cut_e, RegionType::available})) ++at;
        i = at - 1;
    }
    merge_adjacent();
}

void MemoryMap::reserve(Paddr base, uint64_t size, RegionType t) {
    uint64_t end = base.raw() + size < base.raw() ? UINT64_MAX : base.raw() + size;
    retype_available(kstd::align_down(base.raw(), PAGE_SIZE), kstd::align_up(end, PAGE_SIZE), t);
}

void MemoryMap::limit(Paddr top) {
    for (size_t i = 0; i < count_;) {
        Region& r = regions_[i];
        if (r.type != RegionType::available || r.end() <= top) {
            ++i;
        } else if (r.base >= top) {
            erase_at(i);
        } else {
            r.size = top - r.base;
            ++i;
        }
    }
}

bool MemoryMap::take_pages(size_t n, Paddr below, Paddr& out) {
    uint64_t want = n * PAGE_SIZE;
    for (size_t i = count_; i-- > 0;) {
        const Region& r = regions_[i];
        if (r.type != RegionType::available) continue;
        uint64_t lo = kstd::align_up(r.base.raw(), PAGE_SIZE);
        uint64_t hi = kstd::align_down(kstd::min(r.end().raw(), below.raw()), PAGE_SIZE);
        if (hi <= lo || hi - lo < want) continue;
        out = Paddr(hi - want);
        retype_available(hi - want, hi, RegionType::boot_data);
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
