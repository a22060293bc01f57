// domctl: the control domain builds, runs and destroys a second domain with the miniature
// toolstack (runtime/toolstack.hpp), as a real toolstack would, and the domctl commands it
// uses refuse what Xen 4.17 refuses. The second domain is this same kernel (dom0's initrd
// module), started with "kt.peer": it binds to the port dom0 offers it, sends one event and
// powers off.
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/sched.h>
#include <xen/xen.h>

#include "runtime/bad_pointers.hpp"
#include "runtime/clock.hpp"
#include "runtime/cmdline.hpp"
#include "runtime/console.hpp"
#include "runtime/events.hpp"
#include "runtime/hypercall.hpp"
#include "runtime/lib.hpp"
#include "runtime/runtime.hpp"
#include "runtime/test.hpp"
#include "runtime/toolstack.hpp"

namespace {

constexpr std::uint64_t PEER_PAGES = 1024;  // 4 MiB
constexpr std::uint64_t SECOND = 1'000'000'000;

xen_domctl_getdomaininfo info_of(domid_t dom)
{
    xen_domctl_getdomaininfo info{};
    EXPECT_EQ(kt::domain_info(dom, info), 0);
    return info;
}

} // namespace

// The peer's side: bind to the port dom0 offers it, say hello, power off.
extern "C" void kt_peer_main(const char*)
{
    const evtchn_port_t port = kt::bind_offered_port(0);
    if (port != 0) kt::send(port);
}

TEST(the_peer_image_is_our_initrd)
{
    ASSERT_NE(kt::start_info()->mod_start, 0u);
    EXPECT_EQ(memcmp(reinterpret_cast<const void*>(kt::start_info()->mod_start), "\x7f" "ELF", 4), 0);
}

TEST(a_built_domain_runs_says_hello_and_is_destroyed)
{
    xen_domctl_getdomaininfo self = info_of(0);
    kt::BuiltDomain peer;
    ASSERT_EQ(kt::build_domain(kt::spec_from_initrd(PEER_PAGES, "peer kt.peer"), peer), 0);
    const evtchn_port_t port = kt::offer_port(peer.id);
    ASSERT_NE(port, 0u);

    xen_domctl_getdomaininfo info = info_of(peer.id);
    EXPECT_EQ(info.domain, peer.id);
    EXPECT_EQ(info.tot_pages, PEER_PAGES);
    EXPECT_EQ(info.max_pages, PEER_PAGES);
    EXPECT_EQ(info.nr_online_vcpus, 1u);
    EXPECT_EQ(info.max_vcpu_id, 0u);
    EXPECT_TRUE(info.flags & XEN_DOMINF_paused);
    EXPECT_FALSE(info.flags & XEN_DOMINF_shutdown);

    ASSERT_EQ(kt::unpause_domain(peer.id), 0);
    EXPECT_EQ(kt::poll(port, kt::system_time_ns() + 5 * SECOND), 0);
    EXPECT_TRUE(kt::pending(port));
    kt::clear_pending(port);

    // It powers off after its hello; the toolstack sees it shut down, not gone.
    const std::uint64_t deadline = kt::system_time_ns() + 5 * SECOND;
    while (!(info_of(peer.id).flags & XEN_DOMINF_shutdown) && kt::system_time_ns() < deadline)
        kt::sched_op(SCHEDOP_yield, nullptr);
    info = info_of(peer.id);
    EXPECT_TRUE(info.flags & XEN_DOMINF_shutdown);
    EXPECT_EQ((info.flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask, unsigned(SHUTDOWN_poweroff));

    EXPECT_EQ(kt::destroy_domain(peer.id), 0);
    xen_domctl op = kt::domctl_for(XEN_DOMCTL_getdomaininfo, peer.id);
    const long rc = kt::domctl(op);
    EXPECT_TRUE(rc == -XEN_ESRCH || (rc == 0 && op.u.getdomaininfo.domain != peer.id));
    EXPECT_EQ(info_of(0).tot_pages, self.tot_pages);
}

TEST(domctl_refuses_what_xen_refuses)
{
    xen_domctl op = kt::domctl_for(XEN_DOMCTL_getdomaininfo, 0);
    op.interface_version = XEN_DOMCTL_INTERFACE_VERSION - 1;
    EXPECT_EQ(kt::domctl(op), -XEN_EACCES);
    for (const kt::BadPointer& b : kt::bad_pointers) EXPECT_EQ(kt::hypercall(__HYPERVISOR_domctl, b.address), -XEN_EFAULT);

    op = kt::domctl_for(XEN_DOMCTL_unpausedomain, 999);
    EXPECT_EQ(kt::domctl(op), -XEN_ESRCH);
    op = kt::domctl_for(XEN_DOMCTL_pausedomain, 0);
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);
    op = kt::domctl_for(XEN_DOMCTL_destroydomain, 0);
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);

    op = kt::domctl_for(XEN_DOMCTL_createdomain, 0);
    op.u.createdomain.max_vcpus = 0;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);
    op.u.createdomain.max_vcpus = 1;
    op.u.createdomain.arch.emulation_flags = XEN_X86_EMU_LAPIC;  // an emulated device for PV
    EXPECT_EQ(kt::domctl(op), -XEN_EOPNOTSUPP);
    op.u.createdomain.arch.emulation_flags = 0;
    op.u.createdomain.flags = XEN_DOMCTL_CDF_MAX << 1;
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);
}

