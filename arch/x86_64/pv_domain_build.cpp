#include "pv_domain_build.hpp"

#include <xen/xen.h>

#include <arch/layout.hpp>

#include "domain.hpp"
#include "log.hpp"
#include "paging.hpp"
#include "pv_builder.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"
#include "xen_version.hpp"

namespace pv_domain_build {

namespace {

// The builder's view of a domain's memory; every guest L4 gets the hypervisor's own slots,
// the same entries as the hypervisor's root (they point at shared lower-level tables).
class DomainMemoryView final : public pv::GuestMemory {
public:
    explicit DomainMemoryView(Domain& d) : d_(d) {}
    uint64_t nr_pages() const override { return d_.nr_pages(); }
    Mfn mfn_of(Pfn p) const override { return d_.mfn_of(p); }
    uint8_t* map(Pfn p) override { return static_cast<uint8_t*>(d_.map_pfn(p)); }
    void install_hypervisor_slots(uint64_t* l4, Mfn) override {
        const auto* root = static_cast<const uint64_t*>(paging::phys_to_virt(paging::root()));
        for (uint64_t s = layout::HYPERVISOR_SLOT_FIRST; s <= layout::HYPERVISOR_SLOT_LAST; ++s) l4[s] = root[s];
    }

private:
    Domain& d_;
};

void set_up_first_vcpu(Vcpu& v, const pv::BuildResult& r) {
    v.cr3_kernel = r.l4_mfn;
    v.kernel_mode = true;
    v.regs = arch::ExceptionFrame{};
    v.regs.rip = r.regs.rip;
    v.regs.rsp = r.regs.rsp;
    v.regs.rsi = r.regs.rsi;
    v.regs.rflags = r.regs.rflags;
    v.regs.cs = r.regs.cs;
    v.regs.ss = r.regs.ss;
    v.ds = r.regs.ds;
    v.es = r.regs.es;
    v.fs = r.regs.fs;
    v.gs = r.regs.gs;
    v.kernel_ss = FLAT_KERNEL_SS;
}

}  // namespace

std::span<const uint8_t> bytes_of(const mb2::Module& m) {
    return {static_cast<const uint8_t*>(paging::phys_to_virt(m.start)), size_t(m.end - m.start)};
}

bool build(Domain& d, std::span<const uint8_t> kernel_elf, const mb2::Module* initrd, kstd::StringView cmdline) {
    std::span<const uint8_t> initrd_bytes = initrd ? bytes_of(*initrd) : std::span<const uint8_t>{};
    pv::DomainParams params{};
    params.domid = d.id();
    params.nr_pages = d.nr_pages();
    params.initial_domain = d.privileged();
    params.hypervisor_features = xen_version::features(d);
    params.shared_info_mfn = d.shared_info_mfn();
    auto prepared = pv::prepare(kernel_elf, initrd_bytes.size(), params);
    if (!prepared) {
        log::error("domain {}: unusable kernel: {} (at {:#x})", d.id(), prepared.error().what, prepared.error().where);
        return false;
    }

    // The builder reports every page-table frame it made; kept only for the duration.
    uint64_t count = pv::table_frames_needed(*prepared);
    unsigned order = MachineMemory::order_for(count * sizeof(pv::TableFrame));
    auto scratch = d.machine().alloc_zeroed(order);
    if (!scratch) {
        log::error("domain {}: out of memory building it", d.id());
        return false;
    }
    std::span<pv::TableFrame> tables(static_cast<pv::TableFrame*>(d.machine().map(*scratch)), count);
    DomainMemoryView view(d);
    auto built = pv::build(*prepared, pv::BuildInput{initrd_bytes, cmdline, {}}, view, tables);
    // The builder's tables become the domain's validated, pinned page tables.
    bool adopted = built && pv_mm::adopt_initial_tables(d, built->l4_mfn);
    d.machine().free(*scratch, order);
    if (!built) {
        log::error("domain {}: cannot build: {} (at {:#x})", d.id(), built.error().what, built.error().where);
        return false;
    }
    if (!adopted) {
        log::error("domain {}: its initial page tables do not validate", d.id());
        return false;
    }
    set_up_first_vcpu(*d.vcpu(VcpuId(0)), *built);
    d.vm_assist |= built->vm_assist;
    const pv::Layout& l = prepared->layout;
    log::info("domain {}: {} MiB, {} vCPUs, kernel [{:#x}, {:#x}) entry {:#x}, bootstrap [{:#x}, {:#x}), "
              "start_info {:#x}", d.id(), d.nr_pages() * PAGE_SIZE >> 20, d.nr_vcpus(), l.kernel.start.raw(),
              l.kernel.end.raw(), built->regs.rip, l.v_start.raw(), l.v_end.raw(), built->start_info.raw());
    return true;
}

}  // namespace pv_domain_build
