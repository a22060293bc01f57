// The PV domain builder over a fake guest memory with scattered machine frames: builds a
// synthetic Linux-like kernel, then walks the produced page tables like the MMU would and
// checks every bootstrap address, the flags, read-only page tables, the hypervisor slots,
// start_info, the p2m list (in the area and at INIT_P2M), the kernel, initrd and hypercall
// page contents, the initial registers, and the error paths.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "elf_image_builder.hpp"
#include "pv_builder.hpp"
#include "xen/xen.h"

namespace {

using testelf::Bytes;

constexpr uint64_t MFN_BASE = 0x40000;
constexpr uint64_t P = 1, RW = 2, US = 4, A = 0x20, D = 0x40, GK = uint64_t{1} << 52;
constexpr uint64_t LEAF = P | RW | US | A | GK;
constexpr uint64_t UPPER = P | RW | US | A | D;
constexpr uint64_t ADDR = 0x000ffffffffff000;
constexpr uint32_t FEATURES = (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_dom0);

// Guest memory whose frames are scattered over machine frames by a fixed permutation, and
// start full of garbage so that anything the builder forgets to zero shows.
class FakeMemory final : public pv::GuestMemory {
public:
    explicit FakeMemory(uint64_t pages) : pages_(pages), data_(pages * PAGE_SIZE, 0xa5) {}

    uint64_t nr_pages() const override { return pages_; }
    Mfn mfn_of(Pfn pfn) const override { return Mfn(MFN_BASE + (pfn.raw() * 7919) % pages_); }
    uint8_t* map(Pfn pfn) override {
        EXPECT_LT(pfn.raw(), pages_);
        return data_.data() + pfn.raw() * PAGE_SIZE;
    }
    void install_hypervisor_slots(uint64_t* l4, Mfn l4_mfn) override {
        ++slot_calls;
        slot_l4_mfn = l4_mfn;
        for (unsigned s = 256; s <= 271; ++s) l4[s] = 0xabc000 | s;  // recognizable, not guest-like
    }

    Pfn pfn_of(Mfn m) const {
        for (uint64_t p = 0; p < pages_; ++p)
            if (mfn_of(Pfn(p)) == m) return Pfn(p);
        ADD_FAILURE() << "mfn not in the domain: " << m.raw();
        return Pfn(0);
    }
    // Precomputed reverse map for walks.
    void index() {
        rev_.assign(pages_, 0);
        for (uint64_t p = 0; p < pages_; ++p) rev_[mfn_of(Pfn(p)).raw() - MFN_BASE] = p;
    }
    const uint8_t* frame(Mfn m) const { return data_.data() + rev_.at(m.raw() - MFN_BASE) * PAGE_SIZE; }
    uint64_t entry(Mfn table, size_t i) const {
        uint64_t e;
        memcpy(&e, frame(table) + i * 8, 8);
        return e;
    }

    int slot_calls = 0;
    Mfn slot_l4_mfn;

private:
    uint64_t pages_;
    std::vector<uint8_t> data_;
    std::vector<uint64_t> rev_;
};

struct Walk {
    bool present = false;
    Mfn mfn;
    uint64_t leaf_flags = 0;
    uint64_t upper_and = ~uint64_t{0};  // flags every upper level has
    uint64_t upper_or = 0;
};

Walk translate(const FakeMemory& mem, Mfn l4, uint64_t va) {
    Walk w;
    Mfn table = l4;
    for (unsigned level = 4; level >= 1; --level) {
        const size_t idx = (va >> (12 + 9 * (level - 1))) & 511;
        const uint64_t e = mem.entry(table, idx);
        if (!(e & P)) return w;
        const uint64_t flags = e & ~ADDR;
        if (level == 1) {
            w.present = true;
            w.mfn = Mfn((e & ADDR) >> 12);
            w.leaf_flags = flags;
            return w;
        }
        w.upper_and &= flags;
        w.upper_or |= flags;
        table = Mfn((e & ADDR) >> 12);
    }
    return w;
}

// Reads guest virtual memory through the built tables.
std::vector<uint8_t> read_va(const FakeMemory& mem, Mfn l4, uint64_t va, size_t n) {
    std::vector<uint8_t> out;
    while (out.size() < n) {
        Walk w = translate(mem, l4, va);
        EXPECT_TRUE(w.present) << std::hex << va;
        if (!w.present) return out;
        const size_t off = va & 0xfff, chunk = std::min<size_t>(n - out.size(), PAGE_SIZE - off);
        const uint8_t* f = mem.frame(w.mfn);
        out.insert(out.end(), f + off, f + off + chunk);
        va += chunk;
    }
    return out;
}

pv::DomainParams dom0_params(uint64_t nr_pages) {
    pv::DomainParams d{};
    d.domid = DomId(0);
    d.nr_pages = nr_pages;
    d.initial_domain = true;
    d.hypervisor_features = FEATURES;
    d.shared_info_mfn = Mfn(0x1234);
    return d;
}

Bytes initrd_bytes(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 13 + 1);
    return b;
}

