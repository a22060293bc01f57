/* Xen's historical name for the x86_64 architecture header; everything lives in arch-x86/. */
#ifndef KESTREL_GUEST_ABI_XEN_ARCH_X86_64_H
#define KESTREL_GUEST_ABI_XEN_ARCH_X86_64_H

#include "arch-x86/xen.h"

#endif
