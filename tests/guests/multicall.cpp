// multicall: batches of real hypercalls, each call's return value in its entry's result and
// the multicall's own 0; errors of single calls (and -ENOSYS for ops without a handler, the
// op being a full 64-bit word) only in their results; the count is 32 bits; a nested
// multicall is -EINVAL; the list's start is checked even for no calls, an entry that cannot
// be read or a result that cannot be written ends the batch with -EFAULT after the calls
// before it; iret ends the batch and its rax comes back as an int; a call that blocks makes
// the rest run as a re-issued multicall (rdi and rsi then name the rest of the list).
#include <xen/errno.h>
#include <xen/sched.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/console.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"

namespace {

constexpr std::uint64_t untouched = 0x5a5a5a5a5a5a5a5aull;  // a result no call wrote
constexpr long xen_4_17 = (4 << 16) | 17;
constexpr std::uint64_t entry_size = sizeof(multicall_entry);
constexpr std::uint64_t remap_flags = UVMF_INVLPG | UVMF_LOCAL;

multicall_entry entry(std::uint64_t op, std::uint64_t a0 = 0, std::uint64_t a1 = 0, std::uint64_t a2 = 0,
                      std::uint64_t a3 = 0)
{
    multicall_entry e{};
    e.op = op;
    e.result = untouched;
    e.args[0] = a0;
    e.args[1] = a1;
    e.args[2] = a2;
    e.args[3] = a3;
    return e;
}

long multicall(multicall_entry* list, std::uint64_t count)
{
    return kt::hypercall(__HYPERVISOR_multicall, kt::arg(list), count);
}
long multicall_at(std::uint64_t list, std::uint64_t count) { return kt::hypercall(__HYPERVISOR_multicall, list, count); }

// Two pages of our own image that tests re-map (read-only, or the second one not at all).
alignas(4096) unsigned char scratch[2][4096];

std::uint64_t pte_for(const void* page, bool writable)
{
    return (kt::virt_to_mfn(page) << 12) | kt::pte_present | kt::pte_accessed | kt::pte_dirty
           | (writable ? kt::pte_rw : 0);
}
bool restore(void* page) { return kt::update_va_mapping(kt::arg(page), pte_for(page, true), remap_flags) == 0; }

std::uint64_t fs_cell = 0x0123456789abcdefull;
std::uint64_t read_fs0()
{
    std::uint64_t v;
    asm volatile("movq %%fs:0, %0" : "=r"(v));
    return v;
}

} // namespace

TEST(a_batch_of_real_calls)
{
    static const char line[] = "multicall: this line came from a batch\n";
    mmuext_op_t flush{};
    flush.cmd = MMUEXT_TLB_FLUSH_LOCAL;
    unsigned flushed = 0;
    void* page = scratch[0];
    multicall_entry list[] = {
        entry(__HYPERVISOR_xen_version, XENVER_version),
        entry(__HYPERVISOR_console_io, CONSOLEIO_write, sizeof line - 1, kt::arg(line)),
        entry(__HYPERVISOR_set_segment_base, SEGBASE_FS, kt::arg(&fs_cell)),
        entry(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_runstate_update_flag),
        entry(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_runstate_update_flag),
        entry(__HYPERVISOR_update_va_mapping, kt::arg(page), pte_for(page, false), remap_flags),
        entry(__HYPERVISOR_mmuext_op, kt::arg(&flush), 1, kt::arg(&flushed), DOMID_SELF),
        entry(__HYPERVISOR_set_debugreg, 0, kt::arg(&fs_cell)),
        entry(__HYPERVISOR_get_debugreg, 0),
        entry(__HYPERVISOR_set_debugreg, 0, 0),
    };
    constexpr unsigned n = sizeof list / sizeof list[0];
    ASSERT_EQ(multicall(list, n), 0);
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(xen_4_17));
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(kt::xen_version(XENVER_version, nullptr)));
    for (unsigned i = 1; i < n; ++i) {
        if (i == 8)
            EXPECT_EQ(list[i].result, kt::arg(&fs_cell));  // get_debugreg(0): what set_debugreg put there
        else if (!EXPECT_EQ(list[i].result, 0u))
            kt::print("entry {} (op {}) answered {x}\n", i, list[i].op, list[i].result);
    }
    // The calls took effect.
    EXPECT_EQ(read_fs0(), fs_cell);
    std::uint64_t pte = 0;
    EXPECT_TRUE(kt::lookup_pte(kt::arg(page), &pte));
    EXPECT_EQ(pte & kt::pte_rw, 0u);
    EXPECT_EQ(flushed, 1u);
    EXPECT_EQ(kt::get_debugreg(0), 0);
    EXPECT_TRUE(restore(page));
}

