// A virtual CPU of a domain: its saved registers while it is not on a physical CPU, and the
// paravirtual CPU state a Xen x86_64 PV guest controls by hypercall (trap table, kernel
// stack, callbacks, segment bases, lazy FPU switch, debug registers).
//
// Guest kernels and guest user space both run in ring 3; `kernel_mode` records which of the
// two the guest is in, as Xen's TF_kernel_mode does, and Kestrel switches page tables and GS
// bases when it changes.
#pragma once

#include <arch/frame.hpp>

#include <xen/xen.h>

#include "credit.hpp"
#include "kstd/list.hpp"
#include "timer_queue.hpp"
#include "types.hpp"

struct vcpu_info;
class Domain;

enum class VcpuState : uint8_t {
    down,      // not yet brought up, or taken down (VCPUOP_down)
    runnable,  // wants a CPU: waits for one (or is kept off by a pause or its cap)
    running,   // on a CPU now (or still leaving it, woken again before it left)
    blocked,   // SCHEDOP_block: waits for an event
    dead,      // its domain is shut down or dying
};

// One entry of the guest's virtual IDT, from set_trap_table.
struct GuestTrap {
    uint64_t address = 0;  // 0: no handler
    uint16_t cs = 0;
    uint8_t flags = 0;     // trap_info flags: bits 0-1 DPL, bit 2 disables events on entry
};

// Callbacks registered by set_callbacks or callback_op, by CALLBACKTYPE_* number.
struct GuestCallback {
    uint64_t address = 0;
    uint16_t flags = 0;  // CALLBACKF_mask_events
};

// What to inject into the guest on its way back from the hypervisor.
struct PendingBounce {
    bool pending = false;
    uint8_t vector = 0;
    bool has_error_code = false;
    uint32_t error_code = 0;
    uint64_t address = 0;   // handler
    bool mask_events = false;
    // The failsafe callback's frame also carries the DS, ES, FS, GS selectors that failed.
    bool failsafe = false;
    uint16_t selectors[4]{};
};

// MSRs a PV guest owns per vCPU (pv_msr), loaded into the hardware while it runs where the
// host has them.
struct GuestMsrs {
    uint64_t spec_ctrl = 0;
    uint64_t tsc_aux = 0;
    uint64_t virt_spec_ctrl = 0;
    uint64_t dr_mask[4]{};  // AMD's DR0-3 address masks
    // Virtual machine-check state (Xen's vMCE): two banks, none ever reporting an error.
    static constexpr unsigned MC_BANKS = 2;
    uint64_t mcg_status = 0;
    struct {
        uint64_t status = 0, addr = 0, misc = 0, ctl2 = 0;
    } mc_bank[MC_BANKS];
};

class Vcpu {
public:
    static constexpr unsigned CALLBACK_TYPES = 8;  // CALLBACKTYPE_event .. CALLBACKTYPE_nmi

    Vcpu(Domain& d, VcpuId id) : domain_(d), id_(id) { sched.vcpu = this; }
    Vcpu(const Vcpu&) = delete;
    Vcpu& operator=(const Vcpu&) = delete;

    Domain& domain() const { return domain_; }
    VcpuId id() const { return id_; }

    // The vcpu_info this vCPU's events and time are published in (in shared_info for the
    // first 32 vCPUs, until the guest registers another place).
    vcpu_info* info() const { return info_; }
    void set_info(vcpu_info* i) { info_ = i; }

    // Scheduling. state and runstate change under the lock of sched.rq (the vCPU's run queue);
    // the CPU it runs on (or last ran on) is sched.cpu.
    VcpuState state = VcpuState::down;
    credit::Entity sched;
    // On a CPU: from when a CPU picks it until that CPU has saved its state (set and cleared by
    // that CPU, under the run queue lock).
    bool on_cpu = false;
    Timer wakeup;                 // ends a block or poll with a timeout
    Timer singleshot;             // set_timer_op: raises VIRQ_TIMER
    Timer periodic;               // VCPUOP_set_periodic_timer: VIRQ_TIMER every periodic_ns
    uint64_t periodic_ns = 0;
    // SCHEDOP_poll: set while the vCPU waits in it, with the one port it waits for
    // (POLL_ANY: any port of its domain), so that sending to that port wakes it whatever the
    // upcall state (Xen's poll mask).
    static constexpr uint32_t POLL_ANY = ~uint32_t{0};
    bool polling = false;
    uint32_t poll_port = POLL_ANY;
    uint32_t virq_port[24]{};    // NR_VIRQS     // event channel bound to each per-vCPU VIRQ (0: none)

