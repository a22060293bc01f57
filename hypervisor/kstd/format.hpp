// Type-safe formatting. A format string's "{}" placeholders are counted at compile time
// against the arguments, and each argument carries its type at run time, so a mismatch is a
// build error instead of a garbled log line.
//
// Placeholders: "{}" prints an argument in its natural form; "{:x}" hex, "{:#x}" hex with 0x;
// an optional zero-padded width such as "{:016x}" or "{:4}". "{{" and "}}" print braces.
#pragma once

#include <type_traits>

#include "kstd/string.hpp"
#include "kstd/typed_number.hpp"

namespace kstd {

// Where formatted text goes. Consoles and buffers implement it.
class Sink {
public:
    virtual void write(const char* s, size_t n) = 0;

protected:
    ~Sink() = default;
};

// One argument, its type recorded; built implicitly from every supported type.
class FormatArg {
public:
    enum class Kind : uint8_t { signed_int, unsigned_int, boolean, character, string, pointer };

    template <typename T>
        requires(std::is_integral_v<T> && std::is_signed_v<T> && !std::is_same_v<T, char>)
    constexpr FormatArg(T v) : kind_(Kind::signed_int), i_(v) {}
    template <typename T>
        requires(std::is_integral_v<T> && std::is_unsigned_v<T> && !std::is_same_v<T, bool>)
    constexpr FormatArg(T v) : kind_(Kind::unsigned_int), u_(v) {}
    template <typename T>
        requires std::is_enum_v<T>
    constexpr FormatArg(T v) : FormatArg(static_cast<std::underlying_type_t<T>>(v)) {}
    template <typename Tag, typename Rep>
    constexpr FormatArg(TypedNumber<Tag, Rep> v) : kind_(Kind::unsigned_int), u_(v.raw()) {}
    constexpr FormatArg(bool v) : kind_(Kind::boolean), u_(v) {}
    constexpr FormatArg(char c) : kind_(Kind::character), u_(static_cast<unsigned char>(c)) {}
    constexpr FormatArg(StringView s) : kind_(Kind::string), s_(s) {}
    constexpr FormatArg(const char* s) : kind_(Kind::string), s_(s ? StringView(s) : StringView("(null)")) {}
    constexpr FormatArg(char* s) : FormatArg(static_cast<const char*>(s)) {}
    constexpr FormatArg(const void* p) : kind_(Kind::pointer), u_(reinterpret_cast<uintptr_t>(p)) {}
    constexpr FormatArg(void* p) : FormatArg(static_cast<const void*>(p)) {}

    Kind kind() const { return kind_; }
    int64_t as_signed() const { return i_; }
    uint64_t as_unsigned() const { return u_; }
    StringView as_string() const { return s_; }

private:
    Kind kind_;
    union {
        int64_t i_;
        uint64_t u_;
        StringView s_;
    };
};

namespace detail {

// Counts placeholders; returns -1 for an unbalanced or malformed brace.
consteval int count_placeholders(const char* s) {
    int n = 0;
    for (size_t i = 0; s[i] != '\0'; ++i) {
        if (s[i] == '{') {
            if (s[i + 1] == '{') { ++i; continue; }
            size_t j = i + 1;
            while (s[j] != '\0' && s[j] != '}' && s[j] != '{') ++j;
            if (s[j] != '}') return -1;
            ++n;
            i = j;
        } else if (s[i] == '}') {
            if (s[i + 1] != '}') return -1;
            ++i;
        }
    }
    return n;
}

void placeholder_count_mismatch();  // never defined: calling it in a constant expression fails the build

}  // namespace detail

template <typename... Args>
class FormatString {
public:
    template <size_t N>
    consteval FormatString(const char (&s)[N]) : str_(s) {
        if (detail::count_placeholders(s) != static_cast<int>(sizeof...(Args)))
            detail::placeholder_count_mismatch();
    }
    constexpr const char* c_str() const { return str_; }

private:
    const char* str_;
};

template <typename... Args>
using FormatStringFor = FormatString<std::type_identity_t<Args>...>;

// The type-erased engine behind format(); callers use the template below.
void vformat(Sink& out, const char* fmt, const FormatArg* args, size_t nargs);

template <typename... Args>
void format(Sink& out, FormatStringFor<Args...> fmt, const Args&... args) {
    const FormatArg erased[sizeof...(Args) + 1] = {FormatArg(args)..., FormatArg(0)};
    vformat(out, fmt.c_str(), erased, sizeof...(Args));
}

// A Sink over a fixed buffer: keeps what fits, always NUL-terminated, counts what was dropped.
class BufferSink final : public Sink {
public:
    BufferSink(char* buf, size_t cap) : buf_(buf), cap_(cap) {
        if (cap_) buf_[0] = '\0';
    }
    void write(const char* s, size_t n) override;
    size_t size() const { return len_; }
    bool truncated() const { return truncated_; }
    StringView view() const { return StringView(buf_, len_); }

private:
    char* buf_;
    size_t cap_;
    size_t len_ = 0;
    bool truncated_ = false;
};

// Formats into buf; returns the length written (output is truncated to fit).
template <typename... Args>
size_t format_to(char* buf, size_t cap, FormatStringFor<Args...> fmt, const Args&... args) {
    BufferSink sink(buf, cap);
    format<Args...>(sink, fmt, args...);
    return sink.size();
}

}  // namespace kstd
