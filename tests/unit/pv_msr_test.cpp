// pv_msr: rdmsr/wrmsr of a 64-bit PV guest's kernel by Xen 4.17's rules (guest_rdmsr,
// guest_wrmsr, and the PV read_msr/write_msr): segment bases, the fixed answers (APIC_BASE,
// EFER, PAT, MISC_ENABLE), vendor-specific MSRs, CPUID-gated per-vCPU MSRs, #GP for the rest
// and the "faking RDMSR" rule for a guest without a #GP handler.
#include "pv_msr.hpp"

#include "pv_test_support.hpp"

namespace {

using namespace pv_test;
using pv_msr::Outcome;

constexpr uint64_t leaf(uint32_t l, uint32_t sub = 0) { return uint64_t{l} << 32 | sub; }

class Msr : public PvTest {
protected:
    void SetUp() override {
        PvTest::SetUp();
        fake_pv::record().cpuid[leaf(0x80000001)] = CpuidRegs{0, 0, 0, 1u << 29};  // long mode
        v0->traps[13] = GuestTrap{0xffffffff81000000, 0xe033, 0};                  // a #GP handler
    }
    Outcome rd(Vcpu& v, uint32_t msr) { return pv_msr::read(v, msr, value); }
    uint64_t value = 0xdeadbeef;
};

TEST_F(Msr, SegmentBases) {
    ASSERT_EQ(pv_msr::write(*v0, 0xc0000100, 0x7000), Outcome::done);
    EXPECT_EQ(v0->fs_base, 0x7000u);
    EXPECT_EQ(rd(*v0, 0xc0000100), Outcome::done);
    EXPECT_EQ(value, 0x7000u);
    ASSERT_EQ(pv_msr::write(*v0, 0xc0000101, 0xffff888000001000), Outcome::done);
    EXPECT_TRUE(fake_pv::happened("gs_base_kernel 0xffff888000001000"));
    EXPECT_EQ(rd(*v0, 0xc0000101), Outcome::done);
    EXPECT_EQ(value, 0xffff888000001000u);
    ASSERT_EQ(pv_msr::write(*v0, 0xc0000102, 0x600000), Outcome::done);  // the user's GS base
    EXPECT_EQ(v0->gs_base_user, 0x600000u);
    EXPECT_EQ(rd(*v0, 0xc0000102), Outcome::done);
    EXPECT_EQ(value, 0x600000u);
}

TEST_F(Msr, SegmentBasesMustBeCanonical) {
    for (uint32_t m : {0xc0000100u, 0xc0000101u, 0xc0000102u})
        EXPECT_EQ(pv_msr::write(*v0, m, NON_CANONICAL), Outcome::fault);
    EXPECT_EQ(v0->fs_base, 0u);
    EXPECT_EQ(v0->gs_base_user, 0u);
    EXPECT_FALSE(fake_pv::happened("gs_base_kernel 0x800000000000"));
}

TEST_F(Msr, SegmentBasesNeedLongModeInTheGuestsCpuid) {
    fake_pv::record().cpuid.clear();
    EXPECT_EQ(rd(*v0, 0xc0000100), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0xc0000101, 0), Outcome::fault);
}

TEST_F(Msr, ApicBaseMarksTheBootProcessor) {
    EXPECT_EQ(rd(*v0, 0x1b), Outcome::done);
    EXPECT_EQ(value, 0xfee00900u);
    EXPECT_EQ(rd(*v1, 0x1b), Outcome::done);
    EXPECT_EQ(value, 0xfee00800u);
    EXPECT_EQ(pv_msr::write(*v0, 0x1b, 0xfee00900), Outcome::fault);  // not writable
}

TEST_F(Msr, EferHidesSvmeAndTakesOnlyItsOwnValue) {
    fake_pv::record().efer = 0x1d01 | (1u << 15);  // SCE LME LMA NXE SVME, and an unknown bit
    EXPECT_EQ(rd(*v0, 0xc0000080), Outcome::done);
    EXPECT_EQ(value, 0xd01u);
    EXPECT_EQ(pv_msr::write(*v0, 0xc0000080, 0xd01), Outcome::done);
    EXPECT_EQ(pv_msr::write(*v0, 0xc0000080, 0x501), Outcome::fault);  // clearing NXE
}

TEST_F(Msr, PatIsXensAndReadOnly) {
    EXPECT_EQ(rd(*v0, 0x277), Outcome::done);
    EXPECT_EQ(value, 0x0000050100070406u);
    EXPECT_EQ(pv_msr::write(*v0, 0x277, 0x0007040600070406), Outcome::fault);
}

TEST_F(Msr, TscReadsTheHost) {
    EXPECT_EQ(rd(*v0, 0x10), Outcome::done);
    EXPECT_EQ(value, 0x123456789u);
}