start_info read_start_info(const FakeMemory& mem, Mfn l4, uint64_t va) {
    start_info si;
    auto bytes = read_va(mem, l4, va, sizeof si);
    memcpy(&si, bytes.data(), sizeof si);
    return si;
}

struct Built {
    Bytes kernel;
    pv::Prepared prepared;
    pv::BuildResult result;
    std::vector<pv::TableFrame> tables;
};

Built build_ok(FakeMemory& mem, const pv::DomainParams& d, const Bytes& initrd, const std::string& cmdline,
               const std::vector<Bytes>& notes = testelf::linux_notes()) {
    Built b;
    b.kernel = testelf::linux_like_kernel(notes).build();
    auto p = pv::prepare({b.kernel.data(), b.kernel.size()}, initrd.size(), d);
    EXPECT_TRUE(p.has_value()) << (p ? "" : p.error().what);
    if (!p) return b;
    b.prepared = *p;
    b.tables.resize(pv::table_frames_needed(*p));
    pv::BuildInput in{{initrd.data(), initrd.size()}, kstd::StringView(cmdline.c_str()), {}};
    auto r = pv::build(*p, in, mem, {b.tables.data(), b.tables.size()});
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().what);
    if (r) b.result = *r;
    mem.index();
    return b;
}

TEST(PvBuilder, LinuxDom0PageTablesMapEveryBootstrapPage) {
    FakeMemory mem(0x3000);
    const Bytes initrd = initrd_bytes(0x2345);
    Built b = build_ok(mem, dom0_params(0x3000), initrd, "console=hvc0 root=/dev/xvda");
    const pv::Layout& l = b.prepared.layout;
    const Mfn l4 = b.result.l4_mfn;

    EXPECT_EQ(mem.slot_calls, 1);
    EXPECT_EQ(mem.slot_l4_mfn, l4);
    EXPECT_EQ(b.result.cr3, l4.raw() << 12);
    EXPECT_EQ(l4, mem.mfn_of(l.page_tables.pfn));

    const uint64_t pt_first = l.page_tables.pfn.raw(), pt_end = pt_first + l.nr_pt_frames;
    for (uint64_t i = 0; i < l.bootstrap_pages; ++i) {
        const uint64_t va = l.v_start.raw() + i * PAGE_SIZE;
        Walk w = translate(mem, l4, va);
        ASSERT_TRUE(w.present) << std::hex << va;
        ASSERT_EQ(w.mfn, mem.mfn_of(Pfn(i))) << i;
        const bool table = i >= pt_first && i < pt_end;
        ASSERT_EQ(w.leaf_flags, table ? LEAF & ~RW : LEAF) << i;
        ASSERT_EQ(w.upper_and, UPPER) << i;
        ASSERT_EQ(w.upper_or, UPPER) << i;
    }
    // Nothing outside the area is mapped in its neighbourhood.
    EXPECT_FALSE(translate(mem, l4, l.v_end.raw()).present);
    EXPECT_FALSE(translate(mem, l4, l.v_start.raw() - PAGE_SIZE).present);

    // The L4: only the area's slot, the p2m's slot and the hypervisor's slots are used.
    for (size_t s = 0; s < 512; ++s) {
        const uint64_t e = mem.entry(l4, s);
        if (s >= 256 && s <= 271) EXPECT_EQ(e, 0xabc000 | s);
        else if (s == 511 || s == 1) EXPECT_EQ(e & ~ADDR, UPPER) << s;
        else EXPECT_EQ(e, 0u) << s;
    }
}

