// set_debugreg / get_debugreg: a PV guest's hardware breakpoints. Addresses must lie in guest
// space (a breakpoint on the hypervisor's addresses would let a guest watch it work), reserved
// bits are forced to their architectural values, general-detect is refused, and I/O
// breakpoints need CR4.DE, which a PV guest never has.
#include <xen/errno.h>

#include "hypercall.hpp"
#include "pv_debugreg.hpp"
#include "pv_arch.hpp"
#include "vcpu.hpp"

namespace {

constexpr uint64_t DR6_RESERVED_ZERO = ~uint64_t{0xffffefff};
constexpr uint64_t DR6_RESERVED_ONE = 0xffff0ff0;
constexpr uint64_t DR7_RESERVED_ZERO = ~uint64_t{0xffff27ff};
constexpr uint64_t DR7_RESERVED_ONE = 0x400;
constexpr uint64_t DR7_GENERAL_DETECT = 0x2000;
constexpr uint64_t DR7_ENABLES = 0xff;  // the local and global enable bits of DR0..DR3
constexpr unsigned DR7_IO_BREAKPOINT = 2;  // R/W field value for an I/O breakpoint

// Below the canonical hole or above the hypervisor's area, like any guest pointer.
bool breakpoint_address_ok(uint64_t a) { return a < (uint64_t{1} << 47) || a >= 0xffff880000000000; }

long set_dr6(Vcpu& v, uint64_t value, bool live) {
    if (value != uint32_t(value)) return -XEN_EINVAL;
    value = (value & ~DR6_RESERVED_ZERO) | DR6_RESERVED_ONE;
    v.debugreg[6] = value;
    if (live) pv_arch::write_debugreg(v, 6, value);
    return 0;
}

long set_dr7(Vcpu& v, uint64_t value, bool live) {
    if (value != uint32_t(value)) return -XEN_EINVAL;
    value = (value & ~DR7_RESERVED_ZERO) | DR7_RESERVED_ONE;
    if (value & DR7_GENERAL_DETECT) return -XEN_EPERM;
    if (value & DR7_ENABLES)
        for (unsigned shift = 16; shift < 32; shift += 4)
            if (((value >> shift) & 3) == DR7_IO_BREAKPOINT) return -XEN_EPERM;
    v.debugreg[7] = value;
    if (live) pv_arch::write_debugreg(v, 7, value);
    return 0;
}

}  // namespace

long pv_debugreg::set(Vcpu& v, int reg, uint64_t value, bool live) {
    switch (reg) {
    case 0: case 1: case 2: case 3:
        if (!breakpoint_address_ok(value)) return -XEN_EPERM;
        v.debugreg[reg] = value;
        if (live) pv_arch::write_debugreg(v, unsigned(reg), value);
        return 0;
    case 4: case 6: return set_dr6(v, value, live);   // DR4/5 alias DR6/7 without CR4.DE
    case 5: case 7: return set_dr7(v, value, live);
    default: return -XEN_ENODEV;
    }
}

long do_set_debugreg(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    return pv_debugreg::set(v, int(args.a0), args.a1, true);
}

long do_get_debugreg(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    int reg = int(args.a0);
    switch (reg) {
    case 0: case 1: case 2: case 3: return long(v.debugreg[reg]);
    case 4: case 6: return long(v.debugreg[6]);
    case 5: case 7: return long(v.debugreg[7]);
    default: return -XEN_ENODEV;
    }
}
