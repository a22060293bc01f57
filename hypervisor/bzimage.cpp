#include "bzimage.hpp"

#include "kstd/string.hpp"

namespace bzimage {

namespace {

constexpr uint16_t PROTOCOL_INIT_SIZE = 0x020a;

struct Magic {
    Format format;
    uint8_t bytes[6];
    size_t size;
};

// The magic numbers boot.rst lists for payloads, and LZO's ("\x89LZO").
constexpr Magic MAGICS[] = {
    {Format::elf, {0x7f, 'E', 'L', 'F'}, 4},
    {Format::gzip, {0x1f, 0x8b}, 2},
    {Format::gzip, {0x1f, 0x9e}, 2},
    {Format::bzip2, {'B', 'Z'}, 2},
    {Format::lzma, {0x5d, 0x00}, 2},
    {Format::xz, {0xfd, '7', 'z', 'X', 'Z', 0x00}, 6},
    {Format::lzo, {0x89, 'L', 'Z', 'O'}, 4},
    {Format::lz4, {0x02, 0x21}, 2},
    {Format::zstd, {0x28, 0xb5, 0x2f, 0xfd}, 4},
};

kstd::Unexpected<Failure> fail(Error e, uint64_t where) { return kstd::unexpected(Failure{e, where}); }

}  // namespace

const char* format_name(Format f) {
    switch (f) {
    case Format::elf: return "uncompressed ELF";
    case Format::gzip: return "gzip";
    case Format::bzip2: return "bzip2";
    case Format::lzma: return "LZMA";
    case Format::xz: return "XZ";
    case Format::lzo: return "LZO";
    case Format::lz4: return "LZ4";
    case Format::zstd: return "zstd";
    case Format::unknown: return "unknown";
    }
    return "unknown";
}

Format detect_format(std::span<const uint8_t> payload) {
    for (const Magic& m : MAGICS)
        if (payload.size() >= m.size && memcmp(payload.data(), m.bytes, m.size) == 0) return m.format;
    return Format::unknown;
}

const char* error_name(Error e) {
    switch (e) {
    case Error::ok: return "no error";
    case Error::truncated_header: return "bzImage ends inside its setup header";
    case Error::old_protocol: return "bzImage boot protocol older than 2.08 (no payload fields)";
    case Error::setup_outside: return "bzImage setup area larger than the file";
    case Error::payload_outside: return "bzImage payload lies outside the file";
    case Error::empty_payload: return "bzImage payload is empty";
    }
    return "unknown error";
}

bool is_bzimage(std::span<const uint8_t> file) {
    constexpr size_t at = SETUP_HEADER_OFFSET + offsetof(SetupHeader, header);
    if (file.size() < at + sizeof(uint32_t)) return false;
    uint32_t magic;
    memcpy(&magic, file.data() + at, sizeof magic);
    return magic == HEADER_MAGIC;
}

uint32_t trailing_size(std::span<const uint8_t> payload) {
    const uint8_t* p = payload.data() + payload.size() - SIZE_TRAILER;
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

kstd::Expected<Image, Failure> parse(std::span<const uint8_t> file) {
    if (file.size() < SETUP_HEADER_OFFSET + sizeof(SetupHeader)) return fail(Error::truncated_header, file.size());
    SetupHeader h;
    memcpy(&h, file.data() + SETUP_HEADER_OFFSET, sizeof h);
    auto field = [](size_t offset) { return uint64_t(SETUP_HEADER_OFFSET + offset); };
    if (h.version < PROTOCOL_PAYLOAD) return fail(Error::old_protocol, field(offsetof(SetupHeader, version)));
    Image img{};
    img.protocol = h.version;
    img.setup_bytes = (uint32_t(h.setup_sects ? h.setup_sects : DEFAULT_SETUP_SECTS) + 1) * SECTOR;
    if (img.setup_bytes > file.size()) return fail(Error::setup_outside, field(offsetof(SetupHeader, setup_sects)));
    img.payload_offset = uint64_t(img.setup_bytes) + h.payload_offset;
    if (img.payload_offset > file.size() || h.payload_length > file.size() - img.payload_offset)
        return fail(Error::payload_outside, field(offsetof(SetupHeader, payload_offset)));
    if (h.payload_length == 0) return fail(Error::empty_payload, field(offsetof(SetupHeader, payload_length)));
    img.payload = file.subspan(size_t(img.payload_offset), h.payload_length);
    img.format = detect_format(img.payload);
    img.init_size = h.version >= PROTOCOL_INIT_SIZE ? h.init_size : 0;
    return img;
}

}  // namespace bzimage
