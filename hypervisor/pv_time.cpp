#include "pv_time.hpp"

#include <xen/xen.h>

#include "guest_access.hpp"
#include "vcpu.hpp"

namespace pv_time {

Scale scale_for(uint64_t tsc_hz) {
    constexpr uint64_t NS_PER_SEC = 1'000'000'000;
    // Bring the rate into (1e9, 2e9] by powers of two, so that the fraction fits 32 bits
    // and keeps as many bits of precision as it can.
    int shift = 0;
    uint64_t rate = tsc_hz ? tsc_hz : 1;
    while (rate > 2 * NS_PER_SEC) {
        rate >>= 1;
        --shift;
    }
    while (rate <= NS_PER_SEC) {
        rate <<= 1;
        ++shift;
    }
    return Scale{uint32_t((NS_PER_SEC << 32) / rate), int8_t(shift)};
}

uint64_t apply(const Scale& s, uint64_t delta) {
    delta = s.shift >= 0 ? delta << s.shift : delta >> -s.shift;
    return uint64_t((static_cast<unsigned __int128>(delta) * s.mul) >> 32);
}

void publish(Vcpu& v, uint64_t tsc, uint64_t now_ns, const Scale& s, bool tsc_stable) {
    vcpu_time_info& t = v.info()->time;
    __atomic_store_n(&t.version, t.version + 1, __ATOMIC_SEQ_CST);  // odd: being written
    t.tsc_timestamp = tsc;
    t.system_time = now_ns;
    t.tsc_to_system_mul = s.mul;
    t.tsc_shift = s.shift;
    t.flags = tsc_stable ? XEN_PVCLOCK_TSC_STABLE_BIT : 0;
    vcpu_time_info copy = t;  // with the odd version, for the secondary copy's step 2
    __atomic_store_n(&t.version, t.version + 1, __ATOMIC_SEQ_CST);  // even: consistent
    if (!v.time_area) return;
    if (write_secondary(v, copy)) v.pending_time.version = 0;
    else if (!v.kernel_mode) v.pending_time = copy;
}

bool write_secondary(const Vcpu& v, const vcpu_time_info& t) {
    if (!guest::copy_to(Gva(v.time_area + offsetof(vcpu_time_info, version)), &t.version, sizeof t.version))
        return false;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    guest::write(Gva(v.time_area), t);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    uint32_t done = (t.version + 1) & ~1u;  // even: consistent
    guest::copy_to(Gva(v.time_area + offsetof(vcpu_time_info, version)), &done, sizeof done);
    return true;
}

void flush_pending(Vcpu& v) {
    if (v.pending_time.version && v.time_area && write_secondary(v, v.pending_time)) v.pending_time.version = 0;
}

}  // namespace pv_time
