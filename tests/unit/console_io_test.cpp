// console_io, as Xen 4.17's do_console_io (drivers/char/console.c, default XSM policy):
// the control domain writes raw bytes to the console and reads what was typed; another
// domain needs is_console, and its output is logged a line at a time, printable characters
// only, tagged with the domain; reads return a count, refuse counts above INT_MAX, and a
// fault while copying leaves the characters not copied waiting.
#include "console_input.hpp"
#include "pv_test_support.hpp"

#include <string>

namespace {

using namespace pv_test;

class ConsoleIo : public PvTest {
protected:
    static constexpr uint64_t BUF = 0xffffffff84000000;
    void SetUp() override {
        PvTest::SetUp();
        drain();
        buf = std::make_unique<GuestBuffer>(BUF, 4096);
        d0 = make_dom0();
        c0 = d0->vcpu(VcpuId(0));
        dc = make_domain(DomainConfig{DomId(2), 4, 0, 1, false, true});
    }
    void TearDown() override {
        drain();
        PvTest::TearDown();
    }
    static void drain() {
        char tmp[256];
        while (console_input::pop(tmp, sizeof tmp)) {
        }
    }
    long write(Vcpu& v, const std::string& s, uint64_t at = BUF) {
        buf->put(at, s.data(), s.size());
        return call(v, __HYPERVISOR_console_io, CONSOLEIO_write, s.size(), at);
    }
    long read(Vcpu& v, uint64_t count, uint64_t at = BUF) { return call(v, __HYPERVISOR_console_io, CONSOLEIO_read, count, at); }
    static void type(const std::string& s) {
        for (char c : s) console_input::push(c);
    }
    // Lines logged for a domain, without the "(dN) " tag.
    static std::vector<std::string> lines_of(unsigned domid) {
        std::string tag = "(d" + std::to_string(domid) + ") ";
        std::vector<std::string> out;
        for (const auto& l : host_log::lines())
            if (l.rfind(tag, 0) == 0) out.push_back(l.substr(tag.size()));
        return out;
    }

    std::unique_ptr<GuestBuffer> buf;
    Domain* d0 = nullptr;
    Vcpu* c0 = nullptr;
    Domain* dc = nullptr;  // not privileged, but allowed the console
};

TEST_F(ConsoleIo, ControlDomainWritesRawBytes) {
    EXPECT_EQ(write(*c0, std::string("hello\n\x01\x1b[0m", 11)), 0);
    EXPECT_EQ(fake_pv::record().console, std::string("hello\n\x01\x1b[0m", 11));
    EXPECT_TRUE(lines_of(0).empty()) << "not through the log";
}

TEST_F(ConsoleIo, LongWriteArrivesWholeAndInOrder) {
    std::string s;
    for (int i = 0; i < 1000; ++i) s += char('a' + i % 26);
    EXPECT_EQ(write(*c0, s), 0);
    EXPECT_EQ(fake_pv::record().console, s);
}

TEST_F(ConsoleIo, ZeroCountWritesNothing) {
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, CONSOLEIO_write, 0, 0), 0) << "the buffer is not touched";
    EXPECT_EQ(fake_pv::record().console, "");
}

TEST_F(ConsoleIo, WriteFromUnmappedBufferIsEfault) {
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, CONSOLEIO_write, 10, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, CONSOLEIO_write, 10, HOLE_START), -XEN_EFAULT);
    EXPECT_EQ(fake_pv::record().console, "");
}

TEST_F(ConsoleIo, FaultPartWayKeepsWhatWasWrittenBefore) {
    // 300 bytes asked, 200 mapped: whole chunks before the fault are out, the rest is not.
    GuestBuffer part(0xffffffff87000000, 200);
    std::string s(200, 'q');
    part.put(0xffffffff87000000, s.data(), s.size());
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, CONSOLEIO_write, 300, 0xffffffff87000000), -XEN_EFAULT);
    const std::string& out = fake_pv::record().console;
    EXPECT_GE(out.size(), 100u);
    EXPECT_LT(out.size(), 200u);
    EXPECT_EQ(out, std::string(out.size(), 'q'));
}

