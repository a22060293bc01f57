#include "domains.hpp"

#include <arch/cpu.hpp>

#include "boot_domains.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "grant_table.hpp"
#include "log.hpp"
#include "paging.hpp"
#include "platform.hpp"
#include "pv_domain_build.hpp"
#include "scheduler.hpp"
#include "smp.hpp"
#include "spinlock.hpp"
#include "vcpu.hpp"

namespace domains {

namespace {

constexpr size_t MAX_DOMAINS = 64;
// What the hypervisor keeps for itself when dom0_mem is not given: as Xen, the smaller of
// 1/16 of the free memory and 128 MiB.
constexpr uint64_t DOM0_RESERVE_MAX = 128ull << 20;

Spinlock table_lock;

// The domain list is also read from interrupts (serial input raising VIRQ_CONSOLE): its lock
// is held with interrupts off.
class TableGuard {
public:
    TableGuard() { table_lock.lock(); }
    ~TableGuard() { table_lock.unlock(); }
    TableGuard(const TableGuard&) = delete;
    TableGuard& operator=(const TableGuard&) = delete;

private:
    arch::InterruptGuard irq_;
};
Domain* table[MAX_DOMAINS];
// Dying domains whose destruction waits for other domains to unmap their frames.
bool held_for_grants[MAX_DOMAINS];
MachineMemory* machine;
Options options;

bool add(Domain* d) {
    TableGuard g;
    if (d->id().raw() >= MAX_DOMAINS || table[d->id().raw()]) return false;
    table[d->id().raw()] = d;
    return true;
}

uint64_t dom0_default_bytes(uint64_t free_bytes) {
    uint64_t reserve = free_bytes / 16 < DOM0_RESERVE_MAX ? free_bytes / 16 : DOM0_RESERVE_MAX;
    return free_bytes - reserve;
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

// Under the grant lock (which orders this against the unmap that releases the last of them,
// domain_control::grants_released) and the table lock: whether other domains still map frames
// of d. If not, d leaves the domain list; if so and record is set, it is held back for them.
bool hold_for_grants(Domain* d, bool record) {
    LockGuard grants(grant::ops_lock());
    TableGuard g;
    uint16_t id = d->id().raw();
    if (d->grant_table()->mapped_by_others()) {
        if (record) held_for_grants[id] = true;
        return true;
    }
    if (id < MAX_DOMAINS && table[id] == d) table[id] = nullptr;
    return false;
}

void finish_destroy(Domain* d) {
    uint64_t held = d->frames_held();
    DomId id = d->id();
    Domain::destroy(d);
    log::info("domain {} destroyed: {} frames returned, {} free", id, held, machine->free_frames());
}

void destroy(Domain* d) {
    // Its vCPUs' timers must not fire into freed memory.
    for (unsigned i = 0; i < d->nr_vcpus(); ++i) {
        Vcpu* v = d->vcpu(VcpuId(i));
        TimerQueue::disarm(v->wakeup);
        TimerQueue::disarm(v->singleshot);
        v->periodic_ns = 0;
        TimerQueue::disarm(v->periodic);
    }
    // Frames of its own that other domains map keep it (dying, still found by id) until they
    // are unmapped; what it mapped of other domains' grants goes in any case. The decision is
    // made (and said) before its mappings go, and made again after, when it can be recorded.
    bool held = hold_for_grants(d, false);
    if (held) log::info("domain {} dying: frames still mapped by other domains", d->id());
    grant::release_mappings(*d);
    if (held && hold_for_grants(d, true)) return;
    finish_destroy(d);
}

}  // namespace

void init(MachineMemory& mm, const Options& o) {
    machine = &mm;
    options = o;
}

unsigned count() {
    TableGuard g;
    unsigned n = 0;
    for (Domain* d : table) n += d != nullptr;
    return n;
}

void vcpu_left_cpu(Vcpu& v) {
    Domain& d = v.domain();
    if (d.privileged()) return;  // the control domain's end ends the machine instead
    {
        TableGuard g;
        if (d.state() != DomainState::shutdown) return;
        for (unsigned i = 0; i < d.nr_vcpus(); ++i)
            if (d.vcpu(VcpuId(i))->on_cpu) return;
        d.set_dying();
    }
    destroy(&d);
}

unsigned start_boot_domains(const mb2::Module* modules, size_t count) {
    BootDomainSpec specs[boot_domains::MAX_DOMAINS];
    auto planned = boot_domains::plan(modules, count, specs);
    if (!planned) {
        log::error("boot modules: {} (module {}): no domain started", planned.error().what, planned.error().where);
        return 0;
    }
    uint64_t domu_bytes = 0;
    for (size_t i = 1; i < *planned; ++i) domu_bytes += specs[i].mem_bytes;
    uint64_t free_bytes = machine->free_frames() * PAGE_SIZE;
    unsigned online = smp::online_count();

    unsigned started = 0;
    for (size_t i = 0; i < *planned; ++i) {
        BootDomainSpec& s = specs[i];
        if (s.control) {
            s.mem_bytes = options.dom0_mem ? options.dom0_mem
                                           : dom0_default_bytes(free_bytes > domu_bytes ? free_bytes - domu_bytes : 0);
            s.vcpus = options.dom0_max_vcpus ? options.dom0_max_vcpus : (online < 32 ? online : 32);
        }
        DomainConfig c{DomId(uint16_t(i)), s.mem_bytes / PAGE_SIZE, 0, s.vcpus, s.control, true};
        auto d = Domain::create(*machine, c);
        if (!d) {
            log::error("domain {}: cannot create ({}, {} MiB, {} vCPUs)", i, domain_error_name(d.error()),
                       s.mem_bytes >> 20, s.vcpus);
            continue;
        }
        const mb2::Module& k = modules[s.kernel_module];
        const mb2::Module* initrd = s.has_initrd ? &modules[s.initrd_module] : nullptr;
        if (!pv_domain_build::build(**d, k, initrd, s.cmdline)) {
            Domain::destroy(*d);
            continue;
        }
        add(*d);
        sched::start(*(*d)->vcpu(VcpuId(0)), CpuId(uint32_t(i % online)));
        ++started;
    }
    return started;
}

}  // namespace domains

namespace domain_control {

void shutdown(Domain& d, ShutdownReason reason) {
    if (!d.shut_down(reason)) return;
    log::info("domain {} shut down: {}", d.id(), shutdown_reason_name(d.shutdown_reason()));
    if (d.privileged()) domains::end_machine(d);
    sched::stop_domain(d);
}

void crash(Vcpu& v, const char* why) {
    log::error("domain {} vcpu {} crashed: {}", v.domain().id(), v.id(), why);
    shutdown(v.domain(), shutdown::crash);
}

void grants_released(DomId id) {
    Domain* d;
    {
        LockGuard grants(grant::ops_lock());
        domains::TableGuard g;
        if (id.raw() >= domains::MAX_DOMAINS || !domains::held_for_grants[id.raw()]) return;
        d = domains::table[id.raw()];
        if (d->grant_table()->mapped_by_others()) return;
        domains::table[id.raw()] = nullptr;  // only one caller gets past this
        domains::held_for_grants[id.raw()] = false;
    }
    domains::finish_destroy(d);
}

Domain* lookup(DomId id) {
    domains::TableGuard g;
    return id.raw() < domains::MAX_DOMAINS ? domains::table[id.raw()] : nullptr;
}

}  // namespace domain_control
