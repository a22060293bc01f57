// xen_version: every sub-op's answer and error path, as Xen 4.17's do_xen_version with the
// default XSM policy gives them (common/kernel.c, xsm/dummy.h): version, platform parameters
// and features for everyone, the build strings, page size and handle for everyone, the
// command line and build id for the control domain only.
#include <xen/features.h>
#include <xen/version.h>

#include <string>

#include "pv_test_support.hpp"
#include "xen_version.hpp"

namespace {

using namespace pv_test;

class XenVersion : public PvTest {
protected:
    static constexpr uint64_t BUF = 0xffffffff84000000;
    void SetUp() override {
        PvTest::SetUp();
        buf = std::make_unique<GuestBuffer>(BUF, 2048);
        std::memset(buf->bytes.data(), 0xaa, buf->bytes.size());
        d0 = make_dom0();
        c0 = d0->vcpu(VcpuId(0));
    }
    long xv(Vcpu& v, int cmd, uint64_t arg = BUF) { return call(v, __HYPERVISOR_xen_version, uint64_t(uint32_t(cmd)), arg); }
    std::string str(size_t max) { return std::string(reinterpret_cast<char*>(buf->bytes.data()), strnlen(reinterpret_cast<char*>(buf->bytes.data()), max)); }
    uint8_t byte(size_t i) { return buf->bytes[i]; }