TEST_F(Msr, MiscEnableIsMaskedAndItsWritesIgnored) {
    fake_pv::record().host_msrs[0x1a0] = 0x850089;  // fast strings, perf available, MONITOR, ...
    EXPECT_EQ(rd(*v0, 0x1a0), Outcome::done);
    const uint64_t shown = (0x850089 & ~((1u << 7) | (1u << 18))) | (1u << 11) | (1u << 12) | (1u << 23);
    EXPECT_EQ(value, shown);
    EXPECT_EQ(pv_msr::write(*v0, 0x1a0, shown), Outcome::done);
    EXPECT_FALSE(host_log::contains("attempted WRMSR"));
    EXPECT_EQ(pv_msr::write(*v0, 0x1a0, 0), Outcome::done);  // ignored, with a warning
    EXPECT_TRUE(host_log::contains("attempted WRMSR 0x1a0"));
    fake_pv::record().host_msrs.clear();  // a host without it: #GP both ways
    EXPECT_EQ(rd(*v0, 0x1a0), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0x1a0, shown), Outcome::fault);
}

TEST_F(Msr, NoPerformanceMonitoring) {
    EXPECT_EQ(rd(*v0, 0x345), Outcome::done);  // PERF_CAPABILITIES
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(rd(*v0, 0xc1), Outcome::done);  // an Intel counter: reads 0
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(pv_msr::write(*v0, 0x186, 0x43003c), Outcome::done);  // an event select: dropped
    EXPECT_EQ(rd(*v0, 0xc0010000), Outcome::fault);  // AMD's counters on Intel
    fake_pv::record().host_cpu = {pv_arch::CpuVendor::amd, 0x17};
    EXPECT_EQ(rd(*v0, 0xc0010004), Outcome::done);
    EXPECT_EQ(pv_msr::write(*v0, 0xc0010200, 1), Outcome::done);
    EXPECT_EQ(rd(*v0, 0xc1), Outcome::fault);
}

TEST_F(Msr, AmdPowerAndNorthbridgeMsrs) {
    EXPECT_EQ(rd(*v0, 0xc0010064), Outcome::fault);  // P-state 0 on Intel
    fake_pv::record().host_cpu = {pv_arch::CpuVendor::amd, 0x10};
    for (uint32_t m : {0xc0010041u, 0xc0010042u, 0xc0010061u, 0xc001006bu, 0xc001001fu, 0xc0010058u}) {
        value = 1;
        EXPECT_EQ(rd(*v0, m), Outcome::done) << std::hex << m;
        EXPECT_EQ(value, 0u);
        EXPECT_EQ(pv_msr::write(*v0, m, 5), Outcome::done) << std::hex << m;
    }
    EXPECT_EQ(rd(*v0, 0xc0010015), Outcome::done);  // HWCR
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(rd(*v0, 0xc0011029), Outcome::done);  // DE_CFG: LFENCE serialises
    EXPECT_EQ(value, 2u);
    EXPECT_EQ(pv_msr::write(*v0, 0xc0011029, 0), Outcome::done);
    fake_pv::record().host_cpu = {pv_arch::CpuVendor::amd, 0x19};  // no MMIO_CONF_BASE after 16h
    EXPECT_EQ(rd(*v0, 0xc0010058), Outcome::fault);
    EXPECT_EQ(rd(*v0, 0xc001001f), Outcome::done);
}

TEST_F(Msr, AmdMemoryMapMsrsForTheHardwareDomainOnly) {
    fake_pv::record().host_cpu = {pv_arch::CpuVendor::amd, 0x17};
    fake_pv::record().host_msrs[0xc0010010] = 0x7f0000;  // SYSCFG
    fake_pv::record().host_msrs[0xc001001a] = 0x80000000;
    EXPECT_EQ(rd(*v0, 0xc0010010), Outcome::fault);  // an ordinary domain
    Domain* d0 = make_dom0();
    Vcpu& h = *d0->vcpu(VcpuId(0));
    h.traps[13] = GuestTrap{0xffffffff81000000, 0xe033, 0};
    EXPECT_EQ(rd(h, 0xc0010010), Outcome::done);
    EXPECT_EQ(value, 0x740000u);  // the memory-type bits only
    EXPECT_EQ(rd(h, 0xc001001a), Outcome::done);
    EXPECT_EQ(value, 0x80000000u);
    EXPECT_EQ(rd(h, 0xc001001d), Outcome::fault);  // the host has no TOP_MEM2
}

