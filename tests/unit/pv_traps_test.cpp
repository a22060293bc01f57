// The PV trap and callback hypercalls and the bounce frame, checked against Xen 4.17's
// behaviour (pv/callback.c, pv/iret.c, pv/misc-hypercalls.c, common/domain.c do_vm_assist,
// x86_64/entry.S create_bounce_frame and switch_to_kernel): return values, what changes and
// what stays unchanged on error, and the byte layout of the frame on the guest kernel stack.
#include <xen/callback.h>

#include <algorithm>

#include "pv_test_support.hpp"
#include "pv_traps.hpp"

namespace {

using namespace pv_test;

constexpr uint64_t IF = 1u << 9, TF = 1u << 8, DF = 1u << 10, IOPL3 = 3u << 12, NT = 1u << 14, RF = 1u << 16,
                   VM = 1u << 17, AC = 1u << 18;
constexpr uint64_t HANDLER = 0xffffffff81001000;
constexpr uint64_t TABLE = 0xffffffff82000000;

trap_info entry(uint8_t vector, uint8_t flags, uint16_t cs, uint64_t address) {
    trap_info t{};
    t.vector = vector;
    t.flags = flags;
    t.cs = cs;
    t.address = address;
    return t;
}

// A trap table in guest memory at TABLE; only its first mapped_bytes are mapped if given.
struct TrapTable {
    explicit TrapTable(const std::vector<trap_info>& entries, size_t mapped_bytes = 0)
        : buf(TABLE, mapped_bytes ? mapped_bytes : entries.size() * sizeof(trap_info)) {
        buf.put(TABLE, entries.data(), std::min(buf.bytes.size(), entries.size() * sizeof(trap_info)));
    }
    GuestBuffer buf;
};

// ---- set_trap_table ----------------------------------------------------------------------

using SetTrapTable = PvTest;

TEST_F(SetTrapTable, InstallsEntriesUpToTheTerminator) {
    TrapTable t({entry(14, 0, FLAT_KERNEL_CS, HANDLER), entry(3, 3, FLAT_KERNEL_CS, HANDLER + 0x40),
                 entry(0, 0, 0, 0), entry(6, 0, FLAT_KERNEL_CS, HANDLER + 0x80)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[14].address, HANDLER);
    EXPECT_EQ(v0->traps[14].cs, FLAT_KERNEL_CS);
    EXPECT_EQ(v0->traps[3].address, HANDLER + 0x40);
    EXPECT_EQ(v0->traps[3].flags, 3);
    EXPECT_EQ(v0->traps[6].address, 0u) << "entries after the terminator are not read";
    EXPECT_EQ(v0->traps[0].address, 0u);
}

TEST_F(SetTrapTable, OnlyTheCallingVcpuChanges) {
    TrapTable t({entry(14, 0, FLAT_KERNEL_CS, HANDLER), entry(0, 0, 0, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[14].address, HANDLER);
    EXPECT_EQ(v1->traps[14].address, 0u);
}

TEST_F(SetTrapTable, SelectorsGetGuestKernelRpl) {
    // A 64-bit PV kernel runs in ring 3: RPL 0..2 become 3, RPL 3 is kept.
    TrapTable t({entry(1, 0, 0xe030, HANDLER), entry(2, 0, 0xe031, HANDLER), entry(4, 0, 0x10, HANDLER),
                 entry(5, 0, 0xe033, HANDLER), entry(0, 0, 0, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[1].cs, 0xe033);
    EXPECT_EQ(v0->traps[2].cs, 0xe033);
    EXPECT_EQ(v0->traps[4].cs, 0x13);
    EXPECT_EQ(v0->traps[5].cs, 0xe033);
}

TEST_F(SetTrapTable, KeepsEntriesTheTableDoesNotName) {
    v0->traps[200] = GuestTrap{HANDLER + 0x200, FLAT_KERNEL_CS, 0};
    TrapTable t({entry(14, 0, FLAT_KERNEL_CS, HANDLER), entry(0, 0, 0, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[200].address, HANDLER + 0x200);
}

TEST_F(SetTrapTable, LaterEntryForTheSameVectorWins) {
    TrapTable t({entry(14, 0, FLAT_KERNEL_CS, HANDLER), entry(14, 4, FLAT_KERNEL_CS, HANDLER + 8),
                 entry(0, 0, 0, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[14].address, HANDLER + 8);
    EXPECT_EQ(v0->traps[14].flags, 4);
}

TEST_F(SetTrapTable, VectorsAbove31AreAccepted) {
    TrapTable t({entry(0x80, 3, FLAT_KERNEL_CS, HANDLER), entry(255, 0, FLAT_KERNEL_CS, HANDLER + 1),
                 entry(0, 0, 0, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[0x80].address, HANDLER);
    EXPECT_EQ(v0->traps[255].address, HANDLER + 1);
}

TEST_F(SetTrapTable, NullTableClearsEveryEntry) {
    for (unsigned i = 0; i < 256; ++i) v0->traps[i] = GuestTrap{HANDLER + i, FLAT_KERNEL_CS, 4};
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, 0), 0);
    for (unsigned i = 0; i < 256; ++i) {
        EXPECT_EQ(v0->traps[i].address, 0u) << i;
        EXPECT_EQ(v0->traps[i].cs, 0) << i;
        EXPECT_EQ(v0->traps[i].flags, 0) << i;
    }
}

TEST_F(SetTrapTable, LeadingTerminatorChangesNothing) {
    v0->traps[14] = GuestTrap{HANDLER, FLAT_KERNEL_CS, 0};
    TrapTable t({entry(3, 0, FLAT_KERNEL_CS, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), 0);
    EXPECT_EQ(v0->traps[14].address, HANDLER);
    EXPECT_EQ(v0->traps[3].address, 0u);
}

TEST_F(SetTrapTable, UnmappedTableIsEfaultAndChangesNothing) {
    v0->traps[14] = GuestTrap{HANDLER, FLAT_KERNEL_CS, 0};
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), -XEN_EFAULT);
    EXPECT_EQ(v0->traps[14].address, HANDLER);
    EXPECT_FALSE(crashed());
}

TEST_F(SetTrapTable, FaultPartWayKeepsTheEntriesBeforeIt) {
    // Two whole entries mapped, the third cut in half: the first two stay installed.
    TrapTable t({entry(1, 0, FLAT_KERNEL_CS, HANDLER + 1), entry(2, 0, FLAT_KERNEL_CS, HANDLER + 2),
                 entry(3, 0, FLAT_KERNEL_CS, HANDLER + 3), entry(0, 0, 0, 0)},
                2 * sizeof(trap_info) + 8);
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), -XEN_EFAULT);
    EXPECT_EQ(v0->traps[1].address, HANDLER + 1);
    EXPECT_EQ(v0->traps[2].address, HANDLER + 2);
    EXPECT_EQ(v0->traps[3].address, 0u);
}

TEST_F(SetTrapTable, NonCanonicalHandlerIsEinvalAfterTheEntriesBeforeIt) {
    TrapTable t({entry(1, 0, FLAT_KERNEL_CS, HANDLER + 1), entry(2, 0, FLAT_KERNEL_CS, NON_CANONICAL),
                 entry(3, 0, FLAT_KERNEL_CS, HANDLER + 3), entry(0, 0, 0, 0)});
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, TABLE), -XEN_EINVAL);
    EXPECT_EQ(v0->traps[1].address, HANDLER + 1);
    EXPECT_EQ(v0->traps[2].address, 0u);
    EXPECT_EQ(v0->traps[3].address, 0u);
}

TEST_F(SetTrapTable, TableInTheHypervisorHoleIsEfaultEvenIfSomethingIsMappedThere) {
    GuestBuffer hole(HOLE_START + 0x1000, 64);
    trap_info t[2] = {entry(14, 0, FLAT_KERNEL_CS, HANDLER), entry(0, 0, 0, 0)};
    hole.put(HOLE_START + 0x1000, t, sizeof t);
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, HOLE_START + 0x1000), -XEN_EFAULT);
    EXPECT_EQ(v0->traps[14].address, 0u);
}

TEST_F(SetTrapTable, NonCanonicalTablePointerIsEfault) {
    GuestBuffer odd(NON_CANONICAL, 64);
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, NON_CANONICAL), -XEN_EFAULT);
}

// ---- stack_switch ------------------------------------------------------------------------

using StackSwitch = PvTest;

TEST_F(StackSwitch, RecordsKernelStackWithGuestRpl) {
    EXPECT_EQ(call(__HYPERVISOR_stack_switch, 0xe028, 0xffffc90000004ff8), 0);
    EXPECT_EQ(v0->kernel_ss, 0xe02bu);
    EXPECT_EQ(v0->kernel_sp, 0xffffc90000004ff8u);
    EXPECT_EQ(v1->kernel_sp, 0u);
}

TEST_F(StackSwitch, KeepsRpl3AndAcceptsAnyStackPointer) {
    // Xen does not check the pointer here; a bad one crashes the guest when a frame is built.
    EXPECT_EQ(call(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, NON_CANONICAL), 0);
    EXPECT_EQ(v0->kernel_ss, uint64_t(FLAT_KERNEL_SS));
    EXPECT_EQ(v0->kernel_sp, NON_CANONICAL);
}

// ---- set_callbacks -----------------------------------------------------------------------

using SetCallbacks = PvTest;

TEST_F(SetCallbacks, RegistersEventFailsafeAndSyscall) {
    EXPECT_EQ(call(__HYPERVISOR_set_callbacks, HANDLER, HANDLER + 0x10, HANDLER + 0x20), 0);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_event].address, HANDLER);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_failsafe].address, HANDLER + 0x10);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_syscall].address, HANDLER + 0x20);
    EXPECT_EQ(v1->callbacks[CALLBACKTYPE_event].address, 0u);
}