TEST(PvBuilder, TableFramesInXensOrder) {
    FakeMemory mem(0x3000);
    Built b = build_ok(mem, dom0_params(0x3000), initrd_bytes(10), "");
    const pv::Layout& l = b.prepared.layout;
    ASSERT_EQ(b.result.table_count, l.nr_pt_frames + l.p2m_table_frames);
    ASSERT_EQ(l.nr_pt_frames, 13u);
    // Bootstrap: L4, then L1, L2, L3 for the first page, then the other nine L1s.
    const uint8_t expect[] = {4, 1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < 13; ++i) {
        EXPECT_EQ(b.tables[i].level, expect[i]) << i;
        EXPECT_EQ(b.tables[i].pfn, l.page_tables.pfn + i) << i;
        EXPECT_EQ(b.tables[i].mfn, mem.mfn_of(b.tables[i].pfn)) << i;
    }
    EXPECT_EQ(b.tables[1].base, Gva(0xffffffff80000000));
    EXPECT_EQ(b.tables[4].base, Gva(0xffffffff80200000));
    // INIT_P2M: a new L3 (slot 1), L2 and L1 taken just before the list's single data frame.
    ASSERT_EQ(l.p2m_table_frames, 3u);
    EXPECT_EQ(b.tables[13].level, 3);
    EXPECT_EQ(b.tables[13].pfn, Pfn(l.first_p2m_pfn));
    EXPECT_EQ(b.tables[14].level, 2);
    EXPECT_EQ(b.tables[14].pfn, Pfn(l.first_p2m_pfn + 1));
    EXPECT_EQ(b.tables[15].level, 1);
    EXPECT_EQ(b.tables[15].pfn, Pfn(l.first_p2m_pfn + 2));
    EXPECT_EQ(b.tables[15].base, Gva(0x8000000000));
}

TEST(PvBuilder, StartInfoAndRegistersForDom0) {
    FakeMemory mem(0x3000);
    const Bytes initrd = initrd_bytes(0x2345);
    Built b = build_ok(mem, dom0_params(0x3000), initrd, "console=hvc0 root=/dev/xvda");
    const pv::Layout& l = b.prepared.layout;
    const start_info si = read_start_info(mem, b.result.l4_mfn, b.result.start_info.raw());
    EXPECT_STREQ(si.magic, "xen-3.0-x86_64p");  // dom0 with a PAE_MODE "yes" note, as Xen writes it
    EXPECT_EQ(b.result.vm_assist, uint64_t{1} << VMASST_TYPE_pae_extended_cr3);  // libelf: "yes" is extended-cr3
    EXPECT_EQ(si.nr_pages, 0x3000u);
    EXPECT_EQ(si.shared_info, 0x1234000u);
    EXPECT_EQ(si.flags, uint32_t(SIF_PRIVILEGED | SIF_INITDOMAIN | SIF_MOD_START_PFN));
    EXPECT_EQ(si.store_mfn, 0u);
    EXPECT_EQ(si.store_evtchn, 0u);
    EXPECT_EQ(si.console.dom0.info_off, 0u);
    EXPECT_EQ(si.console.dom0.info_size, 0u);
    EXPECT_EQ(si.pt_base, l.page_tables.start.raw());
    EXPECT_EQ(si.nr_pt_frames, 13u);
    EXPECT_EQ(si.mfn_list, 0x8000000000u);
    EXPECT_EQ(si.mod_start, l.initrd_pfn.raw());
    EXPECT_EQ(si.mod_start, 0x2000u);
    EXPECT_EQ(si.mod_len, 0x2345u);
    EXPECT_STREQ(reinterpret_cast<const char*>(si.cmd_line), "console=hvc0 root=/dev/xvda");
    EXPECT_EQ(si.first_p2m_pfn, 0x2003u);  // 8192-frame block + 3 initrd frames
    EXPECT_EQ(si.nr_p2m_frames, 24u + 3);  // 0x3000 entries in 24 frames + L3, L2, L1

    // The rest of the start_info page is zero.
    const auto page = read_va(mem, b.result.l4_mfn, l.start_info.start.raw(), PAGE_SIZE);
    for (size_t i = sizeof(start_info); i < PAGE_SIZE; ++i) ASSERT_EQ(page[i], 0) << i;

    const pv::InitialRegs& r = b.result.regs;
    EXPECT_EQ(r.rip, testelf::KERNEL_ENTRY);
    EXPECT_EQ(r.rsp, l.stack.end.raw());
    EXPECT_EQ(r.rsi, l.start_info.start.raw());
    EXPECT_EQ(r.rflags, 0x200u);
    EXPECT_EQ(r.cs, 0xe033);
    EXPECT_EQ(r.ss, 0xe02b);
    EXPECT_EQ(r.ds, 0);
    EXPECT_EQ(r.es, 0);
    EXPECT_EQ(r.fs, 0);
    EXPECT_EQ(r.gs, 0);
}

