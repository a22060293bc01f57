// The hypervisor's own symbol table, embedded at link time (two-pass link, see
// tools/gensyms.py), so that panic backtraces name functions instead of printing addresses.
#pragma once

#include "kstd/types.hpp"

namespace symbols {

struct Entry {
    uint64_t address;  // 0x00 start of the function
    uint32_t size;     // 0x08 bytes, 0 if the symbol table gave none
    uint32_t name;     // 0x0c offset of the NUL-terminated name in the string block
};
static_assert(sizeof(Entry) == 16);

struct Table {
    const Entry* entries;  // sorted by address
    size_t count;
    const char* strings;
};

struct Lookup {
    const char* name;  // null when no symbol covers the address
    uint64_t offset;
};

Lookup lookup(const Table& t, uint64_t address);

// The table linked into this image (empty in the first link pass and in host builds).
Table image_table();

}  // namespace symbols
