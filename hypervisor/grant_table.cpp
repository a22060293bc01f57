// The grant table object: its shared and status frames, active records and maptrack
// (grant_table.hpp).
#include "grant_table.hpp"

#include <xen/errno.h>

#include "domain.hpp"
#include "frame_table.hpp"
#include "kstd/string.hpp"
#include "machine_memory.hpp"

GrantTable* GrantTable::create(Domain& d) {
    GrantTable* t = d.machine().create<GrantTable>(d);
    if (!t) return nullptr;
    if (!t->grow(grant::INITIAL_FRAMES)) {
        destroy(t);
        return nullptr;
    }
    return t;
}

void GrantTable::destroy(GrantTable* t) {
    MachineMemory& mm = t->d_.machine();
    for (unsigned i = 0; i < t->nr_frames_; ++i) {
        t->free_shared_frame(t->frames_[i]);
        mm.free(mm.mfn_of(t->active_[i]), ACTIVE_ORDER);
    }
    for (unsigned i = 0; i < t->nr_status_; ++i) t->free_shared_frame(t->status_[i]);
    for (unsigned i = 0; i < t->nr_track_frames_; ++i) mm.free(mm.mfn_of(t->tracks_[i]));
    mm.destroy(t);
}

void* GrantTable::map(Mfn m) const { return d_.machine().map(m); }

// A zeroed frame shared with the guest as Xen shares its own pages: the domain's, outside its
// pseudo-physical memory, held by one reference and pinned writable for good. Mfn(0) if none.
Mfn GrantTable::new_shared_frame() {
    auto m = d_.machine().alloc_zeroed();
    if (!m) return Mfn(0);
    if (FrameTable* ft = d_.machine().table()) {
        ft->assign(*m, d_.id(), FrameTable::M2P_INVALID);
        ft->info(*m).refs = 1;
        ft->get_type(*m, PageType::writable);
    }
    return *m;
}

void GrantTable::free_shared_frame(Mfn m) {
    if (FrameTable* ft = d_.machine().table()) ft->release(m);
    d_.machine().free_guest_frames(m);  // the guest mapped it
}

bool GrantTable::add_frame() {
    Mfn shared = new_shared_frame();
    if (shared == Mfn(0)) return false;
    auto active = d_.machine().alloc_zeroed(ACTIVE_ORDER);
    if (!active) {
        free_shared_frame(shared);
        return false;
    }
    frames_[nr_frames_] = shared;
    active_[nr_frames_] = static_cast<ActiveGrant*>(map(*active));
    ++nr_frames_;
    return true;
}

bool GrantTable::add_status_frame() {
    Mfn m = new_shared_frame();
    if (m == Mfn(0)) return false;
    status_[nr_status_++] = m;
    return true;
}

bool GrantTable::grow_status(unsigned nr) {
    const unsigned want = (nr * grant::ENTRIES_PER_FRAME_V2 + grant::STATUS_PER_FRAME - 1) / grant::STATUS_PER_FRAME;
    const unsigned before = nr_status_;
    while (nr_status_ < want) {
        if (add_status_frame()) continue;
        while (nr_status_ > before) free_shared_frame(status_[--nr_status_]);
        return false;
    }
    return true;
}

bool GrantTable::drop_status_frames() {
    FrameTable* ft = d_.machine().table();
    for (unsigned i = 0; ft && i < nr_status_; ++i)
        if (ft->info(status_[i]).refs != 1) return false;  // the guest still maps it
    while (nr_status_) free_shared_frame(status_[--nr_status_]);
    return true;
}

bool GrantTable::grow(unsigned nr) {
    if (nr > grant::MAX_FRAMES) return false;
    const unsigned before = nr_frames_;
    while (nr_frames_ < nr)
        if (!add_frame()) break;
    if (nr_frames_ >= nr && (version_ == 1 || grow_status(nr_frames_))) return true;
    // Out of memory: give back what this call added.
    while (nr_frames_ > before) {
        --nr_frames_;
        free_shared_frame(frames_[nr_frames_]);
        d_.machine().free(d_.machine().mfn_of(active_[nr_frames_]), ACTIVE_ORDER);
    }
    return false;
}

