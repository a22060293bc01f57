// CPUID for PV guests: the hypervisor leaves at 0x40000000 in Xen's format (signature,
// version, hypercall page count and MSR, time leaf), zeros for leaves beyond the limit, and
// the host leaves with what a PV guest cannot use hidden and the hypervisor bit set.
#include <gtest/gtest.h>

#include <xen/arch-x86/cpuid.h>

#include <cstring>
#include <string>

#include "cpuid_policy.hpp"


namespace {

constexpr uint32_t bit(unsigned n) { return uint32_t{1} << n; }
constexpr CpuidContext CTX{2'400'000, true, false};
constexpr CpuidRegs ALL{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff};

bool zero(const CpuidRegs& r) { return r.eax == 0 && r.ebx == 0 && r.ecx == 0 && r.edx == 0; }

TEST(CpuidPolicy, HypervisorLeafRange) {
    EXPECT_FALSE(cpuid_policy::is_hypervisor_leaf(0x3fffffff));
    EXPECT_TRUE(cpuid_policy::is_hypervisor_leaf(0x40000000));
    EXPECT_TRUE(cpuid_policy::is_hypervisor_leaf(0x40000005));
    EXPECT_TRUE(cpuid_policy::is_hypervisor_leaf(0x4000ffff));
    EXPECT_FALSE(cpuid_policy::is_hypervisor_leaf(0x40010000));
    EXPECT_FALSE(cpuid_policy::is_hypervisor_leaf(0));
    EXPECT_FALSE(cpuid_policy::is_hypervisor_leaf(0x80000000));
}

TEST(CpuidPolicy, Leaf0GivesTheLimitAndXensSignature) {
    CpuidRegs r = cpuid_policy::hypervisor_leaf(0x40000000, 0, CTX);
    EXPECT_EQ(r.eax, 0x40000005u) << "XEN_CPUID_MAX_NUM_LEAVES";
    char sig[13] = {};
    std::memcpy(sig, &r.ebx, 4);
    std::memcpy(sig + 4, &r.ecx, 4);
    std::memcpy(sig + 8, &r.edx, 4);
    EXPECT_STREQ(sig, "XenVMMXenVMM");
    EXPECT_EQ(r.ebx, uint32_t(XEN_CPUID_SIGNATURE_EBX));
}

TEST(CpuidPolicy, Leaf1IsTheVersion) {
    CpuidRegs r = cpuid_policy::hypervisor_leaf(0x40000001, 0, CTX);
    EXPECT_EQ(r.eax, (4u << 16) | 17u);
    EXPECT_EQ(r.ebx, 0u);
    EXPECT_EQ(r.ecx, 0u);
    EXPECT_EQ(r.edx, 0u);
}

TEST(CpuidPolicy, Leaf2IsOneHypercallPageAtTheXenMsr) {
    CpuidRegs r = cpuid_policy::hypervisor_leaf(0x40000002, 0, CTX);
    EXPECT_EQ(r.eax, 1u);
    EXPECT_EQ(r.ebx, 0x40000000u);
    EXPECT_EQ(r.edx, 0u);
}

TEST(CpuidPolicy, Leaf3TimeFeatures) {
    CpuidRegs r = cpuid_policy::hypervisor_leaf(0x40000003, 0, CTX);
    EXPECT_EQ(r.eax & bit(0), 0u) << "native TSC, not emulated";
    EXPECT_NE(r.eax & bit(2), 0u) << "RDTSCP";
    EXPECT_EQ(r.ebx, 0u) << "tsc_mode default";
    EXPECT_EQ(r.ecx, 2'400'000u) << "tsc_khz";
    CpuidRegs n = cpuid_policy::hypervisor_leaf(0x40000003, 0, CpuidContext{1'000'000, false, true});
    EXPECT_EQ(n.eax & bit(2), 0u);
    EXPECT_EQ(n.ecx, 1'000'000u);
}

TEST(CpuidPolicy, Leaf3PhysicalKhz) {
    EXPECT_EQ(cpuid_policy::hypervisor_leaf(0x40000003, 2, CTX).eax, 2'400'000u);
}

TEST(CpuidPolicy, Leaf3UnknownSubleafIsZero) {
    EXPECT_TRUE(zero(cpuid_policy::hypervisor_leaf(0x40000003, 3, CTX)));
    EXPECT_TRUE(zero(cpuid_policy::hypervisor_leaf(0x40000003, 0xffffffff, CTX)));
}

TEST(CpuidPolicy, Leaf4IsForHvmOnly) {
    EXPECT_TRUE(zero(cpuid_policy::hypervisor_leaf(0x40000004, 0, CTX)));
}

TEST(CpuidPolicy, LeavesBeyondTheLimitAreZero) {
    for (uint32_t leaf : {0x40000006u, 0x40000007u, 0x40000100u, 0x4000ffffu})
        EXPECT_TRUE(zero(cpuid_policy::hypervisor_leaf(leaf, 0, CTX))) << std::hex << leaf;
}

TEST(CpuidPolicy, Leaf1HidesWhatPvCannotUseAndSetsTheHypervisorBit) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(1, 0, ALL);
    for (unsigned b : {3u /*MONITOR*/, 5u /*VMX*/, 6u /*SMX*/, 17u /*PCID*/, 21u /*x2APIC*/, 24u /*TSC-deadline*/,
                       26u /*XSAVE*/, 27u /*OSXSAVE*/, 28u /*AVX*/, 12u /*FMA*/, 29u /*F16C*/})
        EXPECT_EQ(r.ecx & bit(b), 0u) << "ecx bit " << b;
    EXPECT_NE(r.ecx & bit(31), 0u) << "hypervisor present";
    EXPECT_NE(r.ecx & bit(0), 0u) << "SSE3 passes";
    EXPECT_NE(r.ecx & bit(20), 0u) << "SSE4.2 passes";
    for (unsigned b : {21u /*DS*/, 22u /*ACPI*/, 29u /*TM*/, 31u /*PBE*/}) EXPECT_EQ(r.edx & bit(b), 0u) << b;
    EXPECT_NE(r.edx & bit(26), 0u) << "SSE2 passes";
    EXPECT_EQ(r.eax, 0xffffffffu);
    EXPECT_EQ(r.ebx, 0xffffffffu);
}

