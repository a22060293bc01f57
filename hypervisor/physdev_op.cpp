// physdev_op: a domain's view of physical devices. So far the virtual I/O privilege level
// (PHYSDEVOP_set_iopl), which decides whether the guest kernel's (IOPL >= 1) or user space's
// (IOPL 3) port I/O and cli/sti are emulated; interrupt routing for the control domain
// comes with dom0 support.
#include <xen/errno.h>
#include <xen/physdev.h>
#include <xen/xen.h>

#include "guest_access.hpp"
#include "hypercall.hpp"
#include "vcpu.hpp"

long do_physdev_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    switch (int(args.a0)) {
    case PHYSDEVOP_set_iopl: {
        physdev_set_iopl s;
        if (!guest::read(Gva(args.a1), s)) return -XEN_EFAULT;
        if (s.iopl > 3) return -XEN_EINVAL;
        v.iopl = s.iopl;
        return 0;
    }
    default: return -XEN_ENOSYS;
    }
}
