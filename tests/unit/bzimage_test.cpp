// bzImage recognition and payload location (bzimage.hpp), and the kernel modules Kestrel
// unpacks from them (kernel_image.hpp): synthetic bzImages with every payload format,
// malformed setup headers and sizes, every truncation, XZ payloads decoded into frames of a
// test machine (freed on release and on every failure), and memory running out.
#include <gtest/gtest.h>

#include <optional>

#include "bzimage.hpp"
#include "elf_image_builder.hpp"
#include "kernel_image.hpp"
#include "pv_test_support.hpp"
#include "xz_test_support.hpp"

namespace {

using xz_test::Bytes;

// A bzImage as Linux lays one out: boot sector and setup sectors (the header at 0x1f1), then
// the protected-mode code: some decompressor bytes, the payload, some more code.
struct FakeBzImage {
    uint8_t setup_sects = 4;
    uint16_t version = 0x020f;
    uint32_t code_before = 0x300;  // bytes of "decompressor" before the payload
    Bytes payload;
    size_t code_after = 0x123;
    std::optional<uint32_t> payload_offset;  // overrides
    std::optional<uint32_t> payload_length;

    uint32_t setup_bytes() const { return (uint32_t(setup_sects ? setup_sects : 4) + 1) * 512; }
    size_t payload_at() const { return setup_bytes() + code_before; }

    Bytes build() const {
        Bytes b(setup_bytes(), 0);
        auto put = [&](size_t at, uint64_t v, size_t n) {
            for (size_t i = 0; i < n; ++i) b[at + i] = uint8_t(v >> (8 * i));
        };
        put(0x1f1, setup_sects, 1);
        put(0x1fe, 0xaa55, 2);
        put(0x202, 0x53726448, 4);
        put(0x206, version, 2);
        put(0x248, payload_offset.value_or(code_before), 4);
        put(0x24c, payload_length.value_or(uint32_t(payload.size())), 4);
        put(0x260, 0x01000000, 4);
        b.insert(b.end(), code_before, 0xcc);
        b.insert(b.end(), payload.begin(), payload.end());
        b.insert(b.end(), code_after, 0xcc);
        return b;
    }
};

Bytes small_elf(size_t text_bytes = 70000) {
    testelf::Builder e;
    e.entry = 0xffffffff80001000;
    Bytes text = xz_test::x86_like(text_bytes, 31);
    e.segments.push_back({elf::PT_LOAD, elf::PF_R | elf::PF_X, 0xffffffff80000000, 0x200000, 0, 4096, text});
    return e.build();
}

// XZ as Linux's build makes it, followed by the uncompressed size.
Bytes xz_payload(const Bytes& data, uint32_t size_trailer) {
    Bytes p = xz_test::host_xz(data, "--check=crc32 --x86 --lzma2=dict=32MiB");
    xz_test::put_le32(p, size_trailer);
    return p;
}

std::span<const uint8_t> span_of(const Bytes& b) { return {b.data(), b.size()}; }

TEST(BzImage, PlainElfModuleIsUsedInPlace) {
    Bytes elf = small_elf();
    EXPECT_FALSE(bzimage::is_bzimage(span_of(elf)));
    auto c = kernel_image::inspect(span_of(elf));
    ASSERT_TRUE(c.has_value());
    EXPECT_FALSE(c->is_bzimage);
    EXPECT_EQ(c->format, bzimage::Format::elf);
    EXPECT_EQ(c->payload.data(), elf.data());
    EXPECT_EQ(c->payload.size(), elf.size());
    pv_test::TestMachine m(64);
    uint64_t free_before = m.mm.free_frames();
    auto k = kernel_image::load(m.mm, span_of(elf));
    ASSERT_TRUE(k.has_value());
    EXPECT_FALSE(k->owns_frames);
    EXPECT_EQ(k->elf.data(), elf.data());
    EXPECT_EQ(m.mm.free_frames(), free_before);
}

TEST(BzImage, LocatesThePayload) {
    for (uint8_t sects : {0, 1, 4, 30})
        for (uint16_t version : {0x0208, 0x020a, 0x020f}) {
            FakeBzImage f;
            f.setup_sects = sects;
            f.version = version;
            f.payload = small_elf();
            Bytes file = f.build();
            ASSERT_TRUE(bzimage::is_bzimage(span_of(file)));
            auto img = bzimage::parse(span_of(file));
            ASSERT_TRUE(img.has_value()) << int(sects) << " " << version;
            EXPECT_EQ(img->protocol, version);
            EXPECT_EQ(img->setup_bytes, f.setup_bytes()) << "setup_sects 0 means 4";
            EXPECT_EQ(img->payload_offset, f.payload_at());
            EXPECT_EQ(img->payload.data(), file.data() + f.payload_at());
            EXPECT_EQ(img->payload.size(), f.payload.size());
            EXPECT_EQ(img->format, bzimage::Format::elf);
            EXPECT_EQ(img->init_size, version >= 0x020a ? 0x01000000u : 0u);
        }
}

TEST(BzImage, EveryPayloadFormatIsNamed) {
    struct Case {
        Bytes magic;
        bzimage::Format format;
        const char* name;
    } cases[] = {
        {{'B', 'Z', 'h', '9'}, bzimage::Format::bzip2, "bzip2"},
        {{0x5d, 0x00, 0x00}, bzimage::Format::lzma, "LZMA"},
        {{0x89, 'L', 'Z', 'O', 0}, bzimage::Format::lzo, "LZO"},
        {{0x02, 0x21, 0x4c, 0x18}, bzimage::Format::lz4, "LZ4"},
        {{0x28, 0xb5, 0x2f, 0xfd}, bzimage::Format::zstd, "zstd"},
    };
    for (const Case& c : cases) {
        FakeBzImage f;
        f.payload = c.magic;
        f.payload.resize(64, 0x55);
        Bytes file = f.build();
        auto r = kernel_image::inspect(span_of(file));
        ASSERT_FALSE(r.has_value()) << c.name;
        EXPECT_EQ(r.error().error, kernel_image::Error::unsupported_format) << c.name;
        EXPECT_EQ(r.error().format, c.format) << c.name;
        EXPECT_STREQ(bzimage::format_name(r.error().format), c.name);
        EXPECT_EQ(r.error().where, f.payload_at());
    }
    FakeBzImage f;
    f.payload = Bytes(64, 0x42);
    Bytes file = f.build();
    auto r = kernel_image::inspect(span_of(file));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().error, kernel_image::Error::unknown_format);
    // An XZ payload truncated before its magic ends is not recognised as XZ.
    f.payload = {0xfd, '7', 'z'};
    file = f.build();
    r = kernel_image::inspect(span_of(file));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().error, kernel_image::Error::unknown_format);
}

