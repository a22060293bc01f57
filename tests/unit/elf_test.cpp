// ELF64 reader: header checks, loadable segments and their bounds, note areas from segments
// and sections, note walking with its padding rules, and every malformed-input error path.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "elf.hpp"
#include "elf_image_builder.hpp"

namespace {

using testelf::Builder;
using testelf::Bytes;
using testelf::poke;

std::span<const uint8_t> span_of(const Bytes& b) { return {b.data(), b.size()}; }

Builder two_segment_kernel() {
    Builder e;
    e.entry = 0xffffffff81000000;
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_X, 0xffffffff81000000, 0x1000000, 0, 4096, Bytes(0x2000, 0xaa)});
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_W, 0xffffffff81002000, 0x1002000, 0x5000, 4096, Bytes(0x800, 0xbb)});
    return e;
}

std::string error_of(const Bytes& b) {
    auto r = elf::parse(span_of(b));
    EXPECT_FALSE(r.has_value());
    return r.has_value() ? std::string() : std::string(r.error().what);
}

TEST(Elf, ParsesSegmentsAndBounds) {
    Builder e = two_segment_kernel();
    const Bytes file = e.build();
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->entry, Gva(0xffffffff81000000));
    ASSERT_EQ(r->segment_count, 2u);
    EXPECT_EQ(r->segments[0].offset, e.layout.segment_offsets[0]);
    EXPECT_EQ(r->segments[0].filesz, 0x2000u);
    EXPECT_EQ(r->segments[1].memsz, 0x5000u);
    EXPECT_EQ(r->segments[1].flags, elf::PF_R | elf::PF_W);
    EXPECT_EQ(r->vstart, Gva(0xffffffff81000000));
    EXPECT_EQ(r->vend, Gva(0xffffffff81007000));
    EXPECT_EQ(r->pstart, 0x1000000u);
    EXPECT_EQ(r->pend, 0x1007000u);
    EXPECT_FALSE(r->has_xen_guest_section);
    EXPECT_EQ(r->note_segment_count, 0u);
}

TEST(Elf, IgnoresLoadSegmentsWithoutPermissionsAndOtherTypes) {
    Builder e = two_segment_kernel();
    e.segments.push_back({elf::PT_LOAD, 0, 0x10, 0x10, 0, 4, Bytes(16, 1)});       // no R/W/X: Xen skips it
    e.segments.push_back({0x6474e551, elf::PF_R, 0, 0, 0, 16, {}});              // PT_GNU_STACK
    const Bytes file = e.build();
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->segment_count, 2u);
    EXPECT_EQ(r->pstart, 0x1000000u);
}

TEST(Elf, RejectsShortAndForeignFiles) {
    Bytes file = two_segment_kernel().build();
    EXPECT_EQ(error_of(Bytes(file.begin(), file.begin() + 63)), "file too short for an ELF header");
    EXPECT_EQ(error_of(Bytes()), "file too short for an ELF header");

    Bytes bad = file;
    bad[1] = 'X';
    EXPECT_EQ(error_of(bad), "not an ELF file: bad magic");
    bad = file;
    bad[4] = 1;
    EXPECT_EQ(error_of(bad), "not a 64-bit ELF file");
    bad = file;
    bad[5] = 2;
    EXPECT_EQ(error_of(bad), "not a little-endian ELF file");
    bad = file;
    bad[6] = 0;
    EXPECT_EQ(error_of(bad), "unknown ELF identification version");
    bad = file;
    poke<uint32_t>(bad, offsetof(elf::FileHeader, version), 2);
    EXPECT_EQ(error_of(bad), "unknown ELF version");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, type), 3);  // ET_DYN
    EXPECT_EQ(error_of(bad), "ELF file is not an executable");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, machine), 3);  // EM_386
    EXPECT_EQ(error_of(bad), "ELF file is not for x86_64");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, ehsize), 52);
    EXPECT_EQ(error_of(bad), "ELF header size too small");
}

TEST(Elf, RejectsBadProgramHeaderTable) {
    Builder e = two_segment_kernel();
    const Bytes file = e.build();
    Bytes bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, phentsize), 32);
    EXPECT_EQ(error_of(bad), "program header entry size invalid");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, phnum), 0);
    EXPECT_EQ(error_of(bad), "ELF file has no program headers");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, phnum), 0xffff);
    EXPECT_EQ(error_of(bad), "extended program header numbering not supported");
    bad = file;
    poke<uint64_t>(bad, offsetof(elf::FileHeader, phoff), file.size() - 8);
    EXPECT_EQ(error_of(bad), "program header table outside the file");
    bad = file;
    poke<uint64_t>(bad, offsetof(elf::FileHeader, phoff), UINT64_MAX - 10);
    EXPECT_EQ(error_of(bad), "program header table outside the file");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, phnum), 2000);
    EXPECT_EQ(error_of(bad), "program header table outside the file");
}

