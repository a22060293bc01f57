// xen_version: every sub-op, checked for shape rather than for Xen's own strings, so that any
// hypervisor speaking the ABI passes; bad sub-ops and bad buffers give Xen's error numbers. The
// feature submap is the exception: exactly the bits Xen 4.17 gives a 64-bit PV dom0.
#include <xen/errno.h>
#include <xen/features.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

// A NUL-terminated string of printable characters within n bytes.
bool printable_string(const char* s, std::size_t n)
{
    const std::size_t len = kt::strnlen(s, n);
    if (len == n)
        return false;
    for (std::size_t i = 0; i < len; ++i) {
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    }
    return true;
}

bool has_bit(std::uint32_t map, unsigned bit) { return (map >> bit) & 1; }

} // namespace

TEST(version_is_major_minor)
{
    const long v = kt::xen_version(XENVER_version, nullptr);
    EXPECT_GE(v, 3L << 16);
    EXPECT_LT(v, 1L << 32);
}

TEST(extraversion_is_a_string)
{
    xen_extraversion_t s;
    memset(s, 0x7f, sizeof s);
    EXPECT_EQ(kt::xen_version(XENVER_extraversion, s), 0);
    EXPECT_TRUE(printable_string(s, sizeof s));
}

TEST(compile_info_fields_are_strings)
{
    xen_compile_info_t info;
    memset(&info, 0x7f, sizeof info);
    EXPECT_EQ(kt::xen_version(XENVER_compile_info, &info), 0);
    EXPECT_TRUE(printable_string(info.compiler, sizeof info.compiler));
    EXPECT_TRUE(printable_string(info.compile_by, sizeof info.compile_by));
    EXPECT_TRUE(printable_string(info.compile_domain, sizeof info.compile_domain));
    EXPECT_TRUE(printable_string(info.compile_date, sizeof info.compile_date));
}

TEST(capabilities_list_64bit_pv)
{
    static xen_capabilities_info_t caps;
    memset(caps, 0x7f, sizeof caps);
    EXPECT_EQ(kt::xen_version(XENVER_capabilities, caps), 0);
    ASSERT_TRUE(printable_string(caps, sizeof caps));
    kt::print("capabilities: \"{}\"\n", static_cast<const char*>(caps));
    // The magic we were started with names the guest type we are, which must be listed.
    EXPECT_TRUE(kt::has_word(caps, "xen-3.0-x86_64"));
}

TEST(changeset_is_a_string)
{
    xen_changeset_info_t s;
    memset(s, 0x7f, sizeof s);
    EXPECT_EQ(kt::xen_version(XENVER_changeset, s), 0);
    EXPECT_TRUE(printable_string(s, sizeof s));
}

TEST(platform_parameters_give_hypervisor_start)
{
    xen_platform_parameters_t p{};
    EXPECT_EQ(kt::xen_version(XENVER_platform_parameters, &p), 0);
    // For 64-bit PV guests the hypervisor hole starts at the fixed HYPERVISOR_VIRT_START.
    EXPECT_EQ(p.virt_start, HYPERVISOR_VIRT_START);
}

namespace {

std::uint32_t features_submap0()
{
    xen_feature_info_t fi{};
    fi.submap_idx = 0;
    fi.submap = 0xdeadbeef;
    if (kt::xen_version(XENVER_get_features, &fi) != 0)
        return 0xdeadbeef;
    return fi.submap;
}

// What Xen 4.17 reports to a 64-bit PV dom0 (common/kernel.c): vnode memory ops,
// MMU_PT_UPDATE_PRESERVE_AD, MMUEXT_CLEAR_PAGE/COPY_PAGE, grant-map available PTE bits, dom0
// and direct-mapped; nothing translated, nothing HVM, no ring-0 kernel. pae_pgdir_above_4gb
// follows VMASST_TYPE_pae_extended_cr3, which this kernel (no PAE_MODE note) starts without.
constexpr std::uint32_t dom0_features = (1u << XENFEAT_memory_op_vnode_supported) | (1u << XENFEAT_dom0)
                                        | (1u << XENFEAT_mmu_pt_update_preserve_ad) | (1u << XENFEAT_highmem_assist)
                                        | (1u << XENFEAT_gnttab_map_avail_bits) | (1u << XENFEAT_direct_mapped);
static_assert(dom0_features == 0x228e0);

} // namespace

TEST(get_features_submap0)
{
    const std::uint32_t f = features_submap0();
    kt::print("features[0] = {x}\n", f);
    EXPECT_EQ(f, dom0_features);
    EXPECT_TRUE(has_bit(f, XENFEAT_dom0));  // we are the hardware domain
    EXPECT_FALSE(has_bit(f, XENFEAT_auto_translated_physmap));
    EXPECT_FALSE(has_bit(f, XENFEAT_supervisor_mode_kernel));
}

