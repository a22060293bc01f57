// Host tests of the helper macros in guest-abi/ and of arithmetic facts the headers document. Layouts and
// constant values are checked against Xen's own headers in tests/abi/; here the question is whether the macros
// compute what Kestrel's hypercall code and guests will rely on.
#include <xen/xen.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/io/console.h>
#include <xen/io/xs_wire.h>
#include <xen/memory.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <new>

namespace {

TEST(GuestAbiTrapInfo, SettersOrInDplAndInterruptGateBit) {
    trap_info_t ti{};
    EXPECT_EQ(TI_GET_DPL(&ti), 0);
    EXPECT_EQ(TI_GET_IF(&ti), 0);
    TI_SET_DPL(&ti, 3);
    EXPECT_EQ(TI_GET_DPL(&ti), 3);
    EXPECT_EQ(TI_GET_IF(&ti), 0) << "setting the DPL must not touch the event-mask bit";
    TI_SET_IF(&ti, 1);
    EXPECT_EQ(TI_GET_IF(&ti), 4) << "the getter returns the bit in place, not a boolean";
    EXPECT_EQ(ti.flags, 7);
}

TEST(GuestAbiTrapInfo, SetIfNormalisesAnyNonZeroValueToBitTwo) {
    trap_info_t ti{};
    TI_SET_IF(&ti, 0x80);
    EXPECT_EQ(ti.flags, 4);
    trap_info_t off{};
    TI_SET_IF(&off, 0);
    EXPECT_EQ(off.flags, 0);
}

TEST(GuestAbiTrapInfo, SettersOnlyAddBitsSoAnEntryMustStartCleared) {
    // Xen's setters OR bits in; lowering a DPL needs a cleared entry. Kestrel's trap-table code must not assume
    // otherwise when it decodes guest entries.
    trap_info_t ti{};
    TI_SET_DPL(&ti, 3);
    TI_SET_DPL(&ti, 1);
    EXPECT_EQ(TI_GET_DPL(&ti), 3);
}

TEST(GuestAbiHandles, SetAndGetRoundTripTypedPointers) {
    mmu_update_t updates[2]{};
    __guest_handle_mmu_update_t h{};
    EXPECT_EQ(get_xen_guest_handle(h), nullptr);
    set_xen_guest_handle(h, updates);
    EXPECT_EQ(get_xen_guest_handle(h), &updates[0]);
    set_xen_guest_handle(h, nullptr);
    EXPECT_EQ(get_xen_guest_handle(h), nullptr);
}

TEST(GuestAbiHandles, ConstHandlesAndHandlesInsideStructures) {
    static const uint8_t mask[4] = {1, 2, 3, 4};
    mmuext_op_t op{};
    op.cmd = MMUEXT_TLB_FLUSH_MULTI;
    set_xen_guest_handle(op.arg2.vcpumask, mask);
    EXPECT_EQ(get_xen_guest_handle(op.arg2.vcpumask), static_cast<const void*>(mask));

    sched_poll_t poll{};
    evtchn_port_t ports[3] = {1, 2, 3};
    set_xen_guest_handle(poll.ports, ports);
    poll.nr_ports = 3;
    EXPECT_EQ(get_xen_guest_handle(poll.ports)[2], 3u);
}

TEST(GuestAbiHandles, AHandleIsExactlyAPointerWide) {
    // The hypervisor reads a handle as a raw 64-bit guest virtual address.
    static_assert(sizeof(XEN_GUEST_HANDLE(void)) == 8);
    static_assert(sizeof(XEN_GUEST_HANDLE(xen_pfn_t)) == 8);
    int value = 0;
    __guest_handle_int h{};
    set_xen_guest_handle(h, &value);
    uint64_t raw = 0;
    std::memcpy(&raw, &h, sizeof raw);
    EXPECT_EQ(raw, reinterpret_cast<uintptr_t>(&value));
}

TEST(GuestAbiX86, Cr3AndFrameNumbersConvertBothWays) {
    EXPECT_EQ(xen_pfn_to_cr3(0x12345), 0x12345000ul);
    EXPECT_EQ(xen_cr3_to_pfn(0x12345000ul), 0x12345ul);
    EXPECT_EQ(xen_cr3_to_pfn(0x12345fffUL), 0x12345ul) << "the low 12 bits are not part of the frame";
    EXPECT_EQ(xen_cr3_to_pfn(xen_pfn_to_cr3(0xfffffffffUL)), 0xfffffffffUL);
}

TEST(GuestAbiX86, HypervisorHoleAndM2pWindow) {
    EXPECT_EQ(HYPERVISOR_VIRT_END - HYPERVISOR_VIRT_START, 0x80000000000ul) << "8 TiB reserved";
    EXPECT_EQ(MACH2PHYS_VIRT_START, HYPERVISOR_VIRT_START);
    EXPECT_EQ(MACH2PHYS_NR_ENTRIES, (1ul << 38) / 8) << "256 GiB of 8-byte entries";
    EXPECT_EQ(FIRST_RESERVED_GDT_ENTRY, 14 * 512);
    // Every flat selector is an RPL-3 GDT selector in the reserved part of the GDT (or null for 64-bit data).
    for (unsigned sel : {FLAT_RING3_CS32, FLAT_RING3_CS64, FLAT_RING3_DS32, FLAT_RING3_SS64}) {
        EXPECT_EQ(sel & 3, 3u);
        EXPECT_EQ(sel & 4, 0u) << "GDT, not LDT";
        EXPECT_GE(sel >> 3, static_cast<unsigned>(FIRST_RESERVED_GDT_ENTRY));
    }
    EXPECT_EQ(FLAT_KERNEL_CS, FLAT_USER_CS) << "64-bit PV kernels run in ring 3 too";
}

TEST(GuestAbiX86, CpuidSignatureSpellsXenVMM) {
    char sig[13] = {};
    const uint32_t regs[3] = {XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX, XEN_CPUID_SIGNATURE_EDX};
    std::memcpy(sig, regs, 12);
    EXPECT_STREQ(sig, "XenVMMXenVMM");
    EXPECT_EQ(XEN_CPUID_LEAF(2), 0x40000002u);
}

TEST(GuestAbiVcpu, PhysidSplitsIntoApicAndAcpiIds) {
    const uint64_t physid = (uint64_t{0x11} << 32) | 0x22;
    EXPECT_EQ(xen_vcpu_physid_to_x86_apicid(physid), 0x22u);
    EXPECT_EQ(xen_vcpu_physid_to_x86_acpiid(physid), 0x11u);
    EXPECT_EQ(XEN_RUNSTATE_UPDATE, uint64_t{1} << 63);
}

// The scaling rule documented on vcpu_time_info, written out as a guest computes it.
uint64_t guest_system_time(const vcpu_time_info_t& t, uint64_t tsc) {
    uint64_t delta = tsc - t.tsc_timestamp;
    if (t.tsc_shift >= 0)
        delta <<= t.tsc_shift;
    else
        delta >>= -t.tsc_shift;
    return t.system_time + static_cast<uint64_t>((static_cast<unsigned __int128>(delta) * t.tsc_to_system_mul) >> 32);
}

TEST(GuestAbiTime, ScalingFactorsConvertTscTicksToNanoseconds) {
    vcpu_time_info_t t{};
    t.system_time = 1'000'000;
    t.tsc_timestamp = 5'000;
    // A 2 GHz TSC: half a nanosecond per tick is 0.5 * 2^32 with no shift.
    t.tsc_to_system_mul = 0x80000000u;
    t.tsc_shift = 0;
    EXPECT_EQ(guest_system_time(t, 5'000 + 2'000), 1'001'000u);
    // A 500 MHz TSC: 2 ns per tick needs a factor above 1, expressed as a shift of 1 and 1.0 (just under 2^32).
    t.tsc_to_system_mul = 0xffffffffu;
    t.tsc_shift = 1;
    EXPECT_NEAR(static_cast<double>(guest_system_time(t, 5'000 + 1'000)), 1'002'000.0, 1.0);
    // A 4 GHz TSC with a negative shift: ticks halved, then multiplied by 0.5.
    t.tsc_to_system_mul = 0x80000000u;
    t.tsc_shift = -1;
    EXPECT_EQ(guest_system_time(t, 5'000 + 4'000), 1'001'000u);
}

TEST(GuestAbiEvents, ChannelLimitsOfBothAbis) {
    EXPECT_EQ(EVTCHN_2L_NR_CHANNELS, 4096u) << "64 words of 64 bits";
    EXPECT_EQ(EVTCHN_FIFO_NR_CHANNELS, 1 << 17);
    EXPECT_EQ(EVTCHN_FIFO_LINK_MASK, (1 << 17) - 1);
    EXPECT_EQ(EVTCHN_FIFO_LINK_MASK & (1 << EVTCHN_FIFO_BUSY), 0) << "link and flag bits must not overlap";
    EXPECT_EQ(EVTCHN_FIFO_MAX_QUEUES, 16);
    EXPECT_EQ(sizeof(static_cast<shared_info_t*>(nullptr)->evtchn_pending) * 8, EVTCHN_2L_NR_CHANNELS);
}

TEST(GuestAbiMemory, MemFlagsEncodeNodeAndAddressBits) {
    const unsigned flags = XENMEMF_address_bits(32) | XENMEMF_exact_node(3);
    EXPECT_EQ(XENMEMF_get_address_bits(flags), 32u);
    EXPECT_EQ(XENMEMF_get_node(flags), 3u);
    EXPECT_NE(flags & XENMEMF_exact_node_request, 0u);
    EXPECT_EQ(XENMEMF_get_node(XENMEMF_address_bits(32)), 0xffu) << "no node given reads back as 'any'";
}

TEST(GuestAbiMemory, E820EntriesArePackedTwentyBytes) {
    xen_e820_entry map[2]{};
    EXPECT_EQ(reinterpret_cast<char*>(&map[1]) - reinterpret_cast<char*>(&map[0]), 20);
    EXPECT_EQ(XEN_E820_RAM, 1);
}

TEST(GuestAbiGrants, GuestAvailableMapBitsAreTheTopSixteen) {
    EXPECT_EQ(GNTMAP_guest_avail_mask, 0xffff0000u);
    EXPECT_EQ(GNTMAP_guest_avail_mask & (GNTMAP_device_map | GNTMAP_host_map | GNTMAP_readonly |
                                         GNTMAP_application_map | GNTMAP_contains_pte),
              0u);
    EXPECT_EQ(GTF_permit_access & GTF_type_mask, GTF_permit_access);
    EXPECT_EQ(GTF_readonly & GTF_type_mask, 0u);
}

TEST(GuestAbiRings, ConsoleIndicesWrapAtEachRingsOwnSize) {
    xencons_interface ring{};
    EXPECT_EQ(MASK_XENCONS_IDX(1024u + 5, ring.in), 5u);
    EXPECT_EQ(MASK_XENCONS_IDX(1024u + 5, ring.out), 1029u);
    EXPECT_EQ(MASK_XENCONS_IDX(0xffffffffu, ring.out), 2047u) << "free-running indices wrap at 2^32";
}

TEST(GuestAbiRings, XenstoreIndicesWrapAtTheRingSize) {
    EXPECT_EQ(MASK_XENSTORE_IDX(XENSTORE_RING_SIZE), 0u);
    EXPECT_EQ(MASK_XENSTORE_IDX(XENSTORE_RING_SIZE * 3 + 7), 7u);
    EXPECT_EQ(XS_DEBUG, XS_CONTROL);
    EXPECT_EQ(XS_RESET_WATCHES, XS_SET_TARGET + 2);
}

TEST(GuestAbiVersion, BuildIdBufferFollowsTheLengthWord) {
    alignas(xen_build_id_t) unsigned char storage[sizeof(xen_build_id_t) + 20]{};
    auto* id = new (storage) xen_build_id_t{};
    id->len = 20;
    id->buf[19] = 0xab;
    EXPECT_EQ(storage[4 + 19], 0xab);
    EXPECT_EQ(XEN_EXTRAVERSION_LEN, 16u);
    EXPECT_EQ(XEN_CAPABILITIES_INFO_LEN, 1024u);
}

TEST(GuestAbiErrno, XenErrorNumbersEqualTheHostsLinuxValues) {
    // Xen's error numbers are Linux's x86 values; the host the tests run on is Linux/x86_64.
    EXPECT_EQ(XEN_EPERM, EPERM);
    EXPECT_EQ(XEN_ENOENT, ENOENT);
    EXPECT_EQ(XEN_ESRCH, ESRCH);
    EXPECT_EQ(XEN_EINTR, EINTR);
    EXPECT_EQ(XEN_EAGAIN, EAGAIN);
    EXPECT_EQ(XEN_ENOMEM, ENOMEM);
    EXPECT_EQ(XEN_EACCES, EACCES);
    EXPECT_EQ(XEN_EFAULT, EFAULT);
    EXPECT_EQ(XEN_EBUSY, EBUSY);
    EXPECT_EQ(XEN_EEXIST, EEXIST);
    EXPECT_EQ(XEN_EINVAL, EINVAL);
    EXPECT_EQ(XEN_ENOSPC, ENOSPC);
    EXPECT_EQ(XEN_ERANGE, ERANGE);
    EXPECT_EQ(XEN_EDEADLK, EDEADLK);
    EXPECT_EQ(XEN_ENOSYS, ENOSYS);
    EXPECT_EQ(XEN_ENODATA, ENODATA);
    EXPECT_EQ(XEN_ETIME, ETIME);
    EXPECT_EQ(XEN_EOVERFLOW, EOVERFLOW);
    EXPECT_EQ(XEN_EOPNOTSUPP, EOPNOTSUPP);
    EXPECT_EQ(XEN_EISCONN, EISCONN);
    EXPECT_EQ(XEN_ENOTCONN, ENOTCONN);
    EXPECT_EQ(XEN_ETIMEDOUT, ETIMEDOUT);
    EXPECT_EQ(XEN_ECONNREFUSED, ECONNREFUSED);
    EXPECT_EQ(XEN_ERESTART, 85) << "Linux's ERESTART, used only inside the hypervisor";
}

}  // namespace
