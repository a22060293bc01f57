#include "domains.hpp"

#include <arch/cpu.hpp>

#include "boot_domains.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "domain_list.hpp"
#include "event_channel.hpp"
#include "grant_table.hpp"
#include "kernel_image.hpp"
#include "log.hpp"
#include "paging.hpp"
#include "platform.hpp"
#include "pv_domain_build.hpp"
#include "pv_mm.hpp"
#include "scheduler.hpp"
#include "smp.hpp"
#include "spinlock.hpp"
#include "tsc.hpp"
#include "vcpu.hpp"
#include "wallclock.hpp"

namespace domains {

namespace {

// What the hypervisor keeps for itself when dom0_mem is not given: as Xen, the smaller of
// 1/16 of the free memory and 128 MiB.
constexpr uint64_t DOM0_RESERVE_MAX = 128ull << 20;

Spinlock table_lock;
constexpr uint64_t DOM0_MAX_PAGES = 0xffffffff;

// The domain list is also read from interrupts (serial input raising VIRQ_CONSOLE): its lock
// is held with interrupts off.
class TableGuard {
public:
    TableGuard() : guard_(table_lock) {}

private:
    IrqLockGuard guard_;
};
// Ids go up to DOMID_FIRST_RESERVED (the toolstack may ask for any); dying domains whose
// destruction waits for other domains to let go of their frames stay in it, marked held.
DomainList table;
MachineMemory* machine;
Options options;

bool table_full() {
    TableGuard g;
    return table.full();
}

bool add(Domain* d) {
    TableGuard g;
    return table.add(d->id(), d);
}

uint64_t dom0_default_bytes(uint64_t free_bytes) {
    uint64_t reserve = free_bytes / 16 < DOM0_RESERVE_MAX ? free_bytes / 16 : DOM0_RESERVE_MAX;
    return free_bytes - reserve;
}

// VIRQ_DOM_EXC tells the control domain that a domain shut down or died (Xen's global VIRQ,
// sent to the hardware domain), if it has bound it. The control domain is never freed.
void notify_control_domain() {
    Domain* control = nullptr;
    {
        TableGuard g;
        table.for_each([&control](Domain& d) {
            if (!control && d.privileged()) control = &d;
        });
    }
    if (control) events::send_virq(*control, VIRQ_DOM_EXC);
}

// The control domain's end is the machine's, as with Xen's hardware domain.
[[noreturn]] void end_machine(Domain& d) {
    ShutdownReason r = d.shutdown_reason();
    switch (r) {
    case shutdown::poweroff:
        log::info("domain {} halted: powering off", d.id());
        platform::poweroff();
    case shutdown::reboot:
        log::info("domain {} shut down: rebooting", d.id());
        platform::reboot();
    default:
        log::error("domain {} {}: {}", d.id(), r == shutdown::crash ? "crashed" : "shut down",
                   platform::noreboot() ? "'noreboot' set, halting" : "rebooting");
        if (!platform::noreboot()) platform::reboot();
        platform::debug_exit(uint8_t(0x40 | r));
        arch::halt_forever();
    }
}

// Whether other domains still hold frames of d: references from their page tables (a control
// domain's foreign mappings, grant host mappings) or pins of its grants. Taken under the MMU
// lock, the grant lock and the table lock, so that no such hold can begin meanwhile (both look
// d up by id under them). If nothing holds d, it leaves the domain list; if something does and
// record is set, it is kept (dying, still found by id) until domain_control::reap finishes it.
bool held_by_others(Domain* d, bool record) {
    pv_mm::MmGuard mm;
    LockGuard grants(grant::ops_lock());
    TableGuard g;
    uint16_t id = d->id().raw();
    if (d->foreign_refs() != 0 || d->grant_table()->mapped_by_others()) {
        if (record) table.set_held(DomId(id));
        return true;
    }
    table.remove(d->id(), d);
    return false;
}

void finish_destroy(Domain* d) {
    uint64_t held = d->frames_held();
    DomId id = d->id();
    {
        pv_mm::MmGuard mm;  // its frames leave the frame table
        Domain::destroy(d);
    }
    log::info("domain {} destroyed: {} frames returned, {} free", id, held, machine->free_frames());
    notify_control_domain();
}

void destroy(Domain* d) {
    // Its vCPUs leave the run queues (waiting, under each run queue's lock, for a CPU still
    // finishing with one of them) and its cap's timer stops.
    sched::remove_domain(*d);
    // Its vCPUs' timers must not fire into freed memory.
    for (unsigned i = 0; i < d->nr_vcpus(); ++i) {
        Vcpu* v = d->vcpu(VcpuId(i));
        TimerQueue::disarm(v->wakeup);
        TimerQueue::disarm(v->singleshot);
        v->periodic_ns = 0;
        TimerQueue::disarm(v->periodic);
    }
    // Frames of its own that other domains hold keep it until they let go (Xen keeps a domain
    // until its pages are free); what it holds of other domains goes in any case. Decided (and
    // said) before its own holds go, and again after, when it can be recorded.
    bool held = held_by_others(d, false);
    if (held) log::info("domain {} dying: frames still mapped by other domains", d->id());
    {
        pv_mm::MmGuard mm;
        grant::release_mappings(*d);  // its grant pins and every foreign entry of its tables
    }
    if (held && held_by_others(d, true)) return;
    finish_destroy(d);
}

}  // namespace

void init(MachineMemory& mm, const Options& o) {
    machine = &mm;
    options = o;
}

unsigned count() {
    TableGuard g;
    return unsigned(table.count());
}

void vcpu_left_cpu(Vcpu& v) {
    Domain& d = v.domain();
    if (d.privileged()) return;  // the control domain's end ends the machine instead
    // A toolstack-built domain stays, shut down, until the toolstack destroys it.
    if (d.toolstack_built()) return;
    {
        TableGuard g;
        if (d.state() != DomainState::shutdown) return;
        for (unsigned i = 0; i < d.nr_vcpus(); ++i)
            if (d.vcpu(VcpuId(i))->on_cpu) return;
        d.set_dying();
        if (!d.claim_teardown()) return;  // another CPU's vCPU left at the same moment
    }
    destroy(&d);
}

namespace {

void log_unusable_kernel(size_t dom, size_t module, const kernel_image::Failure& f) {
    using kernel_image::Error;
    if (f.error == Error::unsupported_format)
        log::error("domain {}: kernel (module {}): {}-compressed bzImage payload, which Kestrel does not decode "
                   "(only XZ, gzip or an uncompressed ELF): domain not started",
                   dom, module, bzimage::format_name(f.format));
    else
        log::error("domain {}: kernel (module {}): {}{} (at byte {:#x}): domain not started", dom, module,
                   f.error == Error::xz ? "XZ payload: " : f.error == Error::gzip ? "gzip payload: " : "",
                   kernel_image::reason(f), f.where);
}

// The ELF image inside a kernel module, decompressed into frames of the hypervisor's if it
// comes compressed in a bzImage.
kstd::Expected<kernel_image::Kernel, kernel_image::Failure> unpack_kernel(size_t dom, size_t module,
                                                                          const mb2::Module& m) {
    uint64_t start_ns = tsc::now_ns();
    auto k = kernel_image::load(*machine, pv_domain_build::bytes_of(m));
    if (!k) {
        log_unusable_kernel(dom, module, k.error());
        return k;
    }
    if (k->owns_frames)
        log::info("domain {}: kernel (module {}): {} bzImage payload (boot protocol {:#x}), {} KiB unpacked to {} KiB "
                  "in {} ms", dom, module, bzimage::format_name(k->contents.format), k->contents.protocol,
                  k->contents.payload.size() >> 10, k->elf.size() >> 10, (tsc::now_ns() - start_ns) / 1000000);
    return k;
}

// Creates, builds and starts one boot-time domain; false (with the reason logged) if it
// cannot be. dom0's default size is computed here, once its kernel is unpacked: the unpacked
// image is held until the domain is built (as Xen holds its boot modules), so that memory is
// not counted as dom0's.
bool start_one(size_t i, BootDomainSpec& s, const mb2::Module* modules, uint64_t domu_bytes) {
    auto kernel = unpack_kernel(i, s.kernel_module, modules[s.kernel_module]);
    if (!kernel) return false;
    if (s.control) {
        uint64_t free_bytes = machine->free_frames() * PAGE_SIZE;
        unsigned online = smp::online_count();
        s.mem_bytes = options.dom0_mem ? options.dom0_mem
                                       : dom0_default_bytes(free_bytes > domu_bytes ? free_bytes - domu_bytes : 0);
        s.vcpus = options.dom0_max_vcpus ? options.dom0_max_vcpus : (online < 32 ? online : 32);
    }
    // dom0's limit: Xen's default without dom0_mem=max: is UINT_MAX pages (no limit).
    const uint64_t max_pages = s.control ? DOM0_MAX_PAGES : 0;
    DomainConfig c{DomId(uint16_t(i)), s.mem_bytes / PAGE_SIZE, max_pages, s.vcpus, s.control, true};
    auto d = Domain::create(*machine, c);
    if (!d) {
        log::error("domain {}: cannot create ({}, {} MiB, {} vCPUs)", i, domain_error_name(d.error()),
                   s.mem_bytes >> 20, s.vcpus);
        kernel_image::release(*machine, *kernel);
        return false;
    }
    const mb2::Module* initrd = s.has_initrd ? &modules[s.initrd_module] : nullptr;
    bool built = pv_domain_build::build(**d, kernel->elf, initrd, s.cmdline);
    kernel_image::release(*machine, *kernel);
    if (!built) {
        Domain::destroy(*d);
        return false;
    }
    // Its vCPUs join run queues before anything can find the domain, spread over the CPUs
    // from CPU (id mod online CPUs) on.
    sched::add_domain(**d, CpuId(uint32_t(i % smp::online_count())));
    add(*d);
    // In the list first: a wall clock set from now on reaches it through for_each, one set
    // before is published here (each publication reads the clock under its lock).
    wallclock::publish(**d);
    // Every vCPU is offline from now until it is started or brought up.
    for (unsigned v = 0; v < (*d)->nr_vcpus(); ++v) (*d)->vcpu(VcpuId(v))->runstate_entry = tsc::now_ns();
    (*d)->vcpu(VcpuId(0))->initialised = true;
    sched::start(*(*d)->vcpu(VcpuId(0)));
    return true;
}

}  // namespace

unsigned start_boot_domains(const mb2::Module* modules, size_t count) {
    BootDomainSpec specs[boot_domains::MAX_DOMAINS];
    auto planned = boot_domains::plan(modules, count, specs);
    if (!planned) {
        log::error("boot modules: {} (module {}): no domain started", planned.error().what, planned.error().where);
        return 0;
    }
    uint64_t domu_bytes = 0;
    for (size_t i = 1; i < *planned; ++i) domu_bytes += specs[i].mem_bytes;
    unsigned started = 0;
    for (size_t i = 0; i < *planned; ++i) started += start_one(i, specs[i], modules, domu_bytes);
    return started;
}

}  // namespace domains

