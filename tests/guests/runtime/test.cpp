// The test runner: kt_start() is what the entry stub calls.
#include "test.hpp"

#include <xen/sched.h>
#include <xen/xen.h>

#include "cmdline.hpp"
#include "hypercall.hpp"
#include "runtime.hpp"
#include "traps.hpp"

extern "C" {
// A test kernel that is also the second domain of its own tests defines this: what it does when
// its command line has the word "kt.peer" (built by the miniature toolstack), instead of tests.
[[gnu::weak]] void kt_peer_main(const char* cmdline);
extern const kt::TestCase kt_tests_start[];
extern const kt::TestCase kt_tests_end[];
[[noreturn]] void kt_start(start_info_t* si);
}

namespace kt {
namespace {

const char* running = "(none)";
bool running_failed = false;

void run_one(const TestCase& t)
{
    running = t.name;
    running_failed = false;
    print("[ RUN      ] {}\n", t.name);
    TrapRecord r;
    auto fn = t.fn;
    if (catch_trap([fn] { fn(); }, r) == caught_trap) {
        print("{}: unexpected exception {} (error {x}) at rip {x}, cs {x}, rsp {x}, cr2 {x}\n", t.name, r.vector,
              r.error_code, r.rip, r.cs, r.rsp, r.cr2);
        running_failed = true;
    }
    print(running_failed ? "[  FAILED  ] {}\n" : "[       OK ] {}\n", t.name);
}

} // namespace

void fail_current(const char*, int) { running_failed = true; }
const char* current_test() { return running; }

bool check_true(bool ok, const char* text, const char* file, int line)
{
    if (!ok) {
        print("{}:{}: check failed: {}\n", file, line, text);
        fail_current(file, line);
    }
    return ok;
}

bool check_streq(const char* a, const char* b, const char* text, const char* file, int line)
{
    if (a != nullptr && b != nullptr && strcmp(a, b) == 0)
        return true;
    print("{}:{}: check failed: {}\n    left:  \"{}\"\n    right: \"{}\"\n", file, line, text, a, b);
    fail_current(file, line);
    return false;
}

} // namespace kt

extern "C" [[noreturn]] void kt_start(start_info_t* si)
{
    kt::runtime_init(si);
    const char* cmdline = reinterpret_cast<const char*>(si->cmd_line);
    if (kt_peer_main && kt::has_word(cmdline, "kt.peer")) {
        kt_peer_main(cmdline);
        kt::shutdown(SHUTDOWN_poweroff);
    }
    unsigned passed = 0, failed = 0;
    for (const kt::TestCase* t = kt_tests_start; t != kt_tests_end; ++t) {
        kt::run_one(*t);
        (kt::running_failed ? failed : passed) += 1;
    }
    kt::print("{} passed, {} failed\n", passed, failed);
    kt::shutdown(SHUTDOWN_poweroff);
}