TEST_F(ConsoleIo, CountIsA32BitValue) {
    // count is unsigned int: 2^32 + 3 writes three bytes.
    buf->put(BUF, "abcdef", 6);
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, CONSOLEIO_write, (uint64_t{1} << 32) | 3, BUF), 0);
    EXPECT_EQ(fake_pv::record().console, "abc");
}

TEST_F(ConsoleIo, DomainWithoutConsoleIsRefused) {
    EXPECT_EQ(write(*v0, "hi\n"), -XEN_EPERM);
    EXPECT_EQ(read(*v0, 10), -XEN_EPERM);
    EXPECT_EQ(call(*v0, __HYPERVISOR_console_io, 2, 0, 0), -XEN_EPERM) << "permission before the command";
    EXPECT_TRUE(lines_of(1).empty());
    EXPECT_EQ(fake_pv::record().console, "");
}

TEST_F(ConsoleIo, ConsoleDomainOutputIsLoggedByLine) {
    Vcpu& v = *dc->vcpu(VcpuId(0));
    EXPECT_EQ(write(v, "partial "), 0);
    EXPECT_TRUE(lines_of(2).empty()) << "held until the newline";
    EXPECT_EQ(write(v, "line\nnext"), 0);
    ASSERT_EQ(lines_of(2).size(), 1u);
    EXPECT_EQ(lines_of(2)[0], "partial line");
    EXPECT_EQ(write(v, "\n"), 0);
    ASSERT_EQ(lines_of(2).size(), 2u);
    EXPECT_EQ(lines_of(2)[1], "next");
    EXPECT_EQ(fake_pv::record().console, "") << "not the raw console";
}

TEST_F(ConsoleIo, ConsoleDomainNonPrintablesAreDropped) {
    Vcpu& v = *dc->vcpu(VcpuId(0));
    EXPECT_EQ(write(v, std::string("a\x01" "b\x7f" "c\td\x1b[1m\r\n", 13)), 0);
    ASSERT_EQ(lines_of(2).size(), 1u);
    EXPECT_EQ(lines_of(2)[0], "abc\td[1m");
}

TEST_F(ConsoleIo, ConsoleDomainLongLineIsNotLost) {
    Vcpu& v = *dc->vcpu(VcpuId(0));
    std::string s;
    for (int i = 0; i < 700; ++i) s += char('A' + i % 26);
    EXPECT_EQ(write(v, s + "\n"), 0);
    std::string joined;
    for (const auto& l : lines_of(2)) joined += l;
    EXPECT_GT(lines_of(2).size(), 1u);
    EXPECT_EQ(joined, s);
}

TEST_F(ConsoleIo, EachDomainHasItsOwnPartialLine) {
    Domain* other = make_domain(DomainConfig{DomId(3), 4, 0, 1, false, true});
    EXPECT_EQ(write(*dc->vcpu(VcpuId(0)), "two-"), 0);
    EXPECT_EQ(write(*other->vcpu(VcpuId(0)), "three-"), 0);
    EXPECT_EQ(write(*dc->vcpu(VcpuId(0)), "done\n"), 0);
    EXPECT_EQ(write(*other->vcpu(VcpuId(0)), "done\n"), 0);
    ASSERT_EQ(lines_of(2).size(), 1u);
    ASSERT_EQ(lines_of(3).size(), 1u);
    EXPECT_EQ(lines_of(2)[0], "two-done");
    EXPECT_EQ(lines_of(3)[0], "three-done");
}

TEST_F(ConsoleIo, ControlDomainReadsTypedCharacters) {
    type("xyz");
    EXPECT_EQ(read(*c0, 10), 3);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf->bytes.data()), 3), "xyz");
    EXPECT_EQ(buf->bytes[3], 0) << "nothing beyond the count read";
    EXPECT_EQ(console_input::pending(), 0u);
}

