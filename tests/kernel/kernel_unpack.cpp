// kernel_unpack VMLINUZ [--out FILE] [--repeat N]
//
// Runs Kestrel's kernel-module path on a real kernel file on the host: recognises the module
// (kernel_image::inspect), decodes its XZ or gzip payload with Kestrel's decoders
// (kernel_image::unpack), and checks that the result is an ELF64 that Kestrel's ELF and
// Xen-note readers accept, with the notes a PV kernel must have, then applies Xen's rules for
// a dom0 kernel (xen_notes::plan_pv_kernel). Prints what it found and the decoding speed (the best of
// --repeat runs, in CPU time); --out writes the decoded image for comparison with another
// decoder. Exits non-zero, saying why, on any failure.
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "elf.hpp"
#include "kernel_image.hpp"
#include "xen_elfnotes.hpp"

namespace {

double cpu_seconds() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

int fail(const std::string& why) {
    std::fprintf(stderr, "kernel_unpack: %s\n", why.c_str());
    return 1;
}

std::string hex(uint64_t v) {
    char b[32];
    std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
    return b;
}

int fail(const std::string& what, const char* why, uint64_t where) { return fail(what + why + " at " + hex(where)); }

// The notes every 64-bit PV Linux kernel carries and Kestrel's builder relies on.
int check_notes(std::span<const uint8_t> elf_bytes) {
    auto image = elf::parse(elf_bytes);
    if (!image) return fail("decoded payload is not an acceptable ELF64: ", image.error().what, image.error().where);
    auto notes = xen_notes::parse(*image);
    if (!notes) return fail("Xen notes unreadable: ", notes.error().what, notes.error().where);
    std::printf("ELF64 x86_64, entry %s, %zu loadable segments, %zu Xen notes\n", hex(image->entry.raw()).c_str(),
                image->segment_count, notes->count);
    struct Required {
        unsigned type;
        const char* name;
    } required[] = {{XEN_ELFNOTE_ENTRY, "ENTRY"},         {XEN_ELFNOTE_VIRT_BASE, "VIRT_BASE"},
                    {XEN_ELFNOTE_XEN_VERSION, "XEN_VERSION"}, {XEN_ELFNOTE_GUEST_OS, "GUEST_OS"},
                    {XEN_ELFNOTE_FEATURES, "FEATURES"}};
    for (const Required& r : required) {
        if (!notes->has(r.type)) return fail(std::string("no XEN_ELFNOTE_") + r.name + " note");
    }
    // Kernels with the fix for XSA-466 (Debian's 6.1 among them) no longer have a hypercall page.
    std::string hypercall_page = notes->has(XEN_ELFNOTE_HYPERCALL_PAGE) ? hex(notes->hypercall_page) : "none";
    std::printf("XEN_ELFNOTE_ENTRY %s, HYPERCALL_PAGE %s, VIRT_BASE %s, GUEST_OS \"%.*s\", XEN_VERSION \"%.*s\"\n",
                hex(notes->entry).c_str(), hypercall_page.c_str(), hex(notes->virt_base).c_str(),
                int(notes->guest_os.size()), notes->guest_os.data(), int(notes->xen_version.size()),
                notes->xen_version.data());
    auto plan = xen_notes::plan_pv_kernel(*image, *notes, xen_notes::Policy{0, true});
    if (!plan) return fail("refused as a dom0 kernel: ", plan.error().what, plan.error().where);
    std::printf("dom0 kernel plan: [%s, %s), entry %s\n", hex(plan->kernel_start.raw()).c_str(),
                hex(plan->kernel_end.raw()).c_str(), hex(plan->entry.raw()).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) return fail("usage: kernel_unpack VMLINUZ [--out FILE] [--repeat N]");
    std::string out_path;
    int repeat = 1;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--out") == 0) out_path = argv[i + 1];
        else if (std::strcmp(argv[i], "--repeat") == 0) repeat = std::atoi(argv[i + 1]);
        else return fail(std::string("unknown option ") + argv[i]);
    }
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) return fail(std::string("cannot read ") + argv[1]);
    std::vector<uint8_t> module((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());

    auto c = kernel_image::inspect(module);
    if (!c) return fail("module refused: ", kernel_image::reason(c.error()), c.error().where);
    if (!c->is_bzimage) return fail("not a bzImage");
    std::printf("bzImage, boot protocol %u.%02u, %s payload of %zu bytes at %s, %llu bytes unpacked\n",
                c->protocol >> 8, c->protocol & 0xff, bzimage::format_name(c->format), c->payload.size(),
                hex(c->payload_offset).c_str(), static_cast<unsigned long long>(c->unpacked_size));
    if (c->format != bzimage::Format::xz && c->format != bzimage::Format::gzip)
        return fail("payload is neither XZ nor gzip");

    std::vector<uint8_t> out(c->unpacked_size);
    auto decoders = std::make_unique<kernel_image::Decoders>();
    double best = 1e9;
    std::span<const uint8_t> elf_bytes;
    for (int i = 0; i < repeat; ++i) {
        double t0 = cpu_seconds();
        auto r = kernel_image::unpack(*c, out, *decoders);
        double t = cpu_seconds() - t0;
        if (!r) return fail("decoding failed: ", kernel_image::reason(r.error()), r.error().where);
        elf_bytes = *r;
        best = t < best ? t : best;
    }
    std::printf("decoded in %.3f s of CPU time: %.1f MB/s of output, %.1f MB/s of input\n", best,
                double(elf_bytes.size()) / best / 1e6, double(c->payload.size()) / best / 1e6);
    if (!out_path.empty()) {
        std::ofstream o(out_path, std::ios::binary);
        o.write(reinterpret_cast<const char*>(elf_bytes.data()), std::streamsize(elf_bytes.size()));
        if (!o) return fail("cannot write " + out_path);
    }
    return check_notes(elf_bytes);
}