bzimage::Error bz_error(const FakeBzImage& f, uint64_t* where = nullptr) {
    Bytes file = f.build();
    auto r = kernel_image::inspect(span_of(file));
    EXPECT_FALSE(r.has_value());
    if (r.has_value()) return bzimage::Error::ok;
    EXPECT_EQ(r.error().error, kernel_image::Error::bzimage);
    if (where) *where = r.error().where;
    return r.error().bzimage;
}

TEST(BzImage, MalformedSetupHeaders) {
    FakeBzImage f;
    f.payload = small_elf();
    uint64_t where = 0;
    FakeBzImage old = f;
    old.version = 0x0207;
    EXPECT_EQ(bz_error(old, &where), bzimage::Error::old_protocol);
    EXPECT_EQ(where, 0x206u);
    Bytes file = f.build();
    file[0x1f1] = 255;  // 256 sectors, past the end
    auto r = kernel_image::inspect(span_of(file));
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().bzimage, bzimage::Error::setup_outside);
    EXPECT_EQ(r.error().where, 0x1f1u);
    for (uint32_t off : {uint32_t(0x300 + f.payload.size()), 0x7fffffffu, 0xffffffffu}) {
        FakeBzImage o = f;
        o.payload_offset = off;
        EXPECT_EQ(bz_error(o, &where), bzimage::Error::payload_outside) << off;
        EXPECT_EQ(where, 0x248u);
    }
    for (uint32_t len : {uint32_t(f.payload.size() + 0x124), 0xffffffffu}) {
        FakeBzImage l = f;
        l.payload_length = len;
        EXPECT_EQ(bz_error(l), bzimage::Error::payload_outside) << len;
    }
    FakeBzImage e = f;
    e.payload_length = 0;
    EXPECT_EQ(bz_error(e, &where), bzimage::Error::empty_payload);
    EXPECT_EQ(where, 0x24cu);
}

