// PV domain image construction. Order of writing follows dom0_construct_pv: zero, page
// tables, kernel, hypercall page, start_info, p2m list. Page-table frames are recorded in the
// caller's TableFrame list as they are taken; later walks (INIT_P2M) find existing tables there.
#include "pv_builder.hpp"

#include "hypercall_page.hpp"
#include "xen/xen.h"

namespace pv {

namespace {

using Error = kstd::Unexpected<kstd::ParseError>;
struct Ok {};
using Status = kstd::Expected<Ok, kstd::ParseError>;
Error fail(const char* what, uint64_t where) { return kstd::unexpected(kstd::ParseError{what, where}); }

// Page-table entry bits (Intel SDM vol. 3, 4.5), plus the software bit Xen uses on 64-bit PV
// leaf entries to tell kernel mappings from user ones (both carry USER).
constexpr uint64_t PTE_PRESENT = kstd::bit(0);
constexpr uint64_t PTE_RW = kstd::bit(1);
constexpr uint64_t PTE_USER = kstd::bit(2);
constexpr uint64_t PTE_ACCESSED = kstd::bit(5);
constexpr uint64_t PTE_DIRTY = kstd::bit(6);
constexpr uint64_t PTE_GUEST_KERNEL = kstd::bit(52);
constexpr uint64_t PTE_ADDR_MASK = 0x000ffffffffff000;

constexpr uint64_t UPPER_FLAGS = PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_DIRTY | PTE_USER;  // L2-L4
constexpr uint64_t LEAF_FLAGS = PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_USER | PTE_GUEST_KERNEL;
constexpr uint64_t P2M_LEAF_FLAGS = LEAF_FLAGS | PTE_DIRTY;

constexpr uint64_t RFLAGS_IF = kstd::bit(9);
constexpr size_t ENTRIES = 512;
constexpr size_t P2M_PER_PAGE = PAGE_SIZE / sizeof(uint64_t);

constexpr unsigned shift_of(unsigned level) { return PAGE_SHIFT + 9 * (level - 1); }
constexpr size_t index_of(uint64_t va, unsigned level) { return (va >> shift_of(level)) & (ENTRIES - 1); }
constexpr uint64_t pte(Mfn m, uint64_t flags) { return (mfn_to_paddr(m).raw() & PTE_ADDR_MASK) | flags; }

// The page-table frames taken so far, in the caller's list.
class Tables {
public:
    Tables(std::span<TableFrame> out, GuestMemory& mem) : out_(out), mem_(mem) {}

    size_t count() const { return count_; }

    // Takes frame `pfn` as a zeroed table of `level` mapping from `base`.
    kstd::Expected<uint64_t*, kstd::ParseError> take(Pfn pfn, unsigned level, Gva base) {
        if (count_ == out_.size()) return fail("page-table frame list too small", out_.size());
        uint8_t* page = mem_.map(pfn);
        memset(page, 0, PAGE_SIZE);
        out_[count_++] = TableFrame{pfn, mem_.mfn_of(pfn), static_cast<uint8_t>(level), base};
        return reinterpret_cast<uint64_t*>(page);
    }
    Mfn mfn(size_t i) const { return out_[i].mfn; }
    Mfn last_mfn() const { return out_[count_ - 1].mfn; }

