// multicall: batches of real hypercalls, each call's return value in its entry's result and
// the multicall's own 0; errors of single calls (and -ENOSYS for ops without a handler, the
// op being a full 64-bit word) only in their results; the count is 32 bits; a nested
// multicall is -EINVAL; the list's start is checked even for no calls, an entry that cannot
// be read or a result that cannot be written ends the batch with -EFAULT after the calls
// before it; iret ends the batch and its rax comes back as an int; a call that blocks makes
// the rest run as a re-issued multicall (rdi and rsi then name the rest of the list). Every op
// of events, timers, vcpu_op, sched_op and grant tables gives in a batch what it gives called
// directly.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/grant_table.h>
#include <xen/sched.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/clock.hpp"
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

namespace {

long event_op(int cmd, void* a) { return kt::hypercall(__HYPERVISOR_event_channel_op, cmd, kt::arg(a)); }

evtchn_status_t port_status(evtchn_port_t port)
{
    evtchn_status_t st{};
    st.dom = DOMID_SELF;
    st.port = port;
    if (event_op(EVTCHNOP_status, &st) != 0)
        st.status = 0xffffffffu;
    return st;
}

bool same_status(const evtchn_status_t& a, const evtchn_status_t& b)
{
    return a.dom == b.dom && a.port == b.port && a.status == b.status && a.vcpu == b.vcpu
           && a.u.interdomain.dom == b.u.interdomain.dom && a.u.interdomain.port == b.u.interdomain.port;
}

// The arguments of each op of the mixed batch, one set for the direct calls and one for the
// batch, so that what each wrote can be compared.
struct MixedArgs {
    evtchn_alloc_unbound_t alloc;
    evtchn_bind_ipi_t ipi;
    evtchn_send_t send;
    evtchn_status_t status;
    evtchn_close_t close;
    evtchn_unmask_t unmask;
    vcpu_set_periodic_timer_t period;
    vcpu_set_periodic_timer_t short_period;   // below Xen's 1 ms minimum: -EINVAL
    vcpu_set_singleshot_timer_t late_shot;    // in the past, with VCPU_SSHOTTMR_future
    vcpu_set_singleshot_timer_t shot;
    vcpu_runstate_info_t runstate;
    gnttab_query_size_t query;
    xen_pfn_t frame;
    gnttab_setup_table_t setup;
    xen_feature_info_t features;

    // Events on `sent` (an IPI port) and `closing` (an unbound one), both bound beforehand.
    MixedArgs(evtchn_port_t sent, evtchn_port_t closing, std::uint64_t now)
        : alloc{}, ipi{}, send{}, status{}, close{}, unmask{}, period{}, short_period{}, late_shot{}, shot{}, runstate{}, query{}, frame{}, setup{},
          features{}
    {
        alloc.dom = DOMID_SELF;
        alloc.remote_dom = DOMID_SELF;
        ipi.vcpu = 0;
        send.port = sent;
        status.dom = DOMID_SELF;
        status.port = sent;
        close.port = closing;
        unmask.port = sent;
        period.period_ns = 10'000'000;  // Xen's default, which the vCPU keeps after the test
        short_period.period_ns = 500'000;
        late_shot.timeout_abs_ns = 1;
        late_shot.flags = VCPU_SSHOTTMR_future;
        shot.timeout_abs_ns = now + 10'000'000'000ull;  // far enough never to fire here
        query.dom = DOMID_SELF;
        setup.dom = DOMID_SELF;
        setup.nr_frames = 1;
        set_xen_guest_handle(setup.frame_list, &frame);
        features.submap_idx = 0;
    }
};

// The ops of the mixed batch, in order; the test also makes each as a direct call.
constexpr unsigned mixed_count = 22;
void mixed_entries(MixedArgs& a, std::uint64_t timer, multicall_entry* out)
{
    const multicall_entry list[mixed_count] = {
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, kt::arg(&a.alloc)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, kt::arg(&a.ipi)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_send, kt::arg(&a.send)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_status, kt::arg(&a.status)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_close, kt::arg(&a.close)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, kt::arg(&a.unmask)),
        entry(__HYPERVISOR_set_timer_op, timer),
        entry(__HYPERVISOR_set_timer_op, 0),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, kt::arg(&a.late_shot)),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, kt::arg(&a.shot)),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_stop_singleshot_timer, 0),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, kt::arg(&a.short_period)),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, kt::arg(&a.period)),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 0),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_is_up, 31),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 0, kt::arg(&a.runstate)),
        entry(__HYPERVISOR_sched_op, SCHEDOP_yield, 0),
        entry(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, kt::arg(&a.query), 1),
        entry(__HYPERVISOR_grant_table_op, GNTTABOP_setup_table, kt::arg(&a.setup), 1),
        entry(__HYPERVISOR_xen_version, XENVER_version),
        entry(__HYPERVISOR_xen_version, XENVER_get_features, kt::arg(&a.features)),
    };
    for (unsigned i = 0; i < mixed_count; ++i)
        out[i] = list[i];
}

} // namespace