long GrantTable::set_version(unsigned v) {
    constexpr unsigned RESERVED = GNTTAB_NR_RESERVED_ENTRIES;
    if (v == version_) return 0;
    if (v == 2 && !grow_status(nr_frames_)) return -XEN_ENOMEM;
    // The toolstack's reserved entries survive the change (Xen does this for kexec).
    grant_entry_v1 kept[RESERVED]{};
    for (uint32_t i = 0; i < RESERVED; ++i) {
        if (version_ == 1) {
            kept[i] = *entry(i);
            continue;
        }
        const grant_entry_v2& e = *entry_v2(i);
        const uint16_t type = e.hdr.flags & GTF_type_mask;
        if ((type == GTF_permit_access && (e.full_page.frame >> 32)) || type == GTF_transitive) return -XEN_ERANGE;
        if (type == GTF_permit_access)
            kept[i] = grant_entry_v1{uint16_t(e.hdr.flags | *status(i)), e.hdr.domid, uint32_t(e.full_page.frame)};
    }
    if (v == 1 && !drop_status_frames()) return -XEN_EBUSY;
    for (unsigned f = 0; f < nr_frames_; ++f) memset(map(frames_[f]), 0, PAGE_SIZE);
    version_ = v;
    for (uint32_t i = 0; i < RESERVED; ++i) {
        if (v == 1) {
            *entry(i) = kept[i];
            continue;
        }
        *status(i) = kept[i].flags & (GTF_reading | GTF_writing);
        grant_entry_v2& e = *entry_v2(i);
        e.hdr.flags = kept[i].flags & ~(GTF_reading | GTF_writing);
        e.hdr.domid = kept[i].domid;
        e.full_page.frame = kept[i].frame;
    }
    return 0;
}

grant_entry_v1* GrantTable::entry(uint32_t ref) const {
    auto* base = static_cast<grant_entry_v1*>(map(frames_[ref / grant::ENTRIES_PER_FRAME]));
    return base + ref % grant::ENTRIES_PER_FRAME;
}

grant_entry_v2* GrantTable::entry_v2(uint32_t ref) const {
    auto* base = static_cast<grant_entry_v2*>(map(frames_[ref / grant::ENTRIES_PER_FRAME_V2]));
    return base + ref % grant::ENTRIES_PER_FRAME_V2;
}

grant_entry_header* GrantTable::header(uint32_t ref) const {
    // Both layouts begin with the flags and the domid.
    if (version_ == 1) return reinterpret_cast<grant_entry_header*>(entry(ref));
    return &entry_v2(ref)->hdr;
}

uint64_t GrantTable::granted_frame(uint32_t ref) const {
    if (version_ == 1) return __atomic_load_n(&entry(ref)->frame, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&entry_v2(ref)->full_page.frame, __ATOMIC_SEQ_CST);
}

uint16_t* GrantTable::status(uint32_t ref) const {
    if (version_ == 1) return &entry(ref)->flags;
    return static_cast<uint16_t*>(map(status_[ref / grant::STATUS_PER_FRAME])) + ref % grant::STATUS_PER_FRAME;
}

ActiveGrant& GrantTable::active(uint32_t ref) const {
    return active_[ref / grant::ENTRIES_PER_FRAME][ref % grant::ENTRIES_PER_FRAME];
}

bool GrantTable::mapped_by_others() const {
    for (uint32_t ref = 0; ref < nr_frames_ * grant::ENTRIES_PER_FRAME; ++ref) {
        const ActiveGrant& a = active(ref);
        if (a.pin && a.domid != d_.id().raw()) return true;
    }
    return false;
}

bool GrantTable::add_track_frame() {
    if (nr_track_frames_ == grant::MAX_MAPTRACK_FRAMES) return false;
    auto m = d_.machine().alloc_zeroed();
    if (!m) return false;
    auto* records = static_cast<MapTrack*>(map(*m));
    const uint32_t first = maptrack_limit();
    tracks_[nr_track_frames_++] = records;
    for (uint32_t i = 0; i < TRACKS_PER_FRAME; ++i) put_handle(first + i);
    return true;
}

uint32_t GrantTable::get_handle() {
    if (free_head_ == NO_HANDLE && !add_track_frame()) return NO_HANDLE;
    uint32_t h = free_head_;
    MapTrack* t = track(h);
    free_head_ = t->ref;
    if (free_head_ == NO_HANDLE) free_tail_ = NO_HANDLE;
    t->ref = 0;
    return h;
}

void GrantTable::put_handle(uint32_t handle) {
    MapTrack* t = track(handle);
    *t = MapTrack{NO_HANDLE, 0, 0};
    if (free_tail_ == NO_HANDLE) free_head_ = handle;
    else track(free_tail_)->ref = handle;
    free_tail_ = handle;
}

MapTrack* GrantTable::track(uint32_t handle) const {
    if (handle >= maptrack_limit()) return nullptr;
    return &tracks_[handle / TRACKS_PER_FRAME][handle % TRACKS_PER_FRAME];
}

uint64_t GrantTable::frames_held() const {
    return (uint64_t{1} << MachineMemory::order_for(sizeof(GrantTable))) +
           uint64_t(nr_frames_) * (1 + (1u << ACTIVE_ORDER)) + nr_status_ + nr_track_frames_;
}
