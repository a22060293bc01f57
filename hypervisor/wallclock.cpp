#include "wallclock.hpp"

#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "spinlock.hpp"

namespace wallclock {

namespace {

constexpr uint64_t NS_PER_SEC = 1'000'000'000;

Spinlock lock;
Time at_zero{};

}  // namespace

void set(Time at, uint64_t system_ns) {
    {
        LockGuard g(lock);
        // As do_settime: the instant given less the system time then, in ns, then split. A
        // system time beyond the instant (a clock set before 1970) leaves the base at 1970.
        const unsigned __int128 ns = static_cast<unsigned __int128>(at.sec) * NS_PER_SEC + at.nsec;
        const unsigned __int128 base = ns > system_ns ? ns - system_ns : 0;
        at_zero = Time{uint64_t(base / NS_PER_SEC), uint32_t(base % NS_PER_SEC)};
    }
    domain_control::for_each(publish);
}

Time base() {
    LockGuard g(lock);
    return at_zero;
}

void publish(Domain& d) {
    LockGuard g(lock);
    shared_info* s = d.shared();
    const uint32_t version = s->wc_version;
    __atomic_store_n(&s->wc_version, (version + 1) | 1, __ATOMIC_RELAXED);
    // Ordering: the odd version is visible before any field changes, for the guest's reads
    // (version, fields, version again) to see the update under way.
    __atomic_thread_fence(__ATOMIC_RELEASE);
    s->wc_sec = uint32_t(at_zero.sec);
    s->wc_nsec = at_zero.nsec;
    s->wc_sec_hi = uint32_t(at_zero.sec >> 32);
    // Ordering: the fields are complete before the even version says so.
    __atomic_store_n(&s->wc_version, ((version + 1) | 1) + 1, __ATOMIC_RELEASE);
}

}  // namespace wallclock