    std::unique_ptr<GuestBuffer> buf;
    Domain* d0 = nullptr;
    Vcpu* c0 = nullptr;
};

TEST_F(XenVersion, VersionIs4Dot17ForEveryDomain) {
    EXPECT_EQ(xv(*v0, XENVER_version, 0), (4 << 16) | 17);
    EXPECT_EQ(xv(*c0, XENVER_version, 0), (4 << 16) | 17);
}

TEST_F(XenVersion, CommandIsAnInt) {
    // Xen's cmd is an int: the upper half of the register is ignored.
    EXPECT_EQ(call(*v0, __HYPERVISOR_xen_version, (uint64_t{1} << 32) | XENVER_version, 0), (4 << 16) | 17);
}

TEST_F(XenVersion, ExtraversionFillsAllSixteenBytes) {
    EXPECT_EQ(xv(*v0, XENVER_extraversion), 0);
    EXPECT_EQ(str(16), ".0-kestrel");
    for (size_t i = str(16).size(); i < 16; ++i) EXPECT_EQ(byte(i), 0) << i;
    EXPECT_EQ(byte(16), 0xaa) << "nothing past the array";
}

TEST_F(XenVersion, CompileInfoFieldsAreTerminatedStrings) {
    EXPECT_EQ(xv(*v0, XENVER_compile_info), 0);
    auto& info = buf->at<xen_compile_info_t>(BUF);
    EXPECT_EQ(std::string(info.compiler, 3), "gcc");
    EXPECT_NE(memchr(info.compiler, 0, sizeof info.compiler), nullptr);
    EXPECT_NE(memchr(info.compile_by, 0, sizeof info.compile_by), nullptr);
    EXPECT_NE(memchr(info.compile_domain, 0, sizeof info.compile_domain), nullptr);
    EXPECT_NE(memchr(info.compile_date, 0, sizeof info.compile_date), nullptr);
    EXPECT_GT(strlen(info.compile_date), 0u);
    EXPECT_EQ(byte(sizeof(xen_compile_info_t)), 0xaa);
}

TEST_F(XenVersion, CapabilitiesNameThe64BitPvAbiInA1024ByteArray) {
    EXPECT_EQ(xv(*v0, XENVER_capabilities), 0);
    EXPECT_EQ(str(1024), "xen-3.0-x86_64");
    for (size_t i = 14; i < 1024; ++i) ASSERT_EQ(byte(i), 0) << i;
    EXPECT_EQ(byte(1024), 0xaa);
}

TEST_F(XenVersion, ChangesetFills64Bytes) {
    EXPECT_EQ(xv(*v0, XENVER_changeset), 0);
    EXPECT_FALSE(str(64).empty());
    EXPECT_EQ(byte(63), 0);
    EXPECT_EQ(byte(64), 0xaa);
}

TEST_F(XenVersion, PlatformParametersGiveTheHoleStart) {
    EXPECT_EQ(xv(*v0, XENVER_platform_parameters), 0);
    EXPECT_EQ(buf->u64(BUF), 0xffff800000000000u);
    EXPECT_EQ(byte(8), 0xaa);
}

TEST_F(XenVersion, PagesizeWithNullArgument) {
    EXPECT_EQ(xv(*v0, XENVER_pagesize, 0), 4096);
}

TEST_F(XenVersion, PagesizeWithAnArgumentIsEinval) {
    EXPECT_EQ(xv(*v0, XENVER_pagesize, BUF), -XEN_EINVAL);
    EXPECT_EQ(byte(0), 0xaa);
}

TEST_F(XenVersion, GuestHandleIsSixteenBytes) {
    EXPECT_EQ(xv(*v0, XENVER_guest_handle), 0);
    for (size_t i = 0; i < 16; ++i) EXPECT_EQ(byte(i), 0) << i;
    EXPECT_EQ(byte(16), 0xaa);
}

TEST_F(XenVersion, OutputSubOpsFaultOnUnmappedOrReadOnlyBuffers) {
    GuestBuffer ro(0xffffffff85000000, 2048, false);
    for (int cmd : {XENVER_extraversion, XENVER_compile_info, XENVER_capabilities, XENVER_changeset,
                    XENVER_platform_parameters, XENVER_guest_handle}) {
        EXPECT_EQ(xv(*v0, cmd, 0xffffffff86000000), -XEN_EFAULT) << cmd;
        EXPECT_EQ(xv(*v0, cmd, 0xffffffff85000000), -XEN_EFAULT) << cmd;
        EXPECT_EQ(xv(*v0, cmd, HOLE_START), -XEN_EFAULT) << cmd;
        EXPECT_EQ(xv(*v0, cmd, 0), -XEN_EFAULT) << cmd;
    }
}

TEST_F(XenVersion, CapabilitiesFaultWhenTheLastByteIsUnmapped) {
    GuestBuffer shortbuf(0xffffffff87000000, 1023);
    EXPECT_EQ(xv(*v0, XENVER_capabilities, 0xffffffff87000000), -XEN_EFAULT);
}

// Xen 4.17 (common/kernel.c) for a 64-bit PV domain: memory_op_vnode_supported,
// mmu_pt_update_preserve_ad, highmem_assist, gnttab_map_avail_bits and direct_mapped, dom0
// for the hardware domain, pae_pgdir_above_4gb while VMASST_TYPE_pae_extended_cr3 is on.
constexpr uint32_t PV_FEATURES = (1u << XENFEAT_memory_op_vnode_supported) | (1u << XENFEAT_mmu_pt_update_preserve_ad) |
                                 (1u << XENFEAT_highmem_assist) | (1u << XENFEAT_gnttab_map_avail_bits) |
                                 (1u << XENFEAT_direct_mapped);

TEST_F(XenVersion, FeaturesOfAnOrdinaryPvDomain) {
    buf->at<xen_feature_info_t>(BUF) = xen_feature_info_t{0, 0xffffffff};
    EXPECT_EQ(xv(*v0, XENVER_get_features), 0);
    EXPECT_EQ(buf->at<xen_feature_info_t>(BUF).submap, PV_FEATURES);  // 0x200e0
    EXPECT_EQ(buf->at<xen_feature_info_t>(BUF).submap_idx, 0u);
}

TEST_F(XenVersion, ControlDomainGetsTheDom0Feature) {
    buf->at<xen_feature_info_t>(BUF) = xen_feature_info_t{0, 0};
    EXPECT_EQ(xv(*c0, XENVER_get_features), 0);
    EXPECT_EQ(buf->at<xen_feature_info_t>(BUF).submap, PV_FEATURES | (1u << XENFEAT_dom0));  // 0x208e0
}

TEST_F(XenVersion, PaeExtendedCr3AssistAddsPaePgdirAbove4gb) {
    v0->domain().vm_assist |= uint64_t{1} << VMASST_TYPE_pae_extended_cr3;
    buf->at<xen_feature_info_t>(BUF) = xen_feature_info_t{0, 0};
    EXPECT_EQ(xv(*v0, XENVER_get_features), 0);
    EXPECT_EQ(buf->at<xen_feature_info_t>(BUF).submap, PV_FEATURES | (1u << XENFEAT_pae_pgdir_above_4gb));
    // Other assists change nothing.
    v0->domain().vm_assist = (uint64_t{1} << VMASST_TYPE_writable_pagetables) |
                             (uint64_t{1} << VMASST_TYPE_runstate_update_flag);
    EXPECT_EQ(xv(*v0, XENVER_get_features), 0);
    EXPECT_EQ(buf->at<xen_feature_info_t>(BUF).submap, PV_FEATURES);
}

TEST_F(XenVersion, FeatureSubmapsOtherThanZeroAreEinval) {
    for (uint32_t idx : {1u, 2u, 0xffffffffu}) {
        buf->at<xen_feature_info_t>(BUF) = xen_feature_info_t{idx, 0x12345678};
        EXPECT_EQ(xv(*v0, XENVER_get_features), -XEN_EINVAL) << idx;
        EXPECT_EQ(buf->at<xen_feature_info_t>(BUF).submap, 0x12345678u) << "left untouched";
    }
}

TEST_F(XenVersion, FeaturesFaultWhenUnreadableOrReadOnly) {
    EXPECT_EQ(xv(*v0, XENVER_get_features, 0xffffffff86000000), -XEN_EFAULT);
    GuestBuffer ro(0xffffffff85000000, 8, false);
    EXPECT_EQ(xv(*v0, XENVER_get_features, 0xffffffff85000000), -XEN_EFAULT);
    GuestBuffer half(0xffffffff88000000, 4);
    EXPECT_EQ(xv(*v0, XENVER_get_features, 0xffffffff88000000), -XEN_EFAULT);
}

TEST_F(XenVersion, ControlDomainReadsTheWholeCommandLine) {
    xen_version::set_command_line("console=com1 loglvl=all");
    EXPECT_EQ(xv(*c0, XENVER_commandline), 0);
    EXPECT_EQ(str(1024), "console=com1 loglvl=all");
    for (size_t i = 23; i < 1024; ++i) ASSERT_EQ(byte(i), 0) << i;
    EXPECT_EQ(byte(1024), 0xaa) << "exactly xen_commandline_t";
}

TEST_F(XenVersion, LongCommandLineIsCutToFitWithItsTerminator) {
    xen_version::set_command_line(kstd::StringView(std::string(2000, 'x').c_str(), 2000));
    EXPECT_EQ(xv(*c0, XENVER_commandline), 0);
    EXPECT_EQ(str(1024).size(), 1023u);
    EXPECT_EQ(byte(1023), 0);
}

TEST_F(XenVersion, OtherDomainsGetDeniedForTheCommandLine) {
    xen_version::set_command_line("secret=1");
    EXPECT_EQ(xv(*v0, XENVER_commandline), 0);
    EXPECT_EQ(str(1024), "<denied>");
    EXPECT_EQ(byte(8), 0);
    EXPECT_EQ(byte(9), 0xaa) << "only strlen(\"<denied>\") + 1 bytes are written";
}

TEST_F(XenVersion, CommandLineFaults) {
    GuestBuffer small(0xffffffff87000000, 100);
    EXPECT_EQ(xv(*c0, XENVER_commandline, 0xffffffff87000000), -XEN_EFAULT) << "1024 bytes are copied";
    EXPECT_EQ(xv(*v0, XENVER_commandline, 0xffffffff87000000), 0) << "nine bytes fit";
    EXPECT_EQ(xv(*v0, XENVER_commandline, 0xffffffff86000000), -XEN_EFAULT);
}

TEST_F(XenVersion, BuildIdIsRefusedToOtherDomains) {
    EXPECT_EQ(xv(*v0, XENVER_build_id, 0), -XEN_EPERM);
    buf->at<uint32_t>(BUF) = 64;
    EXPECT_EQ(xv(*v0, XENVER_build_id), -XEN_EPERM);
    EXPECT_EQ(xv(*v0, XENVER_build_id, 0xffffffff86000000), -XEN_EPERM) << "permission before access";
}

TEST_F(XenVersion, BuildIdForTheControlDomain) {
    // Kestrel's image carries no build id: Xen answers -ENODATA then.
    EXPECT_EQ(xv(*c0, XENVER_build_id, 0), -XEN_ENODATA);
    buf->at<uint32_t>(BUF) = 64;
    EXPECT_EQ(xv(*c0, XENVER_build_id), -XEN_ENODATA);
}

TEST_F(XenVersion, BuildIdWithZeroLengthIsEinval) {
    buf->at<uint32_t>(BUF) = 0;
    EXPECT_EQ(xv(*c0, XENVER_build_id), -XEN_EINVAL);
}

TEST_F(XenVersion, BuildIdWithUnreadableArgumentIsEfault) {
    EXPECT_EQ(xv(*c0, XENVER_build_id, 0xffffffff86000000), -XEN_EFAULT);
}

TEST_F(XenVersion, UnknownSubOpsAreEnosys) {
    for (int cmd : {11, 12, 100, 0x7fffffff, -1}) {
        EXPECT_EQ(xv(*v0, cmd), -XEN_ENOSYS) << cmd;
        EXPECT_EQ(xv(*c0, cmd), -XEN_ENOSYS) << cmd;
    }
    EXPECT_EQ(byte(0), 0xaa);
}

}  // namespace
