// The hypervisor command line: space-separated `name` or `name=value` words (tabs and runs of
// blanks separate too), as GRUB passes them; a first word with a '/' and no '=' is the image
// path some loaders prepend, and is skipped. The options and their syntax are listed in
// docs/boot.md; Options below holds their defaults.
//
// Error policy: nothing here is fatal. An unknown option is reported through Diagnostics by
// name; a bad value (malformed, out of range, overflowing, trailing junk) is reported with the
// option and the value, and that option keeps its default or earlier setting.
#pragma once

#include "credit.hpp"
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
    kstd::StringView crashtest;    // empty: none; points into the parsed line
    uint64_t dom0_mem = 0;         // bytes of the control domain's memory; 0: the default
    uint32_t dom0_max_vcpus = 0;   // 0: one per online CPU (at most 32)
    credit::Arrangement runqueues = credit::Arrangement::shared;  // credit2_runqueue=
};

Options parse_cmdline(kstd::StringView line, kstd::Diagnostics& diag);

// Number parsing shared with other parsers: decimal, or hex with 0x; false on overflow, an
// empty string, a sign or any other character.
bool parse_u64(kstd::StringView s, uint64_t& out);
// A size in bytes with an optional K/M/G/T suffix (binary units); false if it overflows.
bool parse_size(kstd::StringView s, uint64_t& out);
