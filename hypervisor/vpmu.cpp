// The virtual PMU (xenpmu_op). Kestrel offers none, which is what Xen 4.17 does without "vpmu"
// on its command line: every op, whatever its argument, answers -EOPNOTSUPP (not -ENOSYS:
// the hypercall exists), and the performance-counter MSRs read 0 and drop writes (pv_msr).
#include <xen/errno.h>

#include "hypercall.hpp"

long do_xenpmu_op(Vcpu&, arch::ExceptionFrame&, const HypercallArgs&) { return -XEN_EOPNOTSUPP; }