TEST_F(SetCallbacks, ClearsTheEventMaskFlagsOfFailsafeAndSyscall) {
    v0->callbacks[CALLBACKTYPE_failsafe] = GuestCallback{HANDLER, CALLBACKF_mask_events};
    v0->callbacks[CALLBACKTYPE_syscall] = GuestCallback{HANDLER, CALLBACKF_mask_events};
    v0->syscall_disables_events = true;
    EXPECT_EQ(call(__HYPERVISOR_set_callbacks, HANDLER, HANDLER, HANDLER), 0);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_failsafe].flags & CALLBACKF_mask_events, 0);
    EXPECT_FALSE(v0->syscall_disables_events);
}

TEST_F(SetCallbacks, NonCanonicalAddressLeavesOnlyThatCallbackAndStillReturnsZero) {
    v0->callbacks[CALLBACKTYPE_failsafe] = GuestCallback{HANDLER + 0x99, 0};
    EXPECT_EQ(call(__HYPERVISOR_set_callbacks, HANDLER, NON_CANONICAL, HANDLER + 0x20), 0);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_event].address, HANDLER);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_failsafe].address, HANDLER + 0x99);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_syscall].address, HANDLER + 0x20);
}

TEST_F(SetCallbacks, ZeroAddressesAreStored) {
    v0->callbacks[CALLBACKTYPE_event] = GuestCallback{HANDLER, 0};
    EXPECT_EQ(call(__HYPERVISOR_set_callbacks, 0, 0, 0), 0);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_event].address, 0u);
}

// ---- callback_op -------------------------------------------------------------------------

class CallbackOp : public PvTest {
protected:
    static constexpr uint64_t ARG = 0xffffffff83000000;
    void SetUp() override {
        PvTest::SetUp();
        arg = std::make_unique<GuestBuffer>(ARG, 64);
    }
    long reg(Vcpu& v, uint16_t type, uint16_t flags, uint64_t address) {
        callback_register r{};
        r.type = type;
        r.flags = flags;
        r.address = address;
        arg->put(ARG, &r, sizeof r);
        return call(v, __HYPERVISOR_callback_op, CALLBACKOP_register, ARG);
    }
    long reg(uint16_t type, uint16_t flags, uint64_t address) { return reg(*v0, type, flags, address); }
    long unreg(Vcpu& v, uint16_t type) {
        callback_unregister u{};
        u.type = type;
        arg->put(ARG, &u, sizeof u);
        return call(v, __HYPERVISOR_callback_op, CALLBACKOP_unregister, ARG);
    }
    long unreg(uint16_t type) { return unreg(*v0, type); }
    std::unique_ptr<GuestBuffer> arg;
};

TEST_F(CallbackOp, RegistersEachTypeWithItsAddressAndFlags) {
    for (uint16_t type : {CALLBACKTYPE_failsafe, CALLBACKTYPE_syscall, CALLBACKTYPE_syscall32, CALLBACKTYPE_sysenter}) {
        EXPECT_EQ(reg(type, CALLBACKF_mask_events, HANDLER + type), 0) << type;
        EXPECT_EQ(v0->callbacks[type].address, HANDLER + type) << type;
        EXPECT_NE(v0->callbacks[type].flags & CALLBACKF_mask_events, 0) << type;
    }
    EXPECT_EQ(reg(CALLBACKTYPE_event, 0, HANDLER), 0);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_event].address, HANDLER);
    EXPECT_EQ(v1->callbacks[CALLBACKTYPE_syscall].address, 0u);
}

