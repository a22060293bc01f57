// A domain: a guest with its memory, its vCPUs and its lifecycle.
//
// Lifecycle (as Xen's): created paused; unpaused to run; shut down by the guest
// (SCHEDOP_shutdown: poweroff, reboot, suspend, crash, watchdog) or crashed by the hypervisor
// for misbehaving; destroyed, which returns every frame it held. A domain's memory is a list
// of machine frames indexed by guest frame number (its physical-to-machine map), allocated
// when it is built and accounted to it.
//
// Memory reservations (XENMEM_increase/decrease_reservation, populate_physmap) add and remove
// frames while the domain runs. Counted: nr_pages(), the memory frames the domain holds (Xen's
// tot_pages), never more than max_pages(). Every memory frame is on the domain's page list,
// which is what destroy() gives back; the p2m (p2m_size() entries, up to max_pages) maps a guest
// frame to its machine frame or to none. As on Xen, a PV guest keeps its own p2m: a frame
// added at a guest frame that was already mapped replaces it in the p2m, the old frame staying
// the domain's, and a frame added without a guest frame is on the page list only.
#pragma once

#include "cpu_mask.hpp"
#include "credit.hpp"
#include "kstd/expected.hpp"
#include "machine_memory.hpp"
#include "spinlock.hpp"
#include "types.hpp"
#include "event_channel.hpp"
#include "pirq.hpp"
#include "vcpu.hpp"

struct shared_info;
class GrantTable;

enum class DomainState : uint8_t { running, shutdown, dying };

// The SHUTDOWN_* codes of the Xen ABI (sched.h): why a domain stopped. The ABI passes any
// 8-bit value through (Xen stores and reports unknown ones), so this is not an enum.
using ShutdownReason = uint8_t;
namespace shutdown {
constexpr ShutdownReason poweroff = 0, reboot = 1, suspend = 2, crash = 3, watchdog = 4, soft_reset = 5;
}
const char* shutdown_reason_name(ShutdownReason r);

enum class DomainError : uint8_t { out_of_memory, too_many_vcpus, bad_size, id_in_use, over_limit, not_owned, in_use };
const char* domain_error_name(DomainError e);

struct DomainConfig {
    DomId id{0};
    uint64_t nr_pages = 0;   // memory at creation, in 4 KiB pages
    uint64_t max_pages = 0;  // memory limit (0: nr_pages)
    unsigned nr_vcpus = 1;
    bool privileged = false;  // the control domain (dom0)
    bool console = false;     // may use console_io (Xen's is_console); privileged domains always may
    // Highest event channel port (Xen's max_evtchn_port); 0: Xen's defaults,
    // events::DOM0_MAX_PORT for a privileged domain, events::DOMU_MAX_PORT for others.
    uint32_t max_evtchn_port = 0;
    // Built by the toolstack (XEN_DOMCTL_createdomain) rather than at boot: it may start with
    // no memory (nr_pages 0), starts paused by the toolstack, and stays, shut down, until the
    // toolstack destroys it (a boot-time domU is destroyed as soon as it shuts down).
    bool toolstack = false;
    // What the toolstack said about it, reported back by XEN_DOMCTL_getdomaininfo.
    uint32_t ssidref = 0;
    uint8_t handle[16]{};
    uint32_t emulation_flags = 0;  // XEN_X86_EMU_*
    uint32_t misc_flags = 0;       // XEN_X86_MSR_RELAXED
    bool xs_domain = false;        // runs xenstore (XEN_DOMCTL_CDF_xs_domain)
};

class Domain {
public:
    static constexpr unsigned MAX_VCPUS = 32;  // vCPUs whose vcpu_info lives in shared_info

    // Allocates the domain's memory, shared_info page and vCPUs; on any failure frees what it
    // took and returns the reason.
    static kstd::Expected<Domain*, DomainError> create(MachineMemory& mm, const DomainConfig& c);
    // Frees every frame and object of the domain. Its vCPUs must be off every CPU.
    static void destroy(Domain* d);

