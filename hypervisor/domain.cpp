#include "domain.hpp"

#include <xen/xen.h>

#include "event_channel_fifo.hpp"
#include "kstd/string.hpp"
#include "grant_table.hpp"
#include "irq_lines.hpp"

const char* shutdown_reason_name(ShutdownReason r) {
    switch (r) {
    case shutdown::poweroff: return "poweroff";
    case shutdown::reboot: return "reboot";
    case shutdown::suspend: return "suspend";
    case shutdown::crash: return "crash";
    case shutdown::watchdog: return "watchdog";
    case shutdown::soft_reset: return "soft_reset";
    default: return "unknown reason";
    }
}

const char* domain_error_name(DomainError e) {
    switch (e) {
    case DomainError::out_of_memory: return "out of memory";
    case DomainError::too_many_vcpus: return "too many vCPUs";
    case DomainError::bad_size: return "bad memory size";
    case DomainError::id_in_use: return "domain id in use";
    case DomainError::over_limit: return "memory limit reached";
    case DomainError::not_owned: return "not the domain's memory";
    case DomainError::in_use: return "frame still in use";
    }
    return "unknown";
}

Domain::Domain(MachineMemory& mm, const DomainConfig& c)
    : mm_(mm), id_(c.id), privileged_(c.privileged), console_(c.console), toolstack_(c.toolstack), vcpus_made_(!c.toolstack),
      xs_domain_(c.xs_domain), ssidref_(c.ssidref), handle_(), emulation_flags_(c.emulation_flags),
      misc_flags_(c.misc_flags), max_pages_(c.max_pages ? c.max_pages : c.nr_pages) {
    memcpy(handle_, c.handle, sizeof handle_);
    // A toolstack-built domain starts paused by the toolstack (Xen's controller pause), until
    // its first XEN_DOMCTL_unpausedomain.
    if (c.toolstack) controller_pauses_ = pause_count_ = 1;
}

kstd::Expected<Domain*, DomainError> Domain::create(MachineMemory& mm, const DomainConfig& c) {
    if (c.nr_vcpus == 0 || c.nr_vcpus > MAX_VCPUS) return kstd::unexpected(DomainError::too_many_vcpus);
    // The p2m table and the page list share one buddy block (P2M_LIMIT entries each).
    // Only the toolstack creates empty domains (it populates them afterwards).
    if ((c.nr_pages == 0 && !c.toolstack) || c.nr_pages > P2M_LIMIT ||
        (c.max_pages && c.max_pages < c.nr_pages))
        return kstd::unexpected(DomainError::bad_size);
    Domain* d = mm.create<Domain>(mm, c);
    if (!d) return kstd::unexpected(DomainError::out_of_memory);
    auto ok = d->allocate(c);
    if (!ok) {
        destroy(d);
        return kstd::unexpected(ok.error());
    }
    return d;
}

