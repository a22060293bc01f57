# Sources of the portable core, shared by the image and the host tests.
set(KESTREL_CORE_SOURCES
    hypervisor/kstd/format.cpp
    hypervisor/kstd/string.cpp
    hypervisor/symbols.cpp
)
list(TRANSFORM KESTREL_CORE_SOURCES PREPEND ${CMAKE_SOURCE_DIR}/)
