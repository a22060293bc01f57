// The PCI devices the control domain has reported (PHYSDEVOP_pci_device_add and the older
// manage_pci_add forms), as Xen keeps its pdev list: a device is known by segment, bus and
// devfn, with whether it is an ARI extended function or an SR-IOV virtual function (and then
// its physical function, itself recorded if it was not). Kestrel does not scan PCI itself,
// so a device is known once dom0 says so. Used to answer the ops that name a device
// (restore_msi, prepare_msix: -ENODEV for an unknown one).
#pragma once

#include <stdint.h>

namespace pci_devices {

constexpr unsigned MAX_DEVICES = 256;

struct Device {
    uint16_t seg;
    uint8_t bus;
    uint8_t devfn;
    bool extfn;
    bool virtfn;
    uint8_t phys_bus, phys_devfn;
};

// Records a device (again: its record is updated). 0, or -ENOMEM when the list is full.
long add(const Device& d);
// -ENODEV for a device not recorded.
long remove(uint16_t seg, uint8_t bus, uint8_t devfn);
bool known(uint16_t seg, uint8_t bus, uint8_t devfn);
unsigned count();
// Forgets every device (host tests).
void clear();

}  // namespace pci_devices