TEST(errors_of_calls_stay_in_their_results)
{
    // 11 is a hole in Xen's numbering, 63 is unassigned, 64 and 1000 are past the table, and
    // the op is a full word: 2^32 + 17 is not xen_version.
    multicall_entry list[] = {
        entry(__HYPERVISOR_vm_assist, VMASST_CMD_enable, 63),
        entry(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0x0000800000000000ull),
        entry(11),
        entry(63),
        entry(64),
        entry(1000),
        entry((1ull << 32) + __HYPERVISOR_xen_version, XENVER_version),
        entry(__HYPERVISOR_xen_version, XENVER_version),
    };
    ASSERT_EQ(multicall(list, sizeof list / sizeof list[0]), 0);
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(-XEN_EINVAL));
    EXPECT_EQ(list[1].result, static_cast<std::uint64_t>(-XEN_EINVAL));
    for (unsigned i = 2; i < 7; ++i)
        EXPECT_EQ(list[i].result, static_cast<std::uint64_t>(-XEN_ENOSYS));
    EXPECT_EQ(list[7].result, static_cast<std::uint64_t>(xen_4_17));
}

TEST(the_count_is_32_bits)
{
    multicall_entry list[] = {entry(__HYPERVISOR_xen_version, XENVER_version),
                              entry(__HYPERVISOR_xen_version, XENVER_version)};
    EXPECT_EQ(multicall(list, (1ull << 32) | 1), 0);
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(xen_4_17));
    EXPECT_EQ(list[1].result, untouched);
    EXPECT_EQ(multicall(list, 1ull << 32), 0);
    EXPECT_EQ(list[1].result, untouched);
}

TEST(a_nested_multicall_is_einval)
{
    multicall_entry inner[] = {entry(__HYPERVISOR_xen_version, XENVER_version)};
    multicall_entry list[] = {
        entry(__HYPERVISOR_multicall, kt::arg(inner), 1),
        entry(__HYPERVISOR_multicall, 0x0000800000000000ull, 1),  // refused before its list is looked at
        entry(__HYPERVISOR_xen_version, XENVER_version),
    };
    ASSERT_EQ(multicall(list, 3), 0);
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(-XEN_EINVAL));
    EXPECT_EQ(list[1].result, static_cast<std::uint64_t>(-XEN_EINVAL));
    EXPECT_EQ(list[2].result, static_cast<std::uint64_t>(xen_4_17));
    EXPECT_EQ(inner[0].result, untouched);
}

TEST(no_calls_and_bad_list_pointers)
{
    multicall_entry list[] = {entry(__HYPERVISOR_xen_version, XENVER_version)};
    EXPECT_EQ(multicall(list, 0), 0);
    EXPECT_EQ(list[0].result, untouched);
    EXPECT_EQ(multicall(nullptr, 0), 0);
    for (const auto& b : kt::bad_pointers) {
        kt::print("list: {} {x}\n", b.what, b.address);
        EXPECT_EQ(multicall_at(b.address, 1), -XEN_EFAULT);
    }
    // Only the start is checked before the first call: unmapped guest memory is fine while
    // nothing is read from it, a non-canonical or hypervisor address is not.
    EXPECT_EQ(multicall_at(kt::bad_pointers[0].address, 0), 0);
    EXPECT_EQ(multicall_at(kt::bad_pointers[1].address, 0), -XEN_EFAULT);
    EXPECT_EQ(multicall_at(kt::bad_pointers[2].address, 0), -XEN_EFAULT);
}

TEST(an_unreadable_entry_ends_the_batch)
{
    // Two entries at the end of a page, the third on the next page, which is unmapped.
    auto* list = reinterpret_cast<multicall_entry*>(scratch[1]) - 2;
    list[0] = entry(__HYPERVISOR_xen_version, XENVER_version);
    list[1] = entry(__HYPERVISOR_set_debugreg, 1, kt::arg(&fs_cell));
    ASSERT_EQ(kt::update_va_mapping(kt::arg(scratch[1]), 0, remap_flags), 0);
    const long rc = multicall(list, 3);
    EXPECT_TRUE(restore(scratch[1]));
    EXPECT_EQ(rc, -XEN_EFAULT);
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(xen_4_17));
    EXPECT_EQ(list[1].result, 0u);
    EXPECT_EQ(static_cast<std::uint64_t>(kt::get_debugreg(1)), kt::arg(&fs_cell));
    EXPECT_EQ(kt::set_debugreg(1, 0), 0);
}