TEST(BzImage, EveryTruncation) {
    Bytes elf = small_elf(3000);
    FakeBzImage f;
    f.setup_sects = 1;
    f.code_before = 16;
    f.code_after = 8;
    f.payload = xz_payload(elf, uint32_t(elf.size()));
    Bytes file = f.build();
    pv_test::TestMachine m(256);
    uint64_t free_before = m.mm.free_frames();
    size_t payload_end = f.payload_at() + f.payload.size();
    for (size_t n = 0; n <= file.size(); ++n) {
        Bytes cut(file.begin(), file.begin() + long(n));
        auto k = kernel_image::load(m.mm, span_of(cut));
        if (n < 0x206) {
            // Too short to carry the magic: taken as an ELF file, which the ELF loader refuses.
            ASSERT_TRUE(k.has_value()) << n;
            EXPECT_FALSE(k->contents.is_bzimage);
        } else if (n < payload_end) {
            ASSERT_FALSE(k.has_value()) << n;
        } else {
            ASSERT_TRUE(k.has_value()) << n << ": " << kernel_image::reason(k.error());
            EXPECT_TRUE(Bytes(k->elf.begin(), k->elf.end()) == elf);
            kernel_image::release(m.mm, *k);
        }
        ASSERT_EQ(m.mm.free_frames(), free_before) << n;
    }
}

TEST(BzImage, XzPayloadIsDecodedIntoFramesAndReleased) {
    Bytes elf = small_elf();
    FakeBzImage f;
    f.payload = xz_payload(elf, uint32_t(elf.size()));
    Bytes file = f.build();
    pv_test::TestMachine m(512);
    uint64_t free_before = m.mm.free_frames();
    auto k = kernel_image::load(m.mm, span_of(file));
    ASSERT_TRUE(k.has_value()) << kernel_image::reason(k.error());
    EXPECT_TRUE(k->contents.is_bzimage);
    EXPECT_EQ(k->contents.format, bzimage::Format::xz);
    EXPECT_EQ(k->contents.unpacked_size, elf.size());
    EXPECT_TRUE(k->owns_frames);
    EXPECT_TRUE(m.owns(k->elf.data()));
    EXPECT_EQ(k->order, MachineMemory::order_for(elf.size()));
    EXPECT_EQ(m.mm.free_frames(), free_before - (1u << k->order)) << "the decoder's frames are already back";
    ASSERT_TRUE(Bytes(k->elf.begin(), k->elf.end()) == elf);
    auto parsed = elf::parse(k->elf);
    ASSERT_TRUE(parsed.has_value()) << parsed.error().what;
    EXPECT_EQ(parsed->entry, Gva(0xffffffff80001000));
    kernel_image::release(m.mm, *k);
    EXPECT_EQ(m.mm.free_frames(), free_before);
}

TEST(BzImage, PaddingBetweenStreamAndSizeIsIgnored) {
    Bytes elf = small_elf();
    FakeBzImage f;
    f.payload = xz_test::host_xz(elf, "--check=crc32");
    f.payload.insert(f.payload.end(), 4, 0);
    xz_test::put_le32(f.payload, uint32_t(elf.size()));
    Bytes file = f.build();
    pv_test::TestMachine m(512);
    auto k = kernel_image::load(m.mm, span_of(file));
    ASSERT_TRUE(k.has_value()) << kernel_image::reason(k.error());
    EXPECT_TRUE(Bytes(k->elf.begin(), k->elf.end()) == elf);
    kernel_image::release(m.mm, *k);
}

kernel_image::Failure load_failure(const FakeBzImage& f, uint64_t frames = 512) {
    Bytes file = f.build();
    pv_test::TestMachine m(frames);
    uint64_t free_before = m.mm.free_frames();
    auto k = kernel_image::load(m.mm, span_of(file));
    EXPECT_FALSE(k.has_value());
    EXPECT_EQ(m.mm.free_frames(), free_before) << "a failure frees what it took";
    if (k.has_value()) {
        kernel_image::release(m.mm, *k);
        return kernel_image::Failure{};
    }
    return k.error();
}