TEST(PvBuilder, SeparateP2mListIsRightAndMapped) {
    FakeMemory mem(0x3000);
    Built b = build_ok(mem, dom0_params(0x3000), initrd_bytes(0x2345), "");
    const pv::Layout& l = b.prepared.layout;
    const auto list = read_va(mem, b.result.l4_mfn, 0x8000000000, 0x3000 * 8);
    for (uint64_t pfn = 0; pfn < 0x3000; ++pfn) {
        uint64_t mfn;
        memcpy(&mfn, list.data() + pfn * 8, 8);
        ASSERT_EQ(mfn, mem.mfn_of(Pfn(pfn)).raw()) << pfn;
    }
    // Its pages: frames after the tables, leaf entries dirty as setup_pv_physmap writes them.
    for (uint64_t k = 0; k < l.p2m_pages; ++k) {
        Walk w = translate(mem, b.result.l4_mfn, 0x8000000000 + k * PAGE_SIZE);
        ASSERT_TRUE(w.present);
        EXPECT_EQ(w.mfn, mem.mfn_of(Pfn(l.first_p2m_pfn + 3 + k)));
        EXPECT_EQ(w.leaf_flags, LEAF | D);
        EXPECT_EQ(w.upper_and, UPPER);
    }
    EXPECT_FALSE(translate(mem, b.result.l4_mfn, 0x8000000000 + l.p2m_pages * PAGE_SIZE).present);
    EXPECT_EQ(l.total_pfns, l.first_p2m_pfn + l.p2m_pages + 3);
}

TEST(PvBuilder, KernelInitrdAndHypercallPageContents) {
    FakeMemory mem(0x3000);
    const Bytes initrd = initrd_bytes(0x2345);
    Built b = build_ok(mem, dom0_params(0x3000), initrd, "");
    const Mfn l4 = b.result.l4_mfn;
    // Text: as in the file, except the hypercall page at +0x2000.
    const Bytes text = testelf::text_bytes(0x3000);
    const auto got = read_va(mem, l4, testelf::KERNEL_TEXT, 0x3000);
    EXPECT_TRUE(std::equal(text.begin(), text.begin() + 0x2000, got.begin()));
    const uint8_t slot1[] = {0x51, 0x41, 0x53, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0x05, 0x41, 0x5b, 0x59, 0xc3, 0xcc};
    EXPECT_EQ(memcmp(got.data() + 0x2000 + 32, slot1, sizeof slot1), 0);
    // Data then bss (zero, over garbage).
    const auto data = read_va(mem, l4, testelf::KERNEL_TEXT + 0x3000, 0x4000);
    for (size_t i = 0; i < 0x1800; ++i) ASSERT_EQ(data[i], 0x5a) << i;
    for (size_t i = 0x1800; i < 0x4000; ++i) ASSERT_EQ(data[i], 0) << i;
    // Unmapped initrd: at its frames, the tail of its last frame zero.
    const pv::Layout& l = b.prepared.layout;
    for (size_t i = 0; i < 3 * PAGE_SIZE; ++i) {
        const uint8_t v = mem.map(l.initrd_pfn + i / PAGE_SIZE)[i % PAGE_SIZE];
        ASSERT_EQ(v, i < initrd.size() ? initrd[i] : 0) << i;
    }
    // Stack and padding: zero.
    const auto stack = read_va(mem, l4, l.stack.start.raw(), l.v_end - l.stack.start);
    for (size_t i = 0; i < stack.size(); ++i) ASSERT_EQ(stack[i], 0) << i;
}

pv::DomainParams domu_params(uint64_t nr_pages) {
    pv::DomainParams d{};
    d.domid = DomId(3);
    d.nr_pages = nr_pages;
    d.initial_domain = false;
    d.hypervisor_features = FEATURES;
    d.shared_info_mfn = Mfn(0x777);
    d.console_and_store_pages = true;
    d.store_evtchn = 1;
    d.console_evtchn = 2;
    return d;
}

