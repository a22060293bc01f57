// Command-line parsing: every option, its defaults, and that bad input only ever warns.
#include <gtest/gtest.h>

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
    Options o = parse("frobnicate=3 dom0_mem=512M maxcpus=3", diag);
    EXPECT_EQ(o.max_cpus, 3u);
    EXPECT_TRUE(diag.contains("unknown option 'frobnicate' ignored"));
    EXPECT_TRUE(diag.contains("unknown option 'dom0_mem' ignored"));
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

}  // namespace
