// ELF64 validation and note walking. Every structure is bounds-checked against the file
// before it is copied out with memcpy (the file need not be aligned), and every sum of an
// offset and a size goes through fits(), which cannot overflow.
#include "elf.hpp"

namespace elf {

namespace {

constexpr uint8_t ELFCLASS64 = 2;
constexpr uint8_t ELFDATA2LSB = 1;
constexpr uint8_t EV_CURRENT = 1;
constexpr size_t EI_CLASS = 4;
constexpr size_t EI_DATA = 5;
constexpr size_t EI_VERSION = 6;
constexpr uint16_t PN_XNUM = 0xffff;  // the real count would be in section 0: not supported
constexpr uint16_t SHN_UNDEF = 0;
constexpr uint16_t SHN_LORESERVE = 0xff00;

using Error = kstd::Unexpected<kstd::ParseError>;
struct Ok {};
using Status = kstd::Expected<Ok, kstd::ParseError>;

Error fail(const char* what, uint64_t where) { return kstd::unexpected(kstd::ParseError{what, where}); }

// True if [offset, offset + size) lies inside a buffer of `total` bytes.
constexpr bool fits(uint64_t offset, uint64_t size, uint64_t total) {
    return offset <= total && size <= total - offset;
}

template <typename T>
T load(std::span<const uint8_t> file, uint64_t offset) {
    T v;
    memcpy(&v, file.data() + offset, sizeof v);
    return v;
}

Status check_header(std::span<const uint8_t> file, const FileHeader& h) {
    static constexpr uint8_t magic[4] = {0x7f, 'E', 'L', 'F'};
    if (memcmp(h.ident, magic, sizeof magic) != 0) return fail("not an ELF file: bad magic", 0);
    if (h.ident[EI_CLASS] != ELFCLASS64) return fail("not a 64-bit ELF file", EI_CLASS);
    if (h.ident[EI_DATA] != ELFDATA2LSB) return fail("not a little-endian ELF file", EI_DATA);
    if (h.ident[EI_VERSION] != EV_CURRENT) return fail("unknown ELF identification version", EI_VERSION);
    if (h.version != EV_CURRENT) return fail("unknown ELF version", offsetof(FileHeader, version));
    if (h.type != ET_EXEC) return fail("ELF file is not an executable", offsetof(FileHeader, type));
    if (h.machine != EM_X86_64) return fail("ELF file is not for x86_64", offsetof(FileHeader, machine));
    if (h.ehsize < sizeof(FileHeader)) return fail("ELF header size too small", offsetof(FileHeader, ehsize));
    if (h.phnum == PN_XNUM) return fail("extended program header numbering not supported", offsetof(FileHeader, phnum));
    if (h.phnum == 0) return fail("ELF file has no program headers", offsetof(FileHeader, phnum));
    if (h.phentsize != sizeof(ProgramHeader))
        return fail("program header entry size invalid", offsetof(FileHeader, phentsize));
    if (!fits(h.phoff, uint64_t{h.phnum} * sizeof(ProgramHeader), file.size()))
        return fail("program header table outside the file", offsetof(FileHeader, phoff));
    if (h.shnum == 0 && h.shoff != 0)
        return fail("extended section numbering not supported", offsetof(FileHeader, shnum));
    if (h.shnum != 0) {
        if (h.shentsize != sizeof(SectionHeader))
            return fail("section header entry size invalid", offsetof(FileHeader, shentsize));
        if (!fits(h.shoff, uint64_t{h.shnum} * sizeof(SectionHeader), file.size()))
            return fail("section header table outside the file", offsetof(FileHeader, shoff));
        if (h.shstrndx != SHN_UNDEF && (h.shstrndx >= h.shnum || h.shstrndx >= SHN_LORESERVE))
            return fail("section name table index out of range", offsetof(FileHeader, shstrndx));
    }
    return Ok{};
}

bool overlaps(uint64_t a, uint64_t a_size, uint64_t b, uint64_t b_size) {
    return a_size != 0 && b_size != 0 && a < b + b_size && b < a + a_size;
}

Status add_load_segment(const ProgramHeader& ph, uint64_t where, Image& out) {
    if (!fits(ph.offset, ph.filesz, out.file.size())) return fail("loadable segment outside the file", where);
    if (ph.filesz > ph.memsz) return fail("loadable segment file size exceeds its memory size", where);
    // The exclusive end must be representable, so a segment may not reach 2^64.
    if (ph.memsz > UINT64_MAX - ph.vaddr || ph.memsz > UINT64_MAX - ph.paddr)
        return fail("loadable segment wraps past 2^64", where);
    for (size_t i = 0; i < out.segment_count; ++i) {
        const Segment& s = out.segments[i];
        if (overlaps(s.paddr, s.memsz, ph.paddr, ph.memsz) || overlaps(s.vaddr.raw(), s.memsz, ph.vaddr, ph.memsz))
            return fail("loadable segments overlap", where);
    }
    if (out.segment_count == MAX_SEGMENTS) return fail("too many loadable segments", where);
    out.segments[out.segment_count++] = {ph.offset, Gva(ph.vaddr), ph.paddr, ph.filesz, ph.memsz, ph.flags, where};
    return Ok{};
}

// Notes are padded to 8 bytes only in areas that are themselves 8-aligned.
uint64_t note_align(uint64_t area_align) { return area_align == 8 ? 8 : 4; }

Status add_note_area(NoteArea* areas, size_t& count, uint64_t offset, uint64_t size, uint64_t align,
                     uint64_t total, uint64_t where) {
    if (!fits(offset, size, total)) return fail("note area outside the file", where);
    if (count == MAX_NOTE_AREAS) return fail("too many note areas", where);
    areas[count++] = {offset, size, note_align(align)};
    return Ok{};
}

Status parse_program_headers(const FileHeader& h, Image& out) {
    for (uint64_t i = 0; i < h.phnum; ++i) {
        const uint64_t where = h.phoff + i * sizeof(ProgramHeader);
        const ProgramHeader ph = load<ProgramHeader>(out.file, where);
        if (ph.type == PT_LOAD && (ph.flags & (PF_R | PF_W | PF_X)) != 0) {
            if (auto s = add_load_segment(ph, where, out); !s) return s;
        } else if (ph.type == PT_NOTE) {
            // Some binutils versions leave p_offset at 0 in note segments; Xen skips those too.
            if (ph.offset == 0) continue;
            if (auto s = add_note_area(out.note_segments, out.note_segment_count, ph.offset, ph.filesz, ph.align,
                                       out.file.size(), where);
                !s)
                return s;
        }
    }
    if (out.segment_count == 0) return fail("ELF file has no loadable segment", h.phoff);
    return Ok{};
}

void compute_bounds(Image& out) {
    uint64_t vlo = UINT64_MAX, vhi = 0, plo = UINT64_MAX, phi = 0;
    for (size_t i = 0; i < out.segment_count; ++i) {
        const Segment& s = out.segments[i];
        vlo = kstd::min(vlo, s.vaddr.raw());
        vhi = kstd::max(vhi, s.vaddr.raw() + s.memsz);
        plo = kstd::min(plo, s.paddr);
        phi = kstd::max(phi, s.paddr + s.memsz);
    }
    out.vstart = Gva(vlo);
    out.vend = Gva(vhi);
    out.pstart = plo;
    out.pend = phi;
}

// The name of a section, if the section name table holds a terminated string there.
kstd::StringView section_name(const Image& img, const SectionHeader& names, uint32_t at) {
    if (names.type == SHT_NOBITS || at >= names.size) return {};
    const char* base = reinterpret_cast<const char*>(img.file.data() + names.offset);
    for (uint64_t i = at; i < names.size; ++i)
        if (base[i] == '\0') return kstd::StringView(base + at, i - at);
    return {};
}

Status parse_section_headers(const FileHeader& h, Image& out) {
    SectionHeader names{};
    bool have_names = false;
    if (h.shstrndx != SHN_UNDEF) {
        const uint64_t where = h.shoff + uint64_t{h.shstrndx} * sizeof(SectionHeader);
        names = load<SectionHeader>(out.file, where);
        if (names.type != SHT_NOBITS && !fits(names.offset, names.size, out.file.size()))
            return fail("section name table outside the file", where);
        have_names = true;
    }
    // Section 0 is the reserved null entry.
    for (uint64_t i = 1; i < h.shnum; ++i) {
        const uint64_t where = h.shoff + i * sizeof(SectionHeader);
        const SectionHeader sh = load<SectionHeader>(out.file, where);
        if (sh.type == SHT_NOTE) {
            if (auto s = add_note_area(out.note_sections, out.note_section_count, sh.offset, sh.size, sh.addralign,
                                       out.file.size(), where);
                !s)
                return s;
        }
        if (have_names && section_name(out, names, sh.name) == kstd::StringView("__xen_guest"))
            out.has_xen_guest_section = true;
    }
    return Ok{};
}

}  // namespace

kstd::Expected<Image, kstd::ParseError> parse(std::span<const uint8_t> file) {
    if (file.size() < sizeof(FileHeader)) return fail("file too short for an ELF header", file.size());
    const FileHeader h = load<FileHeader>(file, 0);
    if (auto s = check_header(file, h); !s) return kstd::unexpected(s.error());

    Image out{};
    out.file = file;
    out.entry = Gva(h.entry);
    if (auto s = parse_program_headers(h, out); !s) return kstd::unexpected(s.error());
    compute_bounds(out);
    if (auto s = parse_section_headers(h, out); !s) return kstd::unexpected(s.error());
    return out;
}

kstd::Expected<Note, kstd::ParseError> NoteReader::next() {
    const uint64_t where = area_.offset + at_;
    const uint64_t left = area_.size - at_;
    if (left < sizeof(NoteHeader)) return fail("note header runs past the end of its area", where);
    const NoteHeader nh = load<NoteHeader>(file_, where);
    const uint64_t name_at = sizeof(NoteHeader);
    if (!fits(name_at, nh.namesz, left)) return fail("note name runs past the end of its area", where);
    // Padding is measured from the note's start: header and name together round up to the unit.
    const uint64_t desc_at = kstd::align_up(name_at + nh.namesz, area_.align);
    if (nh.descsz != 0 && !fits(desc_at, nh.descsz, left))
        return fail("note descriptor runs past the end of its area", where);

    const char* name = reinterpret_cast<const char*>(file_.data() + where + name_at);
    size_t name_len = 0;
    while (name_len < nh.namesz && name[name_len] != '\0') ++name_len;

    // The padding after the last descriptor may be cut off by the end of the area.
    const uint64_t next = desc_at + kstd::align_up(nh.descsz, area_.align);
    at_ = next >= left ? area_.size : at_ + next;
    const auto desc = nh.descsz != 0 ? file_.subspan(where + desc_at, nh.descsz) : std::span<const uint8_t>{};
    return Note{kstd::StringView(name, name_len), nh.type, desc, where};
}

}  // namespace elf
