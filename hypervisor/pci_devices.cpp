#include "pci_devices.hpp"

#include <xen/errno.h>

#include "log.hpp"
#include "spinlock.hpp"

namespace pci_devices {

namespace {

Device devices[MAX_DEVICES];
unsigned nr_devices;
Spinlock lock;

Device* find(uint16_t seg, uint8_t bus, uint8_t devfn) {
    for (unsigned i = 0; i < nr_devices; ++i)
        if (devices[i].seg == seg && devices[i].bus == bus && devices[i].devfn == devfn) return &devices[i];
    return nullptr;
}

long add_locked(const Device& d) {
    if (Device* old = find(d.seg, d.bus, d.devfn)) {
        *old = d;
        return 0;
    }
    if (nr_devices == MAX_DEVICES) return -XEN_ENOMEM;
    devices[nr_devices++] = d;
    return 0;
}

}  // namespace

long add(const Device& d) {
    long rc;
    {
        LockGuard g(lock);
        // A virtual function's physical function is recorded too, as Xen adds it.
        if (d.virtfn && !find(d.seg, d.phys_bus, d.phys_devfn))
            add_locked(Device{d.seg, d.phys_bus, d.phys_devfn, false, false, 0, 0});
        rc = add_locked(d);
    }
    if (rc == 0)
        log::debug("PCI add {} {:04x}:{:02x}:{:02x}.{}", d.virtfn ? "virtual function" : d.extfn ? "extended function" : "device",
                   d.seg, d.bus, d.devfn >> 3, d.devfn & 7);
    return rc;
}

long remove(uint16_t seg, uint8_t bus, uint8_t devfn) {
    LockGuard g(lock);
    Device* d = find(seg, bus, devfn);
    if (!d) return -XEN_ENODEV;
    *d = devices[--nr_devices];
    return 0;
}

bool known(uint16_t seg, uint8_t bus, uint8_t devfn) {
    LockGuard g(lock);
    return find(seg, bus, devfn) != nullptr;
}

unsigned count() {
    LockGuard g(lock);
    return nr_devices;
}

void clear() {
    LockGuard g(lock);
    nr_devices = 0;
}

}  // namespace pci_devices