TEST_F(CallbackOp, SyscallMaskFlagSetsAndClearsSyscallDisablesEvents) {
    EXPECT_EQ(reg(CALLBACKTYPE_syscall, CALLBACKF_mask_events, HANDLER), 0);
    EXPECT_TRUE(v0->syscall_disables_events);
    EXPECT_EQ(reg(CALLBACKTYPE_syscall, 0, HANDLER), 0);
    EXPECT_FALSE(v0->syscall_disables_events);
}

TEST_F(CallbackOp, OtherTypesDoNotTouchSyscallDisablesEvents) {
    EXPECT_EQ(reg(CALLBACKTYPE_syscall32, CALLBACKF_mask_events, HANDLER), 0);
    EXPECT_EQ(reg(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, HANDLER), 0);
    EXPECT_FALSE(v0->syscall_disables_events);
}

TEST_F(CallbackOp, NonCanonicalAddressIsEinvalAndChangesNothing) {
    v0->callbacks[CALLBACKTYPE_syscall] = GuestCallback{HANDLER, 0};
    EXPECT_EQ(reg(CALLBACKTYPE_syscall, CALLBACKF_mask_events, NON_CANONICAL), -XEN_EINVAL);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_syscall].address, HANDLER);
    EXPECT_FALSE(v0->syscall_disables_events);
    EXPECT_EQ(reg(CALLBACKTYPE_event, 0, HOLE_START - 1), -XEN_EINVAL);
    EXPECT_EQ(v0->callbacks[CALLBACKTYPE_event].address, 0u);
}

TEST_F(CallbackOp, AddressCheckComesBeforeTheTypeCheck) {
    EXPECT_EQ(reg(6, 0, NON_CANONICAL), -XEN_EINVAL);
}

TEST_F(CallbackOp, UnknownTypesAreEnosys) {
    // 3 is the retired SYSENTER number; 6 was never assigned; 8 and up do not exist.
    for (uint16_t type : {uint16_t{3}, uint16_t{6}, uint16_t{8}, uint16_t{100}, uint16_t{0xffff}})
        EXPECT_EQ(reg(type, 0, HANDLER), -XEN_ENOSYS) << type;
    for (const auto& c : v0->callbacks) EXPECT_EQ(c.address, 0u);
}

TEST_F(CallbackOp, RegisterWithUnreadableArgumentIsEfault) {
    EXPECT_EQ(call(__HYPERVISOR_callback_op, CALLBACKOP_register, ARG + 0x1000), -XEN_EFAULT);
    EXPECT_EQ(call(__HYPERVISOR_callback_op, CALLBACKOP_register, ARG + 64 - 8), -XEN_EFAULT)
        << "a structure running off the mapping";
    EXPECT_EQ(call(__HYPERVISOR_callback_op, CALLBACKOP_register, 0), -XEN_EFAULT);
}

TEST_F(CallbackOp, UnregisterWithUnreadableArgumentIsEfault) {
    EXPECT_EQ(call(__HYPERVISOR_callback_op, CALLBACKOP_unregister, ARG + 0x1000), -XEN_EFAULT);
}

TEST_F(CallbackOp, PermanentCallbacksCannotBeUnregistered) {
    for (uint16_t type : {CALLBACKTYPE_event, CALLBACKTYPE_failsafe, CALLBACKTYPE_syscall, CALLBACKTYPE_syscall32,
                          CALLBACKTYPE_sysenter}) {
        v0->callbacks[type] = GuestCallback{HANDLER + type, 0};
        EXPECT_EQ(unreg(type), -XEN_EINVAL) << type;
        EXPECT_EQ(v0->callbacks[type].address, HANDLER + type) << type;
    }
}

TEST_F(CallbackOp, UnregisterUnknownTypeIsEnosys) {
    for (uint16_t type : {uint16_t{3}, uint16_t{6}, uint16_t{8}, uint16_t{0xffff}})
        EXPECT_EQ(unreg(type), -XEN_ENOSYS) << type;
}

TEST_F(CallbackOp, UnknownCommandIsEnosys) {
    EXPECT_EQ(call(__HYPERVISOR_callback_op, 2, ARG), -XEN_ENOSYS);
    EXPECT_EQ(call(__HYPERVISOR_callback_op, ~uint64_t{0}, ARG), -XEN_ENOSYS);
}

// Xen keeps the NMI callback as the trap-table entry of vector 2 (flags: events masked on
// entry), so set_trap_table and callback_op see the same slot.
TEST_F(CallbackOp, NmiCallbackIsTrapTableEntry2WithEventsMasked) {
    Domain* d0 = make_dom0();
    Vcpu& c = *d0->vcpu(VcpuId(0));
    EXPECT_EQ(reg(c, CALLBACKTYPE_nmi, 0, HANDLER), 0);
    EXPECT_EQ(c.traps[pv::vector::NMI].address, HANDLER);
    EXPECT_EQ(c.traps[pv::vector::NMI].cs, FLAT_KERNEL_CS);
    EXPECT_EQ(c.traps[pv::vector::NMI].flags, 4);
    EXPECT_EQ(unreg(c, CALLBACKTYPE_nmi), 0);
    EXPECT_EQ(c.traps[pv::vector::NMI].address, 0u);
    EXPECT_EQ(c.traps[pv::vector::NMI].flags, 0);
}

TEST_F(CallbackOp, NmiCallbackWithNonCanonicalAddressIsEinval) {
    v0->traps[pv::vector::NMI] = GuestTrap{HANDLER, FLAT_KERNEL_CS, 0};
    EXPECT_EQ(reg(CALLBACKTYPE_nmi, 0, NON_CANONICAL), -XEN_EINVAL);
    EXPECT_EQ(v0->traps[pv::vector::NMI].address, HANDLER);
}

TEST_F(CallbackOp, AnyVcpuOfAnyDomainMayRegisterAnNmiCallback) {
    // Xen's register_guest_nmi_callback checks only that the address is canonical (NMIs
    // reach the hardware domain's vCPU 0 only, but registering is allowed everywhere).
    EXPECT_EQ(reg(*v0, CALLBACKTYPE_nmi, 0, HANDLER), 0);
    EXPECT_EQ(v0->traps[pv::vector::NMI].address, HANDLER);
    EXPECT_EQ(reg(*v1, CALLBACKTYPE_nmi, 0, HANDLER + 1), 0);
    EXPECT_EQ(v1->traps[pv::vector::NMI].address, HANDLER + 1);
    Domain* d0 = make_dom0();
    EXPECT_EQ(reg(*d0->vcpu(VcpuId(1)), CALLBACKTYPE_nmi, 0, HANDLER), 0);
}