kstd::Expected<bool, DomainError> Domain::allocate(const DomainConfig& c) {
    frames_held_ = 1u << MachineMemory::order_for(sizeof(Domain));
    // Room for every frame the limit allows, so that reservations never reallocate it. No
    // domain can hold more frames than the machine has: a larger limit (dom0's is UINT_MAX
    // unless dom0_mem=max: says otherwise, as on Xen) is kept, the p2m stops at the machine's
    // size (and at P2M_LIMIT).
    p2m_size_ = p2m_entries_for(max_pages_, c.nr_pages);
    p2m_order_ = MachineMemory::order_for(2 * p2m_size_ * sizeof(Mfn));
    auto table = mm_.alloc_zeroed(p2m_order_);
    if (!table) return kstd::unexpected(DomainError::out_of_memory);
    p2m_ = static_cast<Mfn*>(mm_.map(*table));
    pages_ = p2m_ + p2m_size_;
    for (uint64_t i = 0; i < p2m_size_; ++i) p2m_[i] = NO_MFN;
    frames_held_ += 1u << p2m_order_;

    uint32_t max_port = c.max_evtchn_port ? c.max_evtchn_port
                                          : c.privileged ? events::DOM0_MAX_PORT : events::DOMU_MAX_PORT;
    if (!events_.init(mm_, max_port)) return kstd::unexpected(DomainError::out_of_memory);
    pirqs_.init(PirqTable::limit_for(c.privileged, irq_lines::count()), irq_lines::count());

    grants_ = GrantTable::create(*this);
    if (!grants_) return kstd::unexpected(DomainError::out_of_memory);

    auto si = mm_.alloc_zeroed();
    if (!si) return kstd::unexpected(DomainError::out_of_memory);
    shared_info_mfn_ = *si;
    // The guest maps its shared_info page; it has no place in the guest's pseudo-physical map.
    if (FrameTable* t = mm_.table()) t->assign(*si, id_, FrameTable::M2P_INVALID);
    shared_ = static_cast<shared_info*>(mm_.map(*si));
    ++frames_held_;

    for (unsigned i = 0; i < c.nr_vcpus; ++i) {
        Vcpu* v = mm_.create<Vcpu>(*this, VcpuId(i));
        if (!v) return kstd::unexpected(DomainError::out_of_memory);
        v->set_info(&shared_->vcpu_info[i]);
        // Events start masked, as Xen hands a new vCPU over: the guest unmasks when ready.
        shared_->vcpu_info[i].evtchn_upcall_mask = 1;
        vcpus_[i] = v;
        nr_vcpus_ = i + 1;
        frames_held_ += 1u << MachineMemory::order_for(sizeof(Vcpu));
    }
    sched_.nr_vcpus = nr_vcpus_;

    for (uint64_t pfn = 0; pfn < c.nr_pages; ++pfn) {
        auto m = mm_.alloc_zeroed();
        if (!m) return kstd::unexpected(DomainError::out_of_memory);
        p2m_[pfn] = *m;
        if (FrameTable* t = mm_.table()) t->assign(*m, id_, pfn);
        set_entry(pfn, entry(*m, 0));
        nr_pages_ = pfn + 1;
        ++frames_held_;
    }
    return true;
}

// Entries of a p2m for a limit of max_pages: the limit, at most P2M_LIMIT and the machine's
// size (but never fewer than at_least, the frames already held), and at least one.
uint64_t Domain::p2m_entries_for(uint64_t max_pages, uint64_t at_least) const {
    uint64_t n = max_pages < P2M_LIMIT ? max_pages : P2M_LIMIT;
    if (n > mm_.total_frames()) n = mm_.total_frames() > at_least ? mm_.total_frames() : at_least;
    if (n < at_least) n = at_least;
    return n ? n : 1;
}

kstd::Expected<bool, DomainError> Domain::set_max_pages(uint64_t pages) {
    uint64_t entries = p2m_entries_for(pages, nr_pages_);
    if (entries > p2m_size_) {
        unsigned order = MachineMemory::order_for(2 * entries * sizeof(Mfn));
        auto table = mm_.alloc_zeroed(order);
        if (!table) return kstd::unexpected(DomainError::out_of_memory);
        Mfn* p2m = static_cast<Mfn*>(mm_.map(*table));
        Mfn* pages_list = p2m + entries;
        for (uint64_t i = 0; i < entries; ++i) p2m[i] = i < p2m_size_ ? p2m_[i] : NO_MFN;
        for (uint64_t i = 0; i < nr_pages_; ++i) pages_list[i] = pages_[i];  // list_index stays valid
        mm_.free(mm_.mfn_of(p2m_), p2m_order_);
        frames_held_ += (uint64_t{1} << order) - (uint64_t{1} << p2m_order_);
        p2m_ = p2m;
        pages_ = pages_list;
        p2m_size_ = entries;
        p2m_order_ = order;
    }
    max_pages_ = pages;
    return true;
}