    // The table of `level` whose range holds va, if one was taken. The L4 is the first taken.
    uint64_t* find(unsigned level, uint64_t va) {
        if (level == 4) return count_ ? reinterpret_cast<uint64_t*>(mem_.map(out_[0].pfn)) : nullptr;
        const uint64_t span = uint64_t{1} << shift_of(level + 1);
        for (size_t i = count_; i-- > 0;)
            if (out_[i].level == level && kstd::align_down(va, span) == kstd::align_down(out_[i].base.raw(), span))
                return reinterpret_cast<uint64_t*>(mem_.map(out_[i].pfn));
        return nullptr;
    }

private:
    std::span<TableFrame> out_;
    GuestMemory& mem_;
    size_t count_ = 0;
};

// Copies bytes to guest virtual address va inside the bootstrap area (pfn = offset / 4 KiB).
void copy_to_area(GuestMemory& mem, const Layout& l, uint64_t va, const uint8_t* src, uint64_t n) {
    while (n != 0) {
        const uint64_t off = va - l.v_start.raw();
        const uint64_t in_page = off & (PAGE_SIZE - 1);
        const uint64_t chunk = kstd::min(n, PAGE_SIZE - in_page);
        memcpy(mem.map(Pfn(off >> PAGE_SHIFT)) + in_page, src, chunk);
        va += chunk;
        src += chunk;
        n -= chunk;
    }
}

// Copies n bytes to consecutive frames from `first`.
void copy_to_frames(GuestMemory& mem, Pfn first, const uint8_t* src, uint64_t n) {
    for (uint64_t done = 0; done < n; done += PAGE_SIZE)
        memcpy(mem.map(first + (done >> PAGE_SHIFT)), src + done, kstd::min(PAGE_SIZE, n - done));
}

bool initrd_page(const Layout& l, uint64_t pfn, uint64_t initrd_bytes) {
    // Whole initrd pages are overwritten; its last, partial page must be zeroed first.
    const uint64_t first = l.initrd_pfn.raw(), whole = initrd_bytes >> PAGE_SHIFT;
    return pfn >= first && pfn < first + whole;
}

void zero_image(GuestMemory& mem, const Layout& l, uint64_t initrd_bytes) {
    for (uint64_t pfn = 0; pfn < l.total_pfns; ++pfn)
        if (!initrd_page(l, pfn, initrd_bytes)) memset(mem.map(Pfn(pfn)), 0, PAGE_SIZE);
}

// The bootstrap tables, walked as dom0_construct_pv walks them: at the first page and at each
// 2 MiB boundary a new L1, at a GiB boundary also a new L2, at 512 GiB also a new L3; Xen
// takes their frames bottom-up (L1, L2, L3) and links them top-down.
class BootWalk {
public:
    BootWalk(Tables& t, uint64_t first, uint64_t end) : t_(t), next_(first), end_(end) {}

    Status start(GuestMemory& mem) {
        auto l4 = take(4, 0);
        if (!l4) return kstd::unexpected(l4.error());
        table_[4] = *l4;
        mem.install_hypervisor_slots(table_[4], t_.mfn(0));
        return Ok{};
    }

    // Makes sure va has an L1 to go in; returns it.
    kstd::Expected<uint64_t*, kstd::ParseError> l1_for(uint64_t va) {
        unsigned fresh = 0;  // levels that need a new table at this address
        while (fresh < 3 && (table_[fresh + 1] == nullptr || index_of(va, fresh + 1) == 0)) ++fresh;
        Mfn made[4];
        for (unsigned level = 1; level <= fresh; ++level) {
            auto table = take(level, kstd::align_down(va, uint64_t{1} << shift_of(level + 1)));
            if (!table) return table;
            table_[level] = *table;
            made[level] = t_.last_mfn();
        }
        for (unsigned level = fresh; level >= 1; --level)
            table_[level + 1][index_of(va, level + 1)] = pte(made[level], UPPER_FLAGS);
        return table_[1];
    }

    bool used_all() const { return next_ == end_; }
    uint64_t next() const { return next_; }

private:
    kstd::Expected<uint64_t*, kstd::ParseError> take(unsigned level, uint64_t base) {
        if (next_ >= end_) return fail("bootstrap page tables overflow their frames", next_);
        return t_.take(Pfn(next_++), level, Gva(base));
    }

