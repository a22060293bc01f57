// Memory and string primitives. The hypervisor provides its own definitions (kstd/string.cpp);
// host builds link the C library's, which have the same contract.
#pragma once

#include "kstd/types.hpp"

extern "C" {
void* memcpy(void* dst, const void* src, size_t n);
void* memmove(void* dst, const void* src, size_t n);
void* memset(void* dst, int c, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);
}

namespace kstd {

// A non-owning view of characters; never assumes NUL termination.
class StringView {
public:
    constexpr StringView() = default;
    constexpr StringView(const char* s, size_t n) : data_(s), size_(n) {}
    constexpr StringView(const char* s) : data_(s), size_(s ? cstr_length(s) : 0) {}

    constexpr const char* data() const { return data_; }
    constexpr size_t size() const { return size_; }
    constexpr bool empty() const { return size_ == 0; }
    constexpr char operator[](size_t i) const { return data_[i]; }

    constexpr StringView substr(size_t pos, size_t n = ~size_t{0}) const {
        if (pos > size_) pos = size_;
        if (n > size_ - pos) n = size_ - pos;
        return StringView(data_ + pos, n);
    }
    constexpr size_t find(char c, size_t from = 0) const {
        for (size_t i = from; i < size_; ++i)
            if (data_[i] == c) return i;
        return npos;
    }
    constexpr bool starts_with(StringView p) const { return p.size_ <= size_ && substr(0, p.size_) == p; }

    friend constexpr bool operator==(StringView a, StringView b) {
        if (a.size_ != b.size_) return false;
        for (size_t i = 0; i < a.size_; ++i)
            if (a.data_[i] != b.data_[i]) return false;
        return true;
    }

    static constexpr size_t npos = ~size_t{0};

private:
    static constexpr size_t cstr_length(const char* s) {
        size_t n = 0;
        while (s[n] != '\0') ++n;
        return n;
    }

    const char* data_ = nullptr;
    size_t size_ = 0;
};

// Copies at most cap-1 characters and always terminates; returns the length written.
size_t copy_string(char* dst, size_t cap, StringView src);

}  // namespace kstd
