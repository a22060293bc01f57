#include "domain_list.hpp"

size_t DomainList::slot_of(DomId id) const {
    for (size_t i = 0; i < CAPACITY; ++i)
        if (slots_[i] && ids_[i] == id.raw()) return i;
    return CAPACITY;
}

bool DomainList::add(DomId id, Domain* d) {
    if (id.raw() >= DOMID_FIRST_RESERVED || slot_of(id) != CAPACITY) return false;
    for (size_t i = 0; i < CAPACITY; ++i)
        if (!slots_[i]) {
            slots_[i] = d;
            ids_[i] = id.raw();
            held_[i] = false;
            ++count_;
            return true;
        }
    return false;
}

void DomainList::remove(DomId id, const Domain* d) {
    size_t i = slot_of(id);
    if (i == CAPACITY || slots_[i] != d) return;
    slots_[i] = nullptr;
    held_[i] = false;
    --count_;
}

Domain* DomainList::find(DomId id) const {
    size_t i = slot_of(id);
    return i == CAPACITY ? nullptr : slots_[i];
}

Domain* DomainList::first_from(DomId id) const {
    size_t best = CAPACITY;
    for (size_t i = 0; i < CAPACITY; ++i)
        if (slots_[i] && ids_[i] >= id.raw() && (best == CAPACITY || ids_[i] < ids_[best])) best = i;
    return best == CAPACITY ? nullptr : slots_[best];
}

void DomainList::set_held(DomId id) {
    size_t i = slot_of(id);
    if (i != CAPACITY) held_[i] = true;
}

bool DomainList::held(DomId id) const {
    size_t i = slot_of(id);
    return i != CAPACITY && held_[i];
}
