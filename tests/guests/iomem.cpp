// iomem: what a PV control domain sees of the machine outside its RAM. XENMEM_machine_memory_map
// gives the host's E820 map with the ranges dom0 may not map (the APICs, the MSI window) shown
// reserved; the first MiB and the holes of the map are I/O memory it may map, never cached
// unless it asks for an uncached kind, holding no reference; the local APIC is refused. The
// test finds the ACPI RSDP in the BIOS area the way a dom0 kernel does.
#include <xen/errno.h>
#include <xen/memory.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/lib.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

[[gnu::aligned(4096)]] std::uint8_t window[4096];

constexpr std::uint64_t present = kt::pte_present, rw = kt::pte_rw;
constexpr std::uint64_t pwt = 1u << 3, pcd = 1u << 4;
constexpr unsigned MAX_ENTRIES = 128;
xen_e820_entry entries[MAX_ENTRIES];

std::uint64_t va(const void* p) { return reinterpret_cast<std::uint64_t>(p); }

// Shows machine frame mfn at `window` (flags as given); the window's own frame comes back
// with restore().
long show(std::uint64_t mfn, std::uint64_t flags)
{
    return kt::update_va_mapping(va(window), (mfn << 12) | flags, UVMF_INVLPG | UVMF_LOCAL);
}

long restore() { return kt::update_va_mapping(va(window), (kt::virt_to_mfn(window) << 12) | present | rw, UVMF_INVLPG | UVMF_LOCAL); }

long machine_map(std::uint32_t room, xen_e820_entry* buffer, std::uint32_t& count)
{
    xen_memory_map_t m{};
    m.nr_entries = room;
    set_xen_guest_handle(m.buffer, buffer);
    long rc = kt::hypercall(__HYPERVISOR_memory_op, XENMEM_machine_memory_map, kt::arg(&m));
    count = m.nr_entries;
    return rc;
}

// The entry that covers addr, or null.
const xen_e820_entry* covering(std::uint32_t n, std::uint64_t addr)
{
    for (std::uint32_t i = 0; i < n; ++i)
        if (addr >= entries[i].addr && addr - entries[i].addr < entries[i].size) return &entries[i];
    return nullptr;
}

TEST(the_machine_map_is_sorted_and_hides_what_dom0_may_not_map)
{
    std::uint32_t n = 0;
    ASSERT_EQ(machine_map(0, nullptr, n), 0);  // a count only
    ASSERT_GT(n, 2u);
    ASSERT_LT(n, MAX_ENTRIES);
    std::uint32_t got = 0;
    EXPECT_EQ(machine_map(n, entries, got), -XEN_EINVAL);  // Xen wants one entry spare
    ASSERT_EQ(machine_map(n + 1, entries, got), 0);
    EXPECT_EQ(got, n);
    std::uint64_t ram = 0;
    for (std::uint32_t i = 0; i < got; ++i) {
        EXPECT_GT(entries[i].size, 0u);
        if (i) EXPECT_GE(entries[i].addr, entries[i - 1].addr + entries[i - 1].size);
        if (entries[i].type == XEN_E820_RAM) ram += entries[i].size;
    }
    // The machine has more RAM than dom0 got, and the local APIC's page is not for dom0.
    EXPECT_GT(ram, kt::start_info()->nr_pages * 4096);
    const xen_e820_entry* lapic = covering(got, 0xfee00000);
    ASSERT_TRUE(lapic != nullptr);
    EXPECT_EQ(lapic->type, static_cast<std::uint32_t>(XEN_E820_RESERVED));
    // Too little room for the firmware's entries, and a bad buffer.
    EXPECT_EQ(machine_map(2, entries, got), -XEN_EINVAL);
    EXPECT_EQ(machine_map(n + 1, reinterpret_cast<xen_e820_entry*>(0x0000800000000000ull), got), -XEN_EFAULT);
}

TEST(the_bios_area_is_io_memory_dom0_maps_uncached)
{
    // The ACPI root pointer lies on a 16-byte boundary in the BIOS area (0xe0000-0xfffff).
    bool found = false;
    for (std::uint64_t mfn = 0xe0; mfn < 0x100 && !found; ++mfn) {
        ASSERT_EQ(show(mfn, present), 0);
        if (mfn == 0xe0) {
            // Asked for write-back, shown uncached: device memory is never cached.
            EXPECT_EQ(kt::read_entry(kt::l1e_maddr(window)) & (pwt | pcd), pwt | pcd);
            EXPECT_EQ((kt::read_entry(kt::l1e_maddr(window)) & kt::pte_addr_mask) >> 12, 0xe0u);
        }
        for (unsigned off = 0; off < 4096 && !found; off += 16)
            found = memcmp(window + off, "RSD PTR ", 8) == 0;
    }
    EXPECT_TRUE(found);
    ASSERT_EQ(restore(), 0);
    // Asked for uncached, left uncached.
    ASSERT_EQ(show(0xf0, present | pcd | pwt), 0);
    EXPECT_EQ(kt::read_entry(kt::l1e_maddr(window)) & (pwt | pcd), pwt | pcd);
    ASSERT_EQ(restore(), 0);
}

TEST(the_local_apic_is_the_hypervisors)
{
    EXPECT_EQ(show(0xfee00, present | rw), -XEN_EPERM);
    EXPECT_EQ(show(0xfee00, present), -XEN_EPERM);
    EXPECT_EQ(show(0xffffffffffull, present), -XEN_EINVAL);  // the all-ones frame: "none", as Xen
    EXPECT_EQ((kt::read_entry(kt::l1e_maddr(window)) & kt::pte_addr_mask) >> 12, kt::virt_to_mfn(window));
}

TEST(a_hole_below_4g_maps_and_unmaps_without_a_trace)
{
    // Find a frame below 4 GiB in no entry of the map: PCI space dom0 may use.
    std::uint32_t n = 0;
    ASSERT_EQ(machine_map(MAX_ENTRIES, entries, n), 0);
    std::uint64_t hole = 0;
    for (std::uint64_t addr = 0xc0000000; addr < 0xfe000000 && !hole; addr += 0x1000000)
        if (!covering(n, addr)) hole = addr >> 12;
    ASSERT_NE(hole, 0u);
    ASSERT_EQ(show(hole, present | rw), 0);
    EXPECT_EQ(kt::read_entry(kt::l1e_maddr(window)) & (pwt | pcd), pwt | pcd);
    ASSERT_EQ(restore(), 0);
    window[0] = 0x5a;  // our own frame again
    EXPECT_EQ(window[0], 0x5a);
}

} // namespace
