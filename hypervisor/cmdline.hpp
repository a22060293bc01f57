// The hypervisor command line: space-separated `name` or `name=value` words, as GRUB passes
// them after the image path. Nothing here is fatal: an unknown option or a bad value is
// reported through Diagnostics and the default stays.
#pragma once

#include "kstd/diagnostics.hpp"
#include "log_level.hpp"

struct SerialPort {
    uint32_t baud;
    uint16_t io_base;
};

struct Options {
    bool console_com1 = true;
    bool console_com2 = false;
    SerialPort com1{115200, 0x3f8};
    SerialPort com2{115200, 0x2f8};
    LogLevel loglvl = LogLevel::info;
    uint64_t mem_limit = 0;        // bytes; 0: use all RAM
    uint32_t max_cpus = 0;         // 0: every CPU
    bool noreboot = false;
    uint16_t debug_exit_port = 0;  // 0: no QEMU isa-debug-exit device
    bool selftest = false;
    kstd::StringView crashtest;    // empty: none
};

Options parse_cmdline(kstd::StringView line, kstd::Diagnostics& diag);

// Number parsing shared with other parsers: decimal, or hex with 0x; no overflow, no junk.
bool parse_u64(kstd::StringView s, uint64_t& out);
// A size with an optional K/M/G/T suffix (binary units).
bool parse_size(kstd::StringView s, uint64_t& out);
