/*
 * Kestrel's guest ABI headers: the few helpers every header below needs.
 *
 * The headers in guest-abi/xen/ describe the Xen x86_64 PV guest ABI as Kestrel implements it. They are plain data
 * (structures, constants, a handful of accessor macros), valid C11 and C++20, depend only on <stdint.h> and
 * <stddef.h>, and use Xen's own identifiers so that code written against Xen's public headers reads the same here.
 * Every structure is followed by compile-time checks of its size and of each field's offset; tests/abi/ compares
 * the same facts, and every constant, against Xen's installed headers.
 *
 * Only the 64-bit x86 ABI is described: 32-bit PV guests are out of scope, so "unsigned long" fields of Xen's
 * headers are written as 64-bit fixed-width types.
 */
#ifndef KESTREL_GUEST_ABI_XEN_KESTREL_ABI_H
#define KESTREL_GUEST_ABI_XEN_KESTREL_ABI_H

#ifndef __ASSEMBLY__
#include <stddef.h>
#include <stdint.h>

/* One spelling of a compile-time assertion for both languages. */
#ifdef __cplusplus
#define KESTREL_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define KESTREL_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* Layout checks placed right after each ABI structure. tests/abi/ reads these lines to know which layouts to
 * compare with Xen's headers, so each field gets its own line. */
#define KESTREL_ABI_SIZE(type, size) KESTREL_STATIC_ASSERT(sizeof(type) == (size), "ABI size of " #type)
#define KESTREL_ABI_FIELD(type, member, offset) \
    KESTREL_STATIC_ASSERT(offsetof(type, member) == (offset), "ABI offset of " #type "." #member)
/* The same for a trailing flexible array member, which has no size of its own. */
#define KESTREL_ABI_FLEX(type, member, offset) \
    KESTREL_STATIC_ASSERT(offsetof(type, member) == (offset), "ABI offset of " #type "." #member)

/* The layouts below assume x86_64: 8-byte pointers, naturally aligned 64-bit integers. */
KESTREL_STATIC_ASSERT(sizeof(void *) == 8, "the Xen x86_64 guest ABI needs 64-bit pointers");

/* Integer constants with a C suffix, so that shifts and comparisons happen in the intended width. The extra
 * level lets the argument be a macro that expands to a number first. */
#define __xen_mk_uint(x) x##U
#define __xen_mk_ulong(x) x##UL
#define __xen_mk_ullong(x) x##ULL
#define xen_mk_uint(x) __xen_mk_uint(x)
#define xen_mk_ulong(x) __xen_mk_ulong(x)
#define xen_mk_ullong(x) __xen_mk_ullong(x)
#else
/* The assembler has no integer suffixes. */
#define xen_mk_uint(x) x
#define xen_mk_ulong(x) x
#define xen_mk_ullong(x) x
#endif

#endif
