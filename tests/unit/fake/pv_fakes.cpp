#include "pv_fakes.hpp"

#include <algorithm>

#include "console.hpp"
#include "domain_control.hpp"
#include "kstd/format.hpp"
#include "pv_arch.hpp"
#include "scheduler.hpp"
#include "vcpu.hpp"

namespace fake_pv {
Record& record() {
    static Record r;
    return r;
}
void reset() {
    for (Domain* d : record().owned) Domain::destroy(d);
    record() = Record{};
}
bool happened(const std::string& event) {
    auto& e = record().events;
    return std::find(e.begin(), e.end(), event) != e.end();
}
}  // namespace fake_pv

namespace {
void note(const std::string& s) { fake_pv::record().events.push_back(s); }
std::string hex(uint64_t v) {
    char buf[32];
    kstd::format_to(buf, sizeof buf, "{:#x}", v);
    return buf;
}
}  // namespace

void fake_pv::allocator_tlb_flush(TlbTime stamp) {
    record().allocator_flushes.push_back(stamp);
    note("allocator flush");
}

namespace console {
void write(kstd::StringView s) { fake_pv::record().console.append(s.data(), s.size()); }
}  // namespace console

namespace pv_arch {
void toggle_guest_mode(Vcpu& v) {
    v.kernel_mode = !v.kernel_mode;
    note(v.kernel_mode ? "to kernel" : "to user");
}
void write_fs_base(Vcpu& v, uint64_t base) {
    v.fs_base = base;
    fake_pv::record().fs_base = base;
    note("fs_base " + hex(base));
}
void write_gs_base_kernel(Vcpu& v, uint64_t base) {
    v.gs_base_kernel = base;
    fake_pv::record().gs_base_kernel = base;
    note("gs_base_kernel " + hex(base));
}
void load_user_gs_selector(Vcpu& v, uint16_t sel) {
    v.gs = sel;
    note("user gs selector " + hex(sel));
}
void set_fpu_trap(bool on) {
    fake_pv::record().fpu_trap = on;
    note(on ? "ts on" : "ts off");
}
void flush_tlb(Vcpu&) { note("flush tlb"); }
void flush_tlb_local(Vcpu&) { note("flush tlb local"); }
void flush_tlb_domain(Domain& d) { note("flush domain " + std::to_string(d.id().raw())); }
void flush_guest_tlbs() { note("flush guest tlbs"); }
void flush_stale_tlbs(TlbTime stamp) {
    fake_pv::record().stale_flush = stamp;
    note("flush stale tlbs");
}
void service_tlb_flush() {}
void flush_caches(bool all) { note(all ? "wbinvd all" : "wbinvd"); }
void install_hypervisor_slots(uint64_t* l4) {
    for (unsigned i = 256; i <= 271; ++i) l4[i] = 0x1000 * i | 1;  // recognisable, never validated
}
void load_gdt(Vcpu& v) { note("gdt " + std::to_string(v.gdt_ents)); }
void load_ldt(Vcpu& v) { note("ldt " + std::to_string(v.ldt_ents) + " " + std::to_string(v.ldt_frames_held)); }
uint32_t port_in(uint16_t port, unsigned bytes) {
    note("in " + hex(port) + "/" + std::to_string(bytes));
    return fake_pv::record().port_value;
}
void port_out(uint16_t port, unsigned bytes, uint32_t value) {
    note("out " + hex(port) + "/" + std::to_string(bytes) + " " + hex(value));
}
uint64_t read_cr0() { return 0x80050033; }
uint64_t xstate_mask() { return fake_pv::record().xstate_mask; }
bool set_xcr0(Vcpu& v, uint64_t value) {
    note("xcr0 " + hex(value));
    uint64_t m = fake_pv::record().xstate_mask;
    if (!m || !(value & 1) || (value & ~m) || ((value & 4) && !(value & 2))) return false;
    v.xcr0 = value;
    return true;
}
uint64_t guest_cr4() { return 0x6f0; }
void load_page_tables(Vcpu&) { note("load page tables"); }
void invalidate_page(Vcpu&, uint64_t va) { note("invlpg " + hex(va)); }
void write_debugreg(Vcpu&, unsigned reg, uint64_t value) { note("dr" + std::to_string(reg) + " " + hex(value)); }
HostCpu host_cpu() { return fake_pv::record().host_cpu; }
CpuidRegs guest_cpuid(uint32_t leaf, uint32_t subleaf) {
    auto& c = fake_pv::record().cpuid;
    auto it = c.find(uint64_t{leaf} << 32 | subleaf);
    return it == c.end() ? CpuidRegs{0, 0, 0, 0} : it->second;
}
bool read_host_msr(uint32_t msr, uint64_t& value) {
    auto& m = fake_pv::record().host_msrs;
    auto it = m.find(msr);
    if (it == m.end()) return false;
    value = it->second;
    return true;
}
void write_host_msr(uint32_t msr, uint64_t value) { note("wrmsr " + hex(msr) + " " + hex(value)); }
uint64_t read_fs_base() { return fake_pv::record().fs_base; }
uint64_t read_gs_base_kernel() { return fake_pv::record().gs_base_kernel; }
uint64_t read_efer() { return fake_pv::record().efer; }
uint64_t read_tsc() { return fake_pv::record().tsc; }
void load_guest_msrs(Vcpu&) { note("load msrs"); }
}  // namespace pv_arch

