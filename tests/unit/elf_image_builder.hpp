// Builds small ELF64 x86_64 executables in memory for the ELF, Xen note and PV builder tests:
// program headers, segments, sections (a section may alias a segment's bytes, as vmlinux's
// .notes does) and Xen notes. Host-only test helper; plain std::vector is fine here.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "elf.hpp"

namespace testelf {

using Bytes = std::vector<uint8_t>;

inline void put(Bytes& b, const void* p, size_t n) {
    const auto* c = static_cast<const uint8_t*>(p);
    b.insert(b.end(), c, c + n);
}
template <typename T>
void put_value(Bytes& b, T v) { put(b, &v, sizeof v); }
inline void pad_to(Bytes& b, size_t align) {
    while (b.size() % align) b.push_back(0);
}

// One note: header, name with NUL, descriptor, each padded to `align`.
inline Bytes note(const std::string& name, uint32_t type, const Bytes& desc, size_t align = 4) {
    Bytes b;
    put_value<uint32_t>(b, static_cast<uint32_t>(name.size() + 1));
    put_value<uint32_t>(b, static_cast<uint32_t>(desc.size()));
    put_value<uint32_t>(b, type);
    put(b, name.c_str(), name.size() + 1);
    pad_to(b, align);
    put(b, desc.data(), desc.size());
    pad_to(b, align);
    return b;
}
inline Bytes u32(uint32_t v) { Bytes b; put_value(b, v); return b; }
inline Bytes u64(uint64_t v) { Bytes b; put_value(b, v); return b; }
inline Bytes str(const std::string& s) { Bytes b(s.begin(), s.end()); b.push_back(0); return b; }
inline Bytes ascii(const std::string& s) { return Bytes(s.begin(), s.end()); }
inline Bytes xen_note(uint32_t type, const Bytes& desc) { return note("Xen", type, desc); }
inline Bytes cat(std::initializer_list<Bytes> parts) {
    Bytes b;
    for (const Bytes& p : parts) b.insert(b.end(), p.begin(), p.end());
    return b;
}

struct Segment {
    uint32_t type = elf::PT_LOAD;
    uint32_t flags = elf::PF_R | elf::PF_X;
    uint64_t vaddr = 0;
    uint64_t paddr = 0;
    uint64_t memsz = 0;  // 0: same as data.size()
    uint64_t align = 4;
    Bytes data;
};

struct Section {
    std::string name;
    uint32_t type = elf::SHT_NOTE;
    uint64_t align = 4;
    Bytes data;
    int alias_segment = -1;  // >= 0: the section's bytes are that segment's bytes
};

// Where build() put things, so that tests can damage precise fields.
struct Layout {
    uint64_t phoff = 0;
    uint64_t shoff = 0;
    std::vector<uint64_t> segment_offsets;
    std::vector<uint64_t> section_offsets;  // of the section headers, index 1 first
};

struct Builder {
    uint64_t entry = 0;
    uint16_t type = elf::ET_EXEC;
    uint16_t machine = elf::EM_X86_64;
    std::vector<Segment> segments;
    std::vector<Section> sections;
    Layout layout;

    Bytes build() {
        Bytes b(sizeof(elf::FileHeader), 0);
        layout = {};
        layout.phoff = b.size();
        b.resize(b.size() + segments.size() * sizeof(elf::ProgramHeader));
        std::vector<uint64_t> seg_off;
        for (const Segment& s : segments) {
            pad_to(b, 16);
            seg_off.push_back(b.size());
            put(b, s.data.data(), s.data.size());
        }
        layout.segment_offsets = seg_off;
        std::vector<uint64_t> sec_off;
        for (const Section& s : sections) {
            if (s.alias_segment >= 0) {
                sec_off.push_back(seg_off[static_cast<size_t>(s.alias_segment)]);
                continue;
            }
            pad_to(b, 8);
            sec_off.push_back(b.size());
            put(b, s.data.data(), s.data.size());
        }
        // Section name table: "" then each name.
        Bytes names(1, 0);
        std::vector<uint32_t> name_off;
        for (const Section& s : sections) {
            name_off.push_back(static_cast<uint32_t>(names.size()));
            put(names, s.name.c_str(), s.name.size() + 1);
        }
        const uint32_t shstrtab_name = static_cast<uint32_t>(names.size());
        put(names, ".shstrtab", 10);
        const uint64_t names_off = b.size();
        put(b, names.data(), names.size());
        pad_to(b, 8);
        layout.shoff = b.size();
        const size_t shnum = sections.size() + 2;  // null, sections, .shstrtab
        b.resize(b.size() + shnum * sizeof(elf::SectionHeader));

        elf::FileHeader h{};
        const uint8_t ident[16] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0};
        memcpy(h.ident, ident, sizeof ident);
        h.type = type;
        h.machine = machine;
        h.version = 1;
        h.entry = entry;
        h.phoff = layout.phoff;
        h.shoff = layout.shoff;
        h.ehsize = sizeof(elf::FileHeader);
        h.phentsize = sizeof(elf::ProgramHeader);
        h.phnum = static_cast<uint16_t>(segments.size());
        h.shentsize = sizeof(elf::SectionHeader);
        h.shnum = static_cast<uint16_t>(shnum);
        h.shstrndx = static_cast<uint16_t>(shnum - 1);
        memcpy(b.data(), &h, sizeof h);