// A kernel without INIT_P2M and MOD_START_PFN: p2m and initrd inside the area.
std::vector<Bytes> classic_notes() {
    std::vector<Bytes> out;
    for (const Bytes& n : testelf::linux_notes()) {
        uint32_t t;
        memcpy(&t, n.data() + 8, 4);
        if (t != XEN_ELFNOTE_INIT_P2M && t != XEN_ELFNOTE_MOD_START_PFN) out.push_back(n);
    }
    return out;
}

TEST(PvBuilder, DomUWithMappedInitrdAndP2mInTheArea) {
    FakeMemory mem(0x2400);
    const Bytes initrd = initrd_bytes(0x5001);
    const std::string long_cmdline(1500, 'c');
    Built b = build_ok(mem, domu_params(0x2400), initrd, long_cmdline, classic_notes());
    const pv::Layout& l = b.prepared.layout;
    const Mfn l4 = b.result.l4_mfn;
    ASSERT_TRUE(l.initrd_mapped);
    ASSERT_TRUE(l.p2m_in_bootstrap);
    EXPECT_EQ(b.result.table_count, l.nr_pt_frames);

    const start_info si = read_start_info(mem, l4, l.start_info.start.raw());
    EXPECT_STREQ(si.magic, "xen-3.0-x86_64");  // the toolstack's string for 64-bit domUs
    EXPECT_EQ(si.flags, 0u);
    EXPECT_EQ(si.nr_pages, 0x2400u);
    EXPECT_EQ(si.shared_info, 0x777000u);
    EXPECT_EQ(si.mod_start, l.initrd.start.raw());
    EXPECT_EQ(si.mod_start, testelf::KERNEL_TEXT + 0x7000);
    EXPECT_EQ(si.mod_len, initrd.size());
    EXPECT_EQ(si.mfn_list, l.p2m.start.raw());
    EXPECT_EQ(si.store_mfn, mem.mfn_of(l.xenstore.pfn).raw());
    EXPECT_EQ(si.store_evtchn, 1u);
    EXPECT_EQ(si.console.domU.mfn, mem.mfn_of(l.console.pfn).raw());
    EXPECT_EQ(si.console.domU.evtchn, 2u);
    EXPECT_EQ(b.result.store_mfn, mem.mfn_of(l.xenstore.pfn));
    EXPECT_EQ(si.first_p2m_pfn, l.chunk_pages + l.initrd_pages);
    EXPECT_EQ(si.nr_p2m_frames, 0u);
    // The command line is cut to 1023 characters and terminated.
    EXPECT_EQ(strnlen(reinterpret_cast<const char*>(si.cmd_line), MAX_GUEST_CMDLINE), 1023u);

    const auto got = read_va(mem, l4, l.initrd.start.raw(), initrd.size());
    EXPECT_TRUE(std::equal(initrd.begin(), initrd.end(), got.begin()));
    const auto tail = read_va(mem, l4, l.initrd.end.raw(), PAGE_SIZE - (initrd.size() % PAGE_SIZE));
    for (uint8_t v : tail) ASSERT_EQ(v, 0);
    const auto list = read_va(mem, l4, l.p2m.start.raw(), 0x2400 * 8);
    for (uint64_t pfn = 0; pfn < 0x2400; ++pfn) {
        uint64_t mfn;
        memcpy(&mfn, list.data() + pfn * 8, 8);
        ASSERT_EQ(mfn, mem.mfn_of(Pfn(pfn)).raw()) << pfn;
    }
    // Store and console pages are zeroed and mapped writable.
    const auto store = read_va(mem, l4, l.xenstore.start.raw(), 2 * PAGE_SIZE);
    for (uint8_t v : store) ASSERT_EQ(v, 0);
    EXPECT_EQ(translate(mem, l4, l.console.start.raw()).leaf_flags, LEAF);
}

