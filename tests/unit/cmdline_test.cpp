// Command-line parsing: every option, its defaults, and that bad input only ever warns.
#include <gtest/gtest.h>

#include <string>

#include "cmdline.hpp"

namespace {

Options parse(const char* line, kstd::Diagnostics& diag) { return parse_cmdline(kstd::StringView(line), diag); }

TEST(Cmdline, EmptyLineGivesDefaults) {
    kstd::Diagnostics diag;
    Options o = parse("", diag);
    EXPECT_TRUE(o.console_com1);
    EXPECT_FALSE(o.console_com2);
    EXPECT_EQ(o.com1.baud, 115200u);
    EXPECT_EQ(o.com1.io_base, 0x3f8);
    EXPECT_EQ(o.com2.io_base, 0x2f8);
    EXPECT_EQ(o.loglvl, LogLevel::info);
    EXPECT_EQ(o.mem_limit, 0u);
    EXPECT_EQ(o.max_cpus, 0u);
    EXPECT_FALSE(o.noreboot);
    EXPECT_EQ(o.debug_exit_port, 0);
    EXPECT_FALSE(o.selftest);
    EXPECT_TRUE(o.crashtest.empty());
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Cmdline, ConsoleListReplacesDefault) {
    kstd::Diagnostics diag;
    Options o = parse("console=com2", diag);
    EXPECT_FALSE(o.console_com1);
    EXPECT_TRUE(o.console_com2);
    o = parse("console=com1,com2", diag);
    EXPECT_TRUE(o.console_com1 && o.console_com2);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Cmdline, UnsupportedConsoleWarns) {
    kstd::Diagnostics diag;
    Options o = parse("console=vga,com1", diag);
    EXPECT_TRUE(o.console_com1);
    EXPECT_TRUE(diag.contains("console 'vga' is not supported"));
}

TEST(Cmdline, SerialSettingsInXenSyntax) {
    kstd::Diagnostics diag;
    Options o = parse("com1=57600,8n1,0x2e8 com2=9600,0x3e8", diag);
    EXPECT_EQ(o.com1.baud, 57600u);
    EXPECT_EQ(o.com1.io_base, 0x2e8);
    EXPECT_EQ(o.com2.baud, 9600u);
    EXPECT_EQ(o.com2.io_base, 0x3e8);
    o = parse("com1=auto,1000", diag);
    EXPECT_EQ(o.com1.baud, 115200u);
    EXPECT_EQ(o.com1.io_base, 1000);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Cmdline, BadSerialValueKeepsDefault) {
    const char* bad[] = {"com1=fast", "com1=115200,7e1", "com1=115200,0x10000", "com1=10", "com1=115200,0x3f8junk"};
    for (const char* line : bad) {
        kstd::Diagnostics diag;
        Options o = parse(line, diag);
        EXPECT_EQ(o.com1.baud, 115200u) << line;
        EXPECT_EQ(o.com1.io_base, 0x3f8) << line;
        EXPECT_TRUE(diag.contains("bad value")) << line;
    }
}

TEST(Cmdline, LogLevels) {
    struct Case {
        const char* line;
        LogLevel level;
    } cases[] = {{"loglvl=none", LogLevel::none},       {"loglvl=error", LogLevel::error},
                 {"loglvl=warning", LogLevel::warning}, {"loglvl=info", LogLevel::info},
                 {"loglvl=debug", LogLevel::debug},     {"loglvl=all", LogLevel::debug},
                 {"loglvl=all/warning", LogLevel::debug}};
    for (const Case& c : cases) {
        kstd::Diagnostics diag;
        EXPECT_EQ(parse(c.line, diag).loglvl, c.level) << c.line;
        EXPECT_EQ(diag.count(), 0u) << c.line;
    }
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("loglvl=loud", diag).loglvl, LogLevel::info);
    EXPECT_TRUE(diag.contains("bad value 'loud' for option 'loglvl'"));
}

TEST(Cmdline, MemorySizes) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("mem=4096", diag).mem_limit, 4096u);
    EXPECT_EQ(parse("mem=64K", diag).mem_limit, 64u << 10);
    EXPECT_EQ(parse("mem=512M", diag).mem_limit, 512u << 20);
    EXPECT_EQ(parse("mem=6g", diag).mem_limit, uint64_t{6} << 30);
    EXPECT_EQ(parse("mem=2T", diag).mem_limit, uint64_t{2} << 40);
    EXPECT_EQ(parse("mem=0x1000", diag).mem_limit, 0x1000u);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Cmdline, MemoryOverflowAndJunkAreRejected) {
    const char* bad[] = {"mem=99999999999999999999", "mem=16777216T", "mem=12Q", "mem=", "mem=M", "mem=0"};
    for (const char* line : bad) {
        kstd::Diagnostics diag;
        EXPECT_EQ(parse(line, diag).mem_limit, 0u) << line;
        EXPECT_TRUE(diag.contains("bad value")) << line;
    }
}

