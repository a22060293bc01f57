#include "runtime/cmdline.hpp"

namespace kt {
namespace {

std::size_t length(const char* s)
{
    std::size_t n = 0;
    while (s[n] != '\0')
        ++n;
    return n;
}

bool same_prefix(const char* a, const char* b, std::size_t n)
{
    for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != b[i] || a[i] == '\0')
            return false;
    }
    return true;
}

bool word_start(const char* list, const char* p) { return p == list || p[-1] == ' '; }

} // namespace

bool cmdline_number(const char* line, const char* key, std::uint64_t* value)
{
    const std::size_t n = length(key);
    if (n == 0)
        return false;
    for (const char* p = line; *p != '\0'; ++p) {
        if (!word_start(line, p) || !same_prefix(p, key, n) || p[n] != '=')
            continue;
        const char* d = p + n + 1;
        if (*d < '0' || *d > '9')
            return false;
        std::uint64_t v = 0;
        for (; *d >= '0' && *d <= '9'; ++d) {
            const auto digit = static_cast<std::uint64_t>(*d - '0');
            if (v > (UINT64_MAX - digit) / 10)
                return false;
            v = v * 10 + digit;
        }
        if (*d != ' ' && *d != '\0')
            return false;
        *value = v;
        return true;
    }
    return false;
}

bool has_word(const char* list, const char* word)
{
    const std::size_t n = length(word);
    if (n == 0)
        return false;
    for (const char* p = list; *p != '\0'; ++p) {
        if (word_start(list, p) && same_prefix(p, word, n) && (p[n] == ' ' || p[n] == '\0'))
            return true;
    }
    return false;
}

} // namespace kt
