// Command line parser: splits the line into words, looks each option up in one constexpr table
// and hands its value to that option's handler. A handler returns false for a bad value and
// must leave Options untouched when it does, so the default (or an earlier setting) stays.
#include "cmdline.hpp"

namespace {

using kstd::StringView;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits off the next word; returns an empty view at the end.
StringView next_word(StringView& rest) {
    size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    const size_t start = i;
    while (i < rest.size() && !is_space(rest[i])) ++i;
    const StringView word = rest.substr(start, i - start);
    rest = rest.substr(i);
    return word;
}

// Splits v at commas into at most `max` fields, empty ones included; returns how many there
// are, or max + 1 if there are more.
size_t split_fields(StringView v, StringView* out, size_t max) {
    size_t n = 0;
    for (size_t start = 0;;) {
        if (n == max) return max + 1;
        const size_t comma = v.find(',', start);
        out[n++] = v.substr(start, comma == StringView::npos ? StringView::npos : comma - start);
        if (comma == StringView::npos) return n;
        start = comma + 1;
    }
}

// A 16550's divisor latch divides 115200; slower than 50 baud is no use to anyone.
constexpr uint64_t MIN_BAUD = 50;
constexpr uint64_t MAX_BAUD = 115200;
// debug_exit is written with a 32-bit OUT, which must not run past port 0xffff.
constexpr uint64_t MAX_DEBUG_EXIT_PORT = 0xfffc;
constexpr uint64_t MAX_SERIAL_IO_BASE = 0xfff8;  // eight registers

// A DPS field such as "8n1": data bits 5-8, parity n/o/e/m/s, stop bits 1-2.
bool is_dps(StringView s) {
    return s.size() == 3 && s[0] >= '5' && s[0] <= '8' && StringView("noems").find(s[1]) != StringView::npos &&
           (s[2] == '1' || s[2] == '2');
}

// An unsigned number in [lo, hi], stored only when it is valid.
template <typename T>
bool parse_ranged(StringView v, uint64_t lo, uint64_t hi, T& out) {
    uint64_t n = 0;
    if (!parse_u64(v, n) || n < lo || n > hi) return false;
    out = T(n);
    return true;
}

// "BAUD[,DPS][,IOBASE]" as Xen writes it, and "BAUD,IOBASE"; BAUD may be "auto" and an empty
// DPS or IOBASE field keeps the current setting. Only 8n1 framing is implemented.
bool parse_serial(StringView v, SerialPort& port) {
    StringView f[3];
    const size_t n = split_fields(v, f, 3);
    if (n > 3) return false;
    SerialPort p = port;
    if (f[0] != "auto" && !parse_ranged(f[0], MIN_BAUD, MAX_BAUD, p.baud)) return false;
    const bool second_is_dps = n == 3 || is_dps(f[1]);
    const StringView dps = second_is_dps ? f[1] : StringView();
    const StringView io = n == 3 ? f[2] : second_is_dps ? StringView() : f[1];
    if (!dps.empty() && dps != "8n1") return false;
    if (!io.empty() && !parse_ranged(io, 1, MAX_SERIAL_IO_BASE, p.io_base)) return false;
    port = p;
    return true;
}

// A list of console names replacing the default; unsupported names are warned about.
bool parse_console(StringView v, Options& o, kstd::Diagnostics& diag) {
    if (v.empty()) return false;
    bool com1 = false, com2 = false;
    for (size_t start = 0;;) {
        const size_t comma = v.find(',', start);
        const StringView name = v.substr(start, comma == StringView::npos ? StringView::npos : comma - start);
        if (name == "com1") com1 = true;
        else if (name == "com2") com2 = true;
        else if (!name.empty()) diag.add("console '{}' is not supported: ignored", name);
        if (comma == StringView::npos) break;
        start = comma + 1;
    }
    o.console_com1 = com1;
    o.console_com2 = com2;
    return true;
}

bool parse_log_level(StringView v, LogLevel& out) {
    // Xen's "level/guest level": the part after the slash is accepted and ignored.
    const size_t slash = v.find('/');
    if (slash != StringView::npos) v = v.substr(0, slash);
    struct Name {
        const char* name;
        LogLevel level;
    };
    constexpr Name names[] = {{"none", LogLevel::none}, {"error", LogLevel::error}, {"warning", LogLevel::warning},
                              {"info", LogLevel::info}, {"debug", LogLevel::debug}, {"all", LogLevel::debug}};
    for (const Name& n : names)
        if (v == n.name) {
            out = n.level;
            return true;
        }
    return false;
}

// A bare flag means true.
bool parse_bool(StringView v, bool has_value, bool& out) {
    if (!has_value || v == "1" || v == "true" || v == "yes" || v == "on") out = true;
    else if (v == "0" || v == "false" || v == "no" || v == "off") out = false;
    else return false;
    return true;
}

// Option handlers: `v` is the text after '=', `has` false for a bare word. Each returns false
// for a bad value, leaving Options as it was.
using Diag = kstd::Diagnostics;

bool opt_console(StringView v, bool, Options& o, Diag& d) { return parse_console(v, o, d); }
bool opt_com1(StringView v, bool, Options& o, Diag&) { return parse_serial(v, o.com1); }
bool opt_com2(StringView v, bool, Options& o, Diag&) { return parse_serial(v, o.com2); }
bool opt_loglvl(StringView v, bool, Options& o, Diag&) { return parse_log_level(v, o.loglvl); }
bool opt_maxcpus(StringView v, bool, Options& o, Diag&) { return parse_ranged(v, 1, UINT32_MAX, o.max_cpus); }
bool opt_noreboot(StringView v, bool has, Options& o, Diag&) { return parse_bool(v, has, o.noreboot); }
bool opt_selftest(StringView v, bool has, Options& o, Diag&) { return parse_bool(v, has, o.selftest); }

bool opt_debug_exit(StringView v, bool, Options& o, Diag&) {
    return parse_ranged(v, 1, MAX_DEBUG_EXIT_PORT, o.debug_exit_port);
}

bool opt_mem(StringView v, bool, Options& o, Diag&) {
    uint64_t bytes = 0;
    if (!parse_size(v, bytes) || bytes == 0) return false;
    o.mem_limit = bytes;
    return true;
}

// Xen's dom0_mem also takes min:/max: forms; Kestrel takes the plain size only so far.
bool opt_dom0_mem(StringView v, bool, Options& o, Diag&) {
    uint64_t bytes = 0;
    if (!parse_size(v, bytes) || bytes < 4096) return false;
    o.dom0_mem = bytes;
    return true;
}

bool opt_dom0_max_vcpus(StringView v, bool, Options& o, Diag&) { return parse_ranged(v, 1, 32, o.dom0_max_vcpus); }

// Xen's credit2_runqueue= also takes core, socket and node, which need the CPU topology
// Kestrel does not read yet: cpu (a run queue per CPU) or all (shared, 16 CPUs at most each).
bool opt_credit2_runqueue(StringView v, bool, Options& o, Diag&) {
    if (v == "cpu") o.runqueues = credit::Arrangement::per_cpu;
    else if (v == "all") o.runqueues = credit::Arrangement::shared;
    else return false;
    return true;
}

bool opt_crashtest(StringView v, bool, Options& o, Diag&) {
    if (v.empty()) return false;
    o.crashtest = v;
    return true;
}

struct OptionSpec {
    const char* name;
    bool (*apply)(StringView v, bool has, Options& o, Diag& d);
};

constexpr OptionSpec OPTIONS[] = {
    {"console", opt_console},   {"com1", opt_com1},         {"com2", opt_com2},
    {"loglvl", opt_loglvl},     {"mem", opt_mem},           {"maxcpus", opt_maxcpus},
    {"noreboot", opt_noreboot}, {"debug_exit", opt_debug_exit}, {"selftest", opt_selftest},
    {"crashtest", opt_crashtest}, {"dom0_mem", opt_dom0_mem}, {"dom0_max_vcpus", opt_dom0_max_vcpus},
    {"credit2_runqueue", opt_credit2_runqueue},
};

void apply_word(StringView word, Options& o, kstd::Diagnostics& diag) {
    const size_t eq = word.find('=');
    const StringView name = word.substr(0, eq);
    // A bare word's value is the empty tail of the word, never a null view (which Diagnostics
    // would hand to memcpy).
    const StringView value = word.substr(eq == StringView::npos ? word.size() : eq + 1);
    for (const OptionSpec& spec : OPTIONS)
        if (name == spec.name) {
            if (!spec.apply(value, eq != StringView::npos, o, diag))
                diag.add("bad value '{}' for option '{}': ignored", value, name);
            return;
        }
    diag.add("unknown option '{}' ignored", name);
}

}  // namespace