TEST_F(CallbackOp, NmiCallbackAndTrapTableShareTheSlot) {
    EXPECT_EQ(reg(CALLBACKTYPE_nmi, 0, HANDLER), 0);
    EXPECT_EQ(call(__HYPERVISOR_set_trap_table, 0), 0);
    EXPECT_EQ(v0->traps[pv::vector::NMI].address, 0u) << "a null trap table clears it too";
    v0->traps[pv::vector::NMI] = GuestTrap{HANDLER + 2, FLAT_KERNEL_CS, 0};
    EXPECT_EQ(unreg(CALLBACKTYPE_nmi), 0);
    EXPECT_EQ(v0->traps[pv::vector::NMI].address, 0u) << "unregistering clears an entry set by set_trap_table";
}

TEST_F(CallbackOp, UnregisteringAnAbsentNmiCallbackSucceeds) {
    EXPECT_EQ(unreg(CALLBACKTYPE_nmi), 0);
    EXPECT_EQ(v0->traps[pv::vector::NMI].address, 0u);
}

// ---- fpu_taskswitch ----------------------------------------------------------------------

using FpuTaskswitch = PvTest;

TEST_F(FpuTaskswitch, SetAndClearVirtualTs) {
    EXPECT_EQ(call(__HYPERVISOR_fpu_taskswitch, 1), 0);
    EXPECT_TRUE(v0->virtual_ts);
    EXPECT_TRUE(fake_pv::record().fpu_trap);
    EXPECT_EQ(call(__HYPERVISOR_fpu_taskswitch, 0), 0);
    EXPECT_FALSE(v0->virtual_ts);
    EXPECT_FALSE(fake_pv::record().fpu_trap);
}

TEST_F(FpuTaskswitch, AnyNonZeroIntSets) {
    EXPECT_EQ(call(__HYPERVISOR_fpu_taskswitch, 0x80000000), 0);
    EXPECT_TRUE(v0->virtual_ts);
    EXPECT_EQ(call(__HYPERVISOR_fpu_taskswitch, 0), 0);
    EXPECT_EQ(call(__HYPERVISOR_fpu_taskswitch, 42), 0);
    EXPECT_TRUE(v0->virtual_ts);
}

TEST_F(FpuTaskswitch, OnlyTheLow32BitsCount) {
    // Xen's argument is an int: 2^32 is 0 and clears TS.
    v0->virtual_ts = true;
    EXPECT_EQ(call(__HYPERVISOR_fpu_taskswitch, uint64_t{1} << 32), 0);
    EXPECT_FALSE(v0->virtual_ts);
}

// ---- set_segment_base --------------------------------------------------------------------

using SetSegmentBase = PvTest;

TEST_F(SetSegmentBase, FsBase) {
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x7f0000001000), 0);
    EXPECT_EQ(v0->fs_base, 0x7f0000001000u);
    EXPECT_TRUE(fake_pv::happened("fs_base 0x7f0000001000"));
}

TEST_F(SetSegmentBase, UserGsBase) {
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, 0x7f0000002000), 0);
    EXPECT_EQ(v0->gs_base_user, 0x7f0000002000u);
}

TEST_F(SetSegmentBase, KernelGsBase) {
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, 0xffff888000010000), 0);
    EXPECT_EQ(v0->gs_base_kernel, 0xffff888000010000u);
    EXPECT_TRUE(fake_pv::happened("gs_base_kernel 0xffff888000010000"));
}

TEST_F(SetSegmentBase, NonCanonicalBasesAreEinvalAndChangeNothing) {
    v0->fs_base = 1;
    v0->gs_base_user = 2;
    v0->gs_base_kernel = 3;
    for (uint64_t bad : {NON_CANONICAL, HOLE_START - 1, uint64_t{0x8000000000000000}}) {
        EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_FS, bad), -XEN_EINVAL);
        EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, bad), -XEN_EINVAL);
        EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, bad), -XEN_EINVAL);
    }
    EXPECT_EQ(v0->fs_base, 1u);
    EXPECT_EQ(v0->gs_base_user, 2u);
    EXPECT_EQ(v0->gs_base_kernel, 3u);
    EXPECT_TRUE(fake_pv::record().events.empty());
}

TEST_F(SetSegmentBase, CanonicalEdgesAreAccepted) {
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x00007fffffffffff), 0);
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, 0xffff800000000000), 0);
    EXPECT_EQ(v0->gs_base_user, 0xffff800000000000u);
}

TEST_F(SetSegmentBase, UserGsSelectorPassesTheLow16Bits) {
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER_SEL, 0xabcd002b), 0);
    EXPECT_EQ(v0->gs, 0x002b);
    EXPECT_TRUE(fake_pv::happened("user gs selector 0x2b"));
}

TEST_F(SetSegmentBase, UnknownSelectorIsEinval) {
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, 4, 0), -XEN_EINVAL);
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, 0xffffffff, 0), -XEN_EINVAL);
    EXPECT_TRUE(fake_pv::record().events.empty());
}

TEST_F(SetSegmentBase, WhichIsAn32BitValue) {
    // Xen's `which` is unsigned int: 2^32 + SEGBASE_FS selects FS.
    EXPECT_EQ(call(__HYPERVISOR_set_segment_base, (uint64_t{1} << 32) | SEGBASE_FS, 0x1000), 0);
    EXPECT_EQ(v0->fs_base, 0x1000u);
}

// ---- vm_assist ---------------------------------------------------------------------------

using VmAssist = PvTest;

TEST_F(VmAssist, EnablesAndDisablesEveryTypeA64BitGuestMayUse) {
    for (unsigned type : {0u, 1u, 2u, 3u, 4u, 5u, 32u}) {
        EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, type), 0) << type;
        EXPECT_EQ(dom->vm_assist, uint64_t{1} << type) << type;
        EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_disable, type), 0) << type;
        EXPECT_EQ(dom->vm_assist, 0u) << type;
    }
}

TEST_F(VmAssist, IsPerDomain) {
    EXPECT_EQ(call(*v1, __HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_architectural_iopl), 0);
    EXPECT_EQ(dom->vm_assist, uint64_t{1} << VMASST_TYPE_architectural_iopl);
    Domain* d0 = make_dom0();
    EXPECT_EQ(d0->vm_assist, 0u);
}

TEST_F(VmAssist, EnableIsIdempotentAndKeepsOtherBits) {
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 2), 0);
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 32), 0);
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 2), 0);
    EXPECT_EQ(dom->vm_assist, (uint64_t{1} << 2) | (uint64_t{1} << 32));
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_disable, 2), 0);
    EXPECT_EQ(dom->vm_assist, uint64_t{1} << 32);
}

