// Which multiboot2 modules make which boot-time domains.
//
// As on Xen, the first module is the control domain's (dom0's) kernel, with its module string
// as dom0's command line, and the second, if present and not claimed below, dom0's initrd.
// Further domains, so that tests run several guests without a toolstack, are marked in their
// module strings:
//
//     module2 /boot/guest kestrel:domU,mem=64M,vcpus=1 console=hvc0
//     module2 /boot/guest.initrd kestrel:initrd
//
// A module whose string starts with the word `kestrel:domU[,mem=SIZE][,vcpus=N]` is the kernel
// of a new domain (ids 1, 2, ... in module order), and the rest of the string is its command
// line; a module starting with `kestrel:initrd` right after it is its initrd. Defaults: 32 MiB,
// one vCPU. A leading path word (as some loaders pass) is skipped.
#pragma once

#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "multiboot2.hpp"

struct BootDomainSpec {
    size_t kernel_module;
    bool has_initrd;
    size_t initrd_module;
    kstd::StringView cmdline;
    uint64_t mem_bytes;  // 0 for dom0: its size comes from dom0_mem
    unsigned vcpus;      // 0 for dom0: from dom0_max_vcpus
    bool control;        // dom0
};

namespace boot_domains {

constexpr size_t MAX_DOMAINS = mb2::MAX_MODULES;
constexpr uint64_t DEFAULT_DOMU_BYTES = 32ull << 20;

// Fills out[] (dom0 first) and returns how many domains the modules describe; a malformed
// marker is an error naming the module.
kstd::Expected<size_t, kstd::ParseError> plan(const mb2::Module* modules, size_t count, BootDomainSpec* out);

}  // namespace boot_domains