TEST(events_timers_vcpu_sched_and_grant_ops_batch_as_called_directly)
{
    // Ports for the direct calls, and another pair for the batch, each an IPI port to send to
    // and an unbound port to close.
    evtchn_bind_ipi_t ipi{0, 0};
    ASSERT_EQ(event_op(EVTCHNOP_bind_ipi, &ipi), 0);
    evtchn_alloc_unbound_t unbound{DOMID_SELF, DOMID_SELF, 0};
    ASSERT_EQ(event_op(EVTCHNOP_alloc_unbound, &unbound), 0);
    evtchn_bind_ipi_t ipi2{0, 0};
    ASSERT_EQ(event_op(EVTCHNOP_bind_ipi, &ipi2), 0);
    evtchn_alloc_unbound_t unbound2{DOMID_SELF, DOMID_SELF, 0};
    ASSERT_EQ(event_op(EVTCHNOP_alloc_unbound, &unbound2), 0);

    // The direct calls.
    const std::uint64_t now = kt::system_time_ns();
    MixedArgs d(ipi.port, unbound.port, now);
    multicall_entry calls[mixed_count];
    mixed_entries(d, now + 5'000'000'000ull, calls);
    long direct[mixed_count];
    for (unsigned i = 0; i < mixed_count; ++i)
        direct[i] = kt::hypercall(static_cast<unsigned>(calls[i].op), calls[i].args[0], calls[i].args[1],
                                  calls[i].args[2], calls[i].args[3], calls[i].args[4]);
    EXPECT_EQ(port_status(unbound.port).status, static_cast<std::uint32_t>(EVTCHNSTAT_closed));

    // The same ops in one batch, on the second pair of ports.
    MixedArgs b(ipi2.port, unbound2.port, kt::system_time_ns());
    multicall_entry list[mixed_count];
    mixed_entries(b, kt::system_time_ns() + 5'000'000'000ull, list);
    ASSERT_EQ(multicall(list, mixed_count), 0);

    for (unsigned i = 0; i < mixed_count; ++i) {
        if (!EXPECT_EQ(static_cast<long>(list[i].result), direct[i]))
            kt::print("entry {} (op {}, cmd {}): batch {x}, direct {x}\n", i, list[i].op, list[i].args[0],
                      list[i].result, static_cast<std::uint64_t>(direct[i]));
    }
    // What the direct calls answered, as Xen does.
    EXPECT_EQ(direct[0], 0);
    EXPECT_EQ(direct[8], 0);  // Xen 4.17 ignores VCPU_SSHOTTMR_future: a past timeout fires at once
    EXPECT_EQ(direct[12], -XEN_EINVAL);
    EXPECT_EQ(direct[14], 1);
    EXPECT_EQ(direct[15], -XEN_ENOENT);
    EXPECT_EQ(direct[20], static_cast<long>(xen_4_17));

    // What the batch's calls wrote matches what the direct ones wrote.
    EXPECT_NE(b.alloc.port, d.alloc.port);
    EXPECT_EQ(port_status(b.alloc.port).status, static_cast<std::uint32_t>(EVTCHNSTAT_unbound));
    EXPECT_EQ(port_status(b.ipi.port).status, static_cast<std::uint32_t>(EVTCHNSTAT_ipi));
    EXPECT_EQ(port_status(d.ipi.port).status, static_cast<std::uint32_t>(EVTCHNSTAT_ipi));
    d.status.port = b.status.port;  // compare everything else
    EXPECT_TRUE(same_status(b.status, d.status));
    EXPECT_EQ(b.status.status, static_cast<std::uint32_t>(EVTCHNSTAT_ipi));
    EXPECT_EQ(port_status(unbound2.port).status, static_cast<std::uint32_t>(EVTCHNSTAT_closed));
    EXPECT_EQ(b.runstate.state, d.runstate.state);
    EXPECT_EQ(b.runstate.state, static_cast<int>(RUNSTATE_running));
    EXPECT_GE(b.runstate.time[RUNSTATE_running], d.runstate.time[RUNSTATE_running]);
    EXPECT_EQ(b.query.nr_frames, d.query.nr_frames);
    EXPECT_EQ(b.query.max_nr_frames, d.query.max_nr_frames);
    EXPECT_EQ(b.query.status, d.query.status);
    EXPECT_EQ(b.setup.status, d.setup.status);
    EXPECT_EQ(b.setup.status, static_cast<std::int16_t>(GNTST_okay));
    EXPECT_EQ(b.frame, d.frame);  // the table's first frame stays where it is
    EXPECT_EQ(b.features.submap, d.features.submap);

    // Errors come back the same way too: unknown ports, a bad buffer, a bad vCPU.
    evtchn_send_t nowhere{4000};
    evtchn_close_t closed{unbound2.port};  // the batch closed it
    multicall_entry errors[] = {
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_send, kt::arg(&nowhere)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_close, kt::arg(&closed)),
        entry(__HYPERVISOR_event_channel_op, EVTCHNOP_status, kt::bad_pointers[0].address),
        entry(__HYPERVISOR_event_channel_op, 1000, kt::arg(&nowhere)),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_get_runstate_info, 31, kt::arg(&b.runstate)),
        entry(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, kt::bad_pointers[0].address),
        entry(__HYPERVISOR_sched_op, 1000, 0),
        entry(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, kt::bad_pointers[0].address, 1),
        entry(__HYPERVISOR_grant_table_op, 1000, kt::arg(&b.query), 1),
    };
    constexpr unsigned nerr = sizeof errors / sizeof errors[0];
    long direct_err[nerr];
    for (unsigned i = 0; i < nerr; ++i)
        direct_err[i] = kt::hypercall(static_cast<unsigned>(errors[i].op), errors[i].args[0], errors[i].args[1],
                                      errors[i].args[2], errors[i].args[3]);
    ASSERT_EQ(multicall(errors, nerr), 0);
    for (unsigned i = 0; i < nerr; ++i) {
        EXPECT_LT(direct_err[i], 0);
        if (!EXPECT_EQ(static_cast<long>(errors[i].result), direct_err[i]))
            kt::print("error entry {}: batch {}, direct {}\n", i, static_cast<long>(errors[i].result), direct_err[i]);
    }

    const evtchn_port_t bound[] = {ipi.port, ipi2.port, d.alloc.port, d.ipi.port, b.alloc.port, b.ipi.port};
    for (evtchn_port_t p : bound) {
        evtchn_close_t c{p};
        EXPECT_EQ(event_op(EVTCHNOP_close, &c), 0);
    }
}