void Domain::release() {
    // Interrupt lines first: once unbound, no interrupt handler reaches this domain.
    pirqs_.release(mm_, *this);
    // The FIFO ABI's references to guest frames go before the frames do.
    events::fifo::destroy(*this);
    FrameTable* t = mm_.table();
    while (nr_pages_) {
        if (t) t->release(entry_frame(pages_[nr_pages_ - 1]));
        drop_entry(nr_pages_ - 1);
    }
    for (unsigned i = 0; i < nr_vcpus_; ++i) mm_.destroy(vcpus_[i]);
    nr_vcpus_ = 0;
    if (shared_) {
        if (t) t->release(shared_info_mfn_);
        mm_.free_guest_frames(shared_info_mfn_);
    }
    shared_ = nullptr;
    events_.release(mm_);
    if (grants_) GrantTable::destroy(grants_);
    grants_ = nullptr;
    if (p2m_) mm_.free(mm_.mfn_of(p2m_), p2m_order_);
    p2m_ = nullptr;
    frames_held_ = 0;
}

bool Domain::room_for(unsigned order) const {
    const uint64_t n = uint64_t{1} << order;
    return order <= FrameAllocator::MAX_ORDER && nr_pages_ + n <= max_pages_ && nr_pages_ + n <= p2m_size_;
}

kstd::Expected<Mfn, DomainError> Domain::add_pages(uint64_t pfn, unsigned order) {
    if (!room_for(order)) return kstd::unexpected(DomainError::over_limit);
    auto first = mm_.alloc_zeroed(order);
    if (!first) return kstd::unexpected(DomainError::out_of_memory);
    auto r = assign_block(*first, order, pfn);
    if (!r) return kstd::unexpected(r.error());
    return *first;
}

kstd::Expected<bool, DomainError> Domain::assign_block(Mfn first, unsigned order, uint64_t pfn) {
    if (!room_for(order)) return kstd::unexpected(DomainError::over_limit);
    const uint64_t n = uint64_t{1} << order;
    for (uint64_t i = 0; i < n; ++i) {
        Mfn m(first.raw() + i);
        uint64_t p = pfn == FrameTable::M2P_INVALID ? pfn : pfn + i;
        if (FrameTable* t = mm_.table()) t->assign(m, id_, p);
        if (p < p2m_size_) p2m_[p] = m;
        set_entry(nr_pages_++, entry(m, order));
    }
    frames_held_ += n;
    return true;
}

void Domain::set_entry(uint64_t i, Mfn e) {
    pages_[i] = e;
    if (FrameTable* t = mm_.table()) t->info(entry_frame(e)).list_index = uint32_t(i);
}

uint64_t Domain::page_index(Mfn m) const {
    // The frame table remembers each frame's place; without one (host tests) a search.
    if (FrameTable* t = mm_.table(); t && t->owned_by(m, id_)) {
        uint64_t i = t->info(m).list_index;
        return i < nr_pages_ && entry_frame(pages_[i]) == m ? i : nr_pages_;
    }
    uint64_t i = 0;
    while (i < nr_pages_ && entry_frame(pages_[i]) != m) ++i;
    return i;
}

void Domain::drop_entry(uint64_t i) {
    Mfn e = pages_[i];
    --nr_pages_;
    if (i != nr_pages_) set_entry(i, pages_[nr_pages_]);
    unsigned order = entry_order(e);
    uint64_t n = uint64_t{1} << order;
    uint64_t head = entry_frame(e).raw() & ~(n - 1);  // buddy blocks are aligned to their size
    for (uint64_t j = 0; j < nr_pages_ && order; ++j) {
        uint64_t f = entry_frame(pages_[j]).raw();
        if (f >= head && f < head + n) return;  // the block still has frames in the domain
    }
    // The guest may have dropped its last mapping of these frames without a flush.
    mm_.free_guest_frames(Mfn(head), order);
    frames_held_ -= n;
}

