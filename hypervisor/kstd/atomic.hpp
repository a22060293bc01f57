// One atomic type over the compiler's __atomic builtins. Relaxed and seq_cst need no comment;
// any other order names its partner in an "Ordering:" comment at the call site.
#pragma once

namespace kstd {

enum class MemoryOrder : int {
    relaxed = __ATOMIC_RELAXED,
    acquire = __ATOMIC_ACQUIRE,
    release = __ATOMIC_RELEASE,
    acq_rel = __ATOMIC_ACQ_REL,
    seq_cst = __ATOMIC_SEQ_CST,
};

template <typename T>
class Atomic {
public:
    constexpr Atomic() = default;
    constexpr explicit Atomic(T v) : v_(v) {}
    Atomic(const Atomic&) = delete;
    Atomic& operator=(const Atomic&) = delete;

    T load(MemoryOrder o = MemoryOrder::seq_cst) const { return __atomic_load_n(&v_, int(o)); }
    void store(T v, MemoryOrder o = MemoryOrder::seq_cst) { __atomic_store_n(&v_, v, int(o)); }
    T exchange(T v, MemoryOrder o = MemoryOrder::seq_cst) { return __atomic_exchange_n(&v_, v, int(o)); }
    T fetch_add(T v, MemoryOrder o = MemoryOrder::seq_cst) { return __atomic_fetch_add(&v_, v, int(o)); }
    T fetch_sub(T v, MemoryOrder o = MemoryOrder::seq_cst) { return __atomic_fetch_sub(&v_, v, int(o)); }
    T fetch_or(T v, MemoryOrder o = MemoryOrder::seq_cst) { return __atomic_fetch_or(&v_, v, int(o)); }
    T fetch_and(T v, MemoryOrder o = MemoryOrder::seq_cst) { return __atomic_fetch_and(&v_, v, int(o)); }
    bool compare_exchange(T& expected, T desired, MemoryOrder o = MemoryOrder::seq_cst) {
        return __atomic_compare_exchange_n(&v_, &expected, desired, false, int(o), int(MemoryOrder::relaxed));
    }

private:
    T v_{};
};

}  // namespace kstd
