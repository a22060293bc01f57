// cpuid: the hypervisor's leaves from 0x40000000, reached with the forced-emulation prefix
// (XEN_EMULATE_PREFIX + cpuid: ud2 "xen" cpuid), since a plain cpuid in a PV guest may run
// natively and see only the hardware's leaves. Leaf 0: signature "XenVMMXenVMM" and the highest
// leaf; leaf 1: the version xen_version reports; leaf 2: hypercall pages and their MSR.
#include <xen/arch-x86/cpuid.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/traps.hpp"
#include "runtime/user.hpp"

namespace {

struct Regs {
    std::uint32_t a, b, c, d;
};

Regs xen_cpuid(std::uint32_t leaf, std::uint32_t sub = 0)
{
    Regs r;
    asm volatile(XEN_CPUID : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
    return r;
}

std::uint64_t user_signature(std::uint64_t)
{
    const Regs r = xen_cpuid(XEN_CPUID_FIRST_LEAF);
    return (static_cast<std::uint64_t>(r.b) << 32) | r.d;
}

} // namespace

TEST(signature_leaf)
{
    const Regs r = xen_cpuid(XEN_CPUID_FIRST_LEAF);
    char sig[13];
    memcpy(sig, &r.b, 4);
    memcpy(sig + 4, &r.c, 4);
    memcpy(sig + 8, &r.d, 4);
    sig[12] = '\0';
    kt::print("leaf {x}: eax {x} signature \"{}\"\n", XEN_CPUID_FIRST_LEAF, r.a, static_cast<const char*>(sig));
    EXPECT_STREQ(sig, "XenVMMXenVMM");
    EXPECT_EQ(r.b, static_cast<std::uint32_t>(XEN_CPUID_SIGNATURE_EBX));
    EXPECT_EQ(r.c, static_cast<std::uint32_t>(XEN_CPUID_SIGNATURE_ECX));
    EXPECT_EQ(r.d, static_cast<std::uint32_t>(XEN_CPUID_SIGNATURE_EDX));
    // The highest leaf covers at least leaves 1 (version) and 2 (hypercall pages).
    EXPECT_GE(r.a, XEN_CPUID_LEAF(2));
    EXPECT_LT(r.a, XEN_CPUID_FIRST_LEAF + 0x100);
}

TEST(version_leaf_matches_xen_version)
{
    const Regs r = xen_cpuid(XEN_CPUID_LEAF(1));
    const long v = kt::xen_version(XENVER_version, nullptr);
    EXPECT_EQ(static_cast<long>(r.a), v);
    EXPECT_EQ(r.b, 0u);
    EXPECT_EQ(r.c, 0u);
    EXPECT_EQ(r.d, 0u);
}

TEST(hypercall_page_leaf)
{
    const Regs r = xen_cpuid(XEN_CPUID_LEAF(2));
    kt::print("leaf 2: pages {} msr {x}\n", r.a, r.b);
    EXPECT_EQ(r.a, 1u);  // one hypercall page
    EXPECT_NE(r.b, 0u);  // the MSR that would install it
}

TEST(forced_cpuid_from_user_mode)
{
    ASSERT_TRUE(kt::user_mode_init());
    const kt::UserRun run = kt::run_user(user_signature, 0);
    ASSERT_EQ(run.how, kt::caught_syscall);
    EXPECT_EQ(run.value, (static_cast<std::uint64_t>(XEN_CPUID_SIGNATURE_EBX) << 32) | XEN_CPUID_SIGNATURE_EDX);
}

TEST(prefix_without_cpuid_is_ud)
{
    // The prefix is only honoured in front of cpuid; anything else is the ud2 it begins with.
    kt::TrapRecord r;
    std::uint64_t at = 0;
    const int how = kt::catch_trap([&] { KT_AT(at, XEN_EMULATE_PREFIX "nop"); }, r);
    ASSERT_EQ(how, kt::caught_trap);
    EXPECT_EQ(r.vector, 6u);
    EXPECT_EQ(r.rip, at);
}
