// Shared set-up for the tests of the PV hypercall core: machine memory for domains (a
// FrameAllocator over a host buffer, as frame_allocator_test.cpp does), a domain with its
// vCPUs, guest memory mapped at chosen guest addresses through the fake, and a helper that
// issues a hypercall through the real dispatcher the way a guest does (number in rax,
// arguments in rdi, rsi, rdx, r10, r8).
//
// The fakes keep global state (mapped regions, recorded events, log lines); PvTest resets all
// of it before and after each test so that tests do not see each other's leftovers.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "domain.hpp"
#include "frame_allocator.hpp"
#include "guest_memory.hpp"
#include "host_runtime.hpp"
#include "host_platform_fake.hpp"
#include "irq_fakes.hpp"
#include "hypercall.hpp"
#include "machine_memory.hpp"
#include "pv_fakes.hpp"
#include "vcpu.hpp"

#include <xen/errno.h>
#include <xen/xen.h>

namespace pv_test {

// Physical memory [BASE, BASE + frames pages) backed by one host allocation, with an
// allocator and a MachineMemory over it. BASE is not 0 so that no domain frame is Mfn(0),
// which the core uses for "none".
class TestMachine {
public:
    static constexpr uint64_t BASE = 16 * PAGE_SIZE;

    explicit TestMachine(uint64_t frames = 512)
        : bytes_(frames * PAGE_SIZE), host_(static_cast<uint8_t*>(std::aligned_alloc(PAGE_SIZE, bytes_))),
          meta_(FrameAllocator::metadata_bytes(Mfn((BASE + bytes_) / PAGE_SIZE))),
          mm(frames_, reinterpret_cast<uintptr_t>(host_) - BASE) {
        frames_.init(reinterpret_cast<uintptr_t>(host_) - BASE, Mfn(meta_.size()), meta_.data());
        frames_.add_free_range(Paddr(BASE), Paddr(BASE + bytes_));
        frames_.set_stale_tlb_flush(fake_pv::allocator_tlb_flush);
    }
    ~TestMachine() { std::free(host_); }
    TestMachine(const TestMachine&) = delete;
    TestMachine& operator=(const TestMachine&) = delete;

    FrameAllocator& frames() { return frames_; }
    uint64_t total_frames() const { return bytes_ / PAGE_SIZE; }
    // Whether p points into the machine's memory (objects the core places there).
    bool owns(const void* p) const {
        auto a = reinterpret_cast<const uint8_t*>(p);
        return a >= host_ && a < host_ + bytes_;
    }

private:
    uint64_t bytes_;
    uint8_t* host_;
    std::vector<uint8_t> meta_;
    FrameAllocator frames_;

public:
    MachineMemory mm;
};

// Clears every fake's recorded state.
inline void reset_fakes() {
    fake_pv::reset();
    fake_irq::reset();
    fake_platform::reset();
    fake_guest::clear();
    host_log::clear();
}

// A zero-filled host buffer mapped at a guest virtual address.
struct GuestBuffer {
    GuestBuffer(uint64_t guest_va, size_t size, bool writable = true) : va(guest_va), bytes(size, 0) {
        fake_guest::map(va, bytes.data(), bytes.size(), writable);
    }
    GuestBuffer(const GuestBuffer&) = delete;
    GuestBuffer& operator=(const GuestBuffer&) = delete;

    template <typename T>
    T& at(uint64_t guest_va) {
        EXPECT_LE(va, guest_va);
        EXPECT_LE(guest_va - va + sizeof(T), bytes.size());
        return *reinterpret_cast<T*>(bytes.data() + (guest_va - va));
    }
    uint64_t u64(uint64_t guest_va) {
        uint64_t x;
        std::memcpy(&x, bytes.data() + (guest_va - va), 8);
        return x;
    }
    void put(uint64_t guest_va, const void* src, size_t n) { std::memcpy(bytes.data() + (guest_va - va), src, n); }

    uint64_t va;
    std::vector<uint8_t> bytes;
};

// Guest addresses the tests use: ordinary kernel-half memory, the top of the user half,
// the bounds of the hypervisor hole.
constexpr uint64_t KERNEL_VA = 0xffffffff80000000;
constexpr uint64_t USER_VA = 0x0000000000400000;
constexpr uint64_t USER_TOP = 0x0000800000000000;  // first non-canonical address
constexpr uint64_t HOLE_START = 0xffff800000000000;
constexpr uint64_t HOLE_END = 0xffff880000000000;
constexpr uint64_t NON_CANONICAL = 0x0000800000000000;

// A fixture with one domain (two vCPUs, a few pages) and helpers to call hypercalls.
class PvTest : public ::testing::Test {
protected:
    void SetUp() override {
        reset_fakes();
        dom = make_domain(DomainConfig{DomId(1), 4, 0, 2, false, false});
        ASSERT_NE(dom, nullptr);
        v0 = dom->vcpu(VcpuId(0));
        v1 = dom->vcpu(VcpuId(1));
    }
    void TearDown() override {
        for (Domain* d : created_) Domain::destroy(d);
        created_.clear();
        reset_fakes();
    }

    Domain* make_domain(const DomainConfig& c) {
        auto r = Domain::create(machine.mm, c);
        EXPECT_TRUE(r.has_value());
        if (!r) return nullptr;
        created_.push_back(*r);
        return *r;
    }
    // The control domain (dom0), created on demand.
    Domain* make_dom0() { return make_domain(DomainConfig{DomId(0), 4, 0, 2, true, false}); }

    // Issues hypercall nr from v as the guest would and returns rax.
    long call(Vcpu& v, uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0,
              uint64_t a4 = 0) {
        regs.rax = nr;
        regs.rdi = a0;
        regs.rsi = a1;
        regs.rdx = a2;
        regs.r10 = a3;
        regs.r8 = a4;
        hypercall::dispatch(v, regs);
        return long(regs.rax);
    }
    long call(uint64_t nr, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0) { return call(*v0, nr, a0, a1, a2); }
    // Issues hypercall nr(cmd, buf.va) from v with `arg` copied into buf first and read back
    // after, as the sub-ops that write their structure back need.
    template <typename T>
    long call_struct(Vcpu& v, uint64_t nr, int cmd, T& arg, GuestBuffer& buf) {
        buf.put(buf.va, &arg, sizeof arg);
        long rc = call(v, nr, uint64_t(cmd), buf.va);
        arg = buf.at<T>(buf.va);
        return rc;
    }

    bool crashed() const { return dom->state() == DomainState::shutdown && dom->shutdown_reason() == shutdown::crash; }
    bool crash_logged(const std::string& text) const {
        for (const auto& e : fake_pv::record().events)
            if (e.rfind("crash: ", 0) == 0 && e.find(text) != std::string::npos) return true;
        return false;
    }

    TestMachine machine;
    Domain* dom = nullptr;
    Vcpu* v0 = nullptr;
    Vcpu* v1 = nullptr;
    arch::ExceptionFrame regs{};

private:
    std::vector<Domain*> created_;
};

}  // namespace pv_test
