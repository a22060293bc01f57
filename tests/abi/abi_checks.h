/* The compile checks' entry points, called by the ABI test binary. */
#ifndef KESTREL_TESTS_ABI_ABI_CHECKS_H
#define KESTREL_TESTS_ABI_ABI_CHECKS_H

#ifdef __cplusplus
extern "C" {
#endif
int abi_c11_check(void);
int abi_cxx20_check(void);
int abi_asm_flat_kernel_cs(void);
#ifdef __cplusplus
}
#endif

#endif