TEST_F(VmAssist, InvalidTypesAreEinval) {
    dom->vm_assist = 1u << 2;
    for (uint64_t type : {6u, 7u, 31u, 33u, 63u, 64u, 1000u, 0xffffffffu}) {
        EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_enable, type), -XEN_EINVAL) << type;
        EXPECT_EQ(call(__HYPERVISOR_vm_assist, VMASST_CMD_disable, type), -XEN_EINVAL) << type;
    }
    EXPECT_EQ(dom->vm_assist, 1u << 2);
}

TEST_F(VmAssist, UnknownCommandIsEnosysButTheTypeIsCheckedFirst) {
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, 2, VMASST_TYPE_writable_pagetables), -XEN_ENOSYS);
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, 2, 6), -XEN_EINVAL);
    EXPECT_EQ(dom->vm_assist, 0u);
}

TEST_F(VmAssist, ArgumentsAre32Bit) {
    // Both are unsigned int in Xen: the upper halves are ignored.
    EXPECT_EQ(call(__HYPERVISOR_vm_assist, (uint64_t{1} << 32) | VMASST_CMD_enable, (uint64_t{1} << 32) | 2), 0);
    EXPECT_EQ(dom->vm_assist, uint64_t{1} << 2);
}

// ---- iret --------------------------------------------------------------------------------

class Iret : public PvTest {
protected:
    static constexpr uint64_t STACK = 0xffffc90000010000;
    void SetUp() override {
        PvTest::SetUp();
        stack = std::make_unique<GuestBuffer>(STACK, 0x1000);
        regs.rsp = STACK + 0x800;
        regs.rcx = 0xc1c1;
        regs.r11 = 0x1111;
        v0->info()->evtchn_upcall_mask = 1;
    }
    iret_context& ctx() { return stack->at<iret_context>(STACK + 0x800); }
    void fill(uint64_t cs, uint64_t rflags, uint64_t flags = 0) {
        iret_context& c = ctx();
        c.rax = 0x1234567890;
        c.r11 = 0x202;
        c.rcx = 0xffffffff81005000;
        c.flags = flags;
        c.rip = 0xffffffff81002000;
        c.cs = cs;
        c.rflags = rflags;
        c.rsp = 0xffffc90000020000;
        c.ss = 0xe028;
    }
    // The guest's rsp points at the context when it calls iret.
    long iret() {
        regs.rsp = STACK + 0x800;
        return call(__HYPERVISOR_iret);
    }
    std::unique_ptr<GuestBuffer> stack;
};

TEST_F(Iret, ReturnsToTheKernelWithTheSavedFrame) {
    fill(0xe030, IF | 0x2);
    EXPECT_EQ(iret(), 0x1234567890);
    EXPECT_EQ(regs.rip, 0xffffffff81002000u);
    EXPECT_EQ(regs.cs, 0xe033u) << "guest privilege forced";
    EXPECT_EQ(regs.rsp, 0xffffc90000020000u);
    EXPECT_EQ(regs.ss, 0xe02bu);
    EXPECT_EQ(regs.rcx, 0xffffffff81005000u);
    EXPECT_EQ(regs.r11, 0x202u);
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_FALSE(fake_pv::happened("to user"));
    EXPECT_FALSE(crashed());
}

TEST_F(Iret, IfInTheSavedFlagsBecomesTheUpcallMask) {
    fill(0xe030, IF);
    iret();
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0);
    fill(0xe030, 0);
    iret();
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1);
    EXPECT_NE(regs.rflags & IF, 0u) << "real IF is always on in the guest";
}

TEST_F(Iret, RflagsLosesIoplAndVmAndKeepsTheRest) {
    fill(0xe030, IOPL3 | VM | DF | TF | AC | 0x2);
    iret();
    EXPECT_EQ(regs.rflags, DF | TF | AC | 0x2 | IF);
}

TEST_F(Iret, InSyscallKeepsRcxAndR11) {
    fill(0xe030, IF, VGCF_in_syscall);
    iret();
    EXPECT_EQ(regs.rcx, 0xc1c1u);
    EXPECT_EQ(regs.r11, 0x1111u);
    EXPECT_EQ(regs.rip, 0xffffffff81002000u);
}

TEST_F(Iret, ToUserModeSwitchesModes) {
    v0->cr3_user = Mfn(0x1234);
    fill(FLAT_USER_CS, IF);
    ctx().ss = FLAT_USER_SS;
    iret();
    EXPECT_FALSE(v0->kernel_mode);
    EXPECT_TRUE(fake_pv::happened("to user"));
    EXPECT_EQ(regs.cs, uint64_t(FLAT_USER_CS));
    EXPECT_EQ(regs.ss, uint64_t(FLAT_USER_SS));
    EXPECT_FALSE(crashed());
}

TEST_F(Iret, ToUserModeWithoutUserPageTablesCrashes) {
    fill(FLAT_USER_CS, IF);
    uint64_t rip = regs.rip;
    iret();
    EXPECT_TRUE(crashed());
    EXPECT_TRUE(crash_logged("no user page tables"));
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_EQ(regs.rip, rip);
}

TEST_F(Iret, RplOneOrTwoIsNotUserMode) {
    // Only RPL 3 means user mode; other RPLs stay in the kernel and get RPL 3.
    fill(0xe031, IF);
    iret();
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_EQ(regs.cs, 0xe033u);
    fill(0xe032, IF);
    iret();
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_FALSE(crashed());
}

TEST_F(Iret, UnreadableContextCrashes) {
    regs.rsp = STACK + 0x1000 - 16;  // the context runs off the mapping
    call(__HYPERVISOR_iret);
    EXPECT_TRUE(crashed());
    EXPECT_TRUE(crash_logged("fault reading the iret context"));
}

TEST_F(Iret, ContextInTheHoleCrashes) {
    GuestBuffer hole(HOLE_START, 0x1000);
    hole.at<iret_context>(HOLE_START) = iret_context{1, 2, 3, 0, 0xffffffff81000000, 0xe030, IF, 0, 0xe02b};
    regs.rsp = HOLE_START;
    call(__HYPERVISOR_iret);
    EXPECT_TRUE(crashed());
}

TEST_F(Iret, ArchitecturalIoplTakesIoplFromTheSavedFlags) {
    dom->vm_assist = uint64_t{1} << VMASST_TYPE_architectural_iopl;
    fill(0xe030, IF | (2u << 12));
    iret();
    EXPECT_EQ(v0->iopl, 2u);
    EXPECT_EQ(regs.rflags & IOPL3, 0u) << "the real IOPL stays 0";
}

