// What the portable PV code needs from the CPU for the vCPU running on this CPU: switching
// between guest kernel and guest user mode, segment bases and the FPU trap. Implemented by
// arch/x86_64/context.cpp in the image and by a recording fake in host tests.
#pragma once

#include "cpuid_policy.hpp"
#include "tlb_clock.hpp"
#include "types.hpp"

class Domain;
class Vcpu;

namespace pv_arch {

// Switches v (running on this CPU) between guest kernel and guest user mode: page-table
// root and the GS base in use. Flips v.kernel_mode.
void toggle_guest_mode(Vcpu& v);
void write_fs_base(Vcpu& v, uint64_t base);
// The GS base of guest kernel mode (v is in kernel mode: it is the one in use).
void write_gs_base_kernel(Vcpu& v, uint64_t base);
// Loads a selector into GS for guest user mode and records the base it yields; a selector
// that cannot be loaded leaves the null selector, as on Xen.
void load_user_gs_selector(Vcpu& v, uint16_t selector);
// XCR0 components a guest may enable (0: the CPU has no XSAVE), and setting v's XCR0 (XSETBV);
// false for a value the guest may not use.
uint64_t xstate_mask();
bool set_xcr0(Vcpu& v, uint64_t value);
// Hardware CR0.TS for the running vCPU.
void set_fpu_trap(bool on);
// Writes back and invalidates the caches of this CPU, or of every CPU.
void flush_caches(bool all_cpus);
// Fills the hypervisor's slots (256-271) of a guest L4 being validated.
void install_hypervisor_slots(uint64_t* l4);
// Loads the page-table root of v's current mode (after MMUEXT_NEW_BASEPTR).
void load_page_tables(Vcpu& v);
// TLB maintenance after v's domain changed its mappings. flush_tlb: on every CPU that may
// hold entries of the domain's address spaces (Domain::dirty_cpus), this one included, and
// returns once they all have; flush_tlb_local and invalidate_page: this CPU only.
void flush_tlb(Vcpu& v);
void flush_tlb_domain(Domain& d);
void flush_tlb_local(Vcpu& v);
void invalidate_page(Vcpu& v, uint64_t va);
// Every CPU that has a guest's address space loaded flushes its TLB; returns once they all have.
void flush_guest_tlbs();
// The same for those of them that have not flushed since `stamp` was taken (tlb_clock.hpp):
// the safety flush before a frame whose type was dropped takes a new one.
void flush_stale_tlbs(TlbTime stamp);
// Performs a flush another CPU asked this one for, if any (for CPUs that wait with
// interrupts off).
void service_tlb_flush();
// Shows v's LDT frames (v.ldt_frames, v.ldt_frames_held, v.ldt_ents) to the CPU v runs on.
void load_ldt(Vcpu& v);
// Shows v's GDT frames (v.gdt_frames, v.gdt_pages()) to the CPU v runs on.
void load_gdt(Vcpu& v);
// Port I/O on the guest's behalf (ports already checked against the domain's rights).
uint32_t port_in(uint16_t port, unsigned bytes);
void port_out(uint16_t port, unsigned bytes, uint32_t value);
// The host's CR0, and the CR4 a PV guest is shown.
uint64_t read_cr0();
uint64_t guest_cr4();
// The host CPU's vendor and family (what MSRs exist depends on both).
enum class CpuVendor : uint8_t { intel, amd, hygon, centaur, shanghai, other };
struct HostCpu {
    CpuVendor vendor;
    unsigned family;
};
HostCpu host_cpu();
// CPUID as a PV guest sees it.
CpuidRegs guest_cpuid(uint32_t leaf, uint32_t subleaf);
// Reads a host MSR; false if the host does not have it (the read faulted).
bool read_host_msr(uint32_t msr, uint64_t& value);
// Writes a command MSR (PRED_CMD, FLUSH_CMD) the guest may use.
void write_host_msr(uint32_t msr, uint64_t value);
// The running guest's FS base and its kernel's GS base (v in kernel mode), EFER and TSC.
uint64_t read_fs_base();
uint64_t read_gs_base_kernel();
uint64_t read_efer();
uint64_t read_tsc();
// Loads v's per-vCPU MSRs (v.msrs) into this CPU where the host has them, if v runs here.
void load_guest_msrs(Vcpu& v);
// A debug register of the running vCPU (DR0-3, DR6, DR7; values already validated).
void write_debugreg(Vcpu& v, unsigned reg, uint64_t value);

}  // namespace pv_arch
