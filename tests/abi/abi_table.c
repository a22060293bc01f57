/*
 * Compiled twice: with ABI_SIDE_KESTREL against guest-abi/ (the table kestrel_abi_table), and with ABI_SIDE_XEN
 * against Xen's public headers from libxen-dev (xen_abi_table). The #include <xen/...> lines are identical; only
 * the include path decides whose headers they reach, and the guards below make sure each side got the right ones.
 */
#include "abi_table.h"

#include <stdint.h>

#include "abi_includes.h"

#if defined(ABI_SIDE_KESTREL)
#ifndef KESTREL_GUEST_ABI_XEN_KESTREL_ABI_H
#error "the Kestrel side did not get guest-abi/ headers"
#endif
#ifdef __XEN_PUBLIC_XEN_H__
#error "the Kestrel side picked up a Xen header"
#endif
#define ABI_TABLE kestrel_abi_table
#define ABI_TABLE_LEN kestrel_abi_table_len
#elif defined(ABI_SIDE_XEN)
#ifndef __XEN_PUBLIC_XEN_H__
#error "the Xen side did not get Xen's public headers"
#endif
#ifdef KESTREL_GUEST_ABI_XEN_KESTREL_ABI_H
#error "the Xen side picked up a Kestrel header"
#endif
#define ABI_TABLE xen_abi_table
#define ABI_TABLE_LEN xen_abi_table_len
#else
#error "define ABI_SIDE_KESTREL or ABI_SIDE_XEN"
#endif

#define ABI_STRINGIFY(x) #x
#define ABI_EXPANDED(x) ABI_STRINGIFY(x)
#define ABI_MEMBER(type, member) (((type *)0)->member)

#define ABI_SIZE(group, type) {group, #type, ABI_KIND_SIZE, sizeof(type), sizeof(type), _Alignof(type), 0},
#define ABI_FIELD(group, type, member)                                                                           \
    {group,                                                                                                      \
     #member,                                                                                                    \
     ABI_KIND_FIELD,                                                                                             \
     offsetof(type, member),                                                                                     \
     sizeof(ABI_MEMBER(type, member)),                                                                           \
     __alignof__(ABI_MEMBER(type, member)),                                                                      \
     0},
#define ABI_FLEX(group, type, member) \
    {group, #member, ABI_KIND_FLEX, offsetof(type, member), 0, __alignof__(ABI_MEMBER(type, member)[0]), 0},
/* "name * 0 - 1 < 0" is true exactly when the constant's type is signed. */
#define ABI_INT(group, name) {group, #name, ABI_KIND_INT, (unsigned long long)(name), sizeof(name), (name) * 0 - 1 < 0, 0},
#define ABI_STR(group, name) {group, #name, ABI_KIND_STR, 0, 0, 0, name},
#define ABI_ALIAS(group, name) {group, #name, ABI_KIND_ALIAS, 0, 0, 0, ABI_EXPANDED(name)},

const struct abi_entry ABI_TABLE[] = {
#include "abi_items.h"
};
const size_t ABI_TABLE_LEN = sizeof(ABI_TABLE) / sizeof(ABI_TABLE[0]);
