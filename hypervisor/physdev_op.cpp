// physdev_op: a domain's view of physical devices and their interrupts, with Xen 4.17's checks
// and error numbers in its order.
//
//   set_iopl           the virtual I/O privilege level, deciding whether the guest kernel's
//                      (IOPL >= 1) or user space's (IOPL 3) port I/O and cli/sti are emulated
//   map_pirq, unmap_pirq, get_free_pirq
//                      a domain's pirqs (pirq.hpp): the control domain maps GSIs to them
//   irq_status_query, eoi
//                      every pirq needs an EOI (Xen says so whatever the line, unless the guest
//                      registered an EOI bitmap, which Kestrel does not offer)
//   setup_gsi, apic_read, alloc_irq_vector
//                      the control domain's view of the I/O APICs, which Kestrel keeps
//   pci_device_add/remove, manage_pci_add/add_ext/remove, restore_msi(_ext)
//                      the PCI devices dom0 reports (pci_devices.hpp); Kestrel has set up no
//                      MSI for any, so a known device has none to restore
//
// Message-signalled interrupts are not offered yet: an MSI map is -ENODEV (what Xen answers for
// a device it does not know), and Linux falls back to the device's INTx line.
#include <stddef.h>

#include <xen/errno.h>
#include <xen/physdev.h>
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "guest_access.hpp"
#include "hypercall.hpp"
#include "irq_lines.hpp"
#include "pci_devices.hpp"
#include "vcpu.hpp"