TEST(an_empty_domain_refuses_a_context_without_tables)
{
    xen_domctl op = kt::domctl_for(XEN_DOMCTL_createdomain, 0);
    op.u.createdomain.max_vcpus = 1;
    op.u.createdomain.max_evtchn_port = 1023;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    ASSERT_EQ(kt::domctl(op), 0);
    const domid_t dom = op.domain;
    EXPECT_NE(dom, 0u);
    xen_domctl_getdomaininfo info = info_of(dom);
    EXPECT_EQ(info.tot_pages, 0u);
    EXPECT_EQ(info.nr_online_vcpus, 0u);
    EXPECT_EQ(info.max_vcpu_id, XEN_INVALID_MAX_VCPU_ID);  // no vCPU exists before max_vcpus
    EXPECT_TRUE(info.flags & XEN_DOMINF_paused);
    EXPECT_EQ(kt::pin_vcpu(dom, 0, 0), -XEN_ESRCH);

    op = kt::domctl_for(XEN_DOMCTL_max_vcpus, dom);
    op.u.max_vcpus.max = 2;  // not what createdomain said
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);
    op.u.max_vcpus.max = 1;
    EXPECT_EQ(kt::domctl(op), 0);
    EXPECT_EQ(kt::domctl(op), 0);  // again: nothing to add
    EXPECT_EQ(info_of(dom).max_vcpu_id, 0u);
    EXPECT_EQ(info_of(dom).nr_online_vcpus, 0u);
    op = kt::domctl_for(XEN_DOMCTL_max_vcpus, 0);
    op.u.max_vcpus.max = 1;
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);  // not for oneself

    // A second createdomain asking for the same id.
    op = kt::domctl_for(XEN_DOMCTL_createdomain, dom);
    op.u.createdomain.max_vcpus = 1;
    op.u.createdomain.max_grant_frames = -1;
    op.u.createdomain.max_maptrack_frames = -1;
    op.u.createdomain.grant_opts = XEN_DOMCTL_GRANT_version(1);
    EXPECT_EQ(kt::domctl(op), -XEN_EEXIST);

    static vcpu_guest_context_t ctxt;
    memset(&ctxt, 0, sizeof ctxt);
    ctxt.flags = VGCF_in_kernel | VGCF_online;
    ctxt.user_regs.cs = FLAT_KERNEL_CS;
    ctxt.user_regs.ss = FLAT_KERNEL_SS;
    ctxt.ctrlreg[3] = kt::virt_to_mfn(kt::start_info()) << 12;  // not a frame of that domain
    op = kt::domctl_for(XEN_DOMCTL_setvcpucontext, dom);
    op.u.vcpucontext.vcpu = 0;
    op.u.vcpucontext.ctxt.p = &ctxt;
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);
    op.u.vcpucontext.vcpu = 1;
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);
    op.u.vcpucontext.vcpu = 0;
    for (const kt::BadPointer& b : kt::bad_pointers) {
        op.u.vcpucontext.ctxt.p = kt::bad<vcpu_guest_context_t>(b);
        EXPECT_EQ(kt::domctl(op), -XEN_EFAULT);
    }

    op = kt::domctl_for(XEN_DOMCTL_hypercall_init, dom);
    op.u.hypercall_init.gmfn = kt::virt_to_mfn(kt::start_info());
    EXPECT_EQ(kt::domctl(op), -XEN_EINVAL);

    EXPECT_EQ(kt::pin_vcpu(dom, 0, 0), 0);
    EXPECT_EQ(kt::pin_vcpu(dom, 0, 63), -XEN_EINVAL);
    EXPECT_EQ(kt::pin_vcpu(dom, 1, 0), -XEN_EINVAL);

    EXPECT_EQ(kt::destroy_domain(dom), 0);
    EXPECT_EQ(kt::destroy_domain(dom), -XEN_ESRCH);
}
