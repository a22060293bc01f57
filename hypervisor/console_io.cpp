// console_io: the hypervisor console as a guest sees it. The control domain writes straight
// to the serial line (its output may be interactive) and reads what is typed there; other
// domains may write only if allowed to (Xen's is_console), and their output is logged a line
// at a time, printable characters only, tagged with the domain.
#include <xen/errno.h>
#include <xen/xen.h>

#include "console.hpp"
#include "console_input.hpp"
#include "domain.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "log.hpp"
#include "vcpu.hpp"

namespace {

bool printable(char c) { return (c >= 0x20 && c < 0x7f) || c == '\t'; }

void flush_line(Domain& d) {
    log::info("(d{}) {}", d.id(), kstd::StringView(d.console_line, d.console_line_len));
    d.console_line_len = 0;
}

void domain_output(Domain& d, const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
        if (s[i] == '\n') {
            flush_line(d);
            continue;
        }
        if (!printable(s[i])) continue;
        if (d.console_line_len == sizeof d.console_line) flush_line(d);
        d.console_line[d.console_line_len++] = s[i];
    }
}

long console_write(Vcpu& v, uint32_t count, uint64_t buffer) {
    char chunk[128];
    while (count > 0) {
        uint32_t n = count < sizeof chunk ? count : uint32_t(sizeof chunk);
        if (!guest::copy_from(chunk, Gva(buffer), n)) return -XEN_EFAULT;
        if (v.domain().privileged()) console::write(kstd::StringView(chunk, n));
        else domain_output(v.domain(), chunk, n);
        buffer += n;
        count -= n;
    }
    return 0;
}

long console_read(uint32_t count, uint64_t buffer) {
    // The result is a count or a negative error: counts that could look negative are refused.
    if (count > 0x7fffffff) return -XEN_E2BIG;
    long done = 0;
    char chunk[64];
    while (uint32_t(done) < count && console_input::pending()) {
        size_t want = count - uint32_t(done) < sizeof chunk ? count - uint32_t(done) : sizeof chunk;
        size_t got = console_input::peek(chunk, want);
        // Characters leave the ring only once the guest has them, as on Xen.
        if (!guest::copy_to(Gva(buffer + uint64_t(done)), chunk, got)) return -XEN_EFAULT;
        console_input::consume(got);
        done += long(got);
    }
    return done;
}

}  // namespace

long do_console_io(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    if (!v.domain().console_access()) return -XEN_EPERM;
    switch (uint32_t(args.a0)) {
    case CONSOLEIO_write: return console_write(v, uint32_t(args.a1), args.a2);
    case CONSOLEIO_read: return console_read(uint32_t(args.a1), args.a2);
    default: return -XEN_ENOSYS;
    }
}
