// A domain's grant table (Xen's v1 or v2 layout), the hypervisor's record of who uses its
// entries, and the domain's own record of the grants it has mapped.
//
//   shared frames  the entries, in frames the domain maps itself (setup_table lists them): 512
//                  8-byte v1 entries or 256 16-byte v2 entries each. They belong to the domain
//                  like shared_info (M2P entry invalid, not part of its memory) and hold a
//                  writable type from the start, as Xen's shared xenheap pages do, so they can
//                  never become page tables: the hypervisor writes into them.
//   status frames  v2 only: one grant_status_t per entry (GTF_reading/GTF_writing live there
//                  instead of in the entry's flags), shared the same way (get_status_frames).
//   active         per entry, how often it is pinned (host/device, read/write, one 8-bit count
//                  each, Xen's GNTPIN_* layout), by which domain and which frame. Only the
//                  hypervisor writes it; the granter's entry is read once, when the pin starts.
//   maptrack       per mapping domain, one record per map_grant_ref that succeeded: the handle
//                  is its index. A free record has no flags; its ref field links the free list.
//
// References (Xen PV's rules): a mapping takes a general reference on the granted frame, and a
// writable type reference when writable, per kind (host, device). A host mapping's references
// belong to the page-table entry that shows it (dropped when the guest overwrites the entry or
// by the unmap that clears it); a device mapping's belong to the maptrack record.
#pragma once

#include <xen/grant_table.h>

#include "types.hpp"

class Domain;
class MachineMemory;
class Spinlock;
class Vcpu;

namespace grant {

constexpr unsigned MAX_FRAMES = 64;             // Xen's gnttab_max_frames default
constexpr unsigned MAX_MAPTRACK_FRAMES = 1024;  // Xen's gnttab_max_maptrack_frames default
constexpr unsigned INITIAL_FRAMES = 1;          // what a new domain's table has (Xen's INITIAL_NR_GRANT_FRAMES)
constexpr uint32_t ENTRIES_PER_FRAME = PAGE_SIZE / sizeof(grant_entry_v1);  // v1
constexpr uint32_t ENTRIES_PER_FRAME_V2 = PAGE_SIZE / sizeof(grant_entry_v2);
constexpr uint32_t STATUS_PER_FRAME = PAGE_SIZE / sizeof(grant_status_t);
constexpr unsigned MAX_STATUS_FRAMES = (MAX_FRAMES * ENTRIES_PER_FRAME_V2 + STATUS_PER_FRAME - 1) / STATUS_PER_FRAME;

// Pin counts of an active entry, 8 bits each (Xen's GNTPIN_*).
constexpr uint32_t PIN_HOST_R = 1u << 0, PIN_HOST_W = 1u << 8, PIN_DEV_R = 1u << 16, PIN_DEV_W = 1u << 24;
constexpr uint32_t PIN_WRITERS = 0xffu << 8 | 0xffu << 24;
constexpr unsigned PIN_WIDTH = 8;

// The GNTMAP_* bits a maptrack record keeps.
constexpr uint16_t TRACKED_FLAGS = GNTMAP_device_map | GNTMAP_host_map | GNTMAP_readonly | GNTMAP_application_map |
                                   GNTMAP_contains_pte;

}  // namespace grant

struct ActiveGrant {
    uint32_t pin;     // 0: not in use
    uint16_t domid;   // the domain pinning it
    uint16_t start;   // the granted bytes of the frame: all of it, or a v2 sub-page grant's
    uint16_t length;
    uint8_t sub_page; // from a v2 sub-page grant: copies only, never mapped
    uint8_t pad;
    uint32_t mfn;     // the granted frame, fixed while pinned
};
static_assert(sizeof(ActiveGrant) == 16);

struct MapTrack {
    uint32_t ref;    // the grant reference; on the free list, the next free handle
    uint16_t domid;  // the granting domain
    uint16_t flags;  // GNTMAP_* (grant::TRACKED_FLAGS); 0: free
};
static_assert(sizeof(MapTrack) == 8);

class GrantTable {
public:
    static constexpr uint32_t NO_HANDLE = ~uint32_t{0};
    static constexpr uint32_t TRACKS_PER_FRAME = PAGE_SIZE / sizeof(MapTrack);

    // A table with grant::INITIAL_FRAMES frames, owned by d; null without memory.
    static GrantTable* create(Domain& d);
    static void destroy(GrantTable* t);