TEST(Elf, EveryTruncationIsAnErrorNeverACrash) {
    Builder e = two_segment_kernel();
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 4, testelf::xen_note(6, testelf::str("linux"))});
    e.sections.push_back({".notes", elf::SHT_NOTE, 4, {}, 2});
    const Bytes file = e.build();
    for (size_t len = 0; len < file.size(); ++len) {
        const Bytes cut(file.begin(), file.begin() + static_cast<long>(len));
        EXPECT_FALSE(elf::parse(span_of(cut)).has_value()) << len;
    }
    EXPECT_TRUE(elf::parse(span_of(file)).has_value());
}

TEST(Elf, SegmentDataOutsideTheFile) {
    Builder e = two_segment_kernel();
    Bytes file = e.build();
    // Without section headers, cutting the file inside the second segment's data is caught there.
    poke<uint64_t>(file, offsetof(elf::FileHeader, shoff), 0);
    poke<uint16_t>(file, offsetof(elf::FileHeader, shnum), 0);
    poke<uint16_t>(file, offsetof(elf::FileHeader, shstrndx), 0);
    const size_t cut = e.layout.segment_offsets[1] + 0x10;
    auto r = elf::parse(std::span<const uint8_t>(file.data(), cut));
    ASSERT_FALSE(r.has_value());
    EXPECT_STREQ(r.error().what, "loadable segment outside the file");
    EXPECT_EQ(r.error().where, e.layout.phoff + sizeof(elf::ProgramHeader));
}

TEST(Elf, RejectsBadSegments) {
    Builder e = two_segment_kernel();
    const Bytes file = e.build();
    const uint64_t ph1 = e.layout.phoff + sizeof(elf::ProgramHeader);
    Bytes bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, offset), file.size() - 0x10);
    EXPECT_EQ(error_of(bad), "loadable segment outside the file");
    bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, offset), UINT64_MAX - 0x100);
    EXPECT_EQ(error_of(bad), "loadable segment outside the file");
    bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, memsz), 0x10);
    EXPECT_EQ(error_of(bad), "loadable segment file size exceeds its memory size");
    bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, vaddr), UINT64_MAX - 0x1000);
    EXPECT_EQ(error_of(bad), "loadable segment wraps past 2^64");
    bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, paddr), UINT64_MAX - 0x4fff);  // ends exactly at 2^64
    EXPECT_EQ(error_of(bad), "loadable segment wraps past 2^64");
    // Overlap by physical address and, separately, by virtual address.
    bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, paddr), 0x1001fff);
    EXPECT_EQ(error_of(bad), "loadable segments overlap");
    bad = file;
    poke<uint64_t>(bad, ph1 + offsetof(elf::ProgramHeader, vaddr), 0xffffffff80fff000);
    EXPECT_EQ(error_of(bad), "loadable segments overlap");
    auto r = elf::parse(span_of(bad));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().where, ph1);
}

TEST(Elf, AdjacentAndEmptySegmentsAreFine) {
    Builder e = two_segment_kernel();
    e.segments[1].vaddr = 0xffffffff81002000;  // exactly adjacent
    e.segments.push_back({elf::PT_LOAD, elf::PF_R, 0xffffffff81001000, 0x1001000, 0, 4, {}});  // empty, inside
    const Bytes file = e.build();
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->segment_count, 3u);
}

// x86_64 vmlinux links its per-CPU segment at virtual 0 while its physical address follows
// the others; that is not an overlap, and the physical bounds stay tight.
TEST(Elf, PerCpuSegmentAtVirtualZero) {
    Builder e = two_segment_kernel();
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_W, 0, 0x1007000, 0x3000, 4096, Bytes(0x100, 1)});
    const Bytes file = e.build();
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value()) << r.error().what;
    EXPECT_EQ(r->pstart, 0x1000000u);
    EXPECT_EQ(r->pend, 0x100a000u);
    EXPECT_EQ(r->vstart, Gva(0));
}

TEST(Elf, NoLoadableSegmentIsAnError) {
    Builder e;
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 4, testelf::xen_note(6, testelf::str("linux"))});
    EXPECT_EQ(error_of(e.build()), "ELF file has no loadable segment");
}

TEST(Elf, TooManySegments) {
    Builder e;
    for (uint64_t i = 0; i <= elf::MAX_SEGMENTS; ++i)
        e.segments.push_back({elf::PT_LOAD, elf::PF_R, 0x400000 + i * 0x1000, 0x400000 + i * 0x1000, 0, 4, Bytes(8, 0)});
    EXPECT_EQ(error_of(e.build()), "too many loadable segments");
}