TEST(CpuidPolicy, Leaf1SetsTheHypervisorBitEvenIfTheHostHasNone) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(1, 0, CpuidRegs{0x806c1, 0x800, 0x1, 0x1});
    EXPECT_EQ(r.ecx, 0x1u | bit(31));
    EXPECT_EQ(r.edx, 0x1u);
    EXPECT_EQ(r.eax, 0x806c1u);
}

TEST(CpuidPolicy, MonitorAndXsaveLeavesAreEmpty) {
    EXPECT_TRUE(zero(cpuid_policy::filter_host_leaf(5, 0, ALL)));
    EXPECT_TRUE(zero(cpuid_policy::filter_host_leaf(0xd, 0, ALL)));
    EXPECT_TRUE(zero(cpuid_policy::filter_host_leaf(0xd, 1, ALL)));
}

TEST(CpuidPolicy, Leaf7HidesRing0ProtectionsAndXsaveFeatures) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(7, 0, ALL);
    for (unsigned b : {5u /*AVX2*/, 7u /*SMEP*/, 10u /*INVPCID*/, 16u /*AVX512F*/, 20u /*SMAP*/})
        EXPECT_EQ(r.ebx & bit(b), 0u) << "ebx bit " << b;
    EXPECT_NE(r.ebx & bit(0), 0u) << "FSGSBASE passes";
    EXPECT_NE(r.ebx & bit(3), 0u) << "BMI1 passes";
}

TEST(CpuidPolicy, Leaf7OtherSubleavesPassThrough) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(7, 1, ALL);
    EXPECT_EQ(r.ebx, 0xffffffffu);
}

TEST(CpuidPolicy, Leaf7HidesWhatXenNeverShowsAPvGuest) {
    // Xen's feature annotations: PKU is HVM-only, OSPKE follows a CR4 bit a PV guest cannot
    // set, UMIP is for HVM guests.
    CpuidRegs r = cpuid_policy::filter_host_leaf(7, 0, ALL);
    EXPECT_EQ(r.ecx & (bit(2) | bit(3) | bit(4)), 0u);
}

TEST(CpuidPolicy, ExtendedLeavesHideSvm) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(0x80000001, 0, ALL);
    EXPECT_EQ(r.ecx & bit(2), 0u);
    EXPECT_NE(r.ecx & bit(0), 0u) << "LAHF/SAHF passes";
    EXPECT_EQ(r.edx, ~bit(26)) << "everything but 1 GiB pages passes";
    EXPECT_TRUE(zero(cpuid_policy::filter_host_leaf(0x8000000a, 0, ALL)));
}

