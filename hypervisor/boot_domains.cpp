#include "boot_domains.hpp"

#include "cmdline.hpp"

namespace boot_domains {

namespace {

using kstd::StringView;

constexpr StringView DOMU_MARK = "kestrel:domU";
constexpr StringView INITRD_MARK = "kestrel:initrd";

bool blank(char c) { return c == ' ' || c == '\t'; }

StringView skip_blanks(StringView s) {
    size_t i = 0;
    while (i < s.size() && blank(s[i])) ++i;
    return s.substr(i);
}

// Splits off the first word.
StringView first_word(StringView s, StringView& rest) {
    s = skip_blanks(s);
    size_t i = 0;
    while (i < s.size() && !blank(s[i])) ++i;
    rest = skip_blanks(s.substr(i));
    return s.substr(0, i);
}

// A module string without the path word some loaders put first.
StringView module_args(StringView s) {
    StringView rest;
    StringView w = first_word(s, rest);
    if (w.find('/') != StringView::npos && w.find('=') == StringView::npos) return rest;
    return skip_blanks(s);
}

bool parse_domu_options(StringView word, BootDomainSpec& d) {
    StringView opts = word.substr(DOMU_MARK.size());
    while (!opts.empty()) {
        if (opts[0] != ',') return false;
        opts = opts.substr(1);
        size_t end = opts.find(',');
        StringView item = opts.substr(0, end);
        opts = opts.substr(item.size());
        if (item.starts_with("mem=")) {
            if (!parse_size(item.substr(4), d.mem_bytes) || d.mem_bytes < PAGE_SIZE) return false;
        } else if (item.starts_with("vcpus=")) {
            uint64_t n = 0;
            if (!parse_u64(item.substr(6), n) || n == 0 || n > 32) return false;
            d.vcpus = unsigned(n);
        } else {
            return false;
        }
    }
    return true;
}

bool is_marked(StringView args, StringView mark) {
    StringView rest;
    StringView w = first_word(args, rest);
    return w.starts_with(mark) && (w.size() == mark.size() || w[mark.size()] == ',');
}

}  // namespace

kstd::Expected<size_t, kstd::ParseError> plan(const mb2::Module* modules, size_t count, BootDomainSpec* out) {
    if (count == 0) return size_t{0};
    size_t n = 0;
    StringView args0 = module_args(modules[0].cmdline);
    if (is_marked(args0, DOMU_MARK) || is_marked(args0, INITRD_MARK))
        return kstd::unexpected(kstd::ParseError{"the first module must be dom0's kernel, not a marked module", 0});
    out[n++] = BootDomainSpec{0, false, 0, args0, 0, 0, true};
    size_t i = 1;
    if (i < count && !is_marked(module_args(modules[i].cmdline), DOMU_MARK) &&
        !is_marked(module_args(modules[i].cmdline), INITRD_MARK)) {
        out[0].has_initrd = true;
        out[0].initrd_module = i++;
    }
    for (; i < count; ++i) {
        StringView args = module_args(modules[i].cmdline);
        StringView rest;
        StringView word = first_word(args, rest);
        if (!is_marked(args, DOMU_MARK))
            return kstd::unexpected(kstd::ParseError{"module is neither dom0's nor marked kestrel:domU", i});
        BootDomainSpec d{i, false, 0, rest, DEFAULT_DOMU_BYTES, 1, false};
        if (!parse_domu_options(word, d)) return kstd::unexpected(kstd::ParseError{"bad kestrel:domU options", i});
        if (i + 1 < count && is_marked(module_args(modules[i + 1].cmdline), INITRD_MARK)) {
            d.has_initrd = true;
            d.initrd_module = ++i;
        }
        if (n == MAX_DOMAINS) return kstd::unexpected(kstd::ParseError{"too many boot-time domains", i});
        out[n++] = d;
    }
    return n;
}

}  // namespace boot_domains
