// The boot CPU's path from the multiboot2 hand-off to a running SMP hypervisor. Each step is
// one call, in the order the steps depend on each other; no subsystem initializes itself.
#include <arch/cpu.hpp>
#include <arch/layout.hpp>
#include <arch/msr.hpp>

#include "acpi.hpp"
#include "cmdline.hpp"
#include "cmos_rtc.hpp"
#include "console.hpp"
#include "crashtest.hpp"
#include "domains.hpp"
#include "guest_entry.hpp"
#include <arch/panic_support.hpp>

#include "debug_keys.hpp"
#include "domain.hpp"
#include "domain_control.hpp"
#include "gsi_lines.hpp"
#include "ioapic.hpp"
#include "iomem_policy.hpp"
#include "ioport_policy.hpp"
#include "lapic.hpp"
#include "log.hpp"
#include "memory.hpp"
#include "memory_map.hpp"
#include "multiboot2.hpp"
#include "paging.hpp"
#include "panic.hpp"
#include "percpu.hpp"
#include "platform.hpp"
#include "selftest.hpp"
#include "serial_input.hpp"
#include "scheduler.hpp"
#include "smp.hpp"
#include "tlb.hpp"
#include "timer.hpp"
#include "tsc.hpp"
#include "uart16550.hpp"
#include "xen_version.hpp"

extern "C" const uint64_t image_phys_bounds[2];
extern "C" [[noreturn]] void run_on_stack(uint64_t top, void (*fn)());

