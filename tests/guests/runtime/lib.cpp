#include "lib.hpp"

// Written as plain byte loops; -fno-builtin on this file (see CMakeLists.txt) keeps GCC from
// turning them back into calls to themselves.
extern "C" void* memcpy(void* dst, const void* src, std::size_t n)
{
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    while (n-- != 0)
        *d++ = *s++;
    return dst;
}

extern "C" void* memmove(void* dst, const void* src, std::size_t n)
{
    auto* d = static_cast<unsigned char*>(dst);
    const auto* s = static_cast<const unsigned char*>(src);
    if (d < s) {
        while (n-- != 0)
            *d++ = *s++;
    } else {
        while (n-- != 0)
            d[n] = s[n];
    }
    return dst;
}

extern "C" void* memset(void* dst, int value, std::size_t n)
{
    auto* d = static_cast<unsigned char*>(dst);
    while (n-- != 0)
        *d++ = static_cast<unsigned char>(value);
    return dst;
}

extern "C" int memcmp(const void* a, const void* b, std::size_t n)
{
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (; n != 0; --n, ++x, ++y) {
        if (*x != *y)
            return *x < *y ? -1 : 1;
    }
    return 0;
}

namespace kt {

std::size_t strlen(const char* s)
{
    std::size_t n = 0;
    while (s[n] != '\0')
        ++n;
    return n;
}

std::size_t strnlen(const char* s, std::size_t max)
{
    std::size_t n = 0;
    while (n < max && s[n] != '\0')
        ++n;
    return n;
}

int strncmp(const char* a, const char* b, std::size_t n)
{
    for (; n != 0; --n, ++a, ++b) {
        if (*a != *b)
            return static_cast<unsigned char>(*a) < static_cast<unsigned char>(*b) ? -1 : 1;
        if (*a == '\0')
            return 0;
    }
    return 0;
}

int strcmp(const char* a, const char* b) { return strncmp(a, b, static_cast<std::size_t>(-1)); }

bool starts_with(const char* text, const char* prefix) { return strncmp(text, prefix, strlen(prefix)) == 0; }

} // namespace kt