TEST(Elf, RejectsBadSectionHeaderTable) {
    Builder e = two_segment_kernel();
    e.sections.push_back({".notes", elf::SHT_NOTE, 4, testelf::xen_note(6, testelf::str("linux"))});
    const Bytes file = e.build();
    Bytes bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, shentsize), 40);
    EXPECT_EQ(error_of(bad), "section header entry size invalid");
    bad = file;
    poke<uint64_t>(bad, offsetof(elf::FileHeader, shoff), file.size() - 64);
    EXPECT_EQ(error_of(bad), "section header table outside the file");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, shstrndx), 9);
    EXPECT_EQ(error_of(bad), "section name table index out of range");
    bad = file;
    poke<uint16_t>(bad, offsetof(elf::FileHeader, shnum), 0);
    EXPECT_EQ(error_of(bad), "extended section numbering not supported");
    bad = file;
    poke<uint64_t>(bad, e.layout.section_offsets[0] + offsetof(elf::SectionHeader, size), file.size());
    EXPECT_EQ(error_of(bad), "note area outside the file");
    // The name table itself out of the file.
    bad = file;
    const uint64_t strtab = e.layout.shoff + 2 * sizeof(elf::SectionHeader);
    poke<uint64_t>(bad, strtab + offsetof(elf::SectionHeader, offset), file.size());
    EXPECT_EQ(error_of(bad), "section name table outside the file");
}

TEST(Elf, FindsLegacyXenGuestSection) {
    Builder e = two_segment_kernel();
    e.sections.push_back({"__xen_guest", 1 /* SHT_PROGBITS */, 1, testelf::str("GUEST_OS=linux,XEN_VER=xen-3.0")});
    const Bytes file = e.build();
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->has_xen_guest_section);
    // A name that runs off the end of the name table is just not a match.
    Bytes bad = file;
    poke<uint32_t>(bad, e.layout.section_offsets[0] + offsetof(elf::SectionHeader, name), 0x7fffffff);
    auto r2 = elf::parse(span_of(bad));
    ASSERT_TRUE(r2.has_value());
    EXPECT_FALSE(r2->has_xen_guest_section);
}

TEST(Elf, CollectsNoteSegmentsAndSections) {
    Builder e = two_segment_kernel();
    const Bytes notes = testelf::cat({testelf::xen_note(6, testelf::str("linux")), testelf::note("GNU", 3, Bytes(20, 7))});
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 4, notes});
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 8, testelf::note("GNU", 5, Bytes(16, 1), 8)});
    e.sections.push_back({".notes", elf::SHT_NOTE, 4, {}, 2});
    const Bytes file = e.build();
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value()) << r.error().what;
    ASSERT_EQ(r->note_segment_count, 2u);
    EXPECT_EQ(r->note_segments[0].offset, e.layout.segment_offsets[2]);
    EXPECT_EQ(r->note_segments[0].size, notes.size());
    EXPECT_EQ(r->note_segments[0].align, 4u);
    EXPECT_EQ(r->note_segments[1].align, 8u);
    ASSERT_EQ(r->note_section_count, 1u);
    EXPECT_EQ(r->note_sections[0].offset, r->note_segments[0].offset);

    std::vector<std::string> seen;
    auto walk = elf::for_each_note(span_of(file), r->note_segments[0], [&](const elf::Note& n) {
        seen.push_back(std::string(n.name.data(), n.name.size()) + ":" + std::to_string(n.type) + ":" +
                       std::to_string(n.desc.size()));
        return true;
    });
    ASSERT_TRUE(walk.has_value()) << walk.error().what;
    EXPECT_EQ(seen, (std::vector<std::string>{"Xen:6:6", "GNU:3:20"}));
}

TEST(Elf, NoteSegmentAtOffsetZeroIsSkipped) {
    Builder e = two_segment_kernel();
    e.segments.push_back({elf::PT_NOTE, elf::PF_R, 0, 0, 0, 4, testelf::xen_note(6, testelf::str("linux"))});
    Bytes file = e.build();
    poke<uint64_t>(file, e.layout.phoff + 2 * sizeof(elf::ProgramHeader) + offsetof(elf::ProgramHeader, offset), 0);
    auto r = elf::parse(span_of(file));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->note_segment_count, 0u);
}

// Walks a raw note area (the whole span is the area).
std::vector<elf::Note> walk(const Bytes& area, uint64_t align, std::string* error = nullptr) {
    std::vector<elf::Note> out;
    auto r = elf::for_each_note(span_of(area), elf::NoteArea{0, area.size(), align}, [&](const elf::Note& n) {
        out.push_back(n);
        return true;
    });
    if (error) *error = r.has_value() ? "" : r.error().what;
    return out;
}