TEST(Cmdline, MaxCpus) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("maxcpus=2", diag).max_cpus, 2u);
    EXPECT_EQ(diag.count(), 0u);
    EXPECT_EQ(parse("maxcpus=0", diag).max_cpus, 0u);
    EXPECT_EQ(parse("maxcpus=-1", diag).max_cpus, 0u);
    EXPECT_EQ(parse("maxcpus=4294967296", diag).max_cpus, 0u);
    EXPECT_EQ(diag.count(), 3u);
}

TEST(Cmdline, FlagsAndTestOptions) {
    kstd::Diagnostics diag;
    Options o = parse("noreboot selftest debug_exit=0xf4 crashtest=stack", diag);
    EXPECT_TRUE(o.noreboot);
    EXPECT_TRUE(o.selftest);
    EXPECT_EQ(o.debug_exit_port, 0xf4);
    EXPECT_TRUE(o.crashtest == "stack");
    EXPECT_FALSE(parse("noreboot=no", diag).noreboot);
    EXPECT_TRUE(parse("noreboot=1", diag).noreboot);
    EXPECT_EQ(diag.count(), 0u);
    EXPECT_FALSE(parse("noreboot=maybe", diag).noreboot);
    EXPECT_EQ(parse("debug_exit=0", diag).debug_exit_port, 0);
    EXPECT_EQ(diag.count(), 2u);
}

TEST(Cmdline, UnknownOptionsWarnAndParsingGoesOn) {
    kstd::Diagnostics diag;
    Options o = parse("frobnicate=3 dom0_vcpus_pin maxcpus=3", diag);
    EXPECT_EQ(o.max_cpus, 3u);
    EXPECT_TRUE(diag.contains("unknown option 'frobnicate' ignored"));
    EXPECT_TRUE(diag.contains("unknown option 'dom0_vcpus_pin' ignored"));
}

TEST(Cmdline, Dom0MemoryAndVcpus) {
    kstd::Diagnostics diag;
    Options o = parse("dom0_mem=512M dom0_max_vcpus=4", diag);
    EXPECT_EQ(o.dom0_mem, 512ull << 20);
    EXPECT_EQ(o.dom0_max_vcpus, 4u);
    EXPECT_EQ(diag.count(), 0u);
    o = parse("dom0_mem=0 dom0_mem=12x dom0_max_vcpus=0 dom0_max_vcpus=33", diag);
    EXPECT_EQ(o.dom0_mem, 0u);
    EXPECT_EQ(o.dom0_max_vcpus, 0u);
    EXPECT_EQ(diag.count(), 4u);
}

TEST(Cmdline, Credit2RunQueues) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("", diag).runqueues, credit::Arrangement::shared);
    EXPECT_EQ(parse("credit2_runqueue=cpu", diag).runqueues, credit::Arrangement::per_cpu);
    EXPECT_EQ(parse("credit2_runqueue=cpu credit2_runqueue=all", diag).runqueues, credit::Arrangement::shared);
    EXPECT_EQ(diag.count(), 0u);
    // Arrangements that need the CPU topology, and nonsense, keep the setting and warn.
    Options o = parse("credit2_runqueue=cpu credit2_runqueue=socket credit2_runqueue=core credit2_runqueue", diag);
    EXPECT_EQ(o.runqueues, credit::Arrangement::per_cpu);
    EXPECT_EQ(diag.count(), 3u);
}

TEST(Cmdline, WhitespaceRunsAndImagePath) {
    kstd::Diagnostics diag;
    Options o = parse("/boot/kestrel \t  maxcpus=2\t\tnoreboot   ", diag);
    EXPECT_EQ(o.max_cpus, 2u);
    EXPECT_TRUE(o.noreboot);
    EXPECT_EQ(diag.count(), 0u);
    // A path anywhere but first is an unknown option.
    parse("noreboot /boot/kestrel", diag);
    EXPECT_TRUE(diag.contains("unknown option '/boot/kestrel'"));
}