    Tables& t_;
    uint64_t next_, end_;
    uint64_t* table_[5] = {};  // the table being filled at each level, 1..4
};

Status build_bootstrap_tables(GuestMemory& mem, const Layout& l, Tables& t) {
    const uint64_t pt_first = l.page_tables.pfn.raw(), pt_end = pt_first + l.nr_pt_frames;
    BootWalk walk(t, pt_first, pt_end);
    if (auto s = walk.start(mem); !s) return s;
    for (uint64_t i = 0; i < l.bootstrap_pages; ++i) {
        const uint64_t va = l.v_start.raw() + i * PAGE_SIZE;
        auto l1 = walk.l1_for(va);
        if (!l1) return kstd::unexpected(l1.error());
        // Page-table frames are mapped read-only (mark_pv_pt_pages_rdonly).
        const bool is_table = i >= pt_first && i < pt_end;
        (*l1)[index_of(va, 1)] = pte(mem.mfn_of(Pfn(i)), is_table ? LEAF_FLAGS & ~PTE_RW : LEAF_FLAGS);
    }
    if (!walk.used_all()) return fail("bootstrap page tables used fewer frames than laid out", walk.next());
    return Ok{};
}

// Fills p2m entries [first, first + P2M_PER_PAGE) of nr_pages into one page of the list.
void fill_p2m_page(GuestMemory& mem, uint64_t* entries, uint64_t first, uint64_t nr_pages) {
    for (uint64_t k = 0; k < P2M_PER_PAGE && first + k < nr_pages; ++k) entries[k] = mem.mfn_of(Pfn(first + k)).raw();
}

// Maps one p2m page at va, taking table frames top-down from *next as setup_pv_physmap does.
Status map_p2m_page(GuestMemory& mem, Tables& t, uint64_t va, uint64_t& next) {
    uint64_t* table = t.find(4, va);
    for (unsigned level = 4; level > 1; --level) {
        uint64_t& entry = table[index_of(va, level)];
        uint64_t* child = (entry & PTE_PRESENT) ? t.find(level - 1, va) : nullptr;
        if (child == nullptr) {
            const uint64_t base = kstd::align_down(va, uint64_t{1} << shift_of(level));
            auto made = t.take(Pfn(next++), level - 1, Gva(base));
            if (!made) return kstd::unexpected(made.error());
            child = *made;
            entry = pte(t.last_mfn(), UPPER_FLAGS);
        }
        table = child;
    }
    const Pfn data(next++);
    memset(mem.map(data), 0, PAGE_SIZE);
    table[index_of(va, 1)] = pte(mem.mfn_of(data), P2M_LEAF_FLAGS);
    return Ok{};
}

// With INIT_P2M: maps the list apart and fills it; its table frames go into the list.
Status build_separate_p2m(GuestMemory& mem, const Layout& l, Tables& t) {
    const uint64_t nr_pages = l.p2m.bytes() / sizeof(uint64_t);
    uint64_t next = l.first_p2m_pfn;
    for (uint64_t va = l.p2m.start.raw(), first = 0; va < l.p2m.end.raw(); va += PAGE_SIZE, first += P2M_PER_PAGE) {
        if (auto s = map_p2m_page(mem, t, va, next); !s) return s;
        // The data frame is the last one taken for this page.
        fill_p2m_page(mem, reinterpret_cast<uint64_t*>(mem.map(Pfn(next - 1))), first, nr_pages);
    }
    if (next != l.total_pfns) return fail("p2m list used other frames than laid out", next);
    return Ok{};
}

// The list inside the bootstrap area: page-aligned, its pages consecutive frames.
void write_p2m_in_area(GuestMemory& mem, const Layout& l, uint64_t nr_pages) {
    for (uint64_t first = 0, pfn = l.p2m.pfn.raw(); first < nr_pages; first += P2M_PER_PAGE, ++pfn)
        fill_p2m_page(mem, reinterpret_cast<uint64_t*>(mem.map(Pfn(pfn))), first, nr_pages);
}

Status load_kernel(GuestMemory& mem, const Prepared& p) {
    for (size_t i = 0; i < p.image.segment_count; ++i) {
        const elf::Segment& s = p.image.segments[i];
        const uint64_t dest = p.plan.kernel_start.raw() + (s.paddr - p.plan.pstart);
        if (dest < p.layout.v_start.raw() || dest + s.memsz > p.layout.kernel.end.raw())
            return fail("kernel segment outside the kernel image", s.header_offset);
        copy_to_area(mem, p.layout, dest, p.image.file.data() + s.offset, s.filesz);
    }
    return Ok{};
}

Status write_hypercall_page(GuestMemory& mem, const Prepared& p) {
    if (!p.plan.has_hypercall_page) return Ok{};
    const Gva at = p.plan.hypercall_page;
    if (at < p.layout.kernel.start || at.raw() + PAGE_SIZE > p.layout.kernel.end.raw())
        return fail("HYPERCALL_PAGE outside the kernel image", at.raw());
    const Pfn pfn((at - p.layout.v_start) >> PAGE_SHIFT);
    hypercall_page::fill_pv64(std::span<uint8_t, PAGE_SIZE>(mem.map(pfn), PAGE_SIZE));
    return Ok{};
}

void fill_start_info(start_info& si, const Prepared& p, const BuildInput& in, const BuildResult& r) {
    const Layout& l = p.layout;
    const DomainParams& d = p.params;
    // Xen's dom0 builder appends "p" when the kernel declares a PAE mode (Linux says "yes"),
    // even for a 64-bit kernel; the toolstack never does for 64-bit domUs.
    const size_t len = kstd::copy_string(si.magic, sizeof si.magic, XEN_START_INFO_MAGIC);
    if (d.initial_domain && p.notes.pae_mode != xen_notes::PaeMode::none && len + 1 < sizeof si.magic)
        si.magic[len] = 'p';
    si.nr_pages = d.nr_pages;
    si.shared_info = mfn_to_paddr(d.shared_info_mfn).raw();
    si.flags = d.extra_si_flags;
    if (d.initial_domain) si.flags |= SIF_PRIVILEGED | SIF_INITDOMAIN;
    if (!l.initrd_mapped && p.initrd_bytes != 0) si.flags |= SIF_MOD_START_PFN;
    si.pt_base = l.page_tables.start.raw();
    si.nr_pt_frames = l.nr_pt_frames;
    si.mfn_list = l.p2m.start.raw();
    si.first_p2m_pfn = l.first_p2m_pfn;
    si.nr_p2m_frames = l.total_pfns - l.first_p2m_pfn;
    if (p.initrd_bytes != 0) {
        si.mod_start = l.initrd_mapped ? l.initrd.start.raw() : l.initrd_pfn.raw();
        si.mod_len = p.initrd_bytes;
    }
    kstd::copy_string(reinterpret_cast<char*>(si.cmd_line), MAX_GUEST_CMDLINE, in.cmdline);
    if (!d.initial_domain) {
        si.store_mfn = r.store_mfn.raw();
        si.store_evtchn = d.store_evtchn;
        si.console.domU.mfn = r.console_mfn.raw();
        si.console.domU.evtchn = d.console_evtchn;
    } else if (!in.dom0_console_info.empty()) {
        si.console.dom0.info_off = sizeof(start_info);
        si.console.dom0.info_size = static_cast<uint32_t>(in.dom0_console_info.size());
    }
}

Status write_start_info(GuestMemory& mem, const Prepared& p, const BuildInput& in, const BuildResult& r) {
    if (in.dom0_console_info.size() > PAGE_SIZE - sizeof(start_info))
        return fail("dom0 console information does not fit the start_info page", in.dom0_console_info.size());
    uint8_t* page = mem.map(p.layout.start_info.pfn);
    memset(page, 0, PAGE_SIZE);
    start_info si{};
    fill_start_info(si, p, in, r);
    memcpy(page, &si, sizeof si);
    if (p.params.initial_domain && !in.dom0_console_info.empty())
        memcpy(page + sizeof si, in.dom0_console_info.data(), in.dom0_console_info.size());
    return Ok{};
}

uint64_t initial_vm_assist(const Prepared& p) {
    const xen_notes::PaeMode pae = p.notes.pae_mode;
    const bool extended_cr3 = pae == xen_notes::PaeMode::yes ||
                              (!p.params.initial_domain && pae == xen_notes::PaeMode::bimodal);
    return extended_cr3 ? uint64_t{1} << VMASST_TYPE_pae_extended_cr3 : 0;
}

InitialRegs initial_regs(const Prepared& p) {
    InitialRegs r{};
    r.rip = p.plan.entry.raw();
    r.rsp = p.layout.stack.end.raw();
    r.rsi = p.layout.start_info.start.raw();
    r.rflags = RFLAGS_IF;
    r.cs = FLAT_KERNEL_CS;
    r.ss = FLAT_KERNEL_SS;
    r.ds = r.es = r.fs = r.gs = FLAT_KERNEL_DS;
    return r;
}

Status check_input(const Prepared& p, const BuildInput& in, GuestMemory& mem, std::span<TableFrame> tables) {
    if (mem.nr_pages() != p.params.nr_pages) return fail("guest memory size differs from the prepared one", mem.nr_pages());
    if (in.initrd.size() != p.initrd_bytes) return fail("initrd size differs from the prepared one", in.initrd.size());
    if (tables.size() < table_frames_needed(p)) return fail("page-table frame list too small", table_frames_needed(p));
    return Ok{};
}

}  // namespace

kstd::Expected<Prepared, kstd::ParseError> prepare(std::span<const uint8_t> kernel, uint64_t initrd_bytes,
                                                   const DomainParams& params) {
    Prepared p{};
    auto image = elf::parse(kernel);
    if (!image) return kstd::unexpected(image.error());
    p.image = *image;
    auto notes = xen_notes::parse(p.image);
    if (!notes) return kstd::unexpected(notes.error());
    p.notes = *notes;
    auto plan = xen_notes::plan_pv_kernel(p.image, p.notes, {params.hypervisor_features, params.initial_domain});
    if (!plan) return kstd::unexpected(plan.error());
    p.plan = *plan;
    LayoutInput li{};
    li.virt_base = p.plan.virt_base;
    li.kernel_start = p.plan.kernel_start;
    li.kernel_end = p.plan.kernel_end;
    li.initrd_bytes = initrd_bytes;
    li.nr_pages = params.nr_pages;
    li.unmapped_initrd = p.plan.unmapped_initrd;
    li.has_p2m_base = p.plan.has_p2m_base;
    li.p2m_base = p.plan.p2m_base;
    li.console_and_store = params.console_and_store_pages;
    auto layout = compute_layout(li);
    if (!layout) return kstd::unexpected(layout.error());
    p.layout = *layout;
    p.params = params;
    p.initrd_bytes = initrd_bytes;
    return p;
}

kstd::Expected<BuildResult, kstd::ParseError> build(const Prepared& p, const BuildInput& in, GuestMemory& mem,
                                                    std::span<TableFrame> tables) {
    if (auto s = check_input(p, in, mem, tables); !s) return kstd::unexpected(s.error());
    const Layout& l = p.layout;
    zero_image(mem, l, p.initrd_bytes);

    Tables t(tables, mem);
    if (auto s = build_bootstrap_tables(mem, l, t); !s) return kstd::unexpected(s.error());
    if (auto s = load_kernel(mem, p); !s) return kstd::unexpected(s.error());
    if (auto s = write_hypercall_page(mem, p); !s) return kstd::unexpected(s.error());

    if (l.initrd_mapped)
        copy_to_area(mem, l, l.initrd.start.raw(), in.initrd.data(), in.initrd.size());
    else
        copy_to_frames(mem, l.initrd_pfn, in.initrd.data(), in.initrd.size());

    BuildResult r{};
    r.regs = initial_regs(p);
    r.l4_pfn = l.page_tables.pfn;
    r.l4_mfn = mem.mfn_of(l.page_tables.pfn);
    r.cr3 = mfn_to_paddr(r.l4_mfn).raw();
    r.start_info = l.start_info.start;
    r.start_info_pfn = l.start_info.pfn;
    r.store_mfn = p.params.console_and_store_pages ? mem.mfn_of(l.xenstore.pfn) : p.params.store_mfn;
    r.console_mfn = p.params.console_and_store_pages ? mem.mfn_of(l.console.pfn) : p.params.console_mfn;
    r.vm_assist = initial_vm_assist(p);
    if (auto s = write_start_info(mem, p, in, r); !s) return kstd::unexpected(s.error());

    if (l.p2m_in_bootstrap) {
        write_p2m_in_area(mem, l, p.params.nr_pages);
    } else if (auto s = build_separate_p2m(mem, l, t); !s) {
        return kstd::unexpected(s.error());
    }
    r.table_count = t.count();
    return r;
}

}  // namespace pv
