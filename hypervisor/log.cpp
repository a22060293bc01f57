#include "log.hpp"

#include "console.hpp"

namespace log {

namespace {

LogLevel threshold = LogLevel::info;
uint64_t (*clock)() = nullptr;

constexpr size_t LINE_MAX = 256;

const char* level_tag(LogLevel l) {
    switch (l) {
    case LogLevel::error: return "error: ";
    case LogLevel::warning: return "warning: ";
    default: return "";
    }
}

}  // namespace

void set_level(LogLevel l) { threshold = l; }
LogLevel level() { return threshold; }
void set_clock(uint64_t (*now_ns)()) { clock = now_ns; }

void vwrite(LogLevel l, const char* fmt, const kstd::FormatArg* args, size_t nargs) {
    char line[LINE_MAX];
    kstd::BufferSink sink(line, sizeof line - 1);
    if (clock) {
        uint64_t ns = clock();
        kstd::format(sink, "(KESTREL) [{:4}.{:06}] ", ns / 1000000000, (ns / 1000) % 1000000);
    } else {
        kstd::format(sink, "(KESTREL) ");
    }
    const char* tag = level_tag(l);
    sink.write(tag, strlen(tag));
    kstd::vformat(sink, fmt, args, nargs);
    size_t n = sink.size();
    line[n++] = '\n';  // BufferSink keeps one byte spare because of the "- 1" above
    console::write(kstd::StringView(line, n));
}

}  // namespace log