TEST(Cmdline, NumberParsing) {
    uint64_t v;
    EXPECT_TRUE(parse_u64("18446744073709551615", v));
    EXPECT_EQ(v, UINT64_MAX);
    EXPECT_FALSE(parse_u64("18446744073709551616", v));
    EXPECT_TRUE(parse_u64("0xFFFFffffFFFFffff", v));
    EXPECT_FALSE(parse_u64("0x10000000000000000", v));
    EXPECT_FALSE(parse_u64("0x", v));
    EXPECT_FALSE(parse_u64("", v));
    EXPECT_FALSE(parse_u64("12a", v));
    EXPECT_FALSE(parse_u64("0xfg", v));
}

// --- Edge cases of each option ---

TEST(Cmdline, BlankLinesGiveDefaults) {
    kstd::Diagnostics diag;
    for (const char* line : {" ", "\t\t", " \n\r\t "}) {
        Options o = parse(line, diag);
        EXPECT_TRUE(o.console_com1) << line;
        EXPECT_EQ(o.loglvl, LogLevel::info);
    }
    Options o = parse_cmdline(kstd::StringView(), diag);
    EXPECT_TRUE(o.console_com1);
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Cmdline, ConsoleEdgeCases) {
    kstd::Diagnostics diag;
    Options o = parse("console=vga", diag);
    EXPECT_FALSE(o.console_com1) << "console= replaces the default even when nothing in it is usable";
    EXPECT_FALSE(o.console_com2);
    EXPECT_TRUE(diag.contains("console 'vga' is not supported"));
    for (const char* bad : {"console=", "console"}) {
        kstd::Diagnostics d;
        o = parse(bad, d);
        EXPECT_TRUE(o.console_com1) << bad;
        EXPECT_TRUE(d.contains("bad value '' for option 'console'")) << bad;
    }
    kstd::Diagnostics d2;
    o = parse("console=com2,,com1,com2", d2);
    EXPECT_TRUE(o.console_com1 && o.console_com2);
    EXPECT_EQ(d2.count(), 0u);
}

TEST(Cmdline, SerialFieldForms) {
    struct Case {
        const char* line;
        uint32_t baud;
        uint16_t io_base;
    } cases[] = {
        {"com1=9600", 9600, 0x3f8},
        {"com1=115200,8n1", 115200, 0x3f8},
        {"com1=38400,8n1,0x2e8", 38400, 0x2e8},
        {"com1=19200,,0x3e8", 19200, 0x3e8},   // empty DPS
        {"com1=19200,8n1,", 19200, 0x3f8},     // empty IOBASE
        {"com1=auto", 115200, 0x3f8},
        {"com1=auto,8n1,0X2E8", 115200, 0x2e8},
        {"com1=50,760", 50, 760},              // decimal IOBASE
    };
    for (const Case& c : cases) {
        kstd::Diagnostics diag;
        Options o = parse(c.line, diag);
        EXPECT_EQ(o.com1.baud, c.baud) << c.line;
        EXPECT_EQ(o.com1.io_base, c.io_base) << c.line;
        EXPECT_EQ(o.com2.io_base, 0x2f8) << c.line;
        EXPECT_EQ(diag.count(), 0u) << c.line;
    }
    kstd::Diagnostics diag;
    Options o = parse("com2=57600,8n1,0x2e8", diag);
    EXPECT_EQ(o.com2.baud, 57600u);
    EXPECT_EQ(o.com2.io_base, 0x2e8);
    EXPECT_EQ(o.com1.io_base, 0x3f8);
}

TEST(Cmdline, BadSerialValuesAreNamed) {
    const char* bad[] = {"com1",           "com1=",          "com1=0",           "com1=49",
                         "com1=230400",    "com1=115200,8n1,0x3f8,4", "com1=115200,9n1", "com1=115200,8x1",
                         "com1=115200,0",  "com1=,8n1,0x3f8", "com1=auto,8n1,0xfff9", "com1=99999999999999999999"};
    for (const char* line : bad) {
        kstd::Diagnostics diag;
        Options o = parse(line, diag);
        EXPECT_EQ(o.com1.baud, 115200u) << line;
        EXPECT_EQ(o.com1.io_base, 0x3f8) << line;
        EXPECT_TRUE(diag.contains("for option 'com1'")) << line;
        EXPECT_EQ(diag.count(), 1u) << line;
    }
    kstd::Diagnostics diag;
    parse("com2=115200,7e1,0x2f8", diag);
    EXPECT_TRUE(diag.contains("bad value '115200,7e1,0x2f8' for option 'com2'"));
}