TEST(pae_extended_cr3_assist_gives_pae_pgdir_above_4gb)
{
    ASSERT_EQ(kt::vm_assist(VMASST_CMD_enable, VMASST_TYPE_pae_extended_cr3), 0);
    EXPECT_EQ(features_submap0(), dom0_features | (1u << XENFEAT_pae_pgdir_above_4gb));
    ASSERT_EQ(kt::vm_assist(VMASST_CMD_disable, VMASST_TYPE_pae_extended_cr3), 0);
    EXPECT_EQ(features_submap0(), dom0_features);
}

TEST(get_features_other_submaps_invalid)
{
    xen_feature_info_t fi{};
    fi.submap_idx = XENFEAT_NR_SUBMAPS;
    EXPECT_EQ(kt::xen_version(XENVER_get_features, &fi), -XEN_EINVAL);
    fi.submap_idx = 0xffffffffu;
    EXPECT_EQ(kt::xen_version(XENVER_get_features, &fi), -XEN_EINVAL);
}

TEST(pagesize)
{
    EXPECT_EQ(kt::xen_version(XENVER_pagesize, nullptr), static_cast<long>(kt::page_size));
    // The argument must be NULL.
    std::uint64_t dummy = 0;
    EXPECT_EQ(kt::xen_version(XENVER_pagesize, &dummy), -XEN_EINVAL);
}

TEST(guest_handle_of_dom0_is_zero)
{
    xen_domain_handle_t h;
    memset(h, 0x5a, sizeof h);
    EXPECT_EQ(kt::xen_version(XENVER_guest_handle, h), 0);
    unsigned nonzero = 0;
    for (auto b : h)
        nonzero += b != 0;
    EXPECT_EQ(nonzero, 0u);  // dom0 is created without a UUID
}

TEST(commandline_is_the_hypervisor_command_line)
{
    static xen_commandline_t line;
    memset(line, 0x7f, sizeof line);
    EXPECT_EQ(kt::xen_version(XENVER_commandline, line), 0);
    ASSERT_TRUE(printable_string(line, sizeof line));
    kt::print("hypervisor command line: \"{}\"\n", static_cast<const char*>(line));
    // The harness gives the hypervisor dom0_mem=<N>M and us kt.dom0_mem=<N>.
    std::uint64_t mib = 0;
    ASSERT_TRUE(kt::cmdline_number(kt::command_line(), "kt.dom0_mem", &mib));
    char want[40];
    kt::format(want, sizeof want, "dom0_mem={}M", mib);
    EXPECT_TRUE(kt::has_word(line, want));
}

TEST(build_id)
{
    // With a NULL buffer the answer is the id's length (or -ENODATA when the build has none).
    const long len = kt::xen_version(XENVER_build_id, nullptr);
    kt::print("build id length: {}\n", len);
    if (len == -XEN_ENODATA)
        return;
    ASSERT_GT(len, 0);
    ASSERT_LE(len, 64);
    alignas(xen_build_id_t) static unsigned char raw[sizeof(xen_build_id_t) + 64];
    auto* id = reinterpret_cast<xen_build_id_t*>(raw);
    id->len = 0;
    EXPECT_EQ(kt::xen_version(XENVER_build_id, id), -XEN_EINVAL);
    id->len = static_cast<std::uint32_t>(len - 1);
    EXPECT_EQ(kt::xen_version(XENVER_build_id, id), -XEN_ENOBUFS);
    id->len = 64;
    EXPECT_EQ(kt::xen_version(XENVER_build_id, id), len);
    unsigned nonzero = 0;
    for (long i = 0; i < len; ++i)
        nonzero += raw[sizeof(xen_build_id_t) + i] != 0;
    EXPECT_GT(nonzero, 0u);
    EXPECT_EQ(kt::xen_version(XENVER_build_id, kt::bad<char>(kt::bad_pointers[0])), -XEN_EFAULT);
}

TEST(unknown_subops_are_enosys)
{
    std::uint64_t buf[8] = {};
    EXPECT_EQ(kt::xen_version(11, buf), -XEN_ENOSYS);  // one past XENVER_build_id
    EXPECT_EQ(kt::xen_version(0x7fff, buf), -XEN_ENOSYS);
    EXPECT_EQ(kt::xen_version(-1, buf), -XEN_ENOSYS);
}

TEST(bad_buffers_are_efault)
{
    for (const auto& b : kt::bad_pointers) {
        kt::print("buffer: {} {x}\n", b.what, b.address);
        EXPECT_EQ(kt::xen_version(XENVER_extraversion, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_compile_info, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_capabilities, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_changeset, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_platform_parameters, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_get_features, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_guest_handle, kt::bad<char>(b)), -XEN_EFAULT);
        EXPECT_EQ(kt::xen_version(XENVER_commandline, kt::bad<char>(b)), -XEN_EFAULT);
    }
}

TEST(read_only_buffer_is_efault_and_untouched)
{
    // Our top-level page table is mapped read-only: the hypervisor must not write it for us.
    auto* table = static_cast<const std::uint64_t*>(kt::read_only_page());
    const std::uint64_t before0 = table[0], before1 = table[1];
    EXPECT_EQ(kt::xen_version(XENVER_extraversion, kt::read_only_page()), -XEN_EFAULT);
    EXPECT_EQ(table[0], before0);
    EXPECT_EQ(table[1], before1);
}
