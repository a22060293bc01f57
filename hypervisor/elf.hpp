// ELF64 reader for the kernels Kestrel boots: little-endian x86_64 executables, read in place
// from a byte span (the boot module). It validates the file header, collects the loadable
// segments and the note areas, and walks notes; it never writes and never allocates.
//
// Error policy: anything that would make a later read leave the file, an address computation
// wrap past 2^64, or two loadable segments claim the same bytes is a ParseError naming the
// byte offset in the file of the offending structure (header field, program header, section
// header or note). Nothing outside the span is ever read. The results point into the span,
// which must outlive them.
//
// Which segments load: PT_LOAD entries with at least one of the R/W/X flags, as Xen's libelf
// decides (elf_phdr_is_loadable); a PT_LOAD without any of them is ignored entirely. Loading is
// by p_paddr (Xen places each segment at its p_paddr relative to the lowest p_paddr), so the
// physical bounds drive the kernel's layout; the virtual bounds are reported as well.
//
// Notes: each note is a 12-byte header (namesz, descsz, type), the name, then the descriptor,
// the descriptor starting at the first multiple of the padding unit (counted from the note's
// start) after the header and name, and the next note at the first multiple after the
// descriptor. The unit is 4 bytes, or 8 when the area itself is 8-aligned (as readelf decides:
// GNU property notes use 8; Xen's libelf always uses 4, and for every note it reads the two
// rules give the same offsets). The name and the descriptor must lie inside the area;
// only the padding after the last descriptor may be cut off by the end of the area.
#pragma once

#include <cstddef>
#include <span>

#include "kstd/diagnostics.hpp"
#include "kstd/expected.hpp"
#include "kstd/string.hpp"
#include "types.hpp"

