/*
 * One row per ABI fact, produced twice from the same list (gen_abi_items.py): once against Kestrel's guest-abi
 * headers, once against Xen's installed public headers. abi_compare_test.cpp compares the two tables row by row.
 */
#ifndef KESTREL_TESTS_ABI_ABI_TABLE_H
#define KESTREL_TESTS_ABI_ABI_TABLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum abi_kind {
    ABI_KIND_SIZE,  /* value = sizeof, align = alignment of the type */
    ABI_KIND_FIELD, /* value = offsetof, size = sizeof member, align = alignment of the member */
    ABI_KIND_FLEX,  /* value = offsetof of a flexible array member, align = alignment of its elements */
    ABI_KIND_INT,   /* value = the constant, size = sizeof its type, align = 1 if its type is signed */
    ABI_KIND_STR,   /* text = the string */
    ABI_KIND_ALIAS, /* text = what the macro expands to */
};

struct abi_entry {
    const char *group; /* structure name, or the header of a constant */
    const char *name;  /* type, member designator or constant name, as written */
    int kind;          /* enum abi_kind */
    unsigned long long value;
    unsigned long long size;
    unsigned long long align;
    const char *text;
};

extern const struct abi_entry kestrel_abi_table[];
extern const size_t kestrel_abi_table_len;
extern const struct abi_entry xen_abi_table[];
extern const size_t xen_abi_table_len;

#ifdef __cplusplus
}
#endif

#endif
