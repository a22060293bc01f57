// Host stand-ins for what the PV hypercall code asks of the CPU, the scheduler, the console
// and the domain list: each records what it was asked, for tests to check.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "domain.hpp"
#include "pv_arch.hpp"
#include "tlb_clock.hpp"

namespace fake_pv {

struct Record {
    std::vector<std::string> events;  // "toggle", "fs_base 0x...", "yield", "block", "shutdown d0 0", ...
    std::string console;              // what reached console::write
    std::vector<Domain*> domains;     // what domain_control::lookup finds
    uint64_t fs_base = 0, gs_base_kernel = 0;
    bool fpu_trap = false;
    uint32_t port_value = 0;  // what port_in returns
    uint64_t xstate_mask = 0;  // what xstate_mask returns (0: no XSAVE)
    bool resched = false;      // set by sched::yield, read by sched::resched_pending
    uint64_t now_ns = 1'000'000'000;  // what sched::system_time returns
    // The CPU pv_arch describes: vendor, family, the guest's CPUID leaves (by leaf << 32 |
    // subleaf; absent leaves are zeros), the host's MSRs (absent ones fault) and the
    // registers pv_arch reads.
    pv_arch::HostCpu host_cpu{pv_arch::CpuVendor::intel, 6};
    std::map<uint64_t, CpuidRegs> cpuid;
    std::map<uint32_t, uint64_t> host_msrs;
    uint64_t efer = 0xd01, tsc = 0x123456789;
    // domain_control::create builds domains in this machine's memory (null: it fails with
    // out_of_memory); they are the fake's, destroyed by domain_control::destroy or reset().
    MachineMemory* machine = nullptr;
    std::vector<Domain*> owned;
    // The CPUs sched::online_cpus and sched::cpu_ids describe: 0 .. nr_cpus - 1.
    unsigned nr_cpus = 4;
    // The stamps the frame allocator asked stale TLBs flushed for (allocator_tlb_flush), in
    // order, and the one pv_arch::flush_stale_tlbs was last asked for.
    std::vector<TlbTime> allocator_flushes;
    TlbTime stale_flush{0};
};

Record& record();
// The frame allocator's stale-TLB hook in host tests (TestMachine installs it): records the
// stamp and notes "allocator flush".
void allocator_tlb_flush(TlbTime stamp);
void reset();
bool happened(const std::string& event);

}  // namespace fake_pv