TEST(Cmdline, EmptyLogLevelIsBad) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("loglvl=", diag).loglvl, LogLevel::info);
    EXPECT_EQ(parse("loglvl=/debug", diag).loglvl, LogLevel::info);
    EXPECT_EQ(parse("loglvl=Debug", diag).loglvl, LogLevel::info) << "names are case-sensitive, as in Xen";
    EXPECT_EQ(diag.count(), 3u);
    EXPECT_EQ(parse("loglvl=error/all", diag).loglvl, LogLevel::error);
    EXPECT_EQ(diag.count(), 3u);
}

TEST(Cmdline, MemorySizeBoundaries) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("mem=16777215T", diag).mem_limit, uint64_t{16777215} << 40);
    EXPECT_EQ(parse("mem=18446744073709551615", diag).mem_limit, UINT64_MAX);
    EXPECT_EQ(parse("mem=1k", diag).mem_limit, 1024u);
    EXPECT_EQ(parse("mem=3m", diag).mem_limit, 3u << 20);
    EXPECT_EQ(parse("mem=1t", diag).mem_limit, uint64_t{1} << 40);
    EXPECT_EQ(parse("mem=0x10G", diag).mem_limit, uint64_t{16} << 30);
    EXPECT_EQ(diag.count(), 0u);
    for (const char* bad : {"mem=1.5G", "mem=-1", "mem=+1", "mem=1GB", "mem=G1", "mem", "mem=17179869184G"}) {
        kstd::Diagnostics d;
        EXPECT_EQ(parse(bad, d).mem_limit, 0u) << bad;
        EXPECT_TRUE(d.contains("option 'mem'")) << bad;
    }
}

TEST(Cmdline, MaxCpusBoundaries) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("maxcpus=1", diag).max_cpus, 1u);
    EXPECT_EQ(parse("maxcpus=4294967295", diag).max_cpus, 4294967295u);
    EXPECT_EQ(parse("maxcpus=0x10", diag).max_cpus, 16u);
    EXPECT_EQ(diag.count(), 0u);
    for (const char* bad : {"maxcpus", "maxcpus=", "maxcpus=4x", "maxcpus=2 maxcpus=x4"}) {
        kstd::Diagnostics d;
        uint32_t expect = std::string(bad).find("maxcpus=2") == 0 ? 2 : 0;
        EXPECT_EQ(parse(bad, d).max_cpus, expect) << bad;
        EXPECT_TRUE(d.contains("for option 'maxcpus'")) << bad;
    }
}

TEST(Cmdline, BooleanSpellings) {
    struct Case {
        const char* line;
        bool value;
    } cases[] = {{"noreboot", true},        {"noreboot=1", true},   {"noreboot=true", true},
                 {"noreboot=yes", true},    {"noreboot=0", false},  {"noreboot=false", false},
                 {"noreboot=no", false},    {"noreboot noreboot=0", false}};
    for (const Case& c : cases) {
        kstd::Diagnostics diag;
        EXPECT_EQ(parse(c.line, diag).noreboot, c.value) << c.line;
        EXPECT_EQ(diag.count(), 0u) << c.line;
    }
    kstd::Diagnostics diag;
    EXPECT_FALSE(parse("noreboot=", diag).noreboot);
    EXPECT_TRUE(parse("selftest=yes", diag).selftest);
    EXPECT_FALSE(parse("selftest=0", diag).selftest);
    EXPECT_FALSE(parse("selftest=sometimes", diag).selftest);
    EXPECT_EQ(diag.count(), 2u);
    EXPECT_TRUE(diag.contains("bad value 'sometimes' for option 'selftest'"));
}

TEST(Cmdline, DebugExitPorts) {
    kstd::Diagnostics diag;
    EXPECT_EQ(parse("debug_exit=244", diag).debug_exit_port, 0xf4);
    EXPECT_EQ(parse("debug_exit=0x501", diag).debug_exit_port, 0x501);
    EXPECT_EQ(parse("debug_exit=0xfffc", diag).debug_exit_port, 0xfffc);
    EXPECT_EQ(diag.count(), 0u);
    // A 32-bit OUT at the port must stay within the 64 KiB I/O space.
    for (const char* bad : {"debug_exit", "debug_exit=", "debug_exit=0xfffd", "debug_exit=0x10000", "debug_exit=f4"}) {
        kstd::Diagnostics d;
        EXPECT_EQ(parse(bad, d).debug_exit_port, 0) << bad;
        EXPECT_TRUE(d.contains("for option 'debug_exit'")) << bad;
    }
}