    arch::ExceptionFrame regs{};  // guest registers while off-CPU
    bool kernel_mode = true;

    // Guest page tables: the kernel's and the user's root (machine frames; user 0 if none).
    Mfn cr3_kernel{0};
    Mfn cr3_user{0};

    // stack_switch: where exceptions from guest user mode land.
    uint64_t kernel_ss = 0;
    uint64_t kernel_sp = 0;

    // Segment state the guest controls; the GS base not in use is kept here.
    uint64_t fs_base = 0;
    uint64_t gs_base_kernel = 0;
    uint64_t gs_base_user = 0;
    uint16_t ds = 0, es = 0, fs = 0, gs = 0;

    GuestTrap traps[256];
    GuestCallback callbacks[CALLBACK_TYPES];
    bool syscall_disables_events = false;  // VGCF_syscall_disables_events
    PendingBounce bounce;

    // fpu_taskswitch: the guest's virtual CR0.TS.
    bool virtual_ts = false;
    // FPU/SSE/AVX state while off the CPU: an XSAVE (or FXSAVE) image, and the guest's XCR0.
    alignas(64) uint8_t fpu_state[4096]{};
    bool fpu_initialised = false;
    uint64_t xcr0 = 3;  // x87 | SSE, as a new vCPU starts on Xen
    uint64_t cr4_guest = 0;  // CR4 bits the guest controls (OSXSAVE)

    uint64_t debugreg[8]{};
    GuestMsrs msrs;

    // set_gdt: the machine frames of the guest's GDT and its entry count.
    static constexpr unsigned GDT_FRAMES = 14;
    uint64_t gdt_frames[GDT_FRAMES]{};
    unsigned gdt_ents = 0;
    unsigned gdt_pages() const { return (gdt_ents + 511) / 512; }

    // MMUEXT_SET_LDT: the LDT's guest address and size, and the frames behind it (typed as
    // descriptor pages while in use; ldt_frames_held of them).
    static constexpr unsigned LDT_FRAMES = 16;
    uint64_t ldt_base = 0;
    unsigned ldt_ents = 0;
    uint64_t ldt_frames[LDT_FRAMES]{};
    unsigned ldt_frames_held = 0;
    uint32_t iopl = 0;  // virtual IOPL (PHYSDEVOP_set_iopl), 0..3

    // XEN_DOMCTL_setvcpuaffinity: where the toolstack said it may run (the scheduler keeps its
    // own copy, sched.hard) and where it prefers to (remembered, not used by credit2 here).
    CpuSet hard_affinity = CpuSet::all();
    CpuSet soft_affinity = CpuSet::all();
    // Whether its hard affinity is restricted: then a CPU it leaves checks that it waits where
    // it may run (a hint for the scheduler, read without locks).
    bool affinity_moved = false;

    // Its context has been set (by the builder for vCPU 0, by VCPUOP_initialise for the
    // others): only then can VCPUOP_up start it. A later VCPUOP_down keeps it.
    bool initialised = false;
    // VCPUOP_register_vcpu_info: the guest frame its vcpu_info now lives in (0: still in
    // shared_info), held as a writable page for the domain's lifetime as on Xen.
    Mfn vcpu_info_frame{0};

    // Runstate (Xen's vcpu_runstate_info): the RUNSTATE_* it is in since runstate_entry (system
    // time), the nanoseconds spent in each state before that, and the guest address the
    // guest asked to see a copy at (0: none); runstate_pending when a copy could not be
    // written while the guest was in user mode, to be written on its next kernel entry.
    int32_t runstate = 3;  // RUNSTATE_offline
    uint64_t runstate_entry = 0;
    uint64_t runstate_time[4]{};
    uint64_t runstate_area = 0;
    bool runstate_pending = false;

    // VCPUOP_register_vcpu_time_memory_area: a guest address that gets a copy of the vCPU's
    // vcpu_time_info whenever it is published (0: none); a copy that could not be written
    // while the guest was in user mode waits in pending_time (version 0: none) for its next
    // kernel entry, as on Xen.
    uint64_t time_area = 0;
    vcpu_time_info pending_time{};

private:
    Domain& domain_;
    VcpuId id_;
    vcpu_info* info_ = nullptr;
};