TEST_F(Iret, WithoutArchitecturalIoplTheVirtualIoplIsKept) {
    v0->iopl = 1;
    fill(0xe030, IF | IOPL3);
    iret();
    EXPECT_EQ(v0->iopl, 1u);
}

// ---- exception queueing and the bounce frame ---------------------------------------------

class Bounce : public PvTest {
protected:
    static constexpr uint64_t KSTACK = 0xffffc90000100000;  // kernel stack page
    static constexpr uint64_t USTACK = 0x00007ffff0000000;
    void SetUp() override {
        PvTest::SetUp();
        kstack = std::make_unique<GuestBuffer>(KSTACK, 0x1000);
        v0->info()->evtchn_upcall_mask = 0;
        regs.rcx = 0xcccc;
        regs.r11 = 0xbbbb;
        regs.rip = 0xffffffff81000abc;
        regs.cs = FLAT_KERNEL_CS;
        regs.rflags = IF | 0x2 | 0x80;  // SF, to see flags pass through
        regs.rsp = KSTACK + 0x808;      // not 16-byte aligned
        regs.ss = FLAT_KERNEL_SS;
    }
    void handler(uint8_t vec, uint8_t flags = 0) { v0->traps[vec] = GuestTrap{HANDLER + vec, FLAT_KERNEL_CS, flags}; }
    std::unique_ptr<GuestBuffer> kstack;
};

TEST_F(Bounce, QueueWithoutHandlerFailsAndQueuesNothing) {
    EXPECT_FALSE(pv::queue_exception(*v0, pv::vector::GP, true, 0));
    EXPECT_FALSE(v0->bounce.pending);
}

TEST_F(Bounce, QueueRecordsTheException) {
    handler(pv::vector::PF, 4);
    EXPECT_TRUE(pv::queue_exception(*v0, pv::vector::PF, true, 0x7));
    EXPECT_TRUE(v0->bounce.pending);
    EXPECT_EQ(v0->bounce.vector, pv::vector::PF);
    EXPECT_TRUE(v0->bounce.has_error_code);
    EXPECT_EQ(v0->bounce.error_code, 7u);
    EXPECT_EQ(v0->bounce.address, HANDLER + pv::vector::PF);
    EXPECT_TRUE(v0->bounce.mask_events);
}

TEST_F(Bounce, KernelModeFrameLayoutWithoutErrorCode) {
    handler(pv::vector::UD);
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    uint64_t f = KSTACK + 0x800 - 7 * 8;  // aligned down to 16, then seven words
    EXPECT_EQ(regs.rsp, f);
    EXPECT_EQ(kstack->u64(f + 0), 0xccccu);
    EXPECT_EQ(kstack->u64(f + 8), 0xbbbbu);
    EXPECT_EQ(kstack->u64(f + 16), 0xffffffff81000abcu);
    EXPECT_EQ(kstack->u64(f + 24), uint64_t(FLAT_KERNEL_CS & ~3)) << "RPL 0: the kernel was interrupted";
    EXPECT_EQ(kstack->u64(f + 32), IF | 0x2 | 0x80);
    EXPECT_EQ(kstack->u64(f + 40), KSTACK + 0x808) << "the interrupted rsp, unaligned";
    EXPECT_EQ(kstack->u64(f + 48), uint64_t(FLAT_KERNEL_SS));
    EXPECT_EQ(kstack->u64(f + 56), 0u) << "nothing written above the frame";
    EXPECT_EQ(regs.rip, HANDLER + pv::vector::UD);
    EXPECT_EQ(regs.cs, uint64_t(FLAT_KERNEL_CS));
    EXPECT_EQ(regs.ss, uint64_t(FLAT_KERNEL_SS));
    EXPECT_FALSE(v0->bounce.pending);
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_FALSE(crashed());
}

TEST_F(Bounce, ErrorCodeSitsBetweenR11AndRip) {
    handler(pv::vector::GP);
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::GP, true, 0xfffffff8));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    uint64_t f = KSTACK + 0x800 - 8 * 8;
    EXPECT_EQ(regs.rsp, f);
    EXPECT_EQ(kstack->u64(f + 0), 0xccccu);
    EXPECT_EQ(kstack->u64(f + 8), 0xbbbbu);
    EXPECT_EQ(kstack->u64(f + 16), 0xfffffff8u) << "32-bit error code, zero-extended";
    EXPECT_EQ(kstack->u64(f + 24), 0xffffffff81000abcu);
    EXPECT_EQ(kstack->u64(f + 32), uint64_t(FLAT_KERNEL_CS & ~3));
    EXPECT_EQ(kstack->u64(f + 56), uint64_t(FLAT_KERNEL_SS));
}

TEST_F(Bounce, AlignedStackIsNotMovedFurther) {
    handler(pv::vector::BP);
    regs.rsp = KSTACK + 0x800;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::BP, false, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(regs.rsp, KSTACK + 0x800 - 56);
}

TEST_F(Bounce, SavedUpcallMaskInCsBits32To39AndIfFromIt) {
    handler(pv::vector::DB);
    v0->info()->evtchn_upcall_mask = 1;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::DB, false, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    uint64_t f = regs.rsp;
    EXPECT_EQ(kstack->u64(f + 24), uint64_t(FLAT_KERNEL_CS & ~3) | (uint64_t{1} << 32));
    EXPECT_EQ(kstack->u64(f + 32) & IF, 0u) << "events were masked: IF shows clear";
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1);
}

TEST_F(Bounce, HandlerFlagMasksEventsButTheFrameShowsTheOldMask) {
    handler(pv::vector::PF, 4);
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::PF, true, 2));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    uint64_t f = regs.rsp;
    EXPECT_EQ(kstack->u64(f + 32) >> 32, 0u) << "saved mask 0 in bits 32-39";
    EXPECT_NE(kstack->u64(f + 40) & IF, 0u);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1) << "masked on entry to the handler";
}

TEST_F(Bounce, HandlerWithoutTheFlagLeavesEventsUnmasked) {
    handler(pv::vector::PF, 3);  // DPL bits only
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::PF, true, 2));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0);
}

TEST_F(Bounce, FrameRflagsDropsTheRealIopl) {
    handler(pv::vector::GP);
    regs.rflags = IF | IOPL3 | 0x2;
    v0->iopl = 2;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::GP, true, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(kstack->u64(regs.rsp + 40), IF | 0x2) << "virtual IOPL only with architectural_iopl";
}

