// The machine's physical memory as the hypervisor sees it: a fixed-capacity list of typed
// physical ranges.
//
// Life cycle: the boot path add()s the firmware's regions as given (overlapping, unsorted,
// zero-length), calls sanitize() once, then carves out what it uses with reserve() and
// take_pages() and applies mem= with limit(). The frame allocator finally takes every range
// still `available`.
//
// Invariants after sanitize(), kept by every later call:
//   - ranges are sorted by base, disjoint and non-empty;
//   - two ranges that touch have different types (neighbours of one type are merged);
//   - `available` ranges start and end on page boundaries (partial pages are dropped);
//   - a place covered by several firmware regions has the most restrictive of their types;
//   - memory not covered by any range is not RAM: dropping a range is always the safe choice.
// Counted: count() ranges, and lost_bytes(): available memory given up because the map was
// full when a carve-out had to split a range. Nothing here ever writes past CAPACITY.
//
// Not locked: the boot CPU alone builds and reads the map before other CPUs start.
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

    // Records a raw firmware region. A region reaching past the end of the address space is
    // cut short. A full map is first compacted (sanitize() without the trimming to pages);
    // if that frees no slot the region is dropped, with a diagnostic, and false returned, but
    // the available memory it covers is still withdrawn.
    bool add(Paddr base, uint64_t size, RegionType t, kstd::Diagnostics& diag);
    // Establishes the invariants above; warns about each zero-length region, each overlap
    // (naming both firmware ranges and the type kept) and each range lost to the capacity.
    void sanitize(kstd::Diagnostics& diag);
    // Re-types the available memory in [base, base+size), widened to whole pages, as t (for
    // the hypervisor image, boot modules, boot information). Other types are left alone.
    void reserve(Paddr base, uint64_t size, RegionType t);
    // Drops available memory at and above top, rounded down to a page (mem=).
    void limit(Paddr top);
    // Carves n whole pages from the top of the highest available range that has room below
    // `below` and marks them boot_data. False, changing nothing, if no range has room.
    bool take_pages(size_t n, Paddr below, Paddr& out);

    size_t count() const { return count_; }
    const Region& operator[](size_t i) const { return regions_[i]; }
    uint64_t total(RegionType t) const;
    // End of the highest range of RAM: available, or in use by the hypervisor (image,
    // modules, boot data). Paddr(0) if there is none.
    Paddr highest_available_end() const;
    uint64_t lost_bytes() const { return lost_bytes_; }

private:
    bool insert_at(size_t i, const Region& r);
    void erase_at(size_t i);
    void sort();
    // Sorted, disjoint, merged, overlaps reported: sanitize() except trimming to pages.
    void compact(kstd::Diagnostics& diag);
    void drop_empty(kstd::Diagnostics& diag);
    void report_overlaps(kstd::Diagnostics& diag) const;
    void flatten(kstd::Diagnostics& diag);
    bool append_piece(size_t& n, uint64_t base, uint64_t end, RegionType t);
    void trim_available_to_pages();
    void merge_adjacent();
    // Re-types every available byte of [base, end) as t.
    void retype_available(uint64_t base, uint64_t end, RegionType t);
    void retype_part(size_t i, uint64_t lo, uint64_t hi, RegionType t);
    bool join_neighbour(size_t i, uint64_t lo, uint64_t hi, RegionType t);

    Region regions_[CAPACITY] = {};
    Region scratch_[CAPACITY] = {};  // sanitize() builds the flattened map here
    size_t count_ = 0;
    uint64_t lost_bytes_ = 0;
};
