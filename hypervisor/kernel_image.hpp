// What a domain's kernel module holds, and the ELF image inside it: a plain ELF is used in
// place; a bzImage's payload is used in place when it is an uncompressed ELF, and decoded
// into frames of the hypervisor's when it is XZ-compressed (as Debian's kernels are) or
// gzip-compressed. Payloads compressed otherwise are recognised and refused by name.
//
// Memory: load() takes one block of frames big enough for the uncompressed size the payload
// ends with (bzimage.hpp), and a few frames for the decoders, freed before it returns; the
// caller gives the block back with release() once the domain is built. A failure frees
// everything it took.
#pragma once

#include <span>

#include "bzimage.hpp"
#include "inflate.hpp"
#include "kstd/expected.hpp"
#include "machine_memory.hpp"
#include "xz.hpp"

namespace kernel_image {

enum class Error : uint8_t {
    ok,
    bzimage,             // the setup header is unusable: see Failure::bzimage
    unsupported_format,  // a payload compressed otherwise than with XZ or gzip (Failure::format)
    unknown_format,      // a payload with no known magic
    bad_size,            // the uncompressed size the payload ends with is 0 or over MAX_UNPACKED
    out_of_memory,       // no block of frames that large
    xz,                  // the XZ data is malformed: see Failure::xz
    gzip,                // the gzip data is malformed: see Failure::gzip
    size_mismatch,       // the payload decodes to another size than it announces
};

const char* error_name(Error e);

// The largest kernel Kestrel unpacks: the frame allocator's largest block.
constexpr uint64_t MAX_UNPACKED = PAGE_SIZE << FrameAllocator::MAX_ORDER;

struct Failure {
    Error error;
    uint64_t where;  // offset in the module of the structure at fault
    bzimage::Error bzimage;
    xz::Error xz;
    inflate::Error gzip;
    bzimage::Format format;
};

// The most specific description of a failure: the bzImage, XZ or gzip reason if there is one.
const char* reason(const Failure& f);

struct Contents {
    bool is_bzimage;
    uint16_t protocol;                 // bzImage only
    bzimage::Format format;            // of the payload (elf for a plain ELF module)
    std::span<const uint8_t> payload;  // the whole module for a plain ELF
    uint64_t payload_offset;           // in the module
    uint64_t unpacked_size;            // compressed payloads: what the payload ends with
};

// Recognises the module and locates its payload; a module that is not a bzImage is taken as
// an ELF file (the ELF loader judges it).
kstd::Expected<Contents, Failure> inspect(std::span<const uint8_t> module);

// The decoders' state (about 36 KiB: too big for a hypervisor stack).
struct Decoders {
    xz::Decoder xz;
    inflate::Decoder gzip;
};

// Decodes a compressed payload into out, which must hold c.unpacked_size bytes; returns the
// ELF image's bytes (a prefix of out).
kstd::Expected<std::span<const uint8_t>, Failure> unpack(const Contents& c, std::span<uint8_t> out, Decoders& d);

struct Kernel {
    std::span<const uint8_t> elf;
    Contents contents;
    bool owns_frames;  // elf lies in frames load() took
    Mfn first;
    unsigned order;
};

kstd::Expected<Kernel, Failure> load(MachineMemory& mm, std::span<const uint8_t> module);
void release(MachineMemory& mm, const Kernel& k);

}  // namespace kernel_image