TEST(PvBuilder, DomUWithGivenRingFrames) {
    FakeMemory mem(0x2400);
    auto d = domu_params(0x2400);
    d.console_and_store_pages = false;
    d.store_mfn = Mfn(0x99);
    d.console_mfn = Mfn(0x98);
    d.extra_si_flags = SIF_VIRT_P2M_4TOOLS;
    Built b = build_ok(mem, d, {}, "", classic_notes());
    const start_info si = read_start_info(mem, b.result.l4_mfn, b.prepared.layout.start_info.start.raw());
    EXPECT_EQ(si.store_mfn, 0x99u);
    EXPECT_EQ(si.console.domU.mfn, 0x98u);
    EXPECT_EQ(si.flags, uint32_t(SIF_VIRT_P2M_4TOOLS));
    EXPECT_EQ(si.mod_start, 0u);
    EXPECT_EQ(si.mod_len, 0u);
    EXPECT_TRUE(b.prepared.layout.xenstore.empty());
}

TEST(PvBuilder, Dom0ConsoleInfoFollowsStartInfo) {
    FakeMemory mem(0x3000);
    Bytes kernel = testelf::linux_like_kernel().build();
    auto p = pv::prepare({kernel.data(), kernel.size()}, 0, dom0_params(0x3000));
    ASSERT_TRUE(p.has_value()) << p.error().what;
    std::vector<pv::TableFrame> tables(pv::table_frames_needed(*p));
    const Bytes info(64, 0x77);
    pv::BuildInput in{{}, "", {info.data(), info.size()}};
    auto r = pv::build(*p, in, mem, {tables.data(), tables.size()});
    ASSERT_TRUE(r.has_value()) << r.error().what;
    const uint8_t* page = mem.map(p->layout.start_info.pfn);
    start_info si;
    memcpy(&si, page, sizeof si);
    EXPECT_EQ(si.console.dom0.info_off, sizeof(start_info));
    EXPECT_EQ(si.console.dom0.info_size, 64u);
    EXPECT_EQ(memcmp(page + sizeof(start_info), info.data(), 64), 0);
    EXPECT_EQ(si.flags & SIF_MOD_START_PFN, 0u);  // no initrd, no flag

    const Bytes too_big(PAGE_SIZE - sizeof(start_info) + 1, 1);
    pv::BuildInput big{{}, "", {too_big.data(), too_big.size()}};
    auto e = pv::build(*p, big, mem, {tables.data(), tables.size()});
    ASSERT_FALSE(e.has_value());
    EXPECT_STREQ(e.error().what, "dom0 console information does not fit the start_info page");
}

TEST(PvBuilder, InputMismatchesAreErrors) {
    FakeMemory mem(0x3000);
    Bytes kernel = testelf::linux_like_kernel().build();
    auto p = pv::prepare({kernel.data(), kernel.size()}, 100, dom0_params(0x3000));
    ASSERT_TRUE(p.has_value());
    std::vector<pv::TableFrame> tables(pv::table_frames_needed(*p));
    const Bytes initrd(100, 1), wrong(99, 1);

    FakeMemory small(0x2fff);
    auto a = pv::build(*p, {{initrd.data(), initrd.size()}, "", {}}, small, {tables.data(), tables.size()});
    ASSERT_FALSE(a.has_value());
    EXPECT_STREQ(a.error().what, "guest memory size differs from the prepared one");

    auto b = pv::build(*p, {{wrong.data(), wrong.size()}, "", {}}, mem, {tables.data(), tables.size()});
    ASSERT_FALSE(b.has_value());
    EXPECT_STREQ(b.error().what, "initrd size differs from the prepared one");

    auto c = pv::build(*p, {{initrd.data(), initrd.size()}, "", {}}, mem, {tables.data(), tables.size() - 1});
    ASSERT_FALSE(c.has_value());
    EXPECT_STREQ(c.error().what, "page-table frame list too small");
    EXPECT_EQ(c.error().where, tables.size());
}

TEST(PvBuilder, PrepareErrors) {
    // A broken ELF, a kernel refused by the note rules, and a domain too small.
    Bytes junk(100, 0);
    auto a = pv::prepare({junk.data(), junk.size()}, 0, dom0_params(0x3000));
    ASSERT_FALSE(a.has_value());
    EXPECT_STREQ(a.error().what, "not an ELF file: bad magic");

    auto notes = testelf::linux_notes();
    notes.push_back(testelf::xen_note(XEN_ELFNOTE_FEATURES, testelf::str("!supervisor_mode_kernel")));
    Bytes ring0 = testelf::linux_like_kernel(notes).build();
    auto b = pv::prepare({ring0.data(), ring0.size()}, 0, dom0_params(0x3000));
    ASSERT_FALSE(b.has_value());
    EXPECT_STREQ(b.error().what, "kernel requires unsupported Xen feature supervisor_mode_kernel");

    Bytes kernel = testelf::linux_like_kernel().build();

    auto c = pv::prepare({kernel.data(), kernel.size()}, 0, dom0_params(0x1000));
    ASSERT_FALSE(c.has_value());
    EXPECT_STREQ(c.error().what, "domain memory too small for the kernel image");
}

