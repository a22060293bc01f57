// A tiny test framework for guest kernels. TEST(name) { ... } registers a test in the
// `kt_tests` section (no constructors needed); the runtime runs them in link order, each under
// a catch point so that an unexpected exception fails that test instead of the kernel, and
// ends with exactly one line "N passed, N failed" and SCHEDOP_shutdown(SHUTDOWN_poweroff).
// EXPECT_* report file:line and both values and let the test go on; ASSERT_* also return.
#pragma once

#include <cstdint>
#include <type_traits>

#include "compare.hpp"
#include "console.hpp"
#include "lib.hpp"

namespace kt {

struct TestCase {
    const char* name;
    void (*fn)();
};

// Marks the running test failed (used by the check macros; tests may call it too).
void fail_current(const char* file, int line);
const char* current_test();

template <typename A, typename B>
bool check(Cmp op, A a, B b, const char* text, const char* file, int line)
{
    const auto x = check_value(a);
    const auto y = check_value(b);
    if (compare(op, x, y))
        return true;
    print("{}:{}: check failed: {}\n    left:  {} ({x})\n    right: {} ({x})\n", file, line, text, x, x, y, y);
    fail_current(file, line);
    return false;
}

bool check_true(bool ok, const char* text, const char* file, int line);
bool check_streq(const char* a, const char* b, const char* text, const char* file, int line);

} // namespace kt

#define KT_CHECK(op, a, b, sym) ::kt::check(::kt::Cmp::op, (a), (b), #a " " sym " " #b, __FILE__, __LINE__)
#define EXPECT_EQ(a, b) KT_CHECK(Eq, a, b, "==")
#define EXPECT_NE(a, b) KT_CHECK(Ne, a, b, "!=")
#define EXPECT_LT(a, b) KT_CHECK(Lt, a, b, "<")
#define EXPECT_LE(a, b) KT_CHECK(Le, a, b, "<=")
#define EXPECT_GT(a, b) KT_CHECK(Gt, a, b, ">")
#define EXPECT_GE(a, b) KT_CHECK(Ge, a, b, ">=")
#define EXPECT_TRUE(c) ::kt::check_true(static_cast<bool>(c), #c, __FILE__, __LINE__)
#define EXPECT_FALSE(c) ::kt::check_true(!static_cast<bool>(c), "!(" #c ")", __FILE__, __LINE__)
#define EXPECT_STREQ(a, b) ::kt::check_streq((a), (b), #a " == " #b, __FILE__, __LINE__)
#define ASSERT_EQ(a, b) if (!EXPECT_EQ(a, b)) return
#define ASSERT_NE(a, b) if (!EXPECT_NE(a, b)) return
#define ASSERT_GE(a, b) if (!EXPECT_GE(a, b)) return
#define ASSERT_LE(a, b) if (!EXPECT_LE(a, b)) return
#define ASSERT_LT(a, b) if (!EXPECT_LT(a, b)) return
#define ASSERT_GT(a, b) if (!EXPECT_GT(a, b)) return
#define ASSERT_TRUE(c) if (!EXPECT_TRUE(c)) return

#define TEST(name)                                                                                 \
    static void kt_test_##name();                                                                  \
    [[gnu::used, gnu::section("kt_tests")]] static const ::kt::TestCase kt_case_##name{#name, kt_test_##name}; \
    static void kt_test_##name()