TEST(ElfNotes, PaddingRules) {
    // Name of 5 bytes ("Linux") pads to 8; descriptor of 5 bytes pads to 8 before the next note.
    const Bytes area = testelf::cat({testelf::note("Linux", 1, Bytes{1, 2, 3, 4, 5}), testelf::note("Xen", 2, testelf::u32(9))});
    std::string err;
    auto notes = walk(area, 4, &err);
    ASSERT_EQ(err, "");
    ASSERT_EQ(notes.size(), 2u);
    EXPECT_TRUE(notes[0].name == kstd::StringView("Linux"));
    EXPECT_EQ(notes[0].desc.size(), 5u);
    EXPECT_EQ(notes[0].desc[4], 5);
    EXPECT_EQ(notes[1].offset, 12u + 8 + 8);
    EXPECT_EQ(notes[1].type, 2u);

    // The same notes with 8-byte padding in an 8-aligned area.
    const Bytes area8 = testelf::cat({testelf::note("Xen", 1, Bytes{1, 2, 3}, 8), testelf::note("Xen", 2, Bytes{4}, 8)});
    auto notes8 = walk(area8, 8, &err);
    ASSERT_EQ(err, "");
    ASSERT_EQ(notes8.size(), 2u);
    EXPECT_EQ(notes8[0].desc[0], 1);   // header 12 + name 4 = 16: already 8-aligned
    EXPECT_EQ(notes8[1].offset, 24u);  // descriptor 16..19, padded to 24
    EXPECT_EQ(notes8[1].desc[0], 4);
}

TEST(ElfNotes, LastPaddingMayBeCutOffButNotTheDescriptor) {
    Bytes area = testelf::note("Xen", 5, Bytes{1, 2, 3, 4, 5});
    area.resize(area.size() - 3);  // drop the descriptor's padding
    std::string err;
    auto notes = walk(area, 4, &err);
    EXPECT_EQ(err, "");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_EQ(notes[0].desc.size(), 5u);

    area.resize(area.size() - 1);  // now the descriptor itself is cut
    walk(area, 4, &err);
    EXPECT_EQ(err, "note descriptor runs past the end of its area");
}

TEST(ElfNotes, NameWithoutNulAndEmptyDescriptor) {
    Bytes area;
    testelf::put_value<uint32_t>(area, 3);  // "Xen" without its NUL
    testelf::put_value<uint32_t>(area, 0);
    testelf::put_value<uint32_t>(area, 7);
    testelf::put(area, "Xen", 3);
    std::string err;
    auto notes = walk(area, 4, &err);  // name padding cut off by the end of the area
    ASSERT_EQ(err, "");
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_TRUE(notes[0].name == kstd::StringView("Xen"));
    EXPECT_TRUE(notes[0].desc.empty());
}

TEST(ElfNotes, MalformedNotes) {
    std::string err;
    walk(Bytes(11, 0), 4, &err);
    EXPECT_EQ(err, "note header runs past the end of its area");

    Bytes area = testelf::note("Xen", 1, testelf::u32(1));
    Bytes bad = area;
    poke<uint32_t>(bad, 0, 0xfffffff0);  // namesz
    walk(bad, 4, &err);
    EXPECT_EQ(err, "note name runs past the end of its area");
    bad = area;
    poke<uint32_t>(bad, 4, 0xffffffff);  // descsz
    walk(bad, 4, &err);
    EXPECT_EQ(err, "note descriptor runs past the end of its area");
    bad = area;
    poke<uint32_t>(bad, 4, 5);  // one byte more than there is
    walk(bad, 4, &err);
    EXPECT_EQ(err, "note descriptor runs past the end of its area");

    // Trailing garbage shorter than a header after a good note.
    bad = testelf::cat({area, Bytes(8, 0)});
    auto notes = walk(bad, 4, &err);
    EXPECT_EQ(err, "note header runs past the end of its area");
    EXPECT_EQ(notes.size(), 1u);
}

TEST(ElfNotes, CallbackCanStopTheWalk) {
    const Bytes area = testelf::cat({testelf::xen_note(1, testelf::u32(1)), Bytes(3, 0xff)});
    int calls = 0;
    auto r = elf::for_each_note(span_of(area), elf::NoteArea{0, area.size(), 4}, [&](const elf::Note&) {
        ++calls;
        return false;
    });
    ASSERT_TRUE(r.has_value());
    EXPECT_FALSE(*r);
    EXPECT_EQ(calls, 1);
}

TEST(ElfNotes, ManyZeroSizedNotesTerminate) {
    Bytes area;
    for (int i = 0; i < 100; ++i) area = testelf::cat({area, testelf::note("", 0, {})});
    std::string err;
    auto notes = walk(area, 4, &err);
    EXPECT_EQ(err, "");
    EXPECT_EQ(notes.size(), 100u);
}

}  // namespace