    DomId id() const { return id_; }
    bool privileged() const { return privileged_; }
    bool toolstack_built() const { return toolstack_; }
    // Whether the toolstack has made the domain's vCPUs (XEN_DOMCTL_max_vcpus). Kestrel
    // allocates them at creation, but a toolstack-built domain shows none until that call, as
    // Xen's (whose createdomain only sets the limit): the vCPU domctls find no vCPU before it.
    bool vcpus_made() const { return vcpus_made_; }
    void make_vcpus() { vcpus_made_ = true; }
    // The toolstack's label, handle and x86 configuration, as given at creation.
    uint32_t ssidref() const { return ssidref_; }
    const uint8_t* handle() const { return handle_; }
    uint32_t emulation_flags() const { return emulation_flags_; }
    uint32_t misc_flags() const { return misc_flags_; }
    bool xs_domain() const { return xs_domain_; }
    bool console_access() const { return privileged_ || console_; }
    MachineMemory& machine() const { return mm_; }

    // No machine frame: a p2m entry of a guest frame the domain has no memory at.
    static constexpr Mfn NO_MFN{~uint64_t{0}};

    // Memory frames held (Xen's tot_pages): at creation, the guest frames [0, nr_pages).
    uint64_t nr_pages() const { return nr_pages_; }
    uint64_t max_pages() const { return max_pages_; }
    // XEN_DOMCTL_max_mem: a new limit (Xen allows one below nr_pages: nothing more can be
    // added until the domain is back under it). A larger limit grows the p2m and the page list
    // (up to P2M_LIMIT and the machine's size); out_of_memory leaves everything as it was.
    // Callers hold page_lock() and the MMU lock (the only other readers of the p2m).
    kstd::Expected<bool, DomainError> set_max_pages(uint64_t pages);
    // Entries of the p2m (and room on the page list): max_pages, at most P2M_LIMIT.
    uint64_t p2m_size() const { return p2m_size_; }
    static constexpr uint64_t P2M_LIMIT = (PAGE_SIZE << FrameAllocator::MAX_ORDER) / (2 * sizeof(Mfn));
    // Frames the domain holds in all: its memory, p2m table, shared_info page, vCPU objects,
    // event channel storage, grant table.
    uint64_t frames_held() const;
    // Whether a guest frame has memory, and its machine frame (only for a valid one).
    bool pfn_valid(Pfn p) const { return p.raw() < p2m_size_ && p2m_[p.raw()] != NO_MFN; }
    Mfn mfn_of(Pfn p) const { return p2m_[p.raw()]; }
    void* map_pfn(Pfn p) const { return mm_.map(mfn_of(p)); }

    // Reservations. add_pages gives the domain 2^order new zeroed, machine-contiguous frames
    // (the first one is returned) with M2P entries pfn + i (FrameTable::M2P_INVALID: in no
    // guest frame), mapped in the p2m where pfn + i is below p2m_size(); over_limit past
    // max_pages (or a full page list), out_of_memory. remove_page takes one memory frame
    // back: not_owned for a frame not on the page list, in_use for one still referenced (mapped,
    // a page table, pinned, descriptors); its p2m entry, if it has one, becomes NO_MFN and
    // its M2P entry is cleared. The allocator takes blocks back whole, so the frames of a
    // block added together return to it when the last of them leaves the domain (they count
    // in frames_held() until then). Callers hold page_lock().
    kstd::Expected<Mfn, DomainError> add_pages(uint64_t pfn, unsigned order = 0);
    kstd::Expected<Mfn, DomainError> add_page(uint64_t pfn) { return add_pages(pfn, 0); }
    // As add_pages, for a block the caller took from the allocator itself (XENMEM_exchange
    // allocates before it gives anything back); over_limit leaves the block the caller's.
    kstd::Expected<bool, DomainError> assign_block(Mfn first, unsigned order, uint64_t pfn);
    kstd::Expected<bool, DomainError> remove_page(Mfn m);
    // Calls f(Mfn) for every memory frame on the page list (given-back frames still
    // referenced included). f must not add or remove pages.
    template <typename F>
    void for_each_page(F f) const {
        for (uint64_t i = 0; i < nr_pages_; ++i) f(entry_frame(pages_[i]));
    }
    // GNTTABOP_transfer moves a frame between domains. take_page gives up a memory frame that
    // nothing references and that came alone (order 0) without returning it to the allocator:
    // it leaves the page list, the p2m and the frame table (not_owned, or in_use for a frame
    // referenced, pending its free, or part of a larger block). accept_page takes such a frame
    // as the domain's at guest frame pfn (its M2P entry; the p2m too where pfn is below
    // p2m_size()); over_limit at max_pages. Callers hold page_lock().
    kstd::Expected<bool, DomainError> take_page(Mfn m);
    kstd::Expected<bool, DomainError> accept_page(Mfn m, uint64_t pfn);
    // A frame removed while still referenced goes back to the allocator here, once its
    // last reference is dropped (pv_mm::put_page calls this).
    void free_if_pending(Mfn m);
    Spinlock& page_lock() { return page_lock_; }