        for (size_t i = 0; i < segments.size(); ++i) {
            const Segment& s = segments[i];
            elf::ProgramHeader ph{};
            ph.type = s.type;
            ph.flags = s.flags;
            ph.offset = seg_off[i];
            ph.vaddr = s.vaddr;
            ph.paddr = s.paddr;
            ph.filesz = s.data.size();
            ph.memsz = s.memsz ? s.memsz : s.data.size();
            ph.align = s.align;
            memcpy(b.data() + layout.phoff + i * sizeof ph, &ph, sizeof ph);
        }
        for (size_t i = 0; i < sections.size(); ++i) {
            const Section& s = sections[i];
            elf::SectionHeader sh{};
            sh.name = name_off[i];
            sh.type = s.type;
            sh.offset = sec_off[i];
            sh.size = s.alias_segment >= 0 ? segments[static_cast<size_t>(s.alias_segment)].data.size() : s.data.size();
            sh.addralign = s.align;
            const uint64_t at = layout.shoff + (i + 1) * sizeof sh;
            layout.section_offsets.push_back(at);
            memcpy(b.data() + at, &sh, sizeof sh);
        }
        elf::SectionHeader strtab{};
        strtab.name = shstrtab_name;
        strtab.type = 3;  // SHT_STRTAB
        strtab.offset = names_off;
        strtab.size = names.size();
        strtab.addralign = 1;
        memcpy(b.data() + layout.shoff + (shnum - 1) * sizeof strtab, &strtab, sizeof strtab);
        return b;
    }
};

// A small kernel shaped like Linux's x86_64 vmlinux: text at 16 MiB physical, linked at
// VIRT_BASE + 16 MiB, a data segment with bss after it, its notes in one PT_NOTE segment that
// the ".notes" section aliases.
constexpr uint64_t LINUX_VIRT_BASE = 0xffffffff80000000;
constexpr uint64_t KERNEL_PADDR = 0x1000000;
constexpr uint64_t KERNEL_TEXT = LINUX_VIRT_BASE + KERNEL_PADDR;
constexpr uint64_t KERNEL_ENTRY = KERNEL_TEXT + 0x40;
constexpr uint64_t KERNEL_HYPERCALL_PAGE = KERNEL_TEXT + 0x2000;

// The notes Linux 6.1 declares for a PV x86_64 kernel (arch/x86/xen/xen-head.S), values ours.
// Recent 6.1 stable kernels (6.1.192 here) no longer declare HYPERCALL_PAGE (they issue
// syscall directly); older ones do, so the fixture keeps it and tests drop it where it matters.
inline std::vector<Bytes> linux_notes() {
    using namespace std::string_literals;
    return {
        xen_note(6, str("linux")),                       // GUEST_OS
        xen_note(7, str("2.6")),                         // GUEST_VERSION
        xen_note(5, str("xen-3.0")),                     // XEN_VERSION
        xen_note(3, u64(LINUX_VIRT_BASE)),               // VIRT_BASE
        xen_note(15, u64(0x8000000000)),                 // INIT_P2M
        xen_note(1, u64(KERNEL_ENTRY)),                  // ENTRY
        xen_note(10, ascii("!writable_page_tables|pae_pgdir_above_4gb")),  // FEATURES, .ascii: no NUL
        xen_note(9, str("yes")),                         // PAE_MODE
        xen_note(13, cat({u64(1), u64(1)})),             // L1_MFN_VALID
        xen_note(16, u32(1)),                            // MOD_START_PFN
        xen_note(4, u64(0)),                             // PADDR_OFFSET
        xen_note(2, u64(KERNEL_HYPERCALL_PAGE)),         // HYPERCALL_PAGE
        xen_note(17, u32((1u << 0) | (1u << 11) | (1u << 15))),  // SUPPORTED_FEATURES
        xen_note(8, str("generic")),                     // LOADER
        xen_note(14, u32(1)),                            // SUSPEND_CANCEL
        xen_note(12, u64(0xffff800000000000)),           // HV_START_LOW
    };
}

inline Bytes text_bytes(size_t n) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(i * 7 + 3);
    return b;
}

// text: 0x3000 bytes (hypercall page at +0x2000), data: 0x1800 bytes of file, 0x4000 in memory.
inline Builder linux_like_kernel(const std::vector<Bytes>& notes = linux_notes()) {
    Builder e;
    e.entry = KERNEL_TEXT;  // e_entry differs from the ENTRY note on purpose
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_X, KERNEL_TEXT, KERNEL_PADDR, 0, 0x200000, text_bytes(0x3000)});
    Bytes data(0x1800, 0x5a);
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_W, KERNEL_TEXT + 0x3000, KERNEL_PADDR + 0x3000, 0x4000,
                          0x200000, data});
    Bytes all;
    for (const Bytes& n : notes) all = cat({all, n});
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 4, all});
    e.sections.push_back({".notes", elf::SHT_NOTE, 4, {}, 2});
    return e;
}

// Overwrites a T at `offset` in an already built file.
template <typename T>
void poke(Bytes& b, uint64_t offset, T v) { memcpy(b.data() + offset, &v, sizeof v); }

}  // namespace testelf
