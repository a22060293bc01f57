#include "frame_table.hpp"

#include <xen/xen.h>

static_assert(FrameTable::IO_OWNER == DOMID_IO);

void FrameTable::init(PageInfo* info, uint64_t* m2p, uint64_t nr_frames) {
    info_ = info;
    m2p_ = m2p;
    nr_ = nr_frames;
    for (uint64_t i = 0; i < nr_frames; ++i) {
        info_[i] = PageInfo{NO_OWNER, PageType::none, 0, 0, 0, 0, 0, 0};
        m2p_[i] = M2P_INVALID;
    }
}

void FrameTable::mark_io(Mfn first, uint64_t count, bool io) {
    for (uint64_t f = first.raw(); f < nr_ && f - first.raw() < count; ++f) info_[f].owner = io ? IO_OWNER : NO_OWNER;
}

void FrameTable::assign(Mfn m, DomId d, uint64_t pfn) {
    info_[m.raw()] = PageInfo{d.raw(), PageType::none, 0, 0, 0, 0, 0, 0};
    m2p_[m.raw()] = pfn;
}

void FrameTable::release(Mfn m) {
    info_[m.raw()] = PageInfo{NO_OWNER, PageType::none, 0, 0, 0, 0, 0, 0};
    m2p_[m.raw()] = M2P_INVALID;
}

bool FrameTable::get_type(Mfn m, PageType type) {
    PageInfo& p = info_[m.raw()];
    if (p.type_count != 0 && p.type != type) return false;
    if (p.type_count == UINT32_MAX) return false;  // a count that would overflow is refused
    p.type = type;
    ++p.type_count;
    return true;
}

void FrameTable::put_type(Mfn m) {
    PageInfo& p = info_[m.raw()];
    if (p.type_count && --p.type_count == 0) p.type = PageType::none;
}