TEST_F(Msr, IntelFixedAnswers) {
    EXPECT_EQ(rd(*v0, 0x3a), Outcome::done);  // FEATURE_CONTROL: locked, nothing enabled
    EXPECT_EQ(value, 1u);
    EXPECT_EQ(rd(*v0, 0xce), Outcome::done);  // PLATFORM_INFO: no CPUID faulting
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(rd(*v0, 0x140), Outcome::done);
    EXPECT_EQ(pv_msr::write(*v0, 0x140, 0), Outcome::done);
    EXPECT_EQ(pv_msr::write(*v0, 0x140, 1), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0xce, 0), Outcome::fault);
    for (uint32_t m : {0x198u, 0x199u, 0x19cu}) {
        value = 1;
        EXPECT_EQ(rd(*v0, m), Outcome::done);
        EXPECT_EQ(value, 0u);
    }
    EXPECT_EQ(pv_msr::write(*v0, 0x199, 0x1500), Outcome::done);
    EXPECT_EQ(rd(*v0, 0x17), Outcome::fault);  // PLATFORM_ID: the host has none here
    fake_pv::record().host_msrs[0x17] = 0x4000000000000;
    EXPECT_EQ(rd(*v0, 0x17), Outcome::done);
    EXPECT_EQ(value, 0x4000000000000u);
    EXPECT_EQ(pv_msr::write(*v0, 0x8b, 0), Outcome::done);  // write 0 before reading the revision
    EXPECT_EQ(pv_msr::write(*v0, 0x8b, 1), Outcome::fault);
    fake_pv::record().host_cpu = {pv_arch::CpuVendor::amd, 0x17};
    EXPECT_EQ(rd(*v0, 0x3a), Outcome::fault);
    EXPECT_EQ(rd(*v0, 0x19c), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0x8b, 0), Outcome::fault);
}

TEST_F(Msr, NotOfferedToGuests) {
    for (uint32_t m : {0x79u, 0x49u, 0x10bu, 0xc0010020u, 0x33u, 0xcfu, 0x10fu, 0x122u, 0x123u, 0x560u, 0x58fu,
                       0x6a0u, 0x6a2u, 0x6a4u, 0x6a8u, 0xc0000105u, 0xc0000106u, 0x4eu, 0x4fu, 0xc00102f0u,
                       0xc00102f1u, 0x800u, 0x8ffu, 0xda0u}) {
        fake_pv::record().host_msrs[m] = 0;  // even where the host has them
        EXPECT_EQ(rd(*v0, m), Outcome::fault) << std::hex << m;
        EXPECT_EQ(pv_msr::write(*v0, m, 0), Outcome::fault) << std::hex << m;
    }
}

TEST_F(Msr, SpecCtrlFollowsTheGuestsCpuid) {
    EXPECT_EQ(rd(*v0, 0x48), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0x48, 1), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0x49, 1), Outcome::fault);  // PRED_CMD
    fake_pv::record().cpuid[leaf(7)] = CpuidRegs{0, 0, 0, 1u << 26};  // IBRS/IBPB
    EXPECT_EQ(pv_msr::write(*v0, 0x48, 3), Outcome::done);          // IBRS | STIBP
    EXPECT_TRUE(fake_pv::happened("load msrs"));
    EXPECT_EQ(rd(*v0, 0x48), Outcome::done);
    EXPECT_EQ(value, 3u);
    EXPECT_EQ(pv_msr::write(*v0, 0x48, 4), Outcome::fault);  // SSBD not offered
    EXPECT_EQ(v0->msrs.spec_ctrl, 3u);
    EXPECT_EQ(v1->msrs.spec_ctrl, 0u);  // per vCPU
    EXPECT_EQ(pv_msr::write(*v0, 0x49, 1), Outcome::done);
    EXPECT_TRUE(fake_pv::happened("wrmsr 0x49 0x1"));
    EXPECT_EQ(pv_msr::write(*v0, 0x49, 2), Outcome::fault);
}

TEST_F(Msr, TscAuxNeedsRdtscpAndFitsIn32Bits) {
    EXPECT_EQ(rd(*v0, 0xc0000103), Outcome::fault);
    fake_pv::record().cpuid[leaf(0x80000001)].edx |= 1u << 27;
    EXPECT_EQ(pv_msr::write(*v0, 0xc0000103, 0x100000000), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0xc0000103, 7), Outcome::done);
    EXPECT_EQ(rd(*v0, 0xc0000103), Outcome::done);
    EXPECT_EQ(value, 7u);
}

TEST_F(Msr, HypercallPageMsr) {
    EXPECT_EQ(rd(*v0, 0x40000000), Outcome::done);
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(rd(*v0, 0x40000001), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0x40000000, 0x1001), Outcome::fault);  // not page-aligned
    EXPECT_EQ(pv_msr::write(*v0, 0x40000000, 0x1000), Outcome::fault);  // not the domain's frame
}

