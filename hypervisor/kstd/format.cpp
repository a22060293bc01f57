#include "kstd/format.hpp"

namespace kstd {

namespace {

struct Spec {
    bool hex = false;
    bool prefix = false;
    bool zero_pad = false;
    unsigned width = 0;
};

Spec parse_spec(StringView s) {
    Spec spec;
    size_t i = 0;
    if (i < s.size() && s[i] == ':') ++i;
    if (i < s.size() && s[i] == '#') { spec.prefix = true; ++i; }
    if (i < s.size() && s[i] == '0') { spec.zero_pad = true; ++i; }
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') spec.width = spec.width * 10 + unsigned(s[i++] - '0');
    if (i < s.size() && s[i] == 'x') spec.hex = true;
    return spec;
}

void pad(Sink& out, size_t have, const Spec& spec) {
    char fill = spec.zero_pad ? '0' : ' ';
    for (size_t i = have; i < spec.width; ++i) out.write(&fill, 1);
}

void write_unsigned(Sink& out, uint64_t v, const Spec& spec, bool negative = false) {
    char digits[24];
    size_t n = 0;
    unsigned base = spec.hex ? 16 : 10;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    // The width counts the sign and the 0x prefix too, as in std::format.
    size_t extra = (negative ? 1 : 0) + (spec.prefix && spec.hex ? 2 : 0);
    if (!spec.zero_pad) pad(out, n + extra, spec);
    if (negative) out.write("-", 1);
    if (spec.prefix && spec.hex) out.write("0x", 2);
    if (spec.zero_pad) pad(out, n + extra, spec);
    while (n) out.write(&digits[--n], 1);
}

void write_arg(Sink& out, const FormatArg& arg, const Spec& spec) {
    switch (arg.kind()) {
    case FormatArg::Kind::signed_int: {
        int64_t v = arg.as_signed();
        if (v < 0 && !spec.hex) {
            write_unsigned(out, ~uint64_t(v) + 1, spec, true);
            return;
        }
        write_unsigned(out, uint64_t(v), spec);
        return;
    }
    case FormatArg::Kind::unsigned_int:
        write_unsigned(out, arg.as_unsigned(), spec);
        return;
    case FormatArg::Kind::boolean: {
        StringView s = arg.as_unsigned() ? "true" : "false";
        out.write(s.data(), s.size());
        return;
    }
    case FormatArg::Kind::character: {
        char c = char(arg.as_unsigned());
        out.write(&c, 1);
        return;
    }
    case FormatArg::Kind::string: {
        StringView s = arg.as_string();
        out.write(s.data(), s.size());
        pad(out, s.size(), spec);
        return;
    }
    case FormatArg::Kind::pointer: {
        Spec p{true, true, true, 18};
        write_unsigned(out, arg.as_unsigned(), p);
        return;
    }
    }
}

}  // namespace

void vformat(Sink& out, const char* fmt, const FormatArg* args, size_t nargs) {
    size_t next = 0;
    const char* run = fmt;
    const char* p = fmt;
    while (*p) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            out.write(run, size_t(p - run) + 1);
            p += 2;
            run = p;
            continue;
        }
        if (*p != '{') { ++p; continue; }
        out.write(run, size_t(p - run));
        const char* end = p + 1;
        while (*end && *end != '}') ++end;
        // The compile-time check guarantees a closing brace and enough arguments.
        if (next < nargs) write_arg(out, args[next++], parse_spec(StringView(p + 1, size_t(end - p - 1))));
        p = *end ? end + 1 : end;
        run = p;
    }
    out.write(run, size_t(p - run));
}

void BufferSink::write(const char* s, size_t n) {
    if (cap_ == 0) {
        truncated_ = truncated_ || n;
        return;
    }
    size_t room = cap_ - 1 - len_;
    size_t take = min(room, n);
    if (take) memcpy(buf_ + len_, s, take);  // an empty view may carry a null pointer
    len_ += take;
    buf_[len_] = '\0';
    if (take < n) truncated_ = true;
}

}  // namespace kstd
