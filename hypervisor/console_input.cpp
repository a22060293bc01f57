#include "console_input.hpp"

#include "kstd/atomic.hpp"

namespace console_input {

namespace {
constexpr size_t SIZE = 1024;  // a power of two, so indices wrap by masking
char ring[SIZE];
kstd::Atomic<uint64_t> produced{0}, consumed{0}, lost{0};
}  // namespace

void push(char c) {
    uint64_t p = produced.load();
    if (p - consumed.load() >= SIZE) {
        lost.fetch_add(1);
        return;
    }
    ring[p % SIZE] = c;
    produced.store(p + 1);
}

size_t peek(char* buf, size_t n) {
    uint64_t c = consumed.load();
    uint64_t avail = produced.load() - c;
    size_t k = avail < n ? size_t(avail) : n;
    for (size_t i = 0; i < k; ++i) buf[i] = ring[(c + i) % SIZE];
    return k;
}

void consume(size_t n) {
    uint64_t c = consumed.load();
    uint64_t avail = produced.load() - c;
    consumed.store(c + (avail < n ? avail : n));
}

size_t pop(char* buf, size_t n) {
    size_t k = peek(buf, n);
    consume(k);
    return k;
}

size_t pending() { return size_t(produced.load() - consumed.load()); }
uint64_t dropped() { return lost.load(); }

}  // namespace console_input
