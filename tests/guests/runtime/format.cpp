#include "runtime/format.hpp"

namespace kt {
namespace {

struct Out {
    char* buf;
    std::size_t size;
    std::size_t len = 0;

    void put(char c)
    {
        if (len + 1 < size)
            buf[len] = c;
        ++len;
    }
    void puts(const char* s)
    {
        for (; s != nullptr && *s != '\0'; ++s)
            put(*s);
    }
    void number(std::uint64_t v, unsigned base)
    {
        char digits[24];
        int n = 0;
        do {
            digits[n++] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v != 0);
        while (n > 0)
            put(digits[--n]);
    }
    void arg(const FmtArg& a, bool hex)
    {
        switch (a.kind) {
        case FmtArg::Kind::Text:
            puts(a.text == nullptr ? "(null)" : a.text);
            return;
        case FmtArg::Kind::Bool:
            puts(a.u != 0 ? "true" : "false");
            return;
        case FmtArg::Kind::Pointer:
            puts("0x");
            number(a.u, 16);
            return;
        case FmtArg::Kind::Signed:
            if (!hex && a.s < 0) {
                put('-');
                number(0 - static_cast<std::uint64_t>(a.s), 10);
                return;
            }
            break;
        case FmtArg::Kind::Unsigned:
            break;
        }
        if (hex)
            puts("0x");
        number(a.u, hex ? 16 : 10);
    }
};

} // namespace

std::size_t format_into(char* buf, std::size_t size, const char* fmt, const FmtArg* args, std::size_t count)
{
    Out out{buf, size};
    std::size_t next = 0;
    for (const char* p = fmt; *p != '\0'; ++p) {
        const bool plain = p[0] == '{' && p[1] == '}';
        const bool hex = p[0] == '{' && p[1] == 'x' && p[2] == '}';
        if (!plain && !hex) {
            out.put(*p);
            continue;
        }
        if (next < count)
            out.arg(args[next++], hex);
        else
            out.puts("{?}");  // more placeholders than arguments: visible, not a crash
        p += plain ? 1 : 2;
    }
    if (size != 0)
        buf[out.len < size ? out.len : size - 1] = '\0';
    return out.len < size ? out.len : (size == 0 ? 0 : size - 1);
}

} // namespace kt