TEST(Cmdline, CrashtestNeedsAName) {
    kstd::Diagnostics diag;
    EXPECT_TRUE(parse("crashtest=", diag).crashtest.empty());
    EXPECT_TRUE(parse("crashtest", diag).crashtest.empty());
    EXPECT_EQ(diag.count(), 2u);
}

TEST(Cmdline, LaterSettingsWinAndBadOnesKeepTheEarlier) {
    kstd::Diagnostics diag;
    Options o = parse("mem=1G loglvl=debug mem=2G loglvl=warning maxcpus=4 mem=lots maxcpus=-", diag);
    EXPECT_EQ(o.mem_limit, uint64_t{2} << 30);
    EXPECT_EQ(o.loglvl, LogLevel::warning);
    EXPECT_EQ(o.max_cpus, 4u);
    EXPECT_EQ(diag.count(), 2u);
    EXPECT_TRUE(diag.contains("bad value 'lots' for option 'mem'"));
}

TEST(Cmdline, EveryOptionAtOnce) {
    kstd::Diagnostics diag;
    Options o = parse("/boot/kestrel.elf console=com1,com2 com1=57600,8n1,0x3f8 com2=9600,0x2e8 loglvl=all mem=3G "
                      "maxcpus=2 noreboot debug_exit=0xf4 selftest crashtest=ud",
                      diag);
    EXPECT_TRUE(o.console_com1 && o.console_com2);
    EXPECT_EQ(o.com1.baud, 57600u);
    EXPECT_EQ(o.com2.baud, 9600u);
    EXPECT_EQ(o.com2.io_base, 0x2e8);
    EXPECT_EQ(o.loglvl, LogLevel::debug);
    EXPECT_EQ(o.mem_limit, uint64_t{3} << 30);
    EXPECT_EQ(o.max_cpus, 2u);
    EXPECT_TRUE(o.noreboot);
    EXPECT_EQ(o.debug_exit_port, 0xf4);
    EXPECT_TRUE(o.selftest);
    EXPECT_TRUE(o.crashtest == "ud");
    EXPECT_EQ(diag.count(), 0u);
}

TEST(Cmdline, ImagePathRules) {
    kstd::Diagnostics diag;
    Options o = parse("  \t/boot/kestrel", diag);
    EXPECT_TRUE(o.console_com1);
    EXPECT_EQ(diag.count(), 0u) << "a lone path after blanks is still the image";
    parse("(hd0,gpt2)/boot/kestrel noreboot", diag);
    EXPECT_EQ(diag.count(), 0u) << "GRUB device syntax is a path too";
    parse("a/b=c", diag);
    EXPECT_TRUE(diag.contains("unknown option 'a/b' ignored")) << "a first word with '=' is an option";
    kstd::Diagnostics d2;
    parse("kestrel noreboot", d2);
    EXPECT_TRUE(d2.contains("unknown option 'kestrel' ignored")) << "no '/': not a path";
}

TEST(Cmdline, UnknownOptionNamesOnlyTheName) {
    kstd::Diagnostics diag;
    parse("foo=bar =x", diag);
    EXPECT_TRUE(diag.contains("unknown option 'foo' ignored"));
    EXPECT_FALSE(diag.contains("bar"));
    EXPECT_TRUE(diag.contains("unknown option '' ignored"));
}

TEST(Cmdline, SizeParsing) {
    uint64_t v = 7;
    EXPECT_TRUE(parse_size("0", v));
    EXPECT_EQ(v, 0u);
    EXPECT_TRUE(parse_size("17179869183G", v));
    EXPECT_EQ(v, uint64_t{17179869183} << 30);
    v = 7;
    EXPECT_FALSE(parse_size("17179869184G", v));
    EXPECT_FALSE(parse_size("", v));
    EXPECT_FALSE(parse_size("K", v));
    EXPECT_FALSE(parse_size("1KK", v));
    EXPECT_EQ(v, 7u) << "untouched on failure";
    EXPECT_FALSE(parse_u64("+1", v));
    EXPECT_FALSE(parse_u64(" 1", v));
    EXPECT_FALSE(parse_u64("1 ", v));
    EXPECT_FALSE(parse_u64("0x-1", v));
    EXPECT_TRUE(parse_u64("007", v));
    EXPECT_EQ(v, 7u);
}

}  // namespace