namespace {

template <typename T>
bool fetch(const HypercallArgs& args, T& out) {
    return guest::read(Gva(args.a1), out);
}

template <typename T>
long give_back(const HypercallArgs& args, const T& in, long rc) {
    return guest::write(Gva(args.a1), in) ? rc : -XEN_EFAULT;
}

// The domain a map or unmap acts on: the caller, or any for the control domain (Xen's
// XSM_DM_PRIV without device-model domains): -ESRCH for none, -EPERM for an unprivileged caller.
long target(Vcpu& v, domid_t dom, Domain*& out) {
    out = dom == DOMID_SELF ? &v.domain() : domain_control::lookup(DomId(dom));
    if (!out) return -XEN_ESRCH;
    return v.domain().privileged() ? 0 : -XEN_EPERM;
}

long map_gsi(Domain& d, int32_t gsi, int32_t& pirq) {
    if (gsi < 0 || uint32_t(gsi) >= irq_lines::count()) return -XEN_EINVAL;
    // GSI 0 (the timer's ISA IRQ 0, or the PIC cascade) is no domain's: Xen grants dom0 IRQs
    // from 1 up.
    if (gsi == 0) return -XEN_EPERM;
    if (!d.pirqs().ensure(d.machine())) return -XEN_ENOMEM;
    EventLock lock(d.events());
    long rc = d.pirqs().map_gsi(uint32_t(gsi), pirq);
    if (rc < 0) return rc;
    pirq = int32_t(rc);
    return 0;
}

long map_pirq(Vcpu& v, physdev_map_pirq& m) {
    if (m.type == MAP_PIRQ_TYPE_MULTI_MSI && m.table_base) return -XEN_EINVAL;
    Domain* d;
    if (long rc = target(v, m.domid, d)) return rc;
    switch (m.type) {
    case MAP_PIRQ_TYPE_GSI: return map_gsi(*d, m.index, m.pirq);
    case MAP_PIRQ_TYPE_MSI:
    case MAP_PIRQ_TYPE_MSI_SEG:
    case MAP_PIRQ_TYPE_MULTI_MSI: return -XEN_ENODEV;
    default: return -XEN_EINVAL;
    }
}

long unmap_pirq(Vcpu& v, const physdev_unmap_pirq& u) {
    Domain* d;
    if (long rc = target(v, u.domid, d)) return rc;
    if (u.pirq < 0) return -XEN_EINVAL;
    PirqEntry* e = d->pirqs().get(uint32_t(u.pirq));
    int32_t gsi = d->pirqs().gsi_of(uint32_t(u.pirq));
    if (!e || gsi < 0) return -XEN_EINVAL;
    // A bound port stays (closing it later is the guest's business); its line stops now.
    if (e->port) irq_lines::unbind(uint32_t(gsi), *d);
    EventLock lock(d->events());
    return d->pirqs().unmap(uint32_t(u.pirq)) < 0 ? -XEN_EINVAL : 0;
}

long eoi(Vcpu& v, const physdev_eoi& e) {
    Domain& d = v.domain();
    if (e.irq >= d.pirqs().limit()) return -XEN_EINVAL;
    const PirqEntry* entry = d.pirqs().get(e.irq);
    if (!entry || (entry->gsi_plus_1 == 0 && entry->port == 0)) return -XEN_EINVAL;  // never used
    int32_t gsi = d.pirqs().gsi_of(e.irq);
    if (gsi >= 0 && entry->port) irq_lines::eoi(uint32_t(gsi), d);
    return 0;
}

long irq_status_query(Vcpu& v, physdev_irq_status_query& q) {
    if (q.irq >= v.domain().pirqs().limit()) return -XEN_EINVAL;
    // Lines are never shared between domains here (irq_lines::bind refuses a second one).
    q.flags = XENIRQSTAT_needs_eoi;
    return 0;
}

long get_free_pirq(Vcpu& v, physdev_get_free_pirq& g) {
    Domain& d = v.domain();
    if (!d.pirqs().ensure(d.machine())) return -XEN_ENOMEM;
    EventLock lock(d.events());
    long p = d.pirqs().allocate(g.type == MAP_PIRQ_TYPE_GSI);
    if (p < 0) return p;
    g.pirq = uint32_t(p);
    return 0;
}

long setup_gsi(Vcpu& v, const physdev_setup_gsi& s) {
    if (s.gsi < 0 || uint32_t(s.gsi) >= irq_lines::count()) return -XEN_EINVAL;
    if (!v.domain().privileged()) return -XEN_EPERM;
    return irq_lines::setup(uint32_t(s.gsi), s.triggering != 0, s.polarity != 0);
}

long add_pci(Vcpu& v, const pci_devices::Device& d) {
    if (!v.domain().privileged()) return -XEN_EPERM;
    return pci_devices::add(d);
}

long remove_pci(Vcpu& v, uint16_t seg, uint8_t bus, uint8_t devfn) {
    if (!v.domain().privileged()) return -XEN_EPERM;
    return pci_devices::remove(seg, bus, devfn);
}

long restore_msi(Vcpu& v, uint16_t seg, uint8_t bus, uint8_t devfn) {
    if (!pci_devices::known(seg, bus, devfn)) return -XEN_ENODEV;
    return v.domain().privileged() ? 0 : -XEN_EPERM;  // the devices are the control domain's
}

long pci_device_add(Vcpu& v, const HypercallArgs& args) {
    physdev_pci_device_add a;
    // The fixed part only: optarr follows, read when a flag asks for it.
    if (!guest::copy_from(&a, Gva(args.a1), offsetof(physdev_pci_device_add, optarr))) return -XEN_EFAULT;
    if (a.flags & XEN_PCI_DEV_PXM) {
        uint32_t pxm;  // the proximity domain: Kestrel has one memory node, so it is not kept
        if (!guest::read(Gva(args.a1 + offsetof(physdev_pci_device_add, optarr)), pxm)) return -XEN_EFAULT;
    }
    bool virtfn = a.flags & XEN_PCI_DEV_VIRTFN;
    return add_pci(v, pci_devices::Device{a.seg, a.bus, a.devfn, (a.flags & XEN_PCI_DEV_EXTFN) != 0, virtfn,
                                          virtfn ? a.physfn.bus : uint8_t(0), virtfn ? a.physfn.devfn : uint8_t(0)});
}

}  // namespace

