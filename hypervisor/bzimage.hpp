// Linux's bzImage as a boot loader sees it (Documentation/x86/boot.rst, the Linux/x86 boot
// protocol): a real-mode setup area of (setup_sects + 1) 512-byte sectors, whose setup header
// starts at byte 0x1f1, followed by the protected-mode code. From protocol 2.08 on the header
// says where, inside the protected-mode code, the kernel proper lies (payload_offset,
// payload_length): an ELF vmlinux, usually compressed. Its format is told by its magic bytes.
// Linux's build appends the uncompressed size (32 bits, little-endian) to the compressed data,
// and its own decompressor takes the output length from those last four bytes of the payload,
// whatever the format; so does Kestrel.
//
// Only the fields that locate the payload are used; the rest (real-mode entry, loader flags,
// the 32-bit entry) concern loaders that start the kernel in its own boot code, which a PV
// domain never runs.
#pragma once

#include <cstddef>
#include <span>

#include "kstd/expected.hpp"
#include "kstd/types.hpp"

namespace bzimage {

// The setup header, bytes 0x1f1..0x26b of the file (protocol 2.12). Offsets are the file's.
struct [[gnu::packed]] SetupHeader {
    uint8_t setup_sects;          // 0x1f1: setup area sectors after the boot sector; 0 means 4
    uint16_t root_flags;          // 0x1f2
    uint32_t syssize;             // 0x1f4: protected-mode code size in 16-byte units
    uint16_t ram_size;            // 0x1f8
    uint16_t vid_mode;            // 0x1fa
    uint16_t root_dev;            // 0x1fc
    uint16_t boot_flag;           // 0x1fe: 0xaa55
    uint16_t jump;                // 0x200
    uint32_t header;              // 0x202: "HdrS"
    uint16_t version;             // 0x206: boot protocol, major << 8 | minor
    uint32_t realmode_swtch;      // 0x208
    uint16_t start_sys_seg;       // 0x20c
    uint16_t kernel_version;      // 0x20e
    uint8_t type_of_loader;       // 0x210
    uint8_t loadflags;            // 0x211
    uint16_t setup_move_size;     // 0x212
    uint32_t code32_start;        // 0x214
    uint32_t ramdisk_image;       // 0x218
    uint32_t ramdisk_size;        // 0x21c
    uint32_t bootsect_kludge;     // 0x220
    uint16_t heap_end_ptr;        // 0x224
    uint8_t ext_loader_ver;       // 0x226
    uint8_t ext_loader_type;      // 0x227
    uint32_t cmd_line_ptr;        // 0x228
    uint32_t initrd_addr_max;     // 0x22c
    uint32_t kernel_alignment;    // 0x230
    uint8_t relocatable_kernel;   // 0x234
    uint8_t min_alignment;        // 0x235
    uint16_t xloadflags;          // 0x236
    uint32_t cmdline_size;        // 0x238
    uint32_t hardware_subarch;    // 0x23c
    uint64_t hardware_subarch_data;  // 0x240
    uint32_t payload_offset;      // 0x248: from the start of the protected-mode code (2.08+)
    uint32_t payload_length;      // 0x24c (2.08+)
    uint64_t setup_data;          // 0x250
    uint64_t pref_address;        // 0x258
    uint32_t init_size;           // 0x260: memory the kernel needs to decompress and start (2.10+)
    uint32_t handover_offset;     // 0x264
    uint32_t kernel_info_offset;  // 0x268
};
constexpr size_t SETUP_HEADER_OFFSET = 0x1f1;
static_assert(sizeof(SetupHeader) == 0x26c - SETUP_HEADER_OFFSET);
static_assert(offsetof(SetupHeader, syssize) == 0x1f4 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, boot_flag) == 0x1fe - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, header) == 0x202 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, version) == 0x206 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, loadflags) == 0x211 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, code32_start) == 0x214 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, cmd_line_ptr) == 0x228 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, xloadflags) == 0x236 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, hardware_subarch_data) == 0x240 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, payload_offset) == 0x248 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, payload_length) == 0x24c - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, pref_address) == 0x258 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, init_size) == 0x260 - SETUP_HEADER_OFFSET &&
              offsetof(SetupHeader, kernel_info_offset) == 0x268 - SETUP_HEADER_OFFSET);

constexpr uint32_t HEADER_MAGIC = 0x53726448;  // "HdrS", little-endian
constexpr uint16_t BOOT_FLAG = 0xaa55;
constexpr uint16_t PROTOCOL_PAYLOAD = 0x0208;  // first version with payload_offset/length
constexpr unsigned SECTOR = 512;
constexpr unsigned DEFAULT_SETUP_SECTS = 4;    // what setup_sects == 0 means
constexpr size_t SIZE_TRAILER = 4;             // the uncompressed size after compressed data

// Payload formats, by their magic bytes.
enum class Format : uint8_t { elf, gzip, bzip2, lzma, xz, lzo, lz4, zstd, unknown };

const char* format_name(Format f);
Format detect_format(std::span<const uint8_t> payload);

enum class Error : uint8_t {
    ok,
    truncated_header,  // "HdrS" present but the file ends inside the setup header
    old_protocol,      // before 2.08: the payload cannot be located
    setup_outside,     // the setup area is longer than the file
    payload_outside,   // payload_offset + payload_length past the file's end
    empty_payload,
};

const char* error_name(Error e);

struct Failure {
    Error error;
    uint64_t where;  // offset in the file of the field at fault
};

struct Image {
    uint16_t protocol;
    uint32_t setup_bytes;          // (setup_sects + 1) * 512: where the protected-mode code starts
    uint64_t payload_offset;       // in the file
    std::span<const uint8_t> payload;
    Format format;
    uint32_t init_size;            // 0 before protocol 2.10
};

// Whether the file carries the "HdrS" magic of a Linux boot image.
bool is_bzimage(std::span<const uint8_t> file);

// Locates the payload of a bzImage (is_bzimage must be true).
kstd::Expected<Image, Failure> parse(std::span<const uint8_t> file);

// The uncompressed size a compressed payload ends with (it must be at least four bytes long).
uint32_t trailing_size(std::span<const uint8_t> payload);

}  // namespace bzimage
