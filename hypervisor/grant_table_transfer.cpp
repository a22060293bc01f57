// GNTTABOP_transfer, as Xen 4.17 does it for PV domains: the caller gives one of its memory
// frames (named by machine frame) to a domain that offers an entry for it.
//
//   - the frame must be the caller's and unused (no mapping, no type, nothing pending): it then
//     leaves the caller (steal_page; otherwise GNTST_bad_page and nothing changes);
//   - from then on every failure frees the frame, as Xen's free_domheap_page does: a receiver
//     that does not exist (GNTST_bad_domain), is dying or at its memory limit, or whose entry
//     is not exactly GTF_accept_transfer for the caller (GNTST_general_error);
//   - the receiver's entry gets GTF_transfer_committed (compare-exchange, as Xen), then the
//     frame (which joins the receiver at the guest frame the entry named, M2P included) and
//     GTF_transfer_completed.
//
// Kestrel differs where its page lists cannot follow: a frame allocated as part of a larger
// block (an order > 0 extent) cannot leave alone and is refused with GNTST_bad_page.
#include <xen/xen.h>

#include "domain.hpp"
#include "domain_control.hpp"
#include "frame_table.hpp"
#include "grant_table.hpp"
#include "pv_arch.hpp"
#include "spinlock.hpp"
#include "vcpu.hpp"

namespace grant {

namespace {

constexpr unsigned RETRIES = 4;  // as for the other compare-exchanges on a guest's entry

// Xen's gnttab_prepare_for_transfer: the entry must be exactly an accept-transfer for ld.
bool commit_entry(GrantTable& t, uint32_t ref, domid_t ld) {
    if (ref >= t.nr_entries()) return false;
    auto* word = reinterpret_cast<uint32_t*>(t.header(ref));
    uint32_t seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    for (unsigned tries = 0;; ++tries) {
        if (uint16_t(seen) != GTF_accept_transfer || uint16_t(seen >> 16) != ld) return false;
        if (__atomic_compare_exchange_n(word, &seen, seen | GTF_transfer_committed, false, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            return true;
        if (tries == RETRIES) return false;
    }
}

// The receiver's side once the frame has left the giver: false if it cannot take it.
bool deliver(Domain& e, domid_t from, uint32_t ref, Mfn m) {
    GrantTable& t = *e.grant_table();
    if (e.state() == DomainState::dying || e.nr_pages() >= e.max_pages()) return false;
    if (!commit_entry(t, ref, from)) return false;
    const uint64_t gfn = t.granted_frame(ref);
    {
        LockGuard pages(e.page_lock());
        if (!e.accept_page(m, gfn)) return false;
    }
    if (t.version() == 1) __atomic_store_n(&t.entry(ref)->frame, uint32_t(m.raw()), __ATOMIC_SEQ_CST);
    else __atomic_store_n(&t.entry_v2(ref)->full_page.frame, m.raw(), __ATOMIC_SEQ_CST);
    __atomic_fetch_or(&t.header(ref)->flags, uint16_t(GTF_transfer_completed), __ATOMIC_SEQ_CST);
    return true;
}

}  // namespace

int16_t transfer(Vcpu& v, const gnttab_transfer& op) {
    Domain& d = v.domain();
    const Mfn m(op.mfn);
    FrameTable* ft = d.machine().table();
    if (!ft || !ft->valid(m)) return GNTST_bad_page;
    LockGuard guard(ops_lock());
    {
        LockGuard pages(d.page_lock());
        if (!d.take_page(m)) return GNTST_bad_page;
    }
    // The frame changes hands without the allocator: every CPU that may still reach it through
    // a mapping dropped without a flush (the giver's, or a control domain's foreign one, on
    // whatever CPU) flushes before the receiver gets it.
    pv_arch::flush_guest_tlbs();
    Domain* e = op.domid < DOMID_FIRST_RESERVED ? domain_control::lookup(DomId(op.domid)) : nullptr;
    int16_t rc = !e ? GNTST_bad_domain : deliver(*e, d.id().raw(), op.ref, m) ? GNTST_okay : GNTST_general_error;
    if (rc) d.machine().free_guest_frames(m);  // the giver has lost it, as on Xen
    return rc;
}

}  // namespace grant
