// descriptors: set_gdt and update_descriptor. The hypervisor checks every descriptor a guest
// installs: code and data segments are accepted with their DPL raised to 3 (a 64-bit PV
// kernel runs in ring 3), not-present ones and type 0 are harmless, and system descriptors
// other than call gates (TSS, LDT, interrupt gates) are refused with -EINVAL. GDT frames must
// not be mapped writable (the page becomes a descriptor page while in use).
#include <xen/errno.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"

namespace {

// Segment descriptors (Intel SDM vol. 3 3.4.5), as raw 64-bit values.
constexpr std::uint64_t data_dpl3 = 0x00cff2000000ffffull;  // flat read/write data, DPL 3
constexpr std::uint64_t data_dpl0 = 0x00cf92000000ffffull;  // the same with DPL 0
constexpr std::uint64_t code64_dpl3 = 0x00affa000000ffffull;  // 64-bit code, DPL 3
constexpr std::uint64_t tss_dpl0 = 0x0000890000000067ull;  // available 64-bit TSS (low half)
constexpr std::uint64_t ldt_dpl0 = 0x0000820000000fffull;  // LDT (low half)
constexpr std::uint64_t not_present_junk = 0x12ff7fff5678abcdull & ~(1ull << 47);  // P clear
constexpr std::uint64_t dpl_mask = 3ull << 45;

[[gnu::aligned(4096)]] std::uint64_t scratch[512];
[[gnu::aligned(4096)]] std::uint64_t gdt[512];

std::uint64_t maddr_of(const void* p)
{
    const std::uint64_t va = reinterpret_cast<std::uint64_t>(p);
    return (kt::virt_to_mfn(p) << 12) | (va & (kt::page_size - 1));
}

long update_descriptor(std::uint64_t maddr, std::uint64_t desc)
{
    return kt::hypercall(__HYPERVISOR_update_descriptor, maddr, desc);
}

long set_gdt(const xen_ulong_t* frames, unsigned entries)
{
    return kt::hypercall(__HYPERVISOR_set_gdt, kt::arg(frames), entries);
}

bool map_gdt_page(bool writable) { return kt::map_machine_page(gdt, kt::virt_to_mfn(gdt) << 12, writable); }

} // namespace

TEST(update_descriptor_writes_valid_descriptors)
{
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[1]), data_dpl3), 0);
    EXPECT_EQ(scratch[1], data_dpl3);
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[2]), code64_dpl3), 0);
    EXPECT_EQ(scratch[2], code64_dpl3);
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[3]), not_present_junk), 0);
    EXPECT_EQ(scratch[3], not_present_junk);
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[4]), 0), 0);
    EXPECT_EQ(scratch[4], 0u);
}

TEST(update_descriptor_raises_dpl_to_3)
{
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[5]), data_dpl0), 0);
    EXPECT_EQ(scratch[5], data_dpl0 | dpl_mask);
}

TEST(update_descriptor_refuses_system_descriptors)
{
    scratch[6] = 0x1111;
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[6]), tss_dpl0), -XEN_EINVAL);
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[6]), ldt_dpl0), -XEN_EINVAL);
    EXPECT_EQ(scratch[6], 0x1111u);
}

TEST(update_descriptor_refuses_misaligned_address)
{
    scratch[7] = 0x2222;
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[7]) + 4, data_dpl3), -XEN_EINVAL);
    EXPECT_EQ(update_descriptor(maddr_of(&scratch[7]) + 1, data_dpl3), -XEN_EINVAL);
    EXPECT_EQ(scratch[7], 0x2222u);
}

TEST(update_descriptor_refuses_read_only_page_tables)
{
    // Our own L4 is a page-table page: not writable, not a descriptor page.
    const std::uint64_t* l4 = static_cast<const std::uint64_t*>(kt::read_only_page());
    const std::uint64_t before = l4[1];
    EXPECT_EQ(update_descriptor(maddr_of(&l4[1]), 0), -XEN_EINVAL);
    EXPECT_EQ(l4[1], before);
}

TEST(set_gdt_refuses_writable_frame)
{
    const xen_ulong_t frames[1] = {kt::virt_to_mfn(gdt)};
    EXPECT_EQ(set_gdt(frames, 512), -XEN_EINVAL);
}

TEST(set_gdt_refuses_invalid_descriptor)
{
    gdt[1] = data_dpl3;
    gdt[2] = tss_dpl0;
    ASSERT_TRUE(map_gdt_page(false));
    const xen_ulong_t frames[1] = {kt::virt_to_mfn(gdt)};
    EXPECT_EQ(set_gdt(frames, 512), -XEN_EINVAL);
    ASSERT_TRUE(map_gdt_page(true));
}

TEST(set_gdt_argument_errors)
{
    const xen_ulong_t frames[1] = {kt::virt_to_mfn(gdt)};
    EXPECT_EQ(set_gdt(frames, FIRST_RESERVED_GDT_ENTRY + 1), -XEN_EINVAL);
    for (const auto& b : kt::bad_pointers) {
        kt::print("frame list: {} {x}\n", b.what, b.address);
        EXPECT_EQ(set_gdt(kt::bad<xen_ulong_t>(b), 512), -XEN_EFAULT);
    }
}

TEST(set_gdt_installs_a_usable_gdt)
{
    for (auto& d : gdt)
        d = 0;
    gdt[1] = data_dpl0;  // accepted with DPL 3
    ASSERT_TRUE(map_gdt_page(false));
    const xen_ulong_t frames[1] = {kt::virt_to_mfn(gdt)};
    ASSERT_EQ(set_gdt(frames, 512), 0);
    // The DPL fix-up was written into the descriptor page itself.
    EXPECT_EQ(gdt[1], data_dpl0 | dpl_mask);

    // Selector 0x0b (index 1, RPL 3) loads; one beyond the 512 entries is #GP(selector).
    kt::TrapRecord r;
    std::uint16_t es = 0;
    EXPECT_EQ(kt::catch_trap([&] { asm volatile("mov $0x0b, %%ax\n mov %%ax, %%es\n mov %%es, %0\n xor %%eax, %%eax\n mov %%ax, %%es" : "=m"(es) : : "rax"); }, r), kt::caught_none);
    EXPECT_EQ(es, 0x0bu);
    EXPECT_EQ(kt::catch_trap([] { asm volatile("mov $0x1003, %%ax\n mov %%ax, %%es" : : : "rax"); }, r), kt::caught_trap);
    EXPECT_EQ(r.vector, 13u);
    EXPECT_EQ(r.error_code, 0x1000u);

    // While installed, update_descriptor still checks what goes into the page.
    EXPECT_EQ(update_descriptor(maddr_of(&gdt[3]), code64_dpl3), 0);
    EXPECT_EQ(gdt[3], code64_dpl3);
    EXPECT_EQ(update_descriptor(maddr_of(&gdt[4]), tss_dpl0), -XEN_EINVAL);
    EXPECT_EQ(gdt[4], 0u);

    // An empty GDT releases the frame, which can be mapped writable again.
    EXPECT_EQ(set_gdt(frames, 0), 0);
    EXPECT_TRUE(map_gdt_page(true));
}
