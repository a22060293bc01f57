#include "panic.hpp"

#include <arch/panic_support.hpp>

#include "console.hpp"
#include "log.hpp"

namespace {

kstd::Atomic<int> panicking{0};

}  // namespace

bool panic_in_progress() { return panicking.load() != 0; }

void vpanic(const arch::ExceptionFrame* frame, const char* fmt, const kstd::FormatArg* args, size_t nargs) {
    arch::interrupts_off();
    // Only the first CPU to panic reports; a second one (or a fault inside the report) stops.
    if (panicking.fetch_add(1) != 0) arch::halt_forever();
    arch::stop_other_cpus();
    console::force_unlock();

    char reason[200];
    kstd::BufferSink sink(reason, sizeof reason);
    kstd::vformat(sink, fmt, args, nargs);
    log::error("PANIC on CPU {}: {}", arch::current_cpu_index(), kstd::StringView(reason));
    arch::dump_state(frame);
    arch::panic_finish();
}