TEST_F(Msr, UnknownMsrsFaultAndAreReportedOnce) {
    fake_pv::record().host_msrs[0x1234] = 5;
    EXPECT_EQ(rd(*v0, 0x1234), Outcome::fault);
    EXPECT_EQ(rd(*v0, 0x1234), Outcome::fault);
    EXPECT_EQ(pv_msr::write(*v0, 0x1234, 1), Outcome::fault);
    int reads = 0, writes = 0;
    for (auto& l : host_log::lines()) {
        reads += l.find("RDMSR 0x1234 unimplemented") != std::string::npos;
        writes += l.find("WRMSR 0x1234") != std::string::npos;
    }
    EXPECT_EQ(reads, 1);
    EXPECT_EQ(writes, 1);
}

TEST_F(Msr, FakingRdmsrBeforeTheGuestHasAGpHandler) {
    v0->traps[13] = GuestTrap{};
    fake_pv::record().host_msrs[0x1235] = 5;
    EXPECT_EQ(rd(*v0, 0x1235), Outcome::done);  // the host has it: 0
    EXPECT_EQ(value, 0u);
    EXPECT_TRUE(host_log::contains("faking RDMSR 0x1235"));
    EXPECT_EQ(rd(*v0, 0x1236), Outcome::fault);  // the host has not
    EXPECT_EQ(rd(*v0, 0x48), Outcome::fault);    // a guest_rdmsr #GP the host would answer? no host MSR
    fake_pv::record().host_msrs[0x48] = 0;
    EXPECT_EQ(rd(*v0, 0x48), Outcome::done);  // even a #GP by rule becomes 0 when the host has it
    fake_pv::record().host_msrs[0x40000005] = 0;
    EXPECT_EQ(rd(*v0, 0x40000005), Outcome::fault);  // never in the hypervisor's range
    EXPECT_EQ(pv_msr::write(*v0, 0x1235, 1), Outcome::fault);  // writes are never faked
}

}  // namespace

namespace {

using namespace pv_test;
using pv_msr::Outcome;

class Vmce : public PvTest {
protected:
    uint64_t value = 0xdeadbeef;
    Outcome rd(uint32_t msr) { return pv_msr::read(*v0, msr, value); }
    Outcome wr(uint32_t msr, uint64_t val) { return pv_msr::write(*v0, msr, val); }
};

TEST_F(Vmce, CapabilitiesNameTwoBanks) {
    v0->traps[13] = GuestTrap{0xffffffff81000000, 0xe033, 0};
    EXPECT_EQ(rd(0x179), Outcome::done);
    EXPECT_EQ(value, 2u | (1u << 10) | (1u << 11) | (1u << 24));  // Intel: CMCI, TES, SER
    EXPECT_EQ(wr(0x179, 0), Outcome::done);  // read-only: ignored
    EXPECT_EQ(rd(0x17b), Outcome::done);     // no MCG_CTL
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(rd(0x4d0), Outcome::fault);  // no local machine checks
    EXPECT_EQ(wr(0x4d0, 1), Outcome::fault);
    fake_pv::record().host_cpu = {pv_arch::CpuVendor::amd, 0x17};
    EXPECT_EQ(rd(0x179), Outcome::done);
    EXPECT_EQ(value, 2u);
}

TEST_F(Vmce, BanksHoldNoErrors) {
    v0->traps[13] = GuestTrap{0xffffffff81000000, 0xe033, 0};
    EXPECT_EQ(rd(0x400), Outcome::done);  // MC0_CTL: all ones
    EXPECT_EQ(value, ~0ull);
    EXPECT_EQ(wr(0x404, 0x1234), Outcome::done);  // MC1_CTL: any write, ignored
    EXPECT_EQ(rd(0x401), Outcome::done);          // MC0_STATUS
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(wr(0x401, 0), Outcome::done);
    EXPECT_EQ(wr(0x401, 1ull << 63), Outcome::fault);  // no error can be made up
    EXPECT_EQ(wr(0x406, 1), Outcome::fault);           // MC1_ADDR
    EXPECT_EQ(rd(0x409), Outcome::done);               // a bank beyond the two: 0
    EXPECT_EQ(value, 0u);
    EXPECT_EQ(wr(0x409, 5), Outcome::done);
    EXPECT_EQ(wr(0x281, 0x40000001), Outcome::done);  // MC1_CTL2 (Intel): kept
    EXPECT_EQ(rd(0x281), Outcome::done);
    EXPECT_EQ(value, 0x40000001u);
    EXPECT_EQ(wr(0x17a, 4), Outcome::done);  // MCG_STATUS
    EXPECT_EQ(rd(0x17a), Outcome::done);
    EXPECT_EQ(value, 4u);
    EXPECT_EQ(v1->msrs.mcg_status, 0u);
}

}  // namespace
