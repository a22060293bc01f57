#include "host_runtime.hpp"

#include "kstd/format.hpp"
#include "log.hpp"
#include "panic.hpp"

namespace {
std::vector<std::string> logged;
LogLevel threshold = LogLevel::debug;
bool panicking = false;

std::string render(const char* fmt, const kstd::FormatArg* args, size_t nargs) {
    char line[512];
    kstd::BufferSink sink(line, sizeof line);
    kstd::vformat(sink, fmt, args, nargs);
    return std::string(line, sink.size());
}
}  // namespace

namespace log {
void set_level(LogLevel l) { threshold = l; }
LogLevel level() { return threshold; }
void set_clock(uint64_t (*)()) {}
void vwrite(LogLevel, const char* fmt, const kstd::FormatArg* args, size_t nargs) {
    logged.push_back(render(fmt, args, nargs));
}
}  // namespace log

bool panic_in_progress() { return panicking; }

void vpanic(const arch::ExceptionFrame*, const char* fmt, const kstd::FormatArg* args, size_t nargs) {
    throw HostPanic(render(fmt, args, nargs));
}

namespace host_log {
const std::vector<std::string>& lines() { return logged; }
void clear() { logged.clear(); }
bool contains(const std::string& text) {
    for (const auto& l : logged)
        if (l.find(text) != std::string::npos) return true;
    return false;
}
}  // namespace host_log