namespace {

constexpr const char* VERSION = "0.1";

// Boot-time state too large for the stack; zero-initialized, no constructors.
constinit Uart16550 com1, com2;
constinit kstd::Diagnostics diagnostics{};
constinit mb2::BootInfo boot_info{};
constinit MemoryMap memory_map{};
constinit acpi::Platform platform_info{};
constinit Options options{};
Paddr boot_info_pa;
alignas(16) uint8_t early_ist_stacks[arch::ist::COUNT][4096];
alignas(4096) uint64_t boot_cpu_gdt[arch::GDT_ENTRIES];

// Catches faults from the first instruction on: the boot CPU gets its tables at once, on
// static IST stacks that memory::setup_stacks later replaces with guarded ones.
void early_cpu_setup(arch::PerCpu& bsp) {
    uint64_t tops[arch::ist::COUNT];
    for (unsigned i = 0; i < arch::ist::COUNT; ++i)
        tops[i] = arch::ist_top_with_owner(reinterpret_cast<uint64_t>(early_ist_stacks[i] + 4096), bsp);
    arch::init_idt();
    arch::init_cpu_tables(bsp.tables, boot_cpu_gdt, tops);
    arch::load_cpu_tables(bsp.tables);
    arch::percpu_install(bsp);
    arch::percpu_register(bsp);
    bsp.online.store(true);
}

RegionType region_type_of(mb2::MemoryType t) {
    switch (t) {
    case mb2::MemoryType::available: return RegionType::available;
    case mb2::MemoryType::acpi_reclaimable: return RegionType::acpi_reclaimable;
    case mb2::MemoryType::nvs: return RegionType::nvs;
    case mb2::MemoryType::bad: return RegionType::bad;
    default: return RegionType::reserved;
    }
}

// The serial ports Kestrel drives are its own: no domain's port I/O reaches them.
void start_consoles(const Options& o) {
    if (o.console_com1 && com1.init(o.com1.io_base, o.com1.baud)) {
        console::add(com1);
        ioport_policy::reserve(o.com1.io_base, 8);
    }
    if (o.console_com2 && com2.init(o.com2.io_base, o.com2.baud)) {
        console::add(com2);
        ioport_policy::reserve(o.com2.io_base, 8);
    }
}

void log_diagnostics(const char* what) {
    for (size_t i = 0; i < diagnostics.count(); ++i) log::warning("{}: {}", what, diagnostics.message(i));
    if (diagnostics.dropped()) log::warning("{}: {} more warnings not shown", what, diagnostics.dropped());
    diagnostics.clear();
}

// Reads the command line first, so the console is configured before anything is printed.
void parse_boot_info(uint32_t magic, uint32_t info_pa) {
    if (magic != mb2::BOOTLOADER_MAGIC) {
        com1.init(0x3f8, 115200);
        console::add(com1);
        panic("not started by a multiboot2 loader (magic {:#x}): boot Kestrel with GRUB's multiboot2 command", magic);
    }
    boot_info_pa = Paddr(info_pa);
    auto* info = static_cast<const uint8_t*>(paging::phys_to_virt(boot_info_pa));
    auto parsed = mb2::parse(info, mb2::total_size(info), diagnostics);
    if (parsed) boot_info = *parsed;
    options = parse_cmdline(parsed ? boot_info.cmdline : kstd::StringView(), diagnostics);
    log::set_level(options.loglvl);
    start_consoles(options);
    platform::set_debug_exit_port(options.debug_exit_port);
    if (options.debug_exit_port) ioport_policy::reserve(options.debug_exit_port, 4);
    platform::set_noreboot(options.noreboot);
    log::info("Kestrel {} x86_64 hypervisor", VERSION);
    if (!parsed) panic("bad multiboot2 information: {} (at byte {})", parsed.error().what, parsed.error().where);
    log::info("loader: {}; command line: '{}'", boot_info.loader_name, boot_info.cmdline);
    log_diagnostics("boot information");
}

void build_memory_map() {
    for (size_t i = 0; i < boot_info.region_count; ++i) {
        const mb2::MemoryRegion& r = boot_info.regions[i];
        memory_map.add(r.base, r.size, region_type_of(r.type), diagnostics);
    }
    if (boot_info.region_count == 0) panic("the boot loader gave no memory map");
    memory_map.sanitize(diagnostics);
    memory_map.reserve(Paddr(0), PAGE_SIZE, RegionType::reserved);  // real-mode IVT and BIOS data
    // The boot information stays in use: module command lines and the RSDP copy live in it.
    memory_map.reserve(boot_info_pa, mb2::total_size(static_cast<const uint8_t*>(paging::phys_to_virt(boot_info_pa))),
                       RegionType::boot_data);
    memory_map.reserve(Paddr(image_phys_bounds[0]), image_phys_bounds[1] - image_phys_bounds[0], RegionType::hypervisor);
    for (size_t i = 0; i < boot_info.module_count; ++i) {
        const mb2::Module& m = boot_info.modules[i];
        memory_map.reserve(m.start, m.end - m.start, RegionType::module);
    }
    if (options.mem_limit) memory_map.limit(Paddr(options.mem_limit));
    log_diagnostics("memory map");
    for (size_t i = 0; i < memory_map.count(); ++i) {
        const Region& r = memory_map[i];
        log::debug("  [{:#014x}, {:#014x}) {}", r.base, r.end(), region_type_name(r.type));
    }
}

class IoWindowReader final : public acpi::PhysReader {
public:
    const uint8_t* map(Paddr pa, size_t len) override {
        if (len == 0 || pa.raw() + len < pa.raw()) return nullptr;
        return static_cast<const uint8_t*>(paging::map_io(pa, len, paging::Cache::writeback));
    }
};

// The I/O memory the hypervisor drives, which no domain may map (as Xen's
// dom0_setup_permissions): the local APIC, the I/O APICs, the MSI window and unusable RAM
// above 1 MiB.
void keep_hypervisor_iomem() {
    constexpr uint64_t MSI_WINDOW = 0xfee00000, MSI_WINDOW_SIZE = 0x100000;
    if (arch::cpuid(0x80000000).eax >= 0x80000008) iomem_policy::set_address_bits(arch::cpuid(0x80000008).eax & 0xff);
    iomem_policy::deny(paddr_to_mfn(platform_info.lapic_address), 1);
    for (size_t i = 0; i < platform_info.ioapic_count; ++i)
        iomem_policy::deny(paddr_to_mfn(platform_info.ioapics[i].address), 1);
    iomem_policy::deny(paddr_to_mfn(Paddr(MSI_WINDOW)), MSI_WINDOW_SIZE / PAGE_SIZE);
    for (size_t i = 0; i < memory_map.count(); ++i) {
        const Region& r = memory_map[i];
        if (r.type != RegionType::bad || r.end() <= Paddr(kstd::MiB)) continue;
        Mfn first = paddr_to_mfn(r.base < Paddr(kstd::MiB) ? Paddr(kstd::MiB) : r.base);
        iomem_policy::deny(first, paddr_to_mfn_up(r.end()).raw() - first.raw());
    }
}

void discover_platform() {
    IoWindowReader reader;
    if (!boot_info.rsdp) panic("no ACPI RSDP from the boot loader: cannot find CPUs and interrupt controllers");
    auto parsed = acpi::parse(boot_info.rsdp, boot_info.rsdp_length, reader, diagnostics);
    log_diagnostics("ACPI");
    if (!parsed) panic("ACPI tables unusable: {} (at {:#x})", parsed.error().what, parsed.error().where);
    platform_info = *parsed;
    platform::set_acpi(platform_info);
    platform::set_firmware(!boot_info.efi64 && boot_info.efi_system_table.raw() == 0);
    keep_hypervisor_iomem();
    log::info("ACPI {}: {} CPUs, {} I/O APICs, {} overrides, S5 {}", platform_info.oem_id, platform_info.cpu_count,
              platform_info.ioapic_count, platform_info.override_count, platform_info.has_s5 ? "yes" : "no");
}

void memory_report();

void start_time_and_interrupts(arch::PerCpu& bsp) {
    ioapic::mask_legacy_pic();
    ioapic::init(platform_info);
    gsi_lines::init(platform_info);
    // The standard ISA interrupts of the legacy serial ports: 4 for 0x3f8 and 0x3e8, 3 else.
    auto uart_irq = [](uint16_t base) { return base == 0x3f8 || base == 0x3e8 ? 4u : 3u; };
    if (options.console_com1 && com1.io_base()) gsi_lines::reserve_isa(uart_irq(com1.io_base()), "serial console");
    if (options.console_com2 && com2.io_base()) gsi_lines::reserve_isa(uart_irq(com2.io_base()), "serial console");
    lapic::init_global(platform_info.lapic_address);
    lapic::init_cpu();
    bsp.apic_id = lapic::id();
    tsc::calibrate(platform_info);
    log::set_clock(tsc::now_ns);
    lapic::calibrate_timer();
    smp::init();
    tlb::init();
    timer::init();
    timer::init_cpu();
    guest_entry::init_cpu();
    sched::init(options.runqueues);
    sched::init_cpu();
    sched::add_debug_keys();
    debug_keys::add('d', "where every CPU is: registers, backtrace", arch::dump_all_cpus);
    debug_keys::add('m', "memory: free, each domain's, Kestrel's own", memory_report);
    cmos_rtc::set_wallclock(platform_info);
    arch::interrupts_on();
}

// The boot CPU leaves the boot stack (no guard page) for stacks like every other CPU's.
void move_to_guarded_stacks(arch::PerCpu& bsp) {
    memory::setup_stacks(bsp);
    for (unsigned i = 0; i < arch::ist::COUNT; ++i)
        bsp.tables.tss.ist[i] = arch::ist_top_with_owner(bsp.ist_bottom[i] + layout::IST_STACK_SIZE, bsp);
    arch::set_ring0_stack(bsp.tables, bsp.stack_top);
    bsp.guest_frame_top = bsp.stack_top;
    arch::move_to_gdt_area(bsp.tables, bsp.id);
}

uint64_t ram_bytes() {
    return memory_map.total(RegionType::available) + memory_map.total(RegionType::boot_data) +
           memory_map.total(RegionType::hypervisor) + memory_map.total(RegionType::module);
}

// Once the boot-time domains are built, nothing reads the modules again: kernels were loaded
// or unpacked into domain memory, initrds copied. Their frames go to the allocator, as Xen
// discards its initial images. Only whole frames of module regions: a page a module shares
// with the boot information or another region stays reserved. (They stay "boot module" in
// the memory map, which RAM totals count either way.)
void release_boot_modules() {
    FrameAllocator& frames = memory::frames();
    uint64_t before = frames.free_frames();
    for (size_t i = 0; i < memory_map.count(); ++i)
        if (memory_map[i].type == RegionType::module) frames.add_free_range(memory_map[i].base, memory_map[i].end());
    if (frames.free_frames() != before)
        log::info("boot modules: {} KiB given back to the allocator", (frames.free_frames() - before) * PAGE_SIZE / 1024);
}

uint64_t domain_pages_kib;

// Debug key 'm': where the machine's memory is. What is neither free nor a domain's memory
// pages is Kestrel's: its image, page tables, per-CPU data, the frame table and M2P, and each
// domain's records (domain object, p2m, shared_info, vCPUs, event channels, grant table).
void memory_report() {
    domain_pages_kib = 0;
    const uint64_t free_kib = memory::frames().free_frames() * PAGE_SIZE / 1024;
    log::info("memory: {} KiB RAM, {} KiB free", ram_bytes() / 1024, free_kib);
    domain_control::for_each([](Domain& d) {
        log::info("  d{}: {} KiB of memory pages, {} KiB of records", d.id(), d.nr_pages() * PAGE_SIZE / 1024,
                  (d.frames_held() - d.nr_pages()) * PAGE_SIZE / 1024);
        domain_pages_kib += d.nr_pages() * PAGE_SIZE / 1024;
    });
    log::info("  Kestrel: {} KiB (RAM less free memory and domains' pages)",
              ram_bytes() / 1024 - free_kib - domain_pages_kib);
}

void print_banner() {
    const FrameAllocator& f = memory::frames();
    uint64_t ram = ram_bytes();
    uint64_t boot_ms = tsc::ticks_to_ns(arch::rdtsc() - tsc::boot_tsc()) / 1000000;
    log::info("Kestrel {} up: {} CPUs online, {} MiB RAM, {} MiB free, highest RAM address {:#x}, {} ms since entry",
              VERSION, smp::online_count(), ram / kstd::MiB, f.free_frames() * PAGE_SIZE / kstd::MiB,
              memory_map.highest_available_end(), boot_ms);
}

[[noreturn]] void boot_continue();

}  // namespace

