// Start-up of the runtime and the domain facts every test kernel shares.
#include <xen/sched.h>
#include <xen/xen.h>

#include "console.hpp"
#include "hypercall.hpp"
#include "lib.hpp"
#include "runtime.hpp"
#include "traps.hpp"

namespace kt {
namespace {

start_info_t* the_start_info;
std::uint8_t the_initial_upcall_mask;
// Re-pointed at the shared_info frame at start-up; the frame behind it before that is lost.
[[gnu::aligned(4096)]] unsigned char shared_info_page[4096];

const std::uint64_t* m2p() { return reinterpret_cast<const std::uint64_t*>(MACH2PHYS_VIRT_START); }
const std::uint64_t* p2m() { return reinterpret_cast<const std::uint64_t*>(the_start_info->mfn_list); }

} // namespace

start_info_t* start_info() { return the_start_info; }
shared_info_t* shared_info() { return reinterpret_cast<shared_info_t*>(shared_info_page); }
vcpu_info_t* vcpu0() { return &shared_info()->vcpu_info[0]; }
std::uint8_t initial_upcall_mask() { return the_initial_upcall_mask; }

std::uint64_t pfn_to_mfn(std::uint64_t pfn) { return p2m()[pfn]; }
std::uint64_t mfn_to_pfn(std::uint64_t mfn) { return m2p()[mfn]; }

std::uint64_t virt_to_mfn(const void* va)
{
    return pfn_to_mfn((reinterpret_cast<std::uint64_t>(va) - virt_base) / page_size);
}

void* mfn_to_virt(std::uint64_t mfn) { return reinterpret_cast<void*>(virt_base + mfn_to_pfn(mfn) * page_size); }

bool lookup_pte(std::uint64_t va, std::uint64_t* pte)
{
    *pte = 0;
    auto* table = reinterpret_cast<const std::uint64_t*>(the_start_info->pt_base);
    for (int level = 3; level >= 0; --level) {
        const std::uint64_t entry = table[(va >> (12 + 9 * level)) & 511];
        if ((entry & pte_present) == 0)
            return false;
        if (level == 0 || (entry & pte_large) != 0) {
            *pte = entry;
            return true;
        }
        const std::uint64_t pfn = mfn_to_pfn((entry & pte_addr_mask) >> 12);
        if (pfn >= the_start_info->nr_pages)
            return false;
        table = reinterpret_cast<const std::uint64_t*>(virt_base + pfn * page_size);
    }
    return false;
}

std::uint64_t entry_maddr(const void* p, int level)
{
    const std::uint64_t v = reinterpret_cast<std::uint64_t>(p);
    std::uint64_t frame = virt_to_mfn(reinterpret_cast<void*>(the_start_info->pt_base));
    for (int l = 4; l > level; --l) {
        const auto* t = static_cast<const std::uint64_t*>(mfn_to_virt(frame));
        frame = (t[(v >> (12 + 9 * (l - 1))) & 511] & pte_addr_mask) >> 12;
    }
    return (frame << 12) | (((v >> (12 + 9 * (level - 1))) & 511) * 8);
}

std::uint64_t l1e_maddr(const void* p) { return entry_maddr(p, 1); }

std::uint64_t read_entry(std::uint64_t maddr)
{
    const auto* t = static_cast<const std::uint64_t*>(mfn_to_virt(maddr >> 12));
    return t[(maddr & 4095) / 8];
}

bool map_machine_page(void* page_va, std::uint64_t maddr, bool writable)
{
    const std::uint64_t pte = (maddr & pte_addr_mask) | pte_present | pte_accessed | pte_dirty
                              | (writable ? pte_rw : 0);
    return update_va_mapping(reinterpret_cast<std::uint64_t>(page_va), pte, UVMF_INVLPG | UVMF_LOCAL) == 0;
}

[[noreturn]] void fatal(const char* why)
{
    print("FATAL: {}\n", why);
    shutdown(SHUTDOWN_crash);
}

[[noreturn]] void shutdown(unsigned reason)
{
    sched_shutdown_t arg{};
    arg.reason = reason;
    for (;;)
        (void)sched_op(SCHEDOP_shutdown, &arg);
}

void runtime_init(start_info_t* si)
{
    the_start_info = si;
    if (reinterpret_cast<std::uint64_t>(kt_image_start) != virt_base)
        fatal("kernel.ld and runtime.hpp disagree about the virtual base");
    if (!map_machine_page(shared_info_page, si->shared_info, true))
        fatal("cannot map shared_info");
    // Events stay masked for the whole run: no test kernel registers an event callback, and
    // an upcall without one would crash the domain.
    the_initial_upcall_mask = vcpu0()->evtchn_upcall_mask;
    vcpu0()->evtchn_upcall_mask = 1;
    install_default_traps();
}

} // namespace kt