    Mfn shared_info_mfn() const { return shared_info_mfn_; }
    shared_info* shared() const { return shared_; }

    unsigned nr_vcpus() const { return nr_vcpus_; }
    Vcpu* vcpu(VcpuId id) const {
        return id.raw() < MAX_VCPUS && id.raw() < nr_vcpus_ ? vcpus_[id.raw()] : nullptr;
    }

    DomainState state() const { return state_; }
    ShutdownReason shutdown_reason() const { return shutdown_reason_; }
    // Records the domain's shutdown: only the first one counts, and a reason recorded earlier
    // by SCHEDOP_shutdown_code takes precedence, as on Xen. False if it had already shut down.
    bool shut_down(ShutdownReason r);
    // Whether it has shut down (and stays so once dying).
    bool has_shut_down() const { return has_shut_down_; }
    // SCHEDOP_shutdown_code: the reason a later shutdown reports; the first one sticks.
    void set_shutdown_code(ShutdownReason r) {
        if (!has_shutdown_code_) shutdown_code_ = r;
        has_shutdown_code_ = true;
    }
    bool has_shutdown_code() const { return has_shutdown_code_; }
    ShutdownReason shutdown_code() const { return shutdown_code_; }
    void set_dying() { state_ = DomainState::dying; }
    // Teardown runs once: the first caller (the last vCPU leaving, or the last foreign
    // reference going) gets true.
    bool claim_teardown() { return !__atomic_exchange_n(&torn_down_, true, __ATOMIC_SEQ_CST); }

    // References other domains' page tables hold on this domain's frames (a privileged
    // domain's foreign mappings, as a toolstack makes). A domain with any left is kept, dying,
    // until the last goes (as Xen keeps a domain until its pages are free): put_foreign_ref
    // returns true when it dropped the last one.
    uint64_t foreign_refs() const { return __atomic_load_n(&foreign_refs_, __ATOMIC_SEQ_CST); }
    void get_foreign_ref() { __atomic_add_fetch(&foreign_refs_, 1, __ATOMIC_SEQ_CST); }
    bool put_foreign_ref() { return __atomic_sub_fetch(&foreign_refs_, 1, __ATOMIC_SEQ_CST) == 0; }

