// Reading "key=value" words from a kernel command line (start_info.cmd_line): words are
// separated by spaces, a key matches a whole word's beginning up to its '='. Free of any
// hypervisor dependency so that the host unit tests run it too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kt {

// The decimal value of `key=<digits>`; false if the key is absent, its value is empty, has
// anything but digits before the next space or the end, or does not fit in 64 bits.
bool cmdline_number(const char* line, const char* key, std::uint64_t* value);

// Does the space-separated list contain exactly this word?
bool has_word(const char* list, const char* word);

} // namespace kt
