// Start-of-day layout arithmetic. Every sum goes through Cursor, which records an overflow
// instead of wrapping, so a hostile kernel or initrd size ends in an error, not a tiny layout.
#include "pv_layout.hpp"

#include "xen/xen.h"

namespace pv {

namespace {

constexpr unsigned L2_SHIFT = 21;  // one L1 table maps 2 MiB
constexpr unsigned L3_SHIFT = 30;  // one L2 table maps 1 GiB
constexpr unsigned L4_SHIFT = 39;  // one L3 table maps 512 GiB
constexpr uint64_t BOOT_ALIGN = 4 * kstd::MiB;       // v_end is a multiple of this
constexpr uint64_t MIN_PADDING = 512 * kstd::KiB;    // mapped beyond the boot stack
constexpr uint64_t LOWER_HALF_END = uint64_t{1} << 47;
constexpr uint64_t UPPER_HALF_START = ~uint64_t{0} << 47;
constexpr uint64_t P2M_ENTRY_BYTES = 8;

using Error = kstd::Unexpected<kstd::ParseError>;
Error fail(const char* what, uint64_t where) { return kstd::unexpected(kstd::ParseError{what, where}); }

// Checked address arithmetic: once an operation overflows, the cursor stays broken.
class Cursor {
public:
    explicit Cursor(uint64_t v) : v_(v) {}
    uint64_t value() const { return v_; }
    bool broken() const { return broken_; }
    Cursor& add(uint64_t n) {
        if (n > UINT64_MAX - v_) broken_ = true;
        else v_ += n;
        return *this;
    }
    Cursor& align_up(uint64_t a) {
        const uint64_t up = kstd::align_up(v_, a);
        if (up < v_) broken_ = true;
        else v_ = up;
        return *this;
    }

private:
    uint64_t v_;
    bool broken_ = false;
};

// Number of 2^shift-sized blocks [lo, hi) touches, as Xen's NR(): hi rounded up, lo down.
uint64_t blocks(uint64_t lo, uint64_t hi, unsigned shift) {
    const uint64_t mask = (uint64_t{1} << shift) - 1;
    const uint64_t hi_up = (hi >> shift) + ((hi & mask) != 0);
    return hi_up - (lo >> shift);
}

bool canonical_range(uint64_t start, uint64_t end) {
    return end <= LOWER_HALF_END || start >= UPPER_HALF_START;
}

Region region(uint64_t start, uint64_t end, uint64_t v_start) {
    return Region{Gva(start), Gva(end), Pfn((start - v_start) >> PAGE_SHIFT)};
}

// Blocks of 2^shift that [a_lo, a_hi) touches and [b_lo, b_hi) does not (both non-empty).
uint64_t new_blocks(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo, uint64_t b_hi, unsigned shift) {
    const uint64_t a_first = a_lo >> shift, a_last = (a_hi - 1) >> shift;
    const uint64_t b_first = b_lo >> shift, b_last = (b_hi - 1) >> shift;
    const uint64_t total = a_last - a_first + 1;
    const uint64_t lo = kstd::max(a_first, b_first), hi = kstd::min(a_last, b_last);
    return lo <= hi ? total - (hi - lo + 1) : total;
}

// Table frames Xen allocates to map a separate p2m list with 4 KiB pages: an L3 per 512 GiB
// slot, an L2 per GiB, an L1 per 2 MiB, except where the bootstrap tables already have one.
uint64_t p2m_tables(uint64_t start, uint64_t end, const Layout& l) {
    const uint64_t vs = l.v_start.raw(), ve = l.v_end.raw();
    return new_blocks(start, end, vs, ve, L4_SHIFT) + new_blocks(start, end, vs, ve, L3_SHIFT) +
           new_blocks(start, end, vs, ve, L2_SHIFT);
}

// The fixed-point search for the page-table count (dom0_construct_pv's nr_pt_pages loop).
// Counts below the tables needed for [v_start, vpt_start) cannot succeed, so the search may
// start there; that keeps huge initrds from costing one iteration per table.
kstd::Expected<Layout, kstd::ParseError> place_tables(Layout l, uint64_t vpt_start) {
    for (uint64_t nr = kstd::max<uint64_t>(2, tables_for(l.v_start, Gva(vpt_start)));; ++nr) {
        Cursor end(vpt_start);
        end.add(nr * PAGE_SIZE);
        const uint64_t vpt_end = end.value();
        end.add(PAGE_SIZE);
        const uint64_t stack_end = end.value();
        end.align_up(BOOT_ALIGN);
        if (!end.broken() && end.value() - stack_end < MIN_PADDING) end.add(BOOT_ALIGN);
        if (end.broken()) return fail("bootstrap area wraps past 2^64", vpt_start);
        const uint64_t v_end = end.value();
        if (tables_for(l.v_start, Gva(v_end)) <= nr) {
            l.v_end = Gva(v_end);
            l.nr_pt_frames = nr;
            l.page_tables = region(vpt_start, vpt_end, l.v_start.raw());
            l.stack = region(vpt_end, stack_end, l.v_start.raw());
            return l;
        }
    }
}

// Lays out kernel, initrd, p2m, start_info and the optional store/console pages.
kstd::Expected<uint64_t, kstd::ParseError> place_regions(const LayoutInput& in, Layout& l) {
    const uint64_t vs = in.virt_base.raw();
    Cursor at(in.kernel_end.raw());
    at.align_up(PAGE_SIZE);
    l.kernel = region(in.kernel_start.raw(), in.kernel_end.raw(), vs);
    l.initrd_mapped = !in.unmapped_initrd;
    l.initrd_pages = kstd::align_up(in.initrd_bytes, PAGE_SIZE) >> PAGE_SHIFT;
    if (l.initrd_mapped) {
        const uint64_t start = at.value();
        at.add(in.initrd_bytes);
        l.initrd = region(start, at.value(), vs);
        l.initrd_pfn = l.initrd.pfn;
        at.align_up(PAGE_SIZE);
    } else {
        l.initrd = region(at.value(), at.value(), vs);
    }
    const uint64_t p2m_start = at.value();
    l.p2m_in_bootstrap = !in.has_p2m_base;
    if (l.p2m_in_bootstrap) {
        if (in.nr_pages > UINT64_MAX / P2M_ENTRY_BYTES) return fail("domain too large for a p2m list", in.nr_pages);
        at.add(in.nr_pages * P2M_ENTRY_BYTES);
        l.p2m = region(p2m_start, at.value(), vs);
        at.align_up(PAGE_SIZE);
    }
    const uint64_t si_start = at.value();
    at.add(sizeof(struct start_info));
    l.start_info = region(si_start, at.value(), vs);
    at.align_up(PAGE_SIZE);
    if (in.console_and_store) {
        const uint64_t store = at.value();
        at.add(PAGE_SIZE);
        l.xenstore = region(store, at.value(), vs);
        at.add(PAGE_SIZE);
        l.console = region(store + PAGE_SIZE, at.value(), vs);
    }
    if (at.broken()) return fail("bootstrap area wraps past 2^64", in.kernel_end.raw());
    return at.value();
}

// Xen's allocation: a 2^order block for the area (less a mapped initrd), then the initrd.
kstd::Expected<bool, kstd::ParseError> place_frames(const LayoutInput& in, Layout& l) {
    l.bootstrap_pages = (l.v_end - l.v_start) >> PAGE_SHIFT;
    const uint64_t need = l.bootstrap_pages - (l.initrd_mapped ? l.initrd_pages : 0);
    l.chunk_pages = uint64_t{1} << (need <= 1 ? 0 : kstd::log2_floor(need - 1) + 1);
    if (l.chunk_pages > in.nr_pages || l.initrd_pages > in.nr_pages - l.chunk_pages)
        return fail("domain memory too small for the kernel image", in.nr_pages);
    if (!l.initrd_mapped) l.initrd_pfn = Pfn(l.chunk_pages);
    l.first_p2m_pfn = l.chunk_pages + l.initrd_pages;
    l.p2m_pages = kstd::align_up(in.nr_pages * P2M_ENTRY_BYTES, PAGE_SIZE) >> PAGE_SHIFT;
    l.total_pfns = l.first_p2m_pfn;
    if (l.p2m_in_bootstrap) return true;

    Cursor end(in.p2m_base.raw());
    end.add(in.nr_pages * P2M_ENTRY_BYTES);
    if (end.broken() || !canonical_range(in.p2m_base.raw(), end.value()))
        return fail("INIT_P2M list leaves the canonical address space", in.p2m_base.raw());
    l.p2m = Region{in.p2m_base, Gva(end.value()), Pfn(l.first_p2m_pfn)};
    // Xen refuses a list that touches the area, its end included.
    if (l.v_start.raw() <= end.value() && in.p2m_base.raw() <= l.v_end.raw())
        return fail("INIT_P2M list overlaps the bootstrap area", in.p2m_base.raw());
    if (in.p2m_base.raw() < __HYPERVISOR_VIRT_END && end.value() > __HYPERVISOR_VIRT_START)
        return fail("INIT_P2M list overlaps the hypervisor's range", in.p2m_base.raw());
    const uint64_t mapped_end = kstd::align_up(end.value(), PAGE_SIZE);
    l.p2m_table_frames = in.nr_pages == 0 ? 0 : p2m_tables(in.p2m_base.raw(), mapped_end, l);
    if (l.p2m_pages + l.p2m_table_frames > in.nr_pages - l.total_pfns)
        return fail("domain memory too small for the initial p2m list", in.nr_pages);
    l.total_pfns += l.p2m_pages + l.p2m_table_frames;
    return true;
}

}  // namespace

uint64_t tables_for(Gva start, Gva end) {
    const uint64_t lo = start.raw(), hi = end.raw();
    return 1 + blocks(lo, hi, L4_SHIFT) + blocks(lo, hi, L3_SHIFT) + blocks(lo, hi, L2_SHIFT);
}

kstd::Expected<Layout, kstd::ParseError> compute_layout(const LayoutInput& in) {
    if (!kstd::is_aligned(in.virt_base.raw(), PAGE_SIZE)) return fail("VIRT_BASE not page aligned", in.virt_base.raw());
    if (in.kernel_start < in.virt_base || in.kernel_end < in.kernel_start)
        return fail("kernel outside the bootstrap area", in.kernel_start.raw());
    if (in.nr_pages > UINT64_MAX / P2M_ENTRY_BYTES) return fail("domain too large for a p2m list", in.nr_pages);

    Layout l{};
    l.v_start = in.virt_base;
    auto vpt_start = place_regions(in, l);
    if (!vpt_start) return kstd::unexpected(vpt_start.error());
    auto placed = place_tables(l, *vpt_start);
    if (!placed) return placed;
    l = *placed;

    if (!canonical_range(l.v_start.raw(), l.v_end.raw()))
        return fail("bootstrap area leaves the canonical address space", l.v_start.raw());
    if (l.v_start.raw() < __HYPERVISOR_VIRT_END && l.v_end.raw() > __HYPERVISOR_VIRT_START)
        return fail("bootstrap area overlaps the hypervisor's range", l.v_start.raw());
    if (auto f = place_frames(in, l); !f) return kstd::unexpected(f.error());
    return l;
}

}  // namespace pv
