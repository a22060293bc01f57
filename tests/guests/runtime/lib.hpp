// The few C library routines a freestanding test kernel needs. GCC may emit calls to memcpy,
// memset, memmove and memcmp on its own, so those keep their C names and signatures.
#pragma once

#include <cstddef>

extern "C" {
void* memcpy(void* dst, const void* src, std::size_t n);
void* memmove(void* dst, const void* src, std::size_t n);
void* memset(void* dst, int value, std::size_t n);
int memcmp(const void* a, const void* b, std::size_t n);
}

namespace kt {

std::size_t strlen(const char* s);
std::size_t strnlen(const char* s, std::size_t max);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, std::size_t n);
// True when `text` starts with `prefix`.
bool starts_with(const char* text, const char* prefix);

} // namespace kt
