// Warnings collected by a parser that keeps going (a sanitized memory map, a skipped ACPI
// table), so that the boot path can log them once the console is up and tests can read them.
#pragma once

#include "kstd/format.hpp"

namespace kstd {

class Diagnostics final {
public:
    static constexpr size_t MAX_MESSAGES = 32;
    static constexpr size_t MESSAGE_LEN = 120;

    template <typename... Args>
    void add(FormatStringFor<Args...> fmt, const Args&... args) {
        if (count_ == MAX_MESSAGES) {
            ++dropped_;
            return;
        }
        format_to(text_[count_++], MESSAGE_LEN, fmt, args...);
    }

    size_t count() const { return count_; }
    size_t dropped() const { return dropped_; }
    const char* message(size_t i) const { return text_[i]; }
    // True if any message contains needle; for tests and for callers that branch on a cause.
    bool contains(StringView needle) const;
    void clear() { count_ = dropped_ = 0; }

private:
    char text_[MAX_MESSAGES][MESSAGE_LEN] = {};
    size_t count_ = 0;
    size_t dropped_ = 0;
};

// A fatal parse error: a fixed description and where in the input it was found.
struct ParseError {
    const char* what;
    uint64_t where;
};

}  // namespace kstd
