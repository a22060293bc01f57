// Ticket spinlock: CPUs acquire in the order they asked, so none starves under contention.
#pragma once

#include <arch/cpu.hpp>
#include <arch/cpu_relax.hpp>

#include "kstd/atomic.hpp"
#include "kstd/types.hpp"

class Spinlock final {
public:
    constexpr Spinlock() = default;
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    void lock() {
        uint32_t ticket = next_.fetch_add(1, kstd::MemoryOrder::relaxed);
        // Ordering: acquire pairs with the release in unlock() of the previous holder.
        while (serving_.load(kstd::MemoryOrder::acquire) != ticket) arch::cpu_relax();
    }

    // lock(), doing `wait()` between looks: for a CPU that must keep answering requests from
    // the holder (TLB flushes) while it waits its turn.
    template <typename F>
    void lock_servicing(F wait) {
        uint32_t ticket = next_.fetch_add(1, kstd::MemoryOrder::relaxed);
        // Ordering: acquire pairs with the release in unlock() of the previous holder.
        while (serving_.load(kstd::MemoryOrder::acquire) != ticket) {
            wait();
            arch::cpu_relax();
        }
    }

    bool try_lock() {
        uint32_t now = serving_.load(kstd::MemoryOrder::relaxed);
        uint32_t expected = now;
        // A ticket is free only when nobody waits: next == serving.
        return next_.compare_exchange(expected, now + 1, kstd::MemoryOrder::acquire);
    }

    void unlock() {
        // Ordering: release pairs with the acquire in lock() of the next holder.
        serving_.store(serving_.load(kstd::MemoryOrder::relaxed) + 1, kstd::MemoryOrder::release);
    }

    bool is_locked() const { return next_.load(kstd::MemoryOrder::relaxed) != serving_.load(kstd::MemoryOrder::relaxed); }

private:
    kstd::Atomic<uint32_t> next_{0};
    kstd::Atomic<uint32_t> serving_{0};
};

// Holds a lock for a scope.
template <typename Lock>
class LockGuard final {
public:
    explicit LockGuard(Lock& l) : lock_(l) { lock_.lock(); }
    ~LockGuard() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Lock& lock_;
};

// Holds a lock for a scope with this CPU's interrupts off, disabled before the lock is taken and
// restored after it is released: for the locks that interrupt handlers take too.
class IrqLockGuard final {
public:
    explicit IrqLockGuard(Spinlock& l) : lock_(l) { lock_.lock(); }
    ~IrqLockGuard() { lock_.unlock(); }
    IrqLockGuard(const IrqLockGuard&) = delete;
    IrqLockGuard& operator=(const IrqLockGuard&) = delete;

private:
    arch::InterruptGuard irq_;  // constructed first, destroyed last
    Spinlock& lock_;
};
