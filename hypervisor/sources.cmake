# Sources of the portable core, shared by the image and the host tests.
set(KESTREL_CORE_SOURCES
    hypervisor/kstd/format.cpp
    hypervisor/kstd/string.cpp
    hypervisor/acpi.cpp
    hypervisor/cmdline.cpp
    hypervisor/elf.cpp
    hypervisor/frame_allocator.cpp
    hypervisor/hypercall_page.cpp
    hypervisor/memory_map.cpp
    hypervisor/multiboot2.cpp
    hypervisor/object_cache.cpp
    hypervisor/pv_layout.cpp
    hypervisor/symbols.cpp
    hypervisor/timer_queue.cpp
    hypervisor/xen_elfnotes.cpp
)
list(TRANSFORM KESTREL_CORE_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/)
