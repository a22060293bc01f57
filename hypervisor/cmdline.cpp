#include "cmdline.hpp"

namespace {

using kstd::StringView;

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Splits off the next word; returns an empty view at the end.
StringView next_word(StringView& rest) {
    size_t i = 0;
    while (i < rest.size() && is_space(rest[i])) ++i;
    size_t start = i;
    while (i < rest.size() && !is_space(rest[i])) ++i;
    StringView word = rest.substr(start, i - start);
    rest = rest.substr(i);
    return word;
}

bool parse_log_level(StringView v, LogLevel& out) {
    size_t slash = v.find('/');  // Xen's "level/rate-limited level": the second part is ignored
    if (slash != StringView::npos) v = v.substr(0, slash);
    struct Name {
        const char* name;
        LogLevel level;
    };
    constexpr Name names[] = {{"none", LogLevel::none},       {"error", LogLevel::error}, {"warning", LogLevel::warning},
                              {"info", LogLevel::info},       {"debug", LogLevel::debug}, {"all", LogLevel::debug}};
    for (const Name& n : names)
        if (v == n.name) {
            out = n.level;
            return true;
        }
    return false;
}

bool parse_bool(StringView v, bool& out) {
    if (v.empty() || v == "1" || v == "true" || v == "yes" || v == "on") out = true;
    else if (v == "0" || v == "false" || v == "no" || v == "off") out = false;
    else return false;
    return true;
}

// A DPS field such as "8n1": data bits, parity, stop bits.
bool is_dps(StringView s) {
    return s.size() == 3 && s[0] >= '5' && s[0] <= '8' && StringView("noems").find(s[1]) != StringView::npos &&
           (s[2] == '1' || s[2] == '2');
}

// "BAUD[,DPS][,IOBASE]" as Xen writes it; BAUD may be "auto".
bool parse_serial(StringView v, SerialPort& port) {
    SerialPort p = port;
    size_t comma = v.find(',');
    StringView baud = v.substr(0, comma);
    uint64_t n;
    if (baud != "auto") {
        if (!parse_u64(baud, n) || n < 50 || n > 115200 * 32) return false;
        p.baud = uint32_t(n);
    }
    StringView rest = comma == StringView::npos ? StringView() : v.substr(comma + 1);
    if (!rest.empty()) {
        comma = rest.find(',');
        StringView field = rest.substr(0, comma);
        if (is_dps(field)) {
            if (field != "8n1") return false;  // only 8n1 is implemented
            rest = comma == StringView::npos ? StringView() : rest.substr(comma + 1);
        }
    }
    if (!rest.empty()) {
        StringView io = rest.substr(0, rest.find(','));
        if (!parse_u64(io, n) || n == 0 || n > 0xfff8) return false;
        p.io_base = uint16_t(n);
    }
    port = p;
    return true;
}

bool parse_console(StringView v, Options& o, kstd::Diagnostics& diag) {
    bool com1 = false, com2 = false;
    while (!v.empty()) {
        size_t comma = v.find(',');
        StringView name = v.substr(0, comma);
        if (name == "com1") com1 = true;
        else if (name == "com2") com2 = true;
        else diag.add("console '{}' is not supported: ignored", name);
        v = comma == StringView::npos ? StringView() : v.substr(comma + 1);
    }
    o.console_com1 = com1;
    o.console_com2 = com2;
    return true;
}

bool apply(StringView name, StringView value, bool has_value, Options& o, kstd::Diagnostics& diag) {
    uint64_t n = 0;
    if (name == "console") return has_value && parse_console(value, o, diag);
    if (name == "com1") return parse_serial(value, o.com1);
    if (name == "com2") return parse_serial(value, o.com2);
    if (name == "loglvl") return parse_log_level(value, o.loglvl);
    if (name == "mem") return parse_size(value, o.mem_limit) && o.mem_limit != 0;
    if (name == "noreboot") return parse_bool(value, o.noreboot);
    if (name == "selftest") return parse_bool(value, o.selftest);
    if (name == "crashtest") {
        o.crashtest = value;
        return !value.empty();
    }
    if (name == "maxcpus") {
        if (!parse_u64(value, n) || n == 0 || n > 0xffffffff) return false;
        o.max_cpus = uint32_t(n);
        return true;
    }
    if (name == "debug_exit") {
        if (!parse_u64(value, n) || n == 0 || n > 0xfffc) return false;
        o.debug_exit_port = uint16_t(n);
        return true;
    }
    diag.add("unknown option '{}' ignored", name);
    return true;
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
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = unsigned(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') d = unsigned(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') d = unsigned(c - 'A' + 10);
        else return false;
        if (v > (UINT64_MAX - d) / base) return false;
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
    uint64_t v;
    if (!parse_u64(shift ? s.substr(0, s.size() - 1) : s, v)) return false;
    if (shift && v > (UINT64_MAX >> shift)) return false;
    out = v << shift;
    return true;
}

Options parse_cmdline(kstd::StringView line, kstd::Diagnostics& diag) {
    Options o;
    StringView rest = line;
    bool first = true;
    for (StringView word = next_word(rest); !word.empty(); word = next_word(rest), first = false) {
        size_t eq = word.find('=');
        // Some loaders pass the image path as the first word.
        if (first && eq == StringView::npos && word.find('/') != StringView::npos) continue;
        StringView name = word.substr(0, eq);
        StringView value = eq == StringView::npos ? StringView() : word.substr(eq + 1);
        if (!apply(name, value, eq != StringView::npos, o, diag))
            diag.add("bad value '{}' for option '{}': ignored", value, name);
    }
    return o;
}
