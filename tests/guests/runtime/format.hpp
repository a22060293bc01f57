// The formatter behind print(): "{}" prints the next argument in decimal (strings as text,
// bools as true/false, pointers in hex), "{x}" in hexadecimal with a 0x prefix; a placeholder
// with no argument left prints "{?}", extra arguments are ignored. Free of any hypervisor
// dependency so that the host unit tests run it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace kt {

struct FmtArg {
    enum class Kind : std::uint8_t { Signed, Unsigned, Text, Pointer, Bool };
    Kind kind;
    union {
        std::int64_t s;
        std::uint64_t u;
        const char* text;
    };
};

template <typename T> FmtArg fmt_arg(T value)
{
    FmtArg a{};
    if constexpr (std::is_same_v<T, bool>) {
        a.kind = FmtArg::Kind::Bool;
        a.u = value;
    } else if constexpr (std::is_same_v<T, const char*> || std::is_same_v<T, char*>) {
        a.kind = FmtArg::Kind::Text;
        a.text = value;
    } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
        a.kind = FmtArg::Kind::Pointer;
        a.u = reinterpret_cast<std::uint64_t>(value);
    } else if constexpr (std::is_enum_v<T>) {
        a.kind = FmtArg::Kind::Signed;
        a.s = static_cast<std::int64_t>(value);
    } else if constexpr (std::is_signed_v<T>) {
        a.kind = FmtArg::Kind::Signed;
        a.s = value;
    } else {
        static_assert(std::is_unsigned_v<T>, "print(): unsupported argument type");
        a.kind = FmtArg::Kind::Unsigned;
        a.u = value;
    }
    return a;
}

// Formats into buf (always NUL-terminated when size > 0, truncated at size - 1) and returns the
// length written, not counting the NUL.
std::size_t format_into(char* buf, std::size_t size, const char* fmt, const FmtArg* args, std::size_t count);

template <typename... Args> std::size_t format(char* buf, std::size_t size, const char* fmt, Args... args)
{
    if constexpr (sizeof...(Args) == 0) {
        return format_into(buf, size, fmt, nullptr, 0);
    } else {
        const FmtArg list[] = {fmt_arg(args)...};
        return format_into(buf, size, fmt, list, sizeof...(Args));
    }
}

} // namespace kt