    unsigned nr_frames() const { return nr_frames_; }
    unsigned max_frames() const { return grant::MAX_FRAMES; }
    uint32_t nr_entries() const {
        return nr_frames_ * (version_ == 1 ? grant::ENTRIES_PER_FRAME : grant::ENTRIES_PER_FRAME_V2);
    }
    unsigned version() const { return version_; }
    Mfn frame(unsigned i) const { return frames_[i]; }
    unsigned nr_status_frames() const { return nr_status_; }
    Mfn status_frame(unsigned i) const { return status_[i]; }
    // Grows the table to nr frames (and, in v2, the status frames with it); no change if it
    // has as many. False past the limit or without memory, with the table as it was.
    bool grow(unsigned nr);
    // GNTTABOP_set_version once the caller has checked no entry past the reserved ones is in
    // use: 0, -ENOMEM, -ERANGE (a reserved v2 entry v1 cannot hold) or -EBUSY (a status frame
    // still mapped). The reserved entries are carried over, every other one cleared.
    long set_version(unsigned v);

    // Of a reference below nr_entries(): its v1 entry (v1 only), its flags and domid (either
    // version), the frame it grants, where its status bits are (the v1 flags, or the v2
    // status entry) and its active record.
    grant_entry_v1* entry(uint32_t ref) const;
    grant_entry_v2* entry_v2(uint32_t ref) const;
    grant_entry_header* header(uint32_t ref) const;
    uint64_t granted_frame(uint32_t ref) const;
    uint16_t* status(uint32_t ref) const;
    ActiveGrant& active(uint32_t ref) const;
    // Whether an entry is pinned by a domain other than the owner.
    bool mapped_by_others() const;

    // Maptrack: a free handle (NO_HANDLE when the limit is reached or memory is short), giving
    // one back, and the record of a handle below maptrack_limit() (null beyond).
    uint32_t get_handle();
    void put_handle(uint32_t handle);
    MapTrack* track(uint32_t handle) const;
    uint32_t maptrack_limit() const { return nr_track_frames_ * TRACKS_PER_FRAME; }

    // Frames the table takes from the machine (shared, active and maptrack frames, the object).
    uint64_t frames_held() const;

    explicit GrantTable(Domain& d) : d_(d) {}

private:
    GrantTable(const GrantTable&) = delete;
    GrantTable& operator=(const GrantTable&) = delete;

    static constexpr unsigned ACTIVE_ORDER = 1;  // 512 records of 16 bytes per shared frame

    bool add_frame();
    bool add_track_frame();
    bool add_status_frame();
    // The status frames v2 needs for nr shared frames; false (none added) without memory.
    bool grow_status(unsigned nr);
    // The status frames go (v1); false if the guest still maps one.
    bool drop_status_frames();
    Mfn new_shared_frame();
    void free_shared_frame(Mfn m);
    void* map(Mfn m) const;

    Domain& d_;
    unsigned version_ = 1;
    unsigned nr_frames_ = 0;
    unsigned nr_status_ = 0;
    unsigned nr_track_frames_ = 0;
    uint32_t free_head_ = NO_HANDLE;  // handles are reused oldest first, as Xen's free list
    uint32_t free_tail_ = NO_HANDLE;
    Mfn frames_[grant::MAX_FRAMES]{};
    Mfn status_[grant::MAX_STATUS_FRAMES]{};
    ActiveGrant* active_[grant::MAX_FRAMES]{};
    MapTrack* tracks_[grant::MAX_MAPTRACK_FRAMES]{};
};

namespace grant {

// map_grant_ref for v's domain: the GNTST_* status; op.handle and op.dev_bus_addr on success.
int16_t map(Vcpu& v, gnttab_map_grant_ref& op);
// unmap_grant_ref (new_addr 0) and unmap_and_replace (host_addr's entry takes new_addr's,
// which is cleared).
int16_t unmap(Vcpu& v, uint64_t host_addr, uint64_t dev_bus_addr, uint32_t handle, uint64_t new_addr);
// One GNTTABOP_copy.
int16_t copy(Vcpu& v, const gnttab_copy& op);
// Exchanges two entries of d's table (neither may be in use).
int16_t swap(Domain& d, uint32_t ref_a, uint32_t ref_b);
// GNTTABOP_set_version on d's table: 0 or a -XEN_E* error.
long set_version(Domain& d, unsigned version);
// One GNTTABOP_transfer from v's domain (grant_table_transfer.cpp).
int16_t transfer(Vcpu& v, const gnttab_transfer& op);
// The lock every grant operation holds (one for all tables).
Spinlock& ops_lock();
// A dying domain's hold on other domains' grants goes (Xen's gnttab_release_mappings, and the
// references its page tables hold on frames of other domains).
void release_mappings(Domain& mapper);

}  // namespace grant
