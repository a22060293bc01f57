// The miniature toolstack (see toolstack.hpp). Every step is a hypercall a real toolstack makes;
// nothing here depends on which hypervisor runs it.
#include "toolstack.hpp"

#include <xen/elfnote.h>
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/sched.h>

#include "clock.hpp"
#include "console.hpp"
#include "hypercall.hpp"
#include "lib.hpp"
#include "runtime.hpp"

namespace kt {
namespace {

constexpr std::uint64_t max_pages = 4096;  // 16 MiB: more than a second test kernel needs
constexpr std::uint64_t entries = 512;
constexpr std::uint64_t dr6_default = 0xffff0ff0;  // the architectural reset values
constexpr std::uint64_t dr7_default = 0x400;

// The parts of ELF64 (System V gABI) the builder reads.
struct Elf64Header {
    unsigned char ident[16];
    std::uint16_t type, machine;
    std::uint32_t version;
    std::uint64_t entry, phoff, shoff;
    std::uint32_t flags;
    std::uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct Elf64Phdr {
    std::uint32_t type, flags;
    std::uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
constexpr std::uint32_t pt_load = 1;
constexpr std::uint32_t pt_note = 4;

// The new domain's frames, pfn -> mfn, as populate_physmap returned them.
std::uint64_t frames[max_pages];
// A page of our image that is re-pointed at each of the new domain's frames in turn.
[[gnu::aligned(4096)]] unsigned char window[4096];

struct Layout {
    std::uint64_t image_pages, p2m_pfn, start_info_pfn, l4_pfn, l1_count, stack_pfn;
    std::uint64_t entry, hypercall_page;
    std::uint64_t va(std::uint64_t pfn) const { return virt_base + pfn * page_size; }
    bool is_table(std::uint64_t pfn) const { return pfn >= l4_pfn && pfn < stack_pfn; }
};

long fail(const char* step, long rc)
{
    print("toolstack: {} failed: {}\n", step, rc);
    return rc != 0 ? rc : -1;
}

// Where the window's own frame is mapped, restored when the build is done.
std::uint64_t window_pte;

unsigned char* map(domid_t dom, std::uint64_t mfn)
{
    const std::uint64_t pte = (mfn << 12) | pte_present | pte_rw | pte_accessed | pte_dirty;
    const long rc = hypercall(__HYPERVISOR_update_va_mapping_otherdomain, arg(window), pte, UVMF_INVLPG | UVMF_LOCAL,
                              dom);
    return rc == 0 ? window : nullptr;
}

bool unmap() { return update_va_mapping(arg(window), window_pte, UVMF_INVLPG | UVMF_LOCAL) == 0; }

// Reads the image's program headers: its extent, entry point and hypercall page (a Xen note).
bool read_image(const DomainSpec& s, Layout& l)
{
    const auto* base = static_cast<const unsigned char*>(s.elf);
    const auto* eh = static_cast<const Elf64Header*>(s.elf);
    if (s.elf_size < sizeof *eh || memcmp(eh->ident, "\x7f" "ELF", 4) != 0 || eh->ident[4] != 2 ||
        eh->phentsize != sizeof(Elf64Phdr) || eh->phoff + eh->phnum * sizeof(Elf64Phdr) > s.elf_size)
        return false;
    const auto* ph = reinterpret_cast<const Elf64Phdr*>(base + eh->phoff);
    std::uint64_t end = virt_base;
    l.hypercall_page = 0;
    for (unsigned i = 0; i < eh->phnum; ++i) {
        if (ph[i].type == pt_load) {
            if (ph[i].vaddr < virt_base || ph[i].offset + ph[i].filesz > s.elf_size) return false;
            if (ph[i].vaddr + ph[i].memsz > end) end = ph[i].vaddr + ph[i].memsz;
        }
        if (ph[i].type != pt_note || ph[i].offset + ph[i].filesz > s.elf_size) continue;
        for (std::uint64_t at = ph[i].offset; at + 12 <= ph[i].offset + ph[i].filesz;) {
            const auto* n = reinterpret_cast<const std::uint32_t*>(base + at);
            const std::uint64_t desc = at + 12 + ((n[0] + 3) & ~3u);
            if (n[2] == XEN_ELFNOTE_HYPERCALL_PAGE && n[1] == 8) memcpy(&l.hypercall_page, base + desc, 8);
            at = desc + ((n[1] + 3) & ~3u);
        }
    }
    l.entry = eh->entry;
    l.image_pages = (end - virt_base + page_size - 1) / page_size;
    return l.hypercall_page >= virt_base && l.hypercall_page < end;
}

void plan(const DomainSpec& s, Layout& l)
{
    l.p2m_pfn = l.image_pages;
    l.start_info_pfn = l.p2m_pfn + (s.pages * 8 + page_size - 1) / page_size;
    l.l4_pfn = l.start_info_pfn + 1;  // then the L3, the L2 and the L1s
    l.l1_count = (s.pages + entries - 1) / entries;
    l.stack_pfn = l.l4_pfn + 3 + l.l1_count;
}

// The bytes of the image that fall into frame `pfn`, the rest zero.
void fill_image_page(const DomainSpec& s, std::uint64_t pfn, unsigned char* page)
{
    memset(page, 0, page_size);
    const auto* base = static_cast<const unsigned char*>(s.elf);
    const auto* eh = static_cast<const Elf64Header*>(s.elf);
    const auto* ph = reinterpret_cast<const Elf64Phdr*>(base + eh->phoff);
    const std::uint64_t lo = virt_base + pfn * page_size, hi = lo + page_size;
    for (unsigned i = 0; i < eh->phnum; ++i) {
        if (ph[i].type != pt_load) continue;
        const std::uint64_t from = ph[i].vaddr > lo ? ph[i].vaddr : lo;
        const std::uint64_t to = ph[i].vaddr + ph[i].filesz < hi ? ph[i].vaddr + ph[i].filesz : hi;
        if (from < to) memcpy(page + (from - lo), base + ph[i].offset + (from - ph[i].vaddr), to - from);
    }
}

void fill_start_info(const DomainSpec& s, const Layout& l, std::uint64_t shared_info_frame, unsigned char* page)
{
    memset(page, 0, page_size);
    auto* si = reinterpret_cast<start_info_t*>(page);
    memcpy(si->magic, XEN_START_INFO_MAGIC, sizeof XEN_START_INFO_MAGIC);
    si->nr_pages = s.pages;
    si->shared_info = shared_info_frame << 12;
    si->pt_base = l.va(l.l4_pfn);
    si->nr_pt_frames = 3 + l.l1_count;
    si->mfn_list = l.va(l.p2m_pfn);
    const std::size_t n = strnlen(s.cmdline, MAX_GUEST_CMDLINE - 1);
    memcpy(si->cmd_line, s.cmdline, n);
}

// Page-table frame `pfn` (L4, L3, L2 or an L1): every frame of the domain mapped from the
// virtual base, its page tables read-only.
void fill_table(const DomainSpec& s, const Layout& l, std::uint64_t pfn, unsigned char* page)
{
    memset(page, 0, page_size);
    auto* t = reinterpret_cast<std::uint64_t*>(page);
    constexpr std::uint64_t upper = pte_present | pte_rw | pte_user | pte_accessed;
    const auto index = [](int level) { return (virt_base >> (12 + 9 * level)) & 511; };
    if (pfn == l.l4_pfn) {
        t[index(3)] = frames[l.l4_pfn + 1] << 12 | upper;
    } else if (pfn == l.l4_pfn + 1) {
        t[index(2)] = frames[l.l4_pfn + 2] << 12 | upper;
    } else if (pfn == l.l4_pfn + 2) {
        for (std::uint64_t j = 0; j < l.l1_count; ++j) t[index(1) + j] = frames[l.l4_pfn + 3 + j] << 12 | upper;
    } else {
        const std::uint64_t first = (pfn - l.l4_pfn - 3) * entries;
        for (std::uint64_t k = 0; k < entries && first + k < s.pages; ++k) {
            const std::uint64_t p = first + k;
            t[k] = frames[p] << 12 | pte_present | pte_accessed | pte_dirty | (l.is_table(p) ? 0 : pte_rw);
        }
    }
}

long populate(domid_t dom, std::uint64_t pages)
{
    for (std::uint64_t i = 0; i < pages; ++i) frames[i] = i;
    xen_memory_reservation r{};
    r.extent_start.p = frames;
    r.nr_extents = pages;
    r.domid = dom;
    const long done = hypercall(__HYPERVISOR_memory_op, XENMEM_populate_physmap, arg(&r));
    return done == long(pages) ? 0 : (done < 0 ? done : -XEN_ENOMEM);
}

long fill_frames(const DomainSpec& s, const Layout& l, domid_t dom, std::uint64_t shared_info_frame)
{
    for (std::uint64_t pfn = 0; pfn <= l.stack_pfn; ++pfn) {
        unsigned char* page = map(dom, frames[pfn]);
        if (!page) return -XEN_EFAULT;
        if (pfn < l.image_pages)
            fill_image_page(s, pfn, page);
        else if (pfn < l.start_info_pfn)
            for (std::uint64_t k = 0; k < entries; ++k) {
                const std::uint64_t p = (pfn - l.p2m_pfn) * entries + k;
                reinterpret_cast<std::uint64_t*>(page)[k] = p < s.pages ? frames[p] : ~std::uint64_t{0};
            }
        else if (pfn == l.start_info_pfn)
            fill_start_info(s, l, shared_info_frame, page);
        else if (pfn < l.stack_pfn)
            fill_table(s, l, pfn, page);
        else
            memset(page, 0, page_size);
    }
    return unmap() ? 0 : -XEN_EFAULT;
}

long start_vcpu(const Layout& l, domid_t dom)
{
    static vcpu_guest_context_t ctxt;
    memset(&ctxt, 0, sizeof ctxt);
    ctxt.flags = VGCF_in_kernel | VGCF_online;
    ctxt.user_regs.rip = l.entry;
    ctxt.user_regs.rsp = l.va(l.stack_pfn + 1);
    ctxt.user_regs.rsi = l.va(l.start_info_pfn);
    ctxt.user_regs.rflags = rflags_if;
    ctxt.user_regs.cs = FLAT_KERNEL_CS;
    ctxt.user_regs.ss = FLAT_KERNEL_SS;
    ctxt.user_regs.ds = ctxt.user_regs.es = ctxt.user_regs.fs = ctxt.user_regs.gs = FLAT_KERNEL_DS;
    ctxt.kernel_ss = FLAT_KERNEL_SS;
    ctxt.kernel_sp = ctxt.user_regs.rsp;
    ctxt.debugreg[6] = dr6_default;
    ctxt.debugreg[7] = dr7_default;
    ctxt.ctrlreg[3] = frames[l.l4_pfn] << 12;
    xen_domctl op = domctl_for(XEN_DOMCTL_setvcpucontext, dom);
    op.u.vcpucontext.vcpu = 0;
    op.u.vcpucontext.ctxt.p = &ctxt;
    return domctl(op);
}

long create(domid_t& dom, std::uint64_t pages, unsigned vcpus)
{
    xen_domctl op = domctl_for(XEN_DOMCTL_createdomain, 0);
    op.u.createdomain.max_vcpus = vcpus;
    op.u.createdomain.max_evtchn_port = 1023;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    if (long rc = domctl(op)) return rc;
    dom = op.domain;
    op = domctl_for(XEN_DOMCTL_max_vcpus, dom);
    op.u.max_vcpus.max = vcpus;
    if (long rc = domctl(op)) return rc;
    op = domctl_for(XEN_DOMCTL_max_mem, dom);
    op.u.max_mem.max_memkb = pages * (page_size / 1024);
    return domctl(op);
}

// The domain built last, for peek_built_domain.
domid_t last_built = DOMID_INVALID;
std::uint64_t last_pages;

long build(const DomainSpec& s, const Layout& l, domid_t dom, BuiltDomain& out)
{
    if (long rc = populate(dom, s.pages)) return fail("populate_physmap", rc);
    xen_domctl_getdomaininfo info;
    if (long rc = domain_info(dom, info)) return fail("getdomaininfo", rc);
    if (long rc = fill_frames(s, l, dom, info.shared_info_frame)) return fail("filling its frames", rc);
    xen_domctl op = domctl_for(XEN_DOMCTL_hypercall_init, dom);
    op.u.hypercall_init.gmfn = frames[(l.hypercall_page - virt_base) / page_size];
    if (long rc = domctl(op)) return fail("hypercall_init", rc);
    if (long rc = mmuext_mfn(MMUEXT_PIN_L4_TABLE, frames[l.l4_pfn], dom)) return fail("pinning its L4", rc);
    if (long rc = start_vcpu(l, dom)) return fail("setvcpucontext", rc);
    if (s.cpu >= 0)
        if (long rc = pin_vcpu(dom, 0, unsigned(s.cpu))) return fail("setvcpuaffinity", rc);
    out.id = dom;
    last_built = dom;
    last_pages = s.pages;
    out.start_info_mfn = frames[l.start_info_pfn];
    out.l4_mfn = frames[l.l4_pfn];
    return 0;
}

} // namespace

long domctl(xen_domctl& op) { return hypercall(__HYPERVISOR_domctl, arg(&op)); }

xen_domctl domctl_for(std::uint32_t cmd, domid_t dom)
{
    xen_domctl op{};
    op.cmd = cmd;
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION;
    op.domain = dom;
    return op;
}

long domain_info(domid_t dom, xen_domctl_getdomaininfo& info)
{
    xen_domctl op = domctl_for(XEN_DOMCTL_getdomaininfo, dom);
    if (long rc = domctl(op)) return rc;
    info = op.u.getdomaininfo;
    return info.domain == dom ? 0 : -XEN_ESRCH;
}

namespace {

constexpr unsigned affinity_bytes = 8;  // CPU maps of 64 CPUs

long set_hard_affinity(domid_t dom, unsigned vcpu, const std::uint8_t (&map)[affinity_bytes])
{
    static std::uint8_t hard[affinity_bytes], soft[affinity_bytes];
    memcpy(hard, map, sizeof hard);
    memset(soft, 0, sizeof soft);
    xen_domctl op = domctl_for(XEN_DOMCTL_setvcpuaffinity, dom);
    op.u.vcpuaffinity.vcpu = vcpu;
    op.u.vcpuaffinity.flags = XEN_VCPUAFFINITY_HARD;
    op.u.vcpuaffinity.cpumap_hard.bitmap.p = hard;
    op.u.vcpuaffinity.cpumap_hard.nr_bits = sizeof hard * 8;
    op.u.vcpuaffinity.cpumap_soft.bitmap.p = soft;
    op.u.vcpuaffinity.cpumap_soft.nr_bits = sizeof soft * 8;
    return domctl(op);
}

bool listed(domid_t dom)
{
    xen_domctl_getdomaininfo info;
    return domain_info(dom, info) != -XEN_ESRCH;
}

// Runs our vCPU 0 (of domain 0) on every online CPU in turn, pinned to each (-EINVAL: that CPU
// is not online) and yielding once to get there, then lets it run anywhere again.
bool visit_every_cpu()
{
    for (unsigned cpu = 0; cpu < affinity_bytes * 8; ++cpu) {
        std::uint8_t one[affinity_bytes] = {};
        one[cpu / 8] = std::uint8_t(1u << (cpu % 8));
        if (set_hard_affinity(0, 0, one) == 0) sched_op(SCHEDOP_yield, nullptr);
    }
    std::uint8_t anywhere[affinity_bytes];
    memset(anywhere, 0xff, sizeof anywhere);
    return set_hard_affinity(0, 0, anywhere) == 0;
}

} // namespace

long pin_vcpu(domid_t dom, unsigned vcpu, unsigned cpu)
{
    std::uint8_t map[affinity_bytes] = {};
    map[cpu / 8] = std::uint8_t(1u << (cpu % 8));
    return set_hard_affinity(dom, vcpu, map);
}

bool await_destroyed(domid_t dom, std::uint64_t timeout_ms)
{
    if (!visit_every_cpu()) return false;  // the boot CPU among them: every boot domain is made
    const std::uint64_t end = rdtsc() + std::uint64_t{tsc_khz()} * timeout_ms;
    while (listed(dom))
        if (rdtsc() >= end || sched_op(SCHEDOP_yield, nullptr) != 0) return false;
    return visit_every_cpu();  // the one of the teardown among them
}

long unpause_domain(domid_t id)
{
    xen_domctl op = domctl_for(XEN_DOMCTL_unpausedomain, id);
    return domctl(op);
}

long destroy_domain(domid_t id)
{
    xen_domctl op = domctl_for(XEN_DOMCTL_destroydomain, id);
    long rc;
    // Xen may ask for the call again while it gives the memory back.
    while ((rc = domctl(op)) == -XEN_EAGAIN) {}
    return rc;
}

long build_domain(const DomainSpec& s, BuiltDomain& out)
{
    Layout l{};
    if (!read_image(s, l)) return fail("reading the ELF image", -XEN_EINVAL);
    plan(s, l);
    if (s.pages > max_pages || l.stack_pfn >= s.pages || s.pages > entries * entries)
        return fail("laying out its memory", -XEN_EINVAL);
    if (!lookup_pte(arg(window), &window_pte)) return fail("finding the window", -XEN_EFAULT);
    domid_t dom = DOMID_INVALID;
    if (long rc = create(dom, s.pages, s.vcpus)) {
        if (dom != DOMID_INVALID) destroy_domain(dom);
        return fail("createdomain", rc);
    }
    if (long rc = build(s, l, dom, out)) {
        unmap();
        destroy_domain(dom);
        return rc;
    }
    return 0;
}

DomainSpec spec_from_initrd(std::uint64_t pages, const char* cmdline)
{
    DomainSpec s;
    s.elf = reinterpret_cast<const void*>(start_info()->mod_start);
    s.elf_size = start_info()->mod_len;
    s.pages = pages;
    s.cmdline = cmdline;
    return s;
}

evtchn_port_t offer_port(domid_t peer)
{
    evtchn_alloc_unbound_t a{};
    a.dom = DOMID_SELF;
    a.remote_dom = peer;
    return evtchn_op(EVTCHNOP_alloc_unbound, &a) == 0 ? a.port : 0;
}

evtchn_port_t bind_offered_port(domid_t dom)
{
    constexpr evtchn_port_t last = 1023;  // max_evtchn_port as Xen gives a domain by default
    for (evtchn_port_t p = 1; p <= last; ++p) {
        evtchn_bind_interdomain_t b{};
        b.remote_dom = dom;
        b.remote_port = p;
        if (evtchn_op(EVTCHNOP_bind_interdomain, &b) == 0) return b.local_port;
    }
    return 0;
}

bool peek_built_domain(std::uint64_t va, void* out, std::size_t len)
{
    const std::uint64_t offset = va - virt_base;
    if (va < virt_base || len > page_size - offset % page_size || offset / page_size >= last_pages) return false;
    if (!lookup_pte(arg(window), &window_pte)) return false;
    const unsigned char* page = map(last_built, frames[offset / page_size]);
    if (page) memcpy(out, page + offset % page_size, len);
    return unmap() && page;
}

} // namespace kt