namespace domain_control {

void shutdown(Domain& d, ShutdownReason reason) {
    if (!d.shut_down(reason)) return;
    log::info("domain {} shut down: {}", d.id(), shutdown_reason_name(d.shutdown_reason()));
    if (d.privileged()) domains::end_machine(d);
    sched::stop_domain(d);
    domains::notify_control_domain();
}

void crash(Vcpu& v, const char* why) {
    log::error("domain {} vcpu {} crashed: {}", v.domain().id(), v.id(), why);
    shutdown(v.domain(), shutdown::crash);
}

Domain* lookup(DomId id) {
    domains::TableGuard g;
    return domains::table.find(id);
}

Domain* first_from(DomId id) {
    domains::TableGuard g;
    return domains::table.first_from(id);
}

bool id_free(DomId id) {
    domains::TableGuard g;
    return domains::table.id_free(id);
}

kstd::Expected<Domain*, DomainError> create(const DomainConfig& c) {
    kstd::Expected<Domain*, DomainError> d = kstd::unexpected(DomainError::id_in_use);
    {
        pv_mm::MmGuard mm;  // its frames enter the frame table
        d = Domain::create(*domains::machine, c);
    }
    if (!d) return d;
    sched::add_domain(**d, CpuId(uint32_t(c.id.raw() % smp::online_count())));
    uint64_t now = tsc::now_ns();
    for (unsigned v = 0; v < (*d)->nr_vcpus(); ++v) (*d)->vcpu(VcpuId(v))->runstate_entry = now;
    if (!domains::add(*d)) {
        sched::remove_domain(**d);
        bool full = domains::table_full();  // else the id was taken meanwhile
        pv_mm::MmGuard mm;
        Domain::destroy(*d);
        return kstd::unexpected(full ? DomainError::out_of_memory : DomainError::id_in_use);
    }
    wallclock::publish(**d);
    return d;
}

void destroy(Domain& d) {
    sched::pause(d);  // off every CPU, for good
    bool claimed = false;
    {
        domains::TableGuard g;
        // Already dying (a boot-time domain that shut down, being torn down by another CPU, or
        // one kept for others' mappings): the caller's hold kept it, letting go reaps it.
        if (d.state() != DomainState::dying) {
            d.set_dying();
            claimed = d.claim_teardown();
        }
    }
    {
        pv_mm::MmGuard mm;
        if (d.put_foreign_ref() && !claimed) pv_mm::reap_later(d.id());
    }
    if (!claimed) return;
    log::info("domain {} destroyed by the toolstack", d.id());
    domains::destroy(&d);
}

void for_each(void (*fn)(Domain&)) {
    domains::TableGuard g;
    domains::table.for_each(fn);
}

void reap(DomId id) {
    Domain* d;
    {
        pv_mm::MmGuard mm;
        LockGuard grants(grant::ops_lock());
        domains::TableGuard g;
        if (!domains::table.held(id)) return;
        d = domains::table.find(id);
        if (d->foreign_refs() != 0 || d->grant_table()->mapped_by_others()) return;
        domains::table.remove(id, d);  // only one caller gets past this
    }
    domains::finish_destroy(d);
}

}  // namespace domain_control