TEST(CpuidPolicy, PagingFeaturesAreTheHypervisors) {
    // Xen marks VME, PSE, MTRR, PGE and PSE36 for HVM guests only: a PV guest's page tables
    // take no large or global pages (Linux builds its direct map from 4 KiB pages then).
    CpuidRegs r = cpuid_policy::filter_host_leaf(1, 0, ALL);
    for (unsigned b : {1u, 3u, 12u, 13u, 17u}) EXPECT_EQ(r.edx & bit(b), 0u) << b;
    EXPECT_NE(r.edx & bit(16), 0u) << "PAT passes";
}

TEST(CpuidPolicy, AmdSpeculationControlsAreNotOffered) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(0x80000008, 0, ALL);
    for (unsigned b : {14u, 15u, 24u, 25u, 28u}) EXPECT_EQ(r.ebx & bit(b), 0u) << b;
    EXPECT_NE(r.ebx & bit(12), 0u) << "IBPB passes";
    EXPECT_EQ(r.eax, 0xffffffffu);
}

TEST(CpuidPolicy, OtherLeavesPassThrough) {
    for (uint32_t leaf : {0u, 2u, 4u, 0x80000000u, 0x80000008u}) {
        CpuidRegs r = cpuid_policy::filter_host_leaf(leaf, 0, CpuidRegs{1, 2, 3, 4});
        EXPECT_EQ(r.eax, 1u);
        EXPECT_EQ(r.ebx, 2u);
        EXPECT_EQ(r.ecx, 3u);
        EXPECT_EQ(r.edx, 4u);
    }
}

}  // namespace

namespace {

TEST(CpuidPolicy, OfferedXsaveShowsXsaveAndWhatItCarries) {
    constexpr uint64_t X87_SSE_AVX = 0x7;
    CpuidRegs r = cpuid_policy::filter_host_leaf(1, 0, CpuidRegs{0, 0, 0xffffffff, 0xffffffff}, X87_SSE_AVX);
    for (unsigned b : {26u /*XSAVE*/, 27u /*OSXSAVE*/, 28u /*AVX*/, 12u /*FMA*/, 29u /*F16C*/})
        EXPECT_NE(r.ecx & (1u << b), 0u) << b;
    EXPECT_EQ(r.ecx & (1u << 5), 0u);  // VMX stays hidden
    r = cpuid_policy::filter_host_leaf(7, 0, CpuidRegs{0, 0xffffffff, 0, 0}, X87_SSE_AVX);
    EXPECT_NE(r.ebx & (1u << 5), 0u);    // AVX2 with AVX
    EXPECT_EQ(r.ebx & (1u << 16), 0u);   // AVX-512 not offered
    r = cpuid_policy::filter_host_leaf(0xd, 0, CpuidRegs{0x2ff, 0x340, 0xa88, 0x1}, X87_SSE_AVX);
    EXPECT_EQ(r.eax, 0x7u);
    EXPECT_EQ(r.edx, 0u);
    EXPECT_EQ(r.ebx, 0x340u);
    r = cpuid_policy::filter_host_leaf(0xd, 1, CpuidRegs{0xf, 1, 2, 3}, X87_SSE_AVX);
    EXPECT_EQ(r.eax, 0x7u);  // no XSAVES
    EXPECT_EQ(r.ebx, 0u);
    r = cpuid_policy::filter_host_leaf(0xd, 2, CpuidRegs{256, 576, 0, 0}, X87_SSE_AVX);
    EXPECT_EQ(r.eax, 256u);  // AVX's component is described
    r = cpuid_policy::filter_host_leaf(0xd, 9, CpuidRegs{8, 2688, 0, 0}, X87_SSE_AVX);
    EXPECT_EQ(r.eax, 0u);  // PKRU is not
}

TEST(CpuidPolicy, AvxStaysHiddenWithoutItsXsaveComponent) {
    CpuidRegs r = cpuid_policy::filter_host_leaf(1, 0, CpuidRegs{0, 0, 0xffffffff, 0}, 0x3);
    EXPECT_NE(r.ecx & (1u << 26), 0u);
    EXPECT_EQ(r.ecx & (1u << 28), 0u);
}

}  // namespace