namespace sched {
void init(credit::Arrangement) {}
void add_domain(Domain&, CpuId) {}
void remove_domain(Domain&) {}
void set_weight(Domain& d, uint16_t weight) {
    d.sched().weight = weight;
    note("weight d" + std::to_string(d.id().raw()) + " " + std::to_string(weight));
}
void set_cap(Domain& d, uint16_t cap) {
    d.sched().cap = cap;
    note("cap d" + std::to_string(d.id().raw()) + " " + std::to_string(cap));
}
void start(Vcpu& v) { v.state = VcpuState::runnable; }
void wake(Vcpu& v) {
    if (v.state == VcpuState::blocked) v.state = VcpuState::runnable;
}
void bring_up(Vcpu& v) {
    note("up " + std::to_string(v.id().raw()));
    if (v.state == VcpuState::down) v.state = VcpuState::runnable;
}
void take_down(Vcpu& v) {
    note("down " + std::to_string(v.id().raw()));
    v.state = VcpuState::down;
}
void yield(Vcpu&) {
    note("yield");
    fake_pv::record().resched = true;
}
bool resched_pending() { return fake_pv::record().resched; }
uint64_t system_time() { return fake_pv::record().now_ns; }
void set_vcpu_timer(Vcpu&, uint64_t deadline) { note("timer " + std::to_string(deadline)); }
void cancel_vcpu_timer(Vcpu&) { note("timer stop"); }
void set_periodic_timer(Vcpu& v, uint64_t period) {
    v.periodic_ns = period;
    note("periodic " + std::to_string(period));
}
void block(Vcpu& v) {
    v.state = VcpuState::blocked;
    note("block");
}
void block_until(Vcpu& v, uint64_t deadline) {
    v.state = VcpuState::blocked;
    note("block until " + std::to_string(deadline));
}
void stop_domain(Domain&) { note("stop domain"); }
void pause(Domain& d) {
    d.pause();
    note("pause d" + std::to_string(d.id().raw()));
}
bool unpause(Domain& d) {
    note("unpause d" + std::to_string(d.id().raw()));
    return d.unpause();
}
void set_affinity(Vcpu& v, const CpuSet& hard) {
    v.sched.hard = hard;
    note("affinity d" + std::to_string(v.domain().id().raw()) + "v" + std::to_string(v.id().raw()) + " " +
         hex(hard.words[0]));
}
CpuSet online_cpus() {
    CpuSet s;
    for (unsigned c = 0; c < fake_pv::record().nr_cpus; ++c) s.set(CpuId(c));
    return s;
}
unsigned cpu_ids() { return fake_pv::record().nr_cpus; }
}  // namespace sched

namespace domain_control {
void shutdown(Domain& d, ShutdownReason reason) {
    d.shut_down(reason);
    note("shutdown d" + std::to_string(d.id().raw()) + " " + std::to_string(reason));
}
void crash(Vcpu& v, const char* why) {
    v.domain().shut_down(shutdown::crash);
    note(std::string("crash: ") + why);
}
void for_each(void (*fn)(Domain&)) {
    for (Domain* d : fake_pv::record().domains) fn(*d);
}
Domain* lookup(DomId id) {
    for (Domain* d : fake_pv::record().domains)
        if (d->id() == id) return d;
    return nullptr;
}
void reap(DomId id) { note("reap d" + std::to_string(id.raw())); }
Domain* first_from(DomId id) {
    Domain* best = nullptr;
    for (Domain* d : fake_pv::record().domains)
        if (d->id().raw() >= id.raw() && (!best || d->id().raw() < best->id().raw())) best = d;
    return best;
}
bool id_free(DomId id) { return id.raw() < DOMID_FIRST_RESERVED && !lookup(id); }
kstd::Expected<Domain*, DomainError> create(const DomainConfig& c) {
    auto& r = fake_pv::record();
    if (!r.machine) return kstd::unexpected(DomainError::out_of_memory);
    if (lookup(c.id)) return kstd::unexpected(DomainError::id_in_use);
    auto d = Domain::create(*r.machine, c);
    if (!d) return d;
    r.owned.push_back(*d);
    r.domains.push_back(*d);
    note("create d" + std::to_string(c.id.raw()));
    return d;
}
// As the real one: the domain stops and dies; the caller's hold goes. The fake's own domains
// are freed at once (nothing else holds their frames in these tests); the fixture's stay
// allocated (it frees them) but leave the list.
void destroy(Domain& d) {
    auto& r = fake_pv::record();
    note("destroy d" + std::to_string(d.id().raw()));
    d.put_foreign_ref();
    d.set_dying();
    std::erase(r.domains, &d);
    if (std::find(r.owned.begin(), r.owned.end(), &d) == r.owned.end()) return;
    std::erase(r.owned, &d);
    Domain::destroy(&d);
}
}  // namespace domain_control