TEST(PvBuilder, HypercallPageMustBeInTheKernel) {
    auto notes = testelf::linux_notes();
    notes.push_back(testelf::xen_note(XEN_ELFNOTE_HYPERCALL_PAGE, testelf::u64(testelf::KERNEL_TEXT + 0x7000)));
    Bytes kernel = testelf::linux_like_kernel(notes).build();
    auto p = pv::prepare({kernel.data(), kernel.size()}, 0, dom0_params(0x3000));
    ASSERT_TRUE(p.has_value()) << p.error().what;
    FakeMemory mem(0x3000);
    std::vector<pv::TableFrame> tables(pv::table_frames_needed(*p));
    auto r = pv::build(*p, {{}, "", {}}, mem, {tables.data(), tables.size()});
    ASSERT_FALSE(r.has_value());
    EXPECT_STREQ(r.error().what, "HYPERCALL_PAGE outside the kernel image");
}

TEST(PvBuilder, NoHypercallPageNoteLeavesTheKernelAlone) {
    std::vector<Bytes> notes;
    for (const Bytes& n : testelf::linux_notes()) {
        uint32_t t;
        memcpy(&t, n.data() + 8, 4);
        if (t != XEN_ELFNOTE_HYPERCALL_PAGE && t != XEN_ELFNOTE_PAE_MODE) notes.push_back(n);
    }
    FakeMemory mem(0x3000);
    Built b = build_ok(mem, dom0_params(0x3000), {}, "", notes);
    const start_info si = read_start_info(mem, b.result.l4_mfn, b.result.start_info.raw());
    EXPECT_STREQ(si.magic, "xen-3.0-x86_64");  // no PAE_MODE note: no "p"
    EXPECT_EQ(b.result.vm_assist, 0u);
    const Bytes text = testelf::text_bytes(0x3000);
    const auto got = read_va(mem, b.result.l4_mfn, testelf::KERNEL_TEXT, 0x3000);
    EXPECT_TRUE(std::equal(text.begin(), text.end(), got.begin()));
}

// The PAE_MODE note decides VMASST_TYPE_pae_extended_cr3: exactly "yes" for every domain (Xen's
// dom0 builder, libxenguest), "bimodal" for a domU only (libxenguest), anything else never.
TEST(PvBuilder, PaeModeNoteGivesTheExtendedCr3Assist) {
    struct Case {
        const char* pae;
        bool dom0;
        bool assist;
    };
    const Case cases[] = {{"yes", true, true},      {"yes", false, true},     {"bimodal", true, false},
                          {"bimodal", false, true}, {"yes,bimodal", false, true}, {"no", true, false},
                          {"no", false, false},     {"yes[extended-cr3]", true, false}};
    for (const Case& c : cases) {
        std::vector<Bytes> notes;
        for (const Bytes& n : testelf::linux_notes()) {
            uint32_t t;
            memcpy(&t, n.data() + 8, 4);
            if (t != XEN_ELFNOTE_PAE_MODE) notes.push_back(n);
        }
        notes.push_back(testelf::xen_note(XEN_ELFNOTE_PAE_MODE, testelf::str(c.pae)));
        FakeMemory mem(0x3000);
        Built b = build_ok(mem, c.dom0 ? dom0_params(0x3000) : domu_params(0x3000), {}, "", notes);
        EXPECT_EQ(b.result.vm_assist, c.assist ? uint64_t{1} << VMASST_TYPE_pae_extended_cr3 : 0u)
            << c.pae << (c.dom0 ? " dom0" : " domU");
    }
}