TEST_F(ConsoleIo, ReadStopsAtTheCountAndKeepsTheRest) {
    type("abcdef");
    EXPECT_EQ(read(*c0, 4), 4);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf->bytes.data()), 4), "abcd");
    EXPECT_EQ(buf->bytes[4], 0);
    EXPECT_EQ(read(*c0, 4), 2);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf->bytes.data()), 2), "ef");
}

TEST_F(ConsoleIo, ReadWithNothingTypedReturnsZero) {
    EXPECT_EQ(read(*c0, 10), 0);
    EXPECT_EQ(read(*c0, 0, 0), 0);
}

TEST_F(ConsoleIo, ReadOfMoreThanOneChunk) {
    std::string s;
    for (int i = 0; i < 500; ++i) s += char('0' + i % 10);
    type(s);
    EXPECT_EQ(read(*c0, 1000), 500);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf->bytes.data()), 500), s);
}

TEST_F(ConsoleIo, ReadCountAboveIntMaxIsE2big) {
    type("abc");
    EXPECT_EQ(read(*c0, 0x80000000u), -XEN_E2BIG);
    EXPECT_EQ(read(*c0, 0xffffffffu), -XEN_E2BIG);
    EXPECT_EQ(console_input::pending(), 3u) << "nothing consumed";
    EXPECT_EQ(read(*c0, 0x7fffffffu), 3);
}

TEST_F(ConsoleIo, ReadFaultPartWayKeepsWhatWasNotCopied) {
    // 100 bytes mapped: whole chunks before the fault are consumed, the rest stays.
    GuestBuffer part(0xffffffff87000000, 100);
    std::string s;
    for (int i = 0; i < 300; ++i) s += char('a' + i % 26);
    type(s);
    EXPECT_EQ(read(*c0, 300, 0xffffffff87000000), -XEN_EFAULT);
    size_t taken = 300 - console_input::pending();
    EXPECT_LE(taken, 100u);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(part.bytes.data()), taken), s.substr(0, taken));
    EXPECT_EQ(read(*c0, 300), long(300 - taken));
    EXPECT_TRUE(std::string(reinterpret_cast<char*>(buf->bytes.data()), 300 - taken) == s.substr(taken));
}

TEST_F(ConsoleIo, ReadIntoUnmappedBufferIsEfault) {
    type("abc");
    EXPECT_EQ(read(*c0, 10, 0xffffffff86000000), -XEN_EFAULT);
}

TEST_F(ConsoleIo, ReadFaultLeavesTheCharactersWaiting) {
    // Xen advances the ring's consumer only past characters copied to the guest.
    type("abc");
    EXPECT_EQ(read(*c0, 10, 0xffffffff86000000), -XEN_EFAULT);
    EXPECT_EQ(console_input::pending(), 3u);
    EXPECT_EQ(read(*c0, 10), 3);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf->bytes.data()), 3), "abc");
}

TEST_F(ConsoleIo, ConsoleDomainMayReadToo) {
    // xsm_console_io allows every sub-op to an is_console domain.
    type("k");
    EXPECT_EQ(read(*dc->vcpu(VcpuId(0)), 10), 1);
    EXPECT_EQ(buf->bytes[0], 'k');
}

TEST_F(ConsoleIo, UnknownCommandIsEnosys) {
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, 2, 10, BUF), -XEN_ENOSYS);
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, 0xffffffff, 10, BUF), -XEN_ENOSYS);
    EXPECT_EQ(call(*dc->vcpu(VcpuId(0)), __HYPERVISOR_console_io, 2, 10, BUF), -XEN_ENOSYS);
}

TEST_F(ConsoleIo, CommandIsA32BitValue) {
    buf->put(BUF, "zz", 2);
    EXPECT_EQ(call(*c0, __HYPERVISOR_console_io, (uint64_t{1} << 32) | CONSOLEIO_write, 2, BUF), 0);
    EXPECT_EQ(fake_pv::record().console, "zz");
}

}  // namespace