    // Pausing nests (Xen's pause count): the domain's vCPUs stay off every CPU until every
    // pause is matched by an unpause. The scheduler does the taking off (sched::pause).
    void pause() { __atomic_add_fetch(&pause_count_, 1, __ATOMIC_SEQ_CST); }
    // False for an unpause without a pause (nothing changes).
    bool unpause() {
        unsigned n = __atomic_load_n(&pause_count_, __ATOMIC_SEQ_CST);
        while (n != 0)
            if (__atomic_compare_exchange_n(&pause_count_, &n, n - 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
                return true;
        return false;
    }
    bool paused() const { return __atomic_load_n(&pause_count_, __ATOMIC_SEQ_CST) != 0; }
    // The toolstack's own pauses (Xen's controller_pause_count), each also one of the pauses
    // above: a toolstack-built domain starts with one. At most CONTROLLER_PAUSE_MAX (false
    // beyond: Xen's -EOVERFLOW); controller_unpause is false when there is none to undo. The
    // caller then pauses or unpauses through the scheduler. Serialized by the domctl lock.
    static constexpr unsigned CONTROLLER_PAUSE_MAX = 255;
    bool controller_pause() {
        if (controller_pauses_ >= CONTROLLER_PAUSE_MAX) return false;
        __atomic_add_fetch(&controller_pauses_, 1, __ATOMIC_SEQ_CST);
        return true;
    }
    bool controller_unpause() {
        if (controller_pauses_ == 0) return false;
        __atomic_sub_fetch(&controller_pauses_, 1, __ATOMIC_SEQ_CST);
        return true;
    }
    bool controller_paused() const { return __atomic_load_n(&controller_pauses_, __ATOMIC_SEQ_CST) != 0; }

    // Event channels (port 0 reserved) and their delivery state: event_channel.hpp. A port
    // past the valid ones has no channel.
    Channel* channel(uint32_t port) const { return events_.get(port); }
    EventChannels& events() { return events_; }
    const EventChannels& events() const { return events_; }

    // Physical interrupts lent to the domain (pirq.hpp).
    PirqTable& pirqs() { return pirqs_; }
    const PirqTable& pirqs() const { return pirqs_; }

    // The domain's grant table (grant_table.hpp).
    GrantTable* grant_table() const { return grants_; }

    // The scheduler's view: weight, cap and the cap's budget (credit.hpp).
    credit::Account& sched() { return sched_; }
    const credit::Account& sched() const { return sched_; }

    // VMASST_TYPE_* bits enabled by vm_assist.
    uint64_t vm_assist = 0;

    // The CPUs that have loaded one of the domain's page-table roots since they last loaded
    // another: only they can hold TLB entries of its address spaces, so only they take part
    // in its TLB flushes.
    CpuMask dirty_cpus;

    // Console output of a domain that is not the control domain, kept until a newline so
    // that its lines are logged whole with the domain's tag.
    char console_line[128]{};
    size_t console_line_len = 0;

    // Use create(): public only so that MachineMemory can construct it in place.
    Domain(MachineMemory& mm, const DomainConfig& c);

private:
    Domain(const Domain&) = delete;
    Domain& operator=(const Domain&) = delete;

    kstd::Expected<bool, DomainError> allocate(const DomainConfig& c);
    uint64_t p2m_entries_for(uint64_t max_pages, uint64_t at_least) const;
    bool room_for(unsigned order) const;
    void release();

    MachineMemory& mm_;
    DomId id_;
    bool privileged_;
    bool console_;
    bool toolstack_;
    bool vcpus_made_;
    bool xs_domain_;
    uint32_t ssidref_;
    uint8_t handle_[16];
    uint32_t emulation_flags_;
    uint32_t misc_flags_;
    // A page-list entry: the frame, and above it the order of the block it came in.
    static constexpr unsigned ENTRY_ORDER_SHIFT = 56;
    static Mfn entry(Mfn m, unsigned order) { return Mfn(m.raw() | uint64_t(order) << ENTRY_ORDER_SHIFT); }
    static Mfn entry_frame(Mfn e) { return Mfn(e.raw() & ((uint64_t{1} << ENTRY_ORDER_SHIFT) - 1)); }
    static unsigned entry_order(Mfn e) { return unsigned(e.raw() >> ENTRY_ORDER_SHIFT); }
    // Where m is on the page list, or nr_pages_.
    uint64_t page_index(Mfn m) const;
    void set_entry(uint64_t i, Mfn e);
    void unmap_from_p2m(Mfn m);
    // Takes entry i off the page list; frees its block if no frame of it is left there.
    void drop_entry(uint64_t i);

    uint64_t nr_pages_ = 0;
    uint64_t max_pages_;
    uint64_t frames_held_ = 0;
    uint64_t p2m_size_ = 0;
    // One block: the p2m (p2m_size_ entries), then the page list (as many).
    Mfn* p2m_ = nullptr;
    Mfn* pages_ = nullptr;
    unsigned p2m_order_ = 0;
    Spinlock page_lock_;
    Mfn shared_info_mfn_{0};
    shared_info* shared_ = nullptr;
    Vcpu* vcpus_[MAX_VCPUS]{};
    unsigned nr_vcpus_ = 0;
    DomainState state_ = DomainState::running;
    ShutdownReason shutdown_reason_ = shutdown::poweroff;
    ShutdownReason shutdown_code_ = shutdown::poweroff;
    bool has_shutdown_code_ = false;
    bool has_shut_down_ = false;
    unsigned pause_count_ = 0;
    unsigned controller_pauses_ = 0;
    uint64_t foreign_refs_ = 0;
    bool torn_down_ = false;
    EventChannels events_;
    PirqTable pirqs_;
    GrantTable* grants_ = nullptr;
    credit::Account sched_;
};
