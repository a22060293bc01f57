// Console drivers (serial now; later a guest-facing console) and the one place that writes
// log text to all of them. Output is serialized by one lock so lines from different CPUs do
// not interleave mid-line.
#pragma once

#include "kstd/string.hpp"

class Console {
public:
    virtual void write(const char* s, size_t n) = 0;

protected:
    ~Console() = default;
};

namespace console {

constexpr size_t MAX_CONSOLES = 4;

// Adds a console; returns false when the table is full.
bool add(Console& c);
// Writes to every registered console under the console lock.
void write(kstd::StringView s);
// For panic: later writes no longer wait for a lock another CPU may hold forever.
void force_unlock();

}  // namespace console
