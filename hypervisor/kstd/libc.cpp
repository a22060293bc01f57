// The few C library functions the compiler may call on its own. Hypervisor build only:
// host builds use the C library's.
#include "kstd/string.hpp"

extern "C" {

// Whole quadwords first, then the tail: an emulator (QEMU's TCG) runs each repetition of a
// string instruction as a step of its own, so byte strings made building a 512 MiB dom0 take
// seconds; hardware with fast byte strings does both at the same speed.
void* memcpy(void* dst, const void* src, size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    size_t quads = n / 8, tail = n % 8;
    asm volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(quads) : : "memory");
    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(tail) : : "memory");
    return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + n) return memcpy(dst, src, n);
    // Overlap with the destination above the source: copy backwards.
    while (n--) d[n] = s[n];
    return dst;
}

void* memset(void* dst, int c, size_t n) {
    auto* d = static_cast<unsigned char*>(dst);
    uint64_t pattern = uint64_t(uint8_t(c)) * 0x0101010101010101ull;
    size_t quads = n / 8, tail = n % 8;
    asm volatile("rep stosq" : "+D"(d), "+c"(quads) : "a"(pattern) : "memory");
    asm volatile("rep stosb" : "+D"(d), "+c"(tail) : "a"(pattern) : "memory");
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

size_t strlen(const char* s) {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

// Pure virtual calls cannot happen in correct code; stop loudly if one does.
[[noreturn]] void __cxa_pure_virtual() {
    for (;;) asm volatile("cli; hlt");
}

}