long do_physdev_op(Vcpu& v, arch::ExceptionFrame&, const HypercallArgs& args) {
    switch (int(args.a0)) {
    case PHYSDEVOP_set_iopl: {
        physdev_set_iopl s;
        if (!fetch(args, s)) return -XEN_EFAULT;
        if (s.iopl > 3) return -XEN_EINVAL;
        v.iopl = s.iopl;
        return 0;
    }
    case PHYSDEVOP_eoi: {
        physdev_eoi e;
        if (!fetch(args, e)) return -XEN_EFAULT;
        return eoi(v, e);
    }
    case PHYSDEVOP_irq_status_query: {
        physdev_irq_status_query q;
        if (!fetch(args, q)) return -XEN_EFAULT;
        long rc = irq_status_query(v, q);
        return rc ? rc : give_back(args, q, 0);
    }
    case PHYSDEVOP_map_pirq: {
        physdev_map_pirq m;
        if (!fetch(args, m)) return -XEN_EFAULT;
        long rc = map_pirq(v, m);
        return give_back(args, m, rc);  // Xen writes the structure back whatever happened
    }
    case PHYSDEVOP_unmap_pirq: {
        physdev_unmap_pirq u;
        if (!fetch(args, u)) return -XEN_EFAULT;
        return unmap_pirq(v, u);
    }
    case PHYSDEVOP_get_free_pirq: {
        physdev_get_free_pirq g;
        if (!fetch(args, g)) return -XEN_EFAULT;
        long rc = get_free_pirq(v, g);
        return rc ? rc : give_back(args, g, 0);
    }
    case PHYSDEVOP_setup_gsi: {
        physdev_setup_gsi s;
        if (!fetch(args, s)) return -XEN_EFAULT;
        return setup_gsi(v, s);
    }
    case PHYSDEVOP_apic_read: {
        physdev_apic a;
        if (!fetch(args, a)) return -XEN_EFAULT;
        if (!v.domain().privileged()) return -XEN_EPERM;
        long rc = irq_lines::ioapic_read(a.apic_physbase, a.reg, a.value);
        return give_back(args, a, rc);
    }
    case PHYSDEVOP_alloc_irq_vector: {
        // Vectors are the hypervisor's business: as on Xen the answer is the IRQ number itself.
        physdev_irq i;
        if (!fetch(args, i)) return -XEN_EFAULT;
        if (!v.domain().privileged()) return -XEN_EPERM;
        i.vector = i.irq;
        return give_back(args, i, 0);
    }
    case PHYSDEVOP_pci_device_add: return pci_device_add(v, args);
    case PHYSDEVOP_pci_device_remove: {
        physdev_pci_device d;
        if (!fetch(args, d)) return -XEN_EFAULT;
        return remove_pci(v, d.seg, d.bus, d.devfn);
    }
    case PHYSDEVOP_manage_pci_add: {
        physdev_manage_pci m;
        if (!fetch(args, m)) return -XEN_EFAULT;
        return add_pci(v, pci_devices::Device{0, m.bus, m.devfn, false, false, 0, 0});
    }
    case PHYSDEVOP_manage_pci_remove: {
        physdev_manage_pci m;
        if (!fetch(args, m)) return -XEN_EFAULT;
        return remove_pci(v, 0, m.bus, m.devfn);
    }
    case PHYSDEVOP_manage_pci_add_ext: {
        physdev_manage_pci_ext m;
        if (!fetch(args, m)) return -XEN_EFAULT;
        if (m.is_extfn > 1 || m.is_virtfn > 1) return -XEN_EINVAL;
        return add_pci(v, pci_devices::Device{0, m.bus, m.devfn, m.is_extfn != 0, m.is_virtfn != 0,
                                              m.is_virtfn ? m.physfn.bus : uint8_t(0),
                                              m.is_virtfn ? m.physfn.devfn : uint8_t(0)});
    }
    case PHYSDEVOP_restore_msi: {
        physdev_restore_msi r;
        if (!fetch(args, r)) return -XEN_EFAULT;
        return restore_msi(v, 0, r.bus, r.devfn);
    }
    case PHYSDEVOP_restore_msi_ext: {
        physdev_pci_device d;
        if (!fetch(args, d)) return -XEN_EFAULT;
        return restore_msi(v, d.seg, d.bus, d.devfn);
    }
    default: return hypercall::unsupported_op(v, __HYPERVISOR_physdev_op, args.a0);
    }
}
