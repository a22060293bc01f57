// The machine's physical memory as the hypervisor sees it: a sorted list of non-overlapping
// typed ranges. Firmware regions go in raw (overlapping, zero-length), sanitize() makes the
// list consistent, and the boot path then carves out what it uses (image, modules, early page
// tables). The frame allocator later takes every range still `available`.
//
// Invariant after sanitize(): ranges are sorted, disjoint, non-empty, and adjacent ranges of
// one type are merged. The capacity is fixed; running out is reported, never overflowed.
#pragma once

#include "kstd/diagnostics.hpp"
#include "types.hpp"

enum class RegionType : uint8_t { available, reserved, acpi_reclaimable, nvs, bad, hypervisor, module, boot_data };

const char* region_type_name(RegionType t);

struct Region {
    Paddr base;
    uint64_t size;
    RegionType type;

    Paddr end() const { return base + size; }
};

class MemoryMap final {
public:
    static constexpr size_t CAPACITY = 256;

    // Adds a raw firmware region; false (with a diagnostic) when the map is full.
    bool add(Paddr base, uint64_t size, RegionType t, kstd::Diagnostics& diag);
    void sanitize(kstd::Diagnostics& diag);
    // Re-types [base, base+size) where it is available memory; other types are left alone.
    void reserve(Paddr base, uint64_t size, RegionType t);
    // Drops available memory at and above top (mem=).
    void limit(Paddr top);
    // Carves n whole pages from the highest available range that fits below `below`, marking
    // them boot_data. False if no range has room.
    bool take_pages(size_t n, Paddr below, Paddr& out);

    size_t count() const { return count_; }
    const Region& operator[](size_t i) const { return regions_[i]; }
    uint64_t total(RegionType t) const;
    // End of the highest available (or hypervisor-used RAM) range; 0 if none.
    Paddr highest_available_end() const;

private:
    bool insert_at(size_t i, const Region& r);
    void erase_at(size_t i);
    void sort();
    void merge_adjacent();
    // Sets [base, end) within available ranges to type t, splitting ranges as needed.
    void retype_available(uint64_t base, uint64_t end, RegionType t);

    Region regions_[CAPACITY] = {};
    size_t count_ = 0;
    bool overflowed_ = false;
};
