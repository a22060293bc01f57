#include "machine_memory.hpp"

#include "kstd/string.hpp"
#include "panic.hpp"

kstd::Expected<Mfn, FrameAllocator::Error> MachineMemory::alloc_zeroed(unsigned order) {
    auto m = frames_.alloc(order);
    if (m) memset(map(*m), 0, PAGE_SIZE << order);
    return m;
}

void MachineMemory::free(Mfn first, unsigned order) {
    if (!frames_.free(first, order)) panic("freeing frame {:#x} (order {}) that is not an allocated block", first, order);
}

void MachineMemory::free_guest_frames(Mfn first, unsigned order) {
    if (!frames_.free(first, order, tlb_clock::tick()))
        panic("freeing guest frame {:#x} (order {}) that is not an allocated block", first, order);
}
