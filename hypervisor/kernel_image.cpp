#include "kernel_image.hpp"

namespace kernel_image {

namespace {

kstd::Unexpected<Failure> fail(Error e, uint64_t where, bzimage::Format format = bzimage::Format::unknown) {
    return kstd::unexpected(Failure{e, where, bzimage::Error::ok, xz::Error::ok, inflate::Error::ok, format});
}

// XZ, as Linux's build writes it: the stream, then the size it appends (not part of the
// stream, which must end before it).
kstd::Expected<uint64_t, Failure> unpack_xz(const Contents& c, std::span<uint8_t> out, xz::Decoder& d) {
    std::span<const uint8_t> stream = c.payload.first(c.payload.size() - bzimage::SIZE_TRAILER);
    auto r = d.decode(stream, out, xz::Mode::single_stream);
    if (r) return r->out_size;
    Failure f = fail(Error::xz, c.payload_offset + r.error().offset, c.format).error;
    f.xz = r.error().error;
    return kstd::unexpected(f);
}

// gzip: the member's own trailer ends with the size, which is what the payload ends with.
kstd::Expected<uint64_t, Failure> unpack_gzip(const Contents& c, std::span<uint8_t> out, inflate::Decoder& d) {
    auto r = d.decode_gzip(c.payload, out);
    if (r) return r->out_size;
    Failure f = fail(Error::gzip, c.payload_offset + r.error().offset, c.format).error;
    f.gzip = r.error().error;
    return kstd::unexpected(f);
}

}  // namespace

const char* error_name(Error e) {
    switch (e) {
    case Error::ok: return "no error";
    case Error::bzimage: return "malformed bzImage";
    case Error::unsupported_format: return "compressed payload in a format Kestrel does not decode (only XZ and gzip)";
    case Error::unknown_format: return "bzImage payload in an unknown format";
    case Error::bad_size: return "uncompressed size at the payload's end is zero or too large";
    case Error::out_of_memory: return "no memory for the uncompressed kernel";
    case Error::xz: return "malformed XZ payload";
    case Error::gzip: return "malformed gzip payload";
    case Error::size_mismatch: return "payload decodes to another size than its end announces";
    }
    return "unknown error";
}

const char* reason(const Failure& f) {
    if (f.error == Error::bzimage) return bzimage::error_name(f.bzimage);
    if (f.error == Error::xz) return xz::error_name(f.xz);
    if (f.error == Error::gzip) return inflate::error_name(f.gzip);
    return error_name(f.error);
}

kstd::Expected<Contents, Failure> inspect(std::span<const uint8_t> module) {
    if (!bzimage::is_bzimage(module)) return Contents{false, 0, bzimage::Format::elf, module, 0, 0};
    auto img = bzimage::parse(module);
    if (!img) {
        Failure f = fail(Error::bzimage, img.error().where).error;
        f.bzimage = img.error().error;
        return kstd::unexpected(f);
    }
    Contents c{true, img->protocol, img->format, img->payload, img->payload_offset, 0};
    switch (c.format) {
    case bzimage::Format::elf: return c;
    case bzimage::Format::unknown: return fail(Error::unknown_format, c.payload_offset);
    case bzimage::Format::xz:
    case bzimage::Format::gzip: break;
    default: return fail(Error::unsupported_format, c.payload_offset, c.format);
    }
    if (c.payload.size() < bzimage::SIZE_TRAILER) return fail(Error::bad_size, c.payload_offset);
    c.unpacked_size = bzimage::trailing_size(c.payload);
    if (c.unpacked_size == 0 || c.unpacked_size > MAX_UNPACKED)
        return fail(Error::bad_size, c.payload_offset + c.payload.size() - bzimage::SIZE_TRAILER, c.format);
    return c;
}

kstd::Expected<std::span<const uint8_t>, Failure> unpack(const Contents& c, std::span<uint8_t> out, Decoders& d) {
    if (c.format == bzimage::Format::elf) return c.payload;
    // Only XZ and gzip get here (inspect refuses the rest).
    std::span<uint8_t> room = out.first(size_t(c.unpacked_size));
    auto size = c.format == bzimage::Format::xz ? unpack_xz(c, room, d.xz) : unpack_gzip(c, room, d.gzip);
    if (!size) return kstd::unexpected(size.error());
    if (*size != c.unpacked_size) return fail(Error::size_mismatch, c.payload_offset, c.format);
    return std::span<const uint8_t>(out.data(), size_t(*size));
}

kstd::Expected<Kernel, Failure> load(MachineMemory& mm, std::span<const uint8_t> module) {
    auto c = inspect(module);
    if (!c) return kstd::unexpected(c.error());
    if (c->format == bzimage::Format::elf) return Kernel{c->payload, *c, false, Mfn(0), 0};
    unsigned order = MachineMemory::order_for(c->unpacked_size);
    auto block = mm.alloc_zeroed(order);
    if (!block) return fail(Error::out_of_memory, c->payload_offset, c->format);
    auto* decoders = mm.create<Decoders>();
    if (!decoders) {
        mm.free(*block, order);
        return fail(Error::out_of_memory, c->payload_offset, c->format);
    }
    std::span<uint8_t> out(static_cast<uint8_t*>(mm.map(*block)), size_t(PAGE_SIZE << order));
    auto elf = unpack(*c, out, *decoders);
    mm.destroy(decoders);
    if (!elf) {
        mm.free(*block, order);
        return kstd::unexpected(elf.error());
    }
    return Kernel{*elf, *c, true, *block, order};
}

void release(MachineMemory& mm, const Kernel& k) {
    if (k.owns_frames) mm.free(k.first, k.order);
}

}  // namespace kernel_image