extern "C" [[noreturn]] void kestrel_main(uint32_t magic, uint32_t info_pa) {
    tsc::record_boot_tsc();
    arch::PerCpu& bsp = arch::boot_cpu_percpu();
    early_cpu_setup(bsp);
    parse_boot_info(magic, info_pa);
    build_memory_map();
    memory::init(memory_map);
    memory::init_frame_table(memory_map);
    move_to_guarded_stacks(bsp);
    run_on_stack(bsp.stack_top, boot_continue);
}

namespace {

void boot_continue() {
    auto pstats = paging::stats();
    log::info("memory: {} MiB direct-mapped ({} x 1G, {} x 2M, {} x 4K pages), {} MiB free in the frame allocator",
              pstats.direct_map_bytes / kstd::MiB, pstats.pages_1g, pstats.pages_2m, pstats.pages_4k,
              memory::frames().free_frames() * PAGE_SIZE / kstd::MiB);
    discover_platform();
    start_time_and_interrupts(arch::this_cpu());
    smp::boot_aps(platform_info, options.max_cpus);
    print_banner();
    if (!options.crashtest.empty()) crashtest::run(options.crashtest);
    if (options.selftest) selftest::run_and_power_off(options);
    if (options.console_com1 && com1.io_base()) serial_input::start(com1);
    domains::init(memory::machine(), options);
    xen_version::set_command_line(boot_info.cmdline);
    unsigned started = domains::start_boot_domains(boot_info.modules, boot_info.module_count);
    release_boot_modules();
    if (started == 0) log::info("no domain to start: CPUs idle");
    sched::run();
}

}  // namespace
