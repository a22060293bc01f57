// The grant table object: its shared frames, active records and maptrack (grant_table.hpp).
#include "grant_table.hpp"

#include "domain.hpp"
#include "frame_table.hpp"
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
    FrameTable* ft = mm.table();
    for (unsigned i = 0; i < t->nr_frames_; ++i) {
        if (ft) ft->release(t->frames_[i]);
        mm.free(t->frames_[i]);
        mm.free(mm.mfn_of(t->active_[i]), ACTIVE_ORDER);
    }
    for (unsigned i = 0; i < t->nr_track_frames_; ++i) mm.free(mm.mfn_of(t->tracks_[i]));
    mm.destroy(t);
}

bool GrantTable::add_frame() {
    MachineMemory& mm = d_.machine();
    auto shared = mm.alloc_zeroed();
    if (!shared) return false;
    auto active = mm.alloc_zeroed(ACTIVE_ORDER);
    if (!active) {
        mm.free(*shared);
        return false;
    }
    if (FrameTable* ft = mm.table()) {
        // Shared with the guest as Xen shares its own pages: the domain's, outside its
        // pseudo-physical memory, held by one reference and pinned writable for good.
        ft->assign(*shared, d_.id(), FrameTable::M2P_INVALID);
        ft->info(*shared).refs = 1;
        ft->get_type(*shared, PageType::writable);
    }
    frames_[nr_frames_] = *shared;
    active_[nr_frames_] = static_cast<ActiveGrant*>(mm.map(*active));
    ++nr_frames_;
    return true;
}

bool GrantTable::grow(unsigned nr) {
    if (nr > grant::MAX_FRAMES) return false;
    const unsigned before = nr_frames_;
    while (nr_frames_ < nr) {
        if (add_frame()) continue;
        // Out of memory: give back what this call added.
        MachineMemory& mm = d_.machine();
        while (nr_frames_ > before) {
            --nr_frames_;
            if (FrameTable* ft = mm.table()) ft->release(frames_[nr_frames_]);
            mm.free(frames_[nr_frames_]);
            mm.free(mm.mfn_of(active_[nr_frames_]), ACTIVE_ORDER);
        }
        return false;
    }
    return true;
}

grant_entry_v1* GrantTable::entry(uint32_t ref) const {
    auto* base = static_cast<grant_entry_v1*>(d_.machine().map(frames_[ref / grant::ENTRIES_PER_FRAME]));
    return base + ref % grant::ENTRIES_PER_FRAME;
}

ActiveGrant& GrantTable::active(uint32_t ref) const {
    return active_[ref / grant::ENTRIES_PER_FRAME][ref % grant::ENTRIES_PER_FRAME];
}

bool GrantTable::mapped_by_others() const {
    for (uint32_t ref = 0; ref < nr_entries(); ++ref) {
        const ActiveGrant& a = active(ref);
        if (a.pin && a.domid != d_.id().raw()) return true;
    }
    return false;
}

bool GrantTable::add_track_frame() {
    if (nr_track_frames_ == grant::MAX_MAPTRACK_FRAMES) return false;
    auto m = d_.machine().alloc_zeroed();
    if (!m) return false;
    auto* records = static_cast<MapTrack*>(d_.machine().map(*m));
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
           uint64_t(nr_frames_) * (1 + (1u << ACTIVE_ORDER)) + nr_track_frames_;
}
