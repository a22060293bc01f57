#include "console.hpp"

#include <arch/cpu.hpp>

#include "spinlock.hpp"

namespace console {

namespace {

Console* consoles[MAX_CONSOLES];
size_t console_count;
Spinlock lock;
bool lock_broken;

}  // namespace

bool add(Console& c) {
    arch::InterruptGuard irq;
    LockGuard g(lock);
    if (console_count == MAX_CONSOLES) return false;
    consoles[console_count++] = &c;
    return true;
}

void write(kstd::StringView s) {
    arch::InterruptGuard irq;
    bool locked = !lock_broken;
    if (locked) lock.lock();
    for (size_t i = 0; i < console_count; ++i) consoles[i]->write(s.data(), s.size());
    if (locked) lock.unlock();
}

void force_unlock() { lock_broken = true; }

}  // namespace console
