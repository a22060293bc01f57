/*
 * Proves the guest-abi headers are valid ISO C11 (built with -std=c11 -pedantic -Werror) and that their macros
 * work from C. Linked into the ABI test binary so the function below is also run.
 */
#include "abi_includes.h"

#include "abi_checks.h"

int abi_c11_check(void) {
    struct trap_info ti = {0};
    TI_SET_DPL(&ti, 3);
    TI_SET_IF(&ti, 1);
    mmuext_op_t op = {0};
    static const char mask = 1;
    set_xen_guest_handle(op.arg2.vcpumask, &mask);
    int ok = TI_GET_DPL(&ti) == 3 && TI_GET_IF(&ti) != 0 && get_xen_guest_handle(op.arg2.vcpumask) == &mask;
    ok = ok && xen_cr3_to_pfn(xen_pfn_to_cr3(0x1234)) == 0x1234;
    return ok;
}