TEST_F(Bounce, ArchitecturalIoplShowsTheVirtualIopl) {
    handler(pv::vector::GP);
    dom->vm_assist = uint64_t{1} << VMASST_TYPE_architectural_iopl;
    regs.rflags = IF | IOPL3 | 0x2;
    v0->iopl = 2;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::GP, true, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(kstack->u64(regs.rsp + 40), IF | (2u << 12) | 0x2);
}

TEST_F(Bounce, HandlerRunsWithTfNtRfVmAcCleared) {
    handler(pv::vector::DB);
    regs.rflags = IF | TF | NT | RF | AC | DF | 0x2;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::DB, false, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(regs.rflags, IF | DF | 0x2);
    EXPECT_EQ(kstack->u64(regs.rsp + 32), IF | TF | NT | RF | AC | DF | 0x2) << "the frame keeps them";
}

TEST_F(Bounce, FromUserModeSwitchesToTheKernelStack) {
    GuestBuffer ustack(USTACK, 0x1000);
    v0->kernel_mode = false;
    v0->kernel_sp = KSTACK + 0xf08;
    regs.cs = FLAT_USER_CS;
    regs.ss = FLAT_USER_SS;
    regs.rsp = USTACK + 0x800;
    regs.rip = 0x401000;
    handler(pv::vector::DE);
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::DE, false, 0));
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_TRUE(fake_pv::happened("to kernel"));
    uint64_t f = KSTACK + 0xf00 - 56;
    EXPECT_EQ(regs.rsp, f);
    EXPECT_EQ(kstack->u64(f + 16), 0x401000u);
    EXPECT_EQ(kstack->u64(f + 24), uint64_t(FLAT_USER_CS)) << "user CS keeps RPL 3";
    EXPECT_EQ(kstack->u64(f + 40), USTACK + 0x800);
    EXPECT_EQ(kstack->u64(f + 48), uint64_t(FLAT_USER_SS));
    for (uint8_t b : ustack.bytes) ASSERT_EQ(b, 0) << "nothing goes on the user stack";
    EXPECT_EQ(regs.cs, uint64_t(FLAT_KERNEL_CS));
}

TEST_F(Bounce, FrameTouchingTheHoleCrashes) {
    // 16 bytes above the hole's end: seven words reach below it.
    GuestBuffer top(HOLE_END, 0x1000);
    handler(pv::vector::UD);
    regs.rsp = HOLE_END + 0x10;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
    for (uint8_t b : top.bytes) ASSERT_EQ(b, 0);
}

TEST_F(Bounce, FrameJustAboveTheHoleIsFine) {
    GuestBuffer top(HOLE_END, 0x1000);
    handler(pv::vector::UD);
    regs.rsp = HOLE_END + 0x40;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(regs.rsp, HOLE_END + 8);
    EXPECT_FALSE(crashed());
}

TEST_F(Bounce, StackInsideTheHoleCrashes) {
    GuestBuffer hole(HOLE_START + 0x10000, 0x1000);
    handler(pv::vector::UD);
    regs.rsp = HOLE_START + 0x10800;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
    for (uint8_t b : hole.bytes) ASSERT_EQ(b, 0);
}

TEST_F(Bounce, UserModeKernelStackInTheHoleCrashes) {
    v0->kernel_mode = false;
    v0->kernel_sp = HOLE_START + 0x2000;
    handler(pv::vector::UD);
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
}

TEST_F(Bounce, UnmappedStackCrashes) {
    handler(pv::vector::UD);
    regs.rsp = 0xffffc90000900000;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
    EXPECT_TRUE(crash_logged("0xffffc900008fffc8"));
}

TEST_F(Bounce, ReadOnlyStackCrashes) {
    GuestBuffer ro(0xffffc90000200000, 0x1000, false);
    handler(pv::vector::UD);
    regs.rsp = 0xffffc90000200800;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
}

TEST_F(Bounce, StackCrossingIntoAnUnmappedPageCrashes) {
    // The frame's lowest words fall below the mapped stack page.
    handler(pv::vector::UD);
    regs.rsp = KSTACK + 0x20;
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::UD, false, 0));
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
}

TEST_F(Bounce, PendingBounceWithoutHandlerCrashes) {
    v0->bounce = PendingBounce{true, 13, true, 0, 0, false};
    EXPECT_FALSE(pv::deliver_bounce(*v0, regs));
    EXPECT_TRUE(crashed());
    EXPECT_FALSE(v0->bounce.pending);
}

TEST_F(Bounce, EventCallbackIsQueuedWithItsAddress) {
    EXPECT_FALSE(pv::queue_callback(*v0, CALLBACKTYPE_event)) << "nothing registered";
    v0->callbacks[CALLBACKTYPE_event] = GuestCallback{HANDLER, 0};
    EXPECT_TRUE(pv::queue_callback(*v0, CALLBACKTYPE_event));
    EXPECT_EQ(v0->bounce.address, HANDLER);
    EXPECT_FALSE(v0->bounce.has_error_code);
}

TEST_F(Bounce, EventCallbackAlwaysMasksEvents) {
    // entry.S delivers the event upcall with TBF_INTERRUPT, whatever flags were registered.
    v0->callbacks[CALLBACKTYPE_event] = GuestCallback{HANDLER, 0};
    ASSERT_TRUE(pv::queue_callback(*v0, CALLBACKTYPE_event));
    EXPECT_TRUE(v0->bounce.mask_events);
    ASSERT_TRUE(pv::deliver_bounce(*v0, regs));
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1);
    EXPECT_NE(kstack->u64(regs.rsp + 32) & IF, 0u) << "the frame shows events were enabled";
}

TEST_F(Bounce, NmiRegisteredByCallbackOpMasksEvents) {
    GuestBuffer arg(0xffffffff83000000, 16);
    callback_register r{};
    r.type = CALLBACKTYPE_nmi;
    r.address = HANDLER + 0x222;
    arg.put(0xffffffff83000000, &r, sizeof r);
    ASSERT_EQ(call(__HYPERVISOR_callback_op, CALLBACKOP_register, 0xffffffff83000000), 0);
    ASSERT_TRUE(pv::queue_exception(*v0, pv::vector::NMI, false, 0));
    EXPECT_TRUE(v0->bounce.mask_events);
    EXPECT_EQ(v0->bounce.address, HANDLER + 0x222);
}

TEST_F(Bounce, FailsafeCallbackMasksOnlyWithItsFlag) {
    v0->callbacks[CALLBACKTYPE_failsafe] = GuestCallback{HANDLER, CALLBACKF_mask_events};
    ASSERT_TRUE(pv::queue_callback(*v0, CALLBACKTYPE_failsafe));
    EXPECT_TRUE(v0->bounce.mask_events);
    v0->callbacks[CALLBACKTYPE_failsafe] = GuestCallback{HANDLER, 0};
    ASSERT_TRUE(pv::queue_callback(*v0, CALLBACKTYPE_failsafe));
    EXPECT_FALSE(v0->bounce.mask_events);
}

