// Host stand-in for a guest address space: tests map host buffers at guest addresses, and
// guest::raw_copy copies through them, failing (as a page fault would) for anything unmapped
// or for a write to a read-only region.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace fake_guest {
void clear();
// Maps `size` bytes of buf at guest address va.
void map(uint64_t va, void* buf, size_t size, bool writable = true);
}  // namespace fake_guest