bool parse_u64(kstd::StringView s, uint64_t& out) {
    unsigned base = 10;
    if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s = s.substr(2);
    }
    if (s.empty()) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        else return false;
        if (v > (UINT64_MAX - d) / base) return false;  // v * base + d would not fit
        v = v * base + d;
    }
    out = v;
    return true;
}

bool parse_size(kstd::StringView s, uint64_t& out) {
    if (s.empty()) return false;
    unsigned shift = 0;
    switch (s[s.size() - 1]) {
    case 'k': case 'K': shift = 10; break;
    case 'm': case 'M': shift = 20; break;
    case 'g': case 'G': shift = 30; break;
    case 't': case 'T': shift = 40; break;
    default: break;
    }
    uint64_t v = 0;
    if (!parse_u64(shift ? s.substr(0, s.size() - 1) : s, v)) return false;
    if (v > (UINT64_MAX >> shift)) return false;
    out = v << shift;
    return true;
}

Options parse_cmdline(kstd::StringView line, kstd::Diagnostics& diag) {
    Options o;
    StringView rest = line;
    StringView word = next_word(rest);
    // Some loaders pass the image path as the first word.
    if (word.find('/') != StringView::npos && word.find('=') == StringView::npos) word = next_word(rest);
    for (; !word.empty(); word = next_word(rest)) apply_word(word, o, diag);
    return o;
}