// Damaged kernels: random byte changes in headers and notes end in an error or in a layout
// that passes every check; never in a crash (ASan and UBSan watch the reads and arithmetic).
TEST(PvBuilder, RandomlyDamagedKernelsNeverCrashPrepare) {
    const Bytes good = testelf::linux_like_kernel().build();
    std::mt19937_64 rng(42);
    int accepted = 0, built = 0;
    FakeMemory mem(0x3000);
    for (int i = 0; i < 4000; ++i) {
        Bytes k = good;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) {
            // Mostly the headers and the note segment, where the structure is.
            const size_t at = (rng() & 1) ? rng() % 0x200 : rng() % k.size();
            k[at] = static_cast<uint8_t>(rng());
        }
        if (rng() % 8 == 0) k.resize(rng() % k.size());
        auto p = pv::prepare({k.data(), k.size()}, rng() % 0x100000, dom0_params(0x3000));
        if (p) {
            ++accepted;
            EXPECT_LE(p->layout.total_pfns, 0x3000u);
            EXPECT_EQ(pv::tables_for(p->layout.v_start, p->layout.v_end), p->layout.nr_pt_frames);
            if (built < 25) {  // and some all the way through build()
                const Bytes initrd(p->initrd_bytes, 0x11);
                std::vector<pv::TableFrame> tables(pv::table_frames_needed(*p));
                auto r = pv::build(*p, {{initrd.data(), initrd.size()}, "x", {}}, mem, {tables.data(), tables.size()});
                built += r.has_value();
            }
        }
    }
    EXPECT_GT(accepted, 0);  // some damage is harmless (padding, section contents)
}

// A kernel linked at `base` (VIRT_BASE = base, physical 0), with the notes a minimal PV
// kernel needs and no INIT_P2M or MOD_START_PFN.
Bytes kernel_at(uint64_t base) {
    using testelf::xen_note;
    testelf::Builder e;
    e.entry = base + 0x40;
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_X, base, 0, 0x3000, 4096, testelf::text_bytes(0x1000)});
    const Bytes notes = testelf::cat({xen_note(XEN_ELFNOTE_GUEST_OS, testelf::str("linux")),
                                      xen_note(XEN_ELFNOTE_XEN_VERSION, testelf::str("xen-3.0")),
                                      xen_note(XEN_ELFNOTE_VIRT_BASE, testelf::u64(base)),
                                      xen_note(XEN_ELFNOTE_PADDR_OFFSET, testelf::u64(0)),
                                      xen_note(XEN_ELFNOTE_HYPERCALL_PAGE, testelf::u64(base + 0x2000))});
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 4, notes});
    return e.build();
}

// Areas that cross a GiB and a 512 GiB boundary: new L2 (and L3) tables mid-walk, linked
// into the right parents, still in Xen's frame order.
TEST(PvBuilder, AreaCrossingGiBAndSlotBoundaries) {
    // 256 KiB below the boundary: too little padding, so the area grows 4 MiB past it.
    for (const uint64_t base : {uint64_t{0x3ffc0000}, uint64_t{0x7ffffc0000}}) {
        const Bytes kernel = kernel_at(base);
        auto d = dom0_params(0x1000);
        auto p = pv::prepare({kernel.data(), kernel.size()}, 0, d);
        ASSERT_TRUE(p.has_value()) << p.error().what;
        const pv::Layout& l = p->layout;
        FakeMemory mem(0x1000);
        std::vector<pv::TableFrame> tables(pv::table_frames_needed(*p));
        auto r = pv::build(*p, {{}, "", {}}, mem, {tables.data(), tables.size()});
        ASSERT_TRUE(r.has_value()) << r.error().what;
        mem.index();
        for (uint64_t i = 0; i < l.bootstrap_pages; ++i) {
            Walk w = translate(mem, r->l4_mfn, l.v_start.raw() + i * PAGE_SIZE);
            ASSERT_TRUE(w.present) << i;
            ASSERT_EQ(w.mfn, mem.mfn_of(Pfn(i))) << i;
        }
        // Frame order: L4, L1, L2, L3; at the boundary L1, L2 (and L3); then the next 2 MiB's L1.
        std::string order;
        for (size_t i = 0; i < r->table_count; ++i) order += char('0' + tables[i].level);
        const bool new_slot = base == 0x7ffffc0000;
        EXPECT_EQ(order, new_slot ? "41231231" : "4123121");
        EXPECT_EQ(l.nr_pt_frames, order.size());
        ASSERT_GE(r->table_count, 5u);
        EXPECT_EQ(tables[4].base, Gva(new_slot ? 0x8000000000 : 0x40000000));
        EXPECT_EQ(l.v_end, Gva(new_slot ? 0x8000400000 : 0x40400000));
    }
}

}  // namespace