// The p2m entry that maps m, if any: found through the M2P when the machine keeps one.
void Domain::unmap_from_p2m(Mfn m) {
    if (FrameTable* t = mm_.table()) {
        uint64_t pfn = t->m2p(m);
        if (pfn < p2m_size_ && p2m_[pfn] == m) p2m_[pfn] = NO_MFN;
        return;
    }
    for (uint64_t pfn = 0; pfn < p2m_size_; ++pfn)
        if (p2m_[pfn] == m) p2m_[pfn] = NO_MFN;
}

kstd::Expected<bool, DomainError> Domain::remove_page(Mfn m) {
    uint64_t i = page_index(m);
    if (i == nr_pages_) return kstd::unexpected(DomainError::not_owned);
    FrameTable* t = mm_.table();
    // Given back already and waiting for its last reference: nothing more to do (Xen counts
    // such a repeat as done too).
    if (t && (t->info(m).flags & PAGE_FREE_PENDING)) return true;
    // A frame still referenced (mapped in any way, a page table, pinned, descriptors) leaves
    // the guest's memory now but is freed only when its last reference goes, as on Xen: it
    // is counted and keeps its M2P entry until then (the release clears it).
    if (t && t->info(m).refs != 0) {
        unmap_from_p2m(m);
        t->info(m).flags |= PAGE_FREE_PENDING;
        return true;
    }
    unmap_from_p2m(m);
    if (t) t->release(m);
    drop_entry(i);
    return true;
}

kstd::Expected<bool, DomainError> Domain::take_page(Mfn m) {
    uint64_t i = page_index(m);
    if (i == nr_pages_) return kstd::unexpected(DomainError::not_owned);
    // A frame of a larger block cannot leave alone: the block returns to the allocator whole.
    if (entry_order(pages_[i]) != 0) return kstd::unexpected(DomainError::in_use);
    FrameTable* t = mm_.table();
    if (t && (t->info(m).refs || t->info(m).type_count || (t->info(m).flags & PAGE_FREE_PENDING)))
        return kstd::unexpected(DomainError::in_use);
    unmap_from_p2m(m);
    if (t) t->release(m);
    --nr_pages_;
    if (i != nr_pages_) set_entry(i, pages_[nr_pages_]);
    --frames_held_;
    return true;
}

kstd::Expected<bool, DomainError> Domain::accept_page(Mfn m, uint64_t pfn) {
    if (nr_pages_ + 1 > max_pages_ || nr_pages_ + 1 > p2m_size_) return kstd::unexpected(DomainError::over_limit);
    if (FrameTable* t = mm_.table()) t->assign(m, id_, pfn);
    if (pfn < p2m_size_) p2m_[pfn] = m;
    set_entry(nr_pages_++, entry(m, 0));
    ++frames_held_;
    return true;
}

void Domain::free_if_pending(Mfn m) {
    FrameTable* t = mm_.table();
    if (!t || !(t->info(m).flags & PAGE_FREE_PENDING) || t->info(m).refs != 0) return;
    uint64_t i = page_index(m);
    if (i == nr_pages_) return;
    t->release(m);
    drop_entry(i);
}

uint64_t Domain::frames_held() const {
    return frames_held_ + events_.frames() + pirqs_.frames() + (grants_ ? grants_->frames_held() : 0);
}

void Domain::destroy(Domain* d) {
    d->release();
    MachineMemory& mm = d->mm_;
    mm.destroy(d);
}

bool Domain::shut_down(ShutdownReason r) {
    if (state_ != DomainState::running) return false;
    state_ = DomainState::shutdown;
    has_shut_down_ = true;
    shutdown_reason_ = has_shutdown_code_ ? shutdown_code_ : r;
    for (unsigned i = 0; i < nr_vcpus_; ++i) vcpus_[i]->state = VcpuState::dead;
    return true;
}