// ---- SYSCALL from guest user mode --------------------------------------------------------

class UserSyscall : public Bounce {
protected:
    void SetUp() override {
        Bounce::SetUp();
        v0->kernel_mode = false;
        v0->kernel_sp = KSTACK + 0xff0;
        regs.cs = FLAT_USER_CS;
        regs.ss = FLAT_USER_SS;
        regs.rip = 0x401002;   // after the SYSCALL instruction
        regs.rcx = 0x401002;   // what SYSCALL put there
        regs.r11 = IF | 0x2;
        regs.rflags = IF | DF | 0x2;
        regs.rsp = 0x7ffffff000;
    }
};

TEST_F(UserSyscall, BouncesToTheSyscallCallbackAndClearsDf) {
    v0->callbacks[CALLBACKTYPE_syscall] = GuestCallback{HANDLER, 0};
    pv::bounce_user_syscall(*v0, regs, false);
    EXPECT_EQ(regs.rip, HANDLER);
    EXPECT_TRUE(v0->kernel_mode);
    EXPECT_EQ(regs.rsp, KSTACK + 0xff0 - 56);
    EXPECT_EQ(regs.rflags & DF, 0u);
    EXPECT_EQ(kstack->u64(regs.rsp + 0), 0x401002u) << "rcx";
    EXPECT_EQ(kstack->u64(regs.rsp + 8), IF | 0x2) << "r11";
    EXPECT_EQ(kstack->u64(regs.rsp + 16), 0x401002u) << "rip";
    EXPECT_EQ(kstack->u64(regs.rsp + 24), uint64_t(FLAT_USER_CS));
    EXPECT_EQ(kstack->u64(regs.rsp + 32), IF | DF | 0x2) << "the frame keeps DF";
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0) << "no VGCF_syscall_disables_events";
}

TEST_F(UserSyscall, SyscallDisablesEventsMasks) {
    v0->callbacks[CALLBACKTYPE_syscall] = GuestCallback{HANDLER, CALLBACKF_mask_events};
    v0->syscall_disables_events = true;
    pv::bounce_user_syscall(*v0, regs, false);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1);
}

TEST_F(UserSyscall, CompatSyscallUsesTheSyscall32Callback) {
    v0->callbacks[CALLBACKTYPE_syscall] = GuestCallback{HANDLER, 0};
    v0->callbacks[CALLBACKTYPE_syscall32] = GuestCallback{HANDLER + 0x32, 0};
    regs.cs = FLAT_USER_CS32;
    pv::bounce_user_syscall(*v0, regs, true);
    EXPECT_EQ(regs.rip, HANDLER + 0x32);
    EXPECT_EQ(kstack->u64(regs.rsp + 24), uint64_t(FLAT_USER_CS32));
}

TEST_F(UserSyscall, CompatSyscallMasksEventsAsTheSyscallFlagSays) {
    // switch_to_kernel takes the mask from VGCF_syscall_disables_events for both entry points.
    v0->callbacks[CALLBACKTYPE_syscall32] = GuestCallback{HANDLER + 0x32, CALLBACKF_mask_events};
    v0->syscall_disables_events = false;
    pv::bounce_user_syscall(*v0, regs, true);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 0);
    v0->callbacks[CALLBACKTYPE_syscall32] = GuestCallback{HANDLER + 0x32, 0};
    v0->syscall_disables_events = true;
    v0->kernel_mode = false;
    v0->info()->evtchn_upcall_mask = 0;
    pv::bounce_user_syscall(*v0, regs, true);
    EXPECT_EQ(v0->info()->evtchn_upcall_mask, 1);
}

TEST_F(UserSyscall, WithoutCallbackRaisesUdAtTheSyscallInstruction) {
    handler(pv::vector::UD);
    pv::bounce_user_syscall(*v0, regs, false);
    EXPECT_EQ(regs.rip, HANDLER + pv::vector::UD);
    EXPECT_EQ(kstack->u64(regs.rsp + 16), 0x401000u) << "rip points back at SYSCALL";
    EXPECT_NE(regs.rflags & DF, 0u) << "DF is not cleared for #UD";
    EXPECT_FALSE(crashed());
}

TEST_F(UserSyscall, WithoutCallbackOrUdHandlerCrashes) {
    pv::bounce_user_syscall(*v0, regs, false);
    EXPECT_TRUE(crashed());
}

TEST_F(UserSyscall, UnusableKernelStackCrashes) {
    v0->callbacks[CALLBACKTYPE_syscall] = GuestCallback{HANDLER, 0};
    v0->kernel_sp = 0;
    pv::bounce_user_syscall(*v0, regs, false);
    EXPECT_TRUE(crashed());
}

// ---- the frame a guest is resumed with ---------------------------------------------------

TEST(SanitizeReturnFrame, ForcesGuestPrivilegeIfAndClearsIoplAndVm) {
    arch::ExceptionFrame f{};
    f.cs = 0xe030;
    f.ss = 0x0;
    f.rflags = IOPL3 | VM | DF | AC | TF;
    pv::sanitize_return_frame(f);
    EXPECT_EQ(f.cs, 0xe033u);
    EXPECT_EQ(f.ss, 3u);
    EXPECT_EQ(f.rflags, DF | AC | TF | IF | 0x2);
}

TEST(SanitizeReturnFrame, KeepsRpl3SelectorsAndOtherFlags) {
    arch::ExceptionFrame f{};
    f.cs = FLAT_USER_CS32;
    f.ss = FLAT_USER_SS32;
    f.rflags = IF | 0x2 | 0x8d5;  // CF PF AF ZF SF OF
    pv::sanitize_return_frame(f);
    EXPECT_EQ(f.cs, uint64_t(FLAT_USER_CS32));
    EXPECT_EQ(f.ss, uint64_t(FLAT_USER_SS32));
    EXPECT_EQ(f.rflags, IF | 0x2 | 0x8d5);
}

TEST(SanitizeReturnFrame, KeepsNtAsXenDoes) {
    // restore_all_guest clears only IOPL and VM and sets IF, on the SYSRET and the IRETQ
    // path alike: a guest that set NT (POPF) finds it still set after a hypercall. Xen keeps it";
    arch::ExceptionFrame f{};
    f.cs = FLAT_KERNEL_CS;
    f.ss = FLAT_KERNEL_SS;
    f.rflags = IF | NT | 0x2;
    pv::sanitize_return_frame(f);
    EXPECT_EQ(f.rflags, IF | NT | 0x2);
}

}  // namespace
