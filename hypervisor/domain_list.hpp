// The live domains, by id: a fixed number of slots, since ids go up to DOMID_FIRST_RESERVED
// (the toolstack may ask for any) but few domains live at once. A slot also records whether
// its dying domain is held for other domains' mappings. Not locked: the owner (the domain
// layer, arch/x86_64/domains.cpp) holds its lock around every call.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>

#include "types.hpp"

class Domain;

class DomainList {
public:
    static constexpr size_t CAPACITY = 256;  // domains alive (or dying) at once

    // d under its id: false if the id is taken (or not below DOMID_FIRST_RESERVED) or every
    // slot is. (The id is passed, not read from d: the list never looks inside a domain.)
    bool add(DomId id, Domain* d);
    // Takes d out, if it is in under that id.
    void remove(DomId id, const Domain* d);
    Domain* find(DomId id) const;
    // The domain with the lowest id at or above `id`, or null.
    Domain* first_from(DomId id) const;
    bool id_free(DomId id) const { return id.raw() < DOMID_FIRST_RESERVED && !find(id); }
    size_t count() const { return count_; }
    bool full() const { return count_ == CAPACITY; }

    // A dying domain kept for others' mappings (see domain_control::reap).
    void set_held(DomId id);
    bool held(DomId id) const;

    template <typename F>
    void for_each(F fn) const {
        for (size_t i = 0; i < CAPACITY; ++i)
            if (slots_[i]) fn(*slots_[i]);
    }

private:
    size_t slot_of(DomId id) const;

    Domain* slots_[CAPACITY] = {};
    uint16_t ids_[CAPACITY] = {};  // valid where slots_ is set: a scan need not touch the domains
    bool held_[CAPACITY] = {};
    size_t count_ = 0;
};