namespace elf {

// Values from the System V gABI and its x86_64 supplement.
constexpr uint16_t ET_EXEC = 2;
constexpr uint16_t EM_X86_64 = 62;
constexpr uint32_t PT_LOAD = 1;
constexpr uint32_t PT_NOTE = 4;
constexpr uint32_t SHT_NOTE = 7;
constexpr uint32_t SHT_NOBITS = 8;
constexpr uint32_t PF_X = 1;
constexpr uint32_t PF_W = 2;
constexpr uint32_t PF_R = 4;

// File layouts (ELF64), little-endian, naturally aligned.
struct FileHeader {
    uint8_t ident[16];     // 0: magic, class, data, version, OS ABI
    uint16_t type;         // 16: ET_*
    uint16_t machine;      // 18: EM_*
    uint32_t version;      // 20
    uint64_t entry;        // 24: virtual entry point
    uint64_t phoff;        // 32: program header table offset
    uint64_t shoff;        // 40: section header table offset
    uint32_t flags;        // 48
    uint16_t ehsize;       // 52: size of this header
    uint16_t phentsize;    // 54
    uint16_t phnum;        // 56
    uint16_t shentsize;    // 58
    uint16_t shnum;        // 60
    uint16_t shstrndx;     // 62: section holding the section names
};
static_assert(sizeof(FileHeader) == 64);
static_assert(offsetof(FileHeader, type) == 16 && offsetof(FileHeader, entry) == 24 && offsetof(FileHeader, phoff) == 32 &&
              offsetof(FileHeader, shoff) == 40 && offsetof(FileHeader, ehsize) == 52 &&
              offsetof(FileHeader, phnum) == 56 && offsetof(FileHeader, shstrndx) == 62);

struct ProgramHeader {
    uint32_t type;     // 0: PT_*
    uint32_t flags;    // 4: PF_*
    uint64_t offset;   // 8: in the file
    uint64_t vaddr;    // 16
    uint64_t paddr;    // 24
    uint64_t filesz;   // 32
    uint64_t memsz;    // 40
    uint64_t align;    // 48
};
static_assert(sizeof(ProgramHeader) == 56);
static_assert(offsetof(ProgramHeader, offset) == 8 && offsetof(ProgramHeader, vaddr) == 16 &&
              offsetof(ProgramHeader, paddr) == 24 && offsetof(ProgramHeader, filesz) == 32 &&
              offsetof(ProgramHeader, memsz) == 40 && offsetof(ProgramHeader, align) == 48);

struct SectionHeader {
    uint32_t name;       // 0: offset in the section name table
    uint32_t type;       // 4: SHT_*
    uint64_t flags;      // 8
    uint64_t addr;       // 16
    uint64_t offset;     // 24: in the file
    uint64_t size;       // 32
    uint32_t link;       // 40
    uint32_t info;       // 44
    uint64_t addralign;  // 48
    uint64_t entsize;    // 56
};
static_assert(sizeof(SectionHeader) == 64);
static_assert(offsetof(SectionHeader, type) == 4 && offsetof(SectionHeader, offset) == 24 &&
              offsetof(SectionHeader, size) == 32 && offsetof(SectionHeader, addralign) == 48);

struct NoteHeader {
    uint32_t namesz;  // 0: name bytes, its NUL included
    uint32_t descsz;  // 4: descriptor bytes
    uint32_t type;    // 8: meaning chosen by the name's owner
};
static_assert(sizeof(NoteHeader) == 12);
static_assert(offsetof(NoteHeader, descsz) == 4 && offsetof(NoteHeader, type) == 8);

// A loadable segment as the program header gives it; offset+filesz lies inside the file.
struct Segment {
    uint64_t offset;
    Gva vaddr;
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;  // >= filesz; the rest is zero-filled (bss)
    uint32_t flags;  // PF_*
    uint64_t header_offset;  // where its program header is, for error reports
};

// A run of notes in the file: a PT_NOTE segment or an SHT_NOTE section.
struct NoteArea {
    uint64_t offset;
    uint64_t size;
    uint64_t align;  // 4 or 8: the padding unit of names and descriptors
};

// One note; name and desc point into the file.
struct Note {
    kstd::StringView name;  // up to its first NUL (or all namesz bytes if there is none)
    uint32_t type;
    std::span<const uint8_t> desc;
    uint64_t offset;  // of the note header in the file
};

constexpr size_t MAX_SEGMENTS = 16;
constexpr size_t MAX_NOTE_AREAS = 16;

struct Image {
    std::span<const uint8_t> file;
    Gva entry;
    Segment segments[MAX_SEGMENTS];
    size_t segment_count;
    // Bounds of the loadable segments (end exclusive), by virtual and by physical address.
    Gva vstart, vend;
    uint64_t pstart, pend;
    NoteArea note_segments[MAX_NOTE_AREAS];  // PT_NOTE, in program header order
    size_t note_segment_count;
    NoteArea note_sections[MAX_NOTE_AREAS];  // SHT_NOTE, in section header order
    size_t note_section_count;
    bool has_xen_guest_section;  // the legacy "__xen_guest" string section
};

kstd::Expected<Image, kstd::ParseError> parse(std::span<const uint8_t> file);

// Walks the notes of one area. next() gives each note in turn; done() says the area is used up.
class NoteReader final {
public:
    NoteReader(std::span<const uint8_t> file, const NoteArea& area) : file_(file), area_(area) {}

    bool done() const { return at_ >= area_.size; }
    kstd::Expected<Note, kstd::ParseError> next();

private:
    std::span<const uint8_t> file_;
    NoteArea area_;
    uint64_t at_ = 0;  // offset within the area of the next note
};

// Calls f(const Note&) for every note of the area; stops at the first malformed note, or when
// f returns false (then the result is still success).
template <typename F>
kstd::Expected<bool, kstd::ParseError> for_each_note(std::span<const uint8_t> file, const NoteArea& area, F&& f) {
    NoteReader reader(file, area);
    while (!reader.done()) {
        auto note = reader.next();
        if (!note) return kstd::unexpected(note.error());
        if (!f(*note)) return false;
    }
    return true;
}

}  // namespace elf
