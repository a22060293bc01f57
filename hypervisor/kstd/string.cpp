#include "kstd/string.hpp"

namespace kstd {

size_t copy_string(char* dst, size_t cap, StringView src) {
    if (cap == 0) return 0;
    size_t n = min(cap - 1, src.size());
    for (size_t i = 0; i < n; ++i) dst[i] = src[i];
    dst[n] = '\0';
    return n;
}

}  // namespace kstd

#include "kstd/diagnostics.hpp"

namespace kstd {

bool Diagnostics::contains(StringView needle) const {
    for (size_t i = 0; i < count_; ++i) {
        StringView m(text_[i]);
        for (size_t at = 0; at + needle.size() <= m.size(); ++at)
            if (m.substr(at, needle.size()) == needle) return true;
    }
    return false;
}

}  // namespace kstd