TEST(an_unwritable_result_ends_the_batch_after_its_call)
{
    auto* list = reinterpret_cast<multicall_entry*>(scratch[0]);
    list[0] = entry(__HYPERVISOR_set_debugreg, 2, kt::arg(&fs_cell));
    list[1] = entry(__HYPERVISOR_set_debugreg, 3, kt::arg(&fs_cell));
    ASSERT_EQ(kt::update_va_mapping(kt::arg(list), pte_for(list, false), remap_flags), 0);
    const long rc = multicall(list, 2);
    EXPECT_TRUE(restore(list));
    EXPECT_EQ(rc, -XEN_EFAULT);
    EXPECT_EQ(list[0].result, untouched);
    EXPECT_EQ(static_cast<std::uint64_t>(kt::get_debugreg(2)), kt::arg(&fs_cell));  // it ran
    EXPECT_EQ(kt::get_debugreg(3), 0);  // the batch stopped before it
    EXPECT_EQ(kt::set_debugreg(2, 0), 0);
}

TEST(iret_ends_the_batch_and_returns_its_rax_as_an_int)
{
    // The multicall is issued with `syscall` right under an iret frame, as the iret entry
    // expects to find it; the iret resumes at 1: with rax, rcx and r11 from the frame (flags
    // 0), events staying masked (IF clear).
    multicall_entry list[] = {entry(__HYPERVISOR_xen_version, XENVER_version), entry(__HYPERVISOR_iret),
                              entry(__HYPERVISOR_set_debugreg, 2, kt::arg(&fs_cell))};
    std::uint64_t got_rax = 0, got_rcx = 0, got_r11 = 0, got_rsp = 0, sp_before = 0;
    asm volatile(
        "movq %%rsp, %[spb]\n"
        "movq %%rsp, %%rdx\n"
        "pushq %[ss]\n pushq %%rdx\n pushq $0x2\n pushq %[cs]\n"
        "leaq 1f(%%rip), %%rdx\n pushq %%rdx\n pushq $0\n"
        "movabs $0x1122334455667788, %%rdx\n pushq %%rdx\n"   // rcx
        "movabs $0x8877665544332211, %%rdx\n pushq %%rdx\n"   // r11
        "movabs $0x123456789abcdef0, %%rdx\n pushq %%rdx\n"   // rax
        "movq %[list], %%rdi\n movl $3, %%esi\n movl %[nr], %%eax\n"
        "syscall\n"
        "ud2\n"
        "1:\n"
        "movq %%rax, %[rax]\n movq %%rcx, %[rcx]\n movq %%r11, %[r11]\n movq %%rsp, %[rsp]\n"
        : [rax] "=m"(got_rax), [rcx] "=m"(got_rcx), [r11] "=m"(got_r11), [rsp] "=m"(got_rsp), [spb] "=m"(sp_before)
        : [ss] "i"(FLAT_KERNEL_SS), [cs] "i"(FLAT_KERNEL_CS & ~3u), [list] "r"(list), [nr] "i"(__HYPERVISOR_multicall)
        : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r10", "r11", "memory");
    // Bit 31 of 0x9abcdef0 is set: the upper half of rax comes back all ones.
    EXPECT_EQ(got_rax, 0xffffffff9abcdef0ull);
    EXPECT_EQ(got_rcx, 0x1122334455667788ull);
    EXPECT_EQ(got_r11, 0x8877665544332211ull);
    EXPECT_EQ(got_rsp, sp_before);
    EXPECT_EQ(list[0].result, static_cast<std::uint64_t>(xen_4_17));
    EXPECT_EQ(list[1].result, 0x123456789abcdef0ull);  // the entry gets the whole word
    EXPECT_EQ(list[2].result, untouched);
    EXPECT_EQ(kt::get_debugreg(2), 0);
    EXPECT_EQ(kt::vcpu0()->evtchn_upcall_mask, 1u);
}

TEST(a_blocking_call_makes_the_rest_a_reissued_multicall)
{
    // SCHEDOP_poll on no ports with a timeout already past blocks the vCPU until its timer
    // fires: the rest of the batch runs when it runs again, as the multicall re-issued with
    // rdi and rsi naming the rest of the list, which is what the guest finds in them.
    sched_poll_t poll{};
    poll.nr_ports = 0;
    poll.timeout = 1;
    multicall_entry list[] = {entry(__HYPERVISOR_sched_op, SCHEDOP_poll, kt::arg(&poll)),
                              entry(__HYPERVISOR_xen_version, XENVER_version)};
    std::uint64_t rdi = kt::arg(list), rsi = 2;
    long rc;
    asm volatile("call hypercall_page + %c[stub]"
                 : "=a"(rc), "+D"(rdi), "+S"(rsi)
                 : [stub] "i"(__HYPERVISOR_multicall * kt::hypercall_stub_size)
                 : "rcx", "rdx", "r8", "r10", "r11", "memory");
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(list[0].result, 0u);
    EXPECT_EQ(list[1].result, static_cast<std::uint64_t>(xen_4_17));
    EXPECT_EQ(rdi, kt::arg(&list[1]));
    EXPECT_EQ(rsi, 1u);
}
