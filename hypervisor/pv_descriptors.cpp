// set_gdt and update_descriptor: a PV guest's own descriptor tables. Every descriptor is
// checked as Xen checks it: not-present ones and type 0 are harmless; code and data segments
// are accepted with their DPL raised to 3 (the guest kernel runs in ring 3); of the system
// descriptors only call gates pass, with DPL 0 (so using one faults and can be emulated) and
// the original DPL kept in the target selector's RPL. A frame holding a GDT has the
// segment-descriptor type, so it cannot be mapped writable while in use.
#include <xen/errno.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "pv_arch.hpp"
#include "pv_descriptors.hpp"
#include "pv_mm.hpp"
#include "vcpu.hpp"

namespace {

constexpr uint64_t DESC_S = uint64_t{1} << 44;      // code or data (not a system descriptor)
constexpr uint64_t DESC_P = uint64_t{1} << 47;
constexpr unsigned DPL_SHIFT = 45;
constexpr uint64_t DESC_DPL = uint64_t{3} << DPL_SHIFT;
constexpr uint64_t DESC_TYPE = uint64_t{0xf} << 40;
constexpr uint64_t TYPE_CALL_GATE = uint64_t{0xc} << 40;
constexpr unsigned GUEST_GDT_ENTRIES = 14 * 512;  // FIRST_RESERVED_GDT_ENTRY

// A call gate may only lead to the guest's own code segments or the flat kernel code segment.
bool gate_target_ok(uint16_t sel) {
    return (sel >> 3) < GUEST_GDT_ENTRIES || (sel & ~3) == (FLAT_KERNEL_CS & ~3) || (sel & 4);
}

// Checks one descriptor and applies Xen's fix-ups in place; false if it must be refused.
bool check_descriptor(uint64_t& d) {
    if (!(d & DESC_P)) return true;
    uint64_t dpl = (d & DESC_DPL) >> DPL_SHIFT;
    if (dpl < 3) dpl = 3;
    d = (d & ~DESC_DPL) | (dpl << DPL_SHIFT);
    if (d & DESC_S) return true;
    if ((d & DESC_TYPE) == 0) return true;
    if ((d & DESC_TYPE) != TYPE_CALL_GATE) return false;
    uint16_t target = uint16_t(d >> 16);
    if (!gate_target_ok(target)) return false;
    d &= ~DESC_DPL;
    target = uint16_t((target & ~3) | dpl);
    d = (d & ~(uint64_t{0xffff} << 16)) | (uint64_t(target) << 16);
    // The gate's reserved bits (parameter count and the bits above it) must be clear.
    return (d & (uint64_t{0xff} << 32)) == 0;
}

}  // namespace

namespace pv_descriptors {

bool validate_page(Domain& d, Mfn m) {
    auto* descs = static_cast<uint64_t*>(d.machine().map(m));
    uint64_t checked[512];
    for (unsigned i = 0; i < 512; ++i) {
        checked[i] = descs[i];
        if (!check_descriptor(checked[i])) return false;
    }
    for (unsigned i = 0; i < 512; ++i) descs[i] = checked[i];
    return true;
}

}  // namespace pv_descriptors

long do_set_gdt(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint32_t entries = uint32_t(args.a1);
    if (entries > GUEST_GDT_ENTRIES) return -XEN_EINVAL;
    unsigned nr = (entries + 511) / 512;
    uint64_t frames[Vcpu::GDT_FRAMES];
    if (!guest::copy_from(frames, Gva(args.a0), nr * sizeof(uint64_t))) return -XEN_EFAULT;
    long rc = pv_descriptors::set_gdt(v, frames, entries);
    if (!rc) pv_arch::load_gdt(v);
    return rc;
}

long pv_descriptors::set_gdt(Vcpu& v, const uint64_t* frames, uint32_t entries) {
    if (entries > GUEST_GDT_ENTRIES) return -XEN_EINVAL;
    unsigned nr = (entries + 511) / 512;
    Domain& d = v.domain();
    FrameTable* ft = d.machine().table();
    if (!ft) return -XEN_EINVAL;
    for (unsigned i = 0; i < nr; ++i) {
        if (!ft->valid(Mfn(frames[i])) || pv_mm::get_page_and_type(d, Mfn(frames[i]), PageType::seg_desc)) {
            while (i-- > 0) pv_mm::put_page_and_type(d, Mfn(frames[i]));
            return -XEN_EINVAL;
        }
    }
    for (unsigned i = 0; i < v.gdt_pages(); ++i) pv_mm::put_page_and_type(d, Mfn(v.gdt_frames[i]));
    for (unsigned i = 0; i < Vcpu::GDT_FRAMES; ++i) v.gdt_frames[i] = i < nr ? frames[i] : 0;
    v.gdt_ents = entries;
    return 0;
}

long do_update_descriptor(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    uint64_t maddr = args.a0, desc = args.a1;
    if ((maddr & 7) || !check_descriptor(desc)) return -XEN_EINVAL;
    Domain& d = v.domain();
    FrameTable* ft = d.machine().table();
    Mfn m(maddr >> PAGE_SHIFT);
    if (!ft || !ft->owned_by(m, d.id())) return -XEN_EINVAL;
    // A page in use as a GDT keeps its type; any other must be one the guest could write.
    PageType type = ft->info(m).type == PageType::seg_desc ? PageType::seg_desc : PageType::writable;
    if (!ft->get_type(m, type)) return -XEN_EINVAL;
    auto* slot = reinterpret_cast<uint64_t*>(static_cast<uint8_t*>(d.machine().map(m)) + (maddr & (PAGE_SIZE - 1)));
    __atomic_store_n(slot, desc, __ATOMIC_RELAXED);
    ft->put_type(m);
    return 0;
}