TEST(BzImage, GzipPayloadIsDecoded) {
    // Linux's gzip payloads are a plain gzip member: its trailer ends with the size.
    Bytes elf = small_elf();
    FakeBzImage f;
    f.payload = xz_test::host_gzip(elf, "-n -9");
    Bytes file = f.build();
    pv_test::TestMachine m(512);
    uint64_t free_before = m.mm.free_frames();
    auto k = kernel_image::load(m.mm, span_of(file));
    ASSERT_TRUE(k.has_value()) << kernel_image::reason(k.error());
    EXPECT_EQ(k->contents.format, bzimage::Format::gzip);
    EXPECT_TRUE(k->owns_frames);
    EXPECT_TRUE(Bytes(k->elf.begin(), k->elf.end()) == elf);
    kernel_image::release(m.mm, *k);
    EXPECT_EQ(m.mm.free_frames(), free_before);

    f.payload[f.payload.size() / 2] ^= 0x08;
    auto bad = load_failure(f);
    EXPECT_EQ(bad.error, kernel_image::Error::gzip);
    EXPECT_STREQ(kernel_image::reason(bad), inflate::error_name(bad.gzip));
    // The old gzip magic (1f 9e) is recognised as gzip, and refused by the decoder.
    f.payload = xz_test::host_gzip(elf, "-n");
    f.payload[1] = 0x9e;
    auto old = load_failure(f);
    EXPECT_EQ(old.error, kernel_image::Error::gzip);
    EXPECT_EQ(old.gzip, inflate::Error::bad_magic);
    EXPECT_EQ(old.where, f.payload_at());
}

TEST(BzImage, UncompressedSizeMustMatch) {
    Bytes elf = small_elf();
    FakeBzImage f;
    f.payload = xz_payload(elf, 0);
    EXPECT_EQ(load_failure(f).error, kernel_image::Error::bad_size);
    f.payload = xz_payload(elf, 0xffffffffu);
    EXPECT_EQ(load_failure(f).error, kernel_image::Error::bad_size) << "over the largest block";
    f.payload = xz_payload(elf, uint32_t(elf.size() + 1));
    EXPECT_EQ(load_failure(f).error, kernel_image::Error::size_mismatch);
    f.payload = xz_payload(elf, uint32_t(elf.size() - 1));
    auto small = load_failure(f);
    EXPECT_EQ(small.error, kernel_image::Error::xz);
    EXPECT_EQ(small.xz, xz::Error::output_full);
    // The stream is what precedes the size field: here only its magic.
    f.payload = {0xfd, '7', 'z', 'X', 'Z', 0x00};
    xz_test::put_le32(f.payload, 100);
    auto cut = load_failure(f);
    EXPECT_EQ(cut.error, kernel_image::Error::xz);
    EXPECT_EQ(cut.xz, xz::Error::truncated);
}

TEST(BzImage, CorruptXzPayloadIsReportedInsideIt) {
    Bytes elf = small_elf();
    FakeBzImage f;
    f.payload = xz_payload(elf, uint32_t(elf.size()));
    f.payload[f.payload.size() / 2] ^= 0x40;
    auto fail = load_failure(f);
    EXPECT_EQ(fail.error, kernel_image::Error::xz);
    EXPECT_GE(fail.where, f.payload_at());
    EXPECT_LT(fail.where, f.payload_at() + f.payload.size());
    EXPECT_STREQ(kernel_image::reason(fail), xz::error_name(fail.xz));
    // The stream must end before the size field: cut so that it runs into it.
    f.payload = xz_payload(elf, uint32_t(elf.size()));
    f.payload.erase(f.payload.end() - 6, f.payload.end() - 4);
    EXPECT_EQ(load_failure(f).error, kernel_image::Error::xz);
}

TEST(BzImage, OutOfMemoryForTheKernel) {
    Bytes big(3 << 20, 'k');
    FakeBzImage f;
    f.payload = xz_payload(big, uint32_t(big.size()));
    auto fail = load_failure(f, 256);  // 1 MiB of machine memory
    EXPECT_EQ(fail.error, kernel_image::Error::out_of_memory);
    EXPECT_EQ(fail.where, f.payload_at());
}

TEST(BzImage, UncompressedElfPayloadIsUsedInPlace) {
    Bytes elf = small_elf();
    FakeBzImage f;
    f.payload = elf;
    Bytes file = f.build();
    pv_test::TestMachine m(64);
    auto k = kernel_image::load(m.mm, span_of(file));
    ASSERT_TRUE(k.has_value());
    EXPECT_FALSE(k->owns_frames);
    EXPECT_EQ(k->elf.data(), file.data() + f.payload_at());
    EXPECT_EQ(k->elf.size(), elf.size());
}

}  // namespace
