// A set of physical CPUs that several CPUs update at once (each sets and clears its own bit
// while another reads the whole set), for example the CPUs that may hold TLB entries of a
// domain's address space.
#pragma once

#include "kstd/atomic.hpp"
#include "types.hpp"

class CpuMask {
public:
    static constexpr unsigned MAX_CPUS = 256;

    void set(CpuId c) { word(c).fetch_or(bit(c)); }
    void clear(CpuId c) { word(c).fetch_and(~bit(c)); }
    bool test(CpuId c) const { return words_[c.raw() / 64].load() & bit(c); }
    bool empty() const {
        for (const auto& w : words_)
            if (w.load()) return false;
        return true;
    }
    // Calls fn(CpuId) for each CPU in the set as it is read now.
    template <typename F>
    void for_each(F&& fn) const {
        for (unsigned i = 0; i < WORDS; ++i) {
            uint64_t w = words_[i].load();
            while (w) {
                unsigned b = unsigned(__builtin_ctzll(w));
                w &= w - 1;
                fn(CpuId(i * 64 + b));
            }
        }
    }

private:
    static constexpr unsigned WORDS = MAX_CPUS / 64;
    static uint64_t bit(CpuId c) { return uint64_t{1} << (c.raw() % 64); }
    kstd::Atomic<uint64_t>& word(CpuId c) { return words_[c.raw() / 64]; }
    kstd::Atomic<uint64_t> words_[WORDS];
};

// A set of physical CPUs as a plain value (copied, compared, changed by one writer under a
// lock): a vCPU's affinity, the online CPUs.
struct CpuSet {
    static constexpr unsigned MAX_CPUS = CpuMask::MAX_CPUS;
    static constexpr unsigned WORDS = MAX_CPUS / 64;
    uint64_t words[WORDS]{};

    static CpuSet all() {
        CpuSet s;
        for (uint64_t& w : s.words) w = ~uint64_t{0};
        return s;
    }
    void set(CpuId c) {
        if (c.raw() < MAX_CPUS) words[c.raw() / 64] |= uint64_t{1} << (c.raw() % 64);
    }
    bool test(CpuId c) const { return c.raw() < MAX_CPUS && (words[c.raw() / 64] >> (c.raw() % 64)) & 1; }
    bool intersects(const CpuSet& o) const {
        for (unsigned i = 0; i < WORDS; ++i)
            if (words[i] & o.words[i]) return true;
        return false;
    }
    CpuSet operator&(const CpuSet& o) const {
        CpuSet r;
        for (unsigned i = 0; i < WORDS; ++i) r.words[i] = words[i] & o.words[i];
        return r;
    }
    bool operator==(const CpuSet& o) const {
        for (unsigned i = 0; i < WORDS; ++i)
            if (words[i] != o.words[i]) return false;
        return true;
    }
};
