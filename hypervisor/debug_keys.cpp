#include "debug_keys.hpp"

#include "log.hpp"

namespace debug_keys {

namespace {

struct Key {
    char key;
    const char* what;
    Handler handler;
};
constexpr unsigned MAX_KEYS = 32;
Key keys[MAX_KEYS];
unsigned nr_keys;

void help() {
    log::info("debug keys (Ctrl-A three times gives input back to dom0):");
    for (unsigned i = 0; i < nr_keys; ++i) log::info("  '{}' {}", keys[i].key, keys[i].what);
}

const Key* find(char key) {
    for (unsigned i = 0; i < nr_keys; ++i)
        if (keys[i].key == key) return &keys[i];
    return nullptr;
}

}  // namespace

bool add(char key, const char* what, Handler h) {
    if (find(key) || key == 'h' || nr_keys == MAX_KEYS) return false;
    keys[nr_keys++] = Key{key, what, h};
    return true;
}

void handle(char key) {
    if (key == 'h') return help();
    if (const Key* k = find(key)) return k->handler();
    if (key == '\r' || key == '\n') return;
    log::info("debug key '{}' unknown: 'h' lists them", key);
}

}  // namespace debug_keys
