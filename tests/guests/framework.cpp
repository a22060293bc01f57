// framework: checks the test framework itself, so that a passing run of the other kernels
// means something. Two tests here must fail (a failed EXPECT that lets the test go on, a failed
// ASSERT that ends it) and one must be failed by an unexpected exception without stopping the
// run; CMakeLists.txt expects exactly "3 passed, 3 failed" and the failure reports.
#include "runtime/console.hpp"
#include "runtime/test.hpp"

TEST(passes)
{
    EXPECT_EQ(2 + 2, 4);
    EXPECT_NE(-38, 0xffffffdau);
    EXPECT_STREQ("abc", "abc");
}

TEST(failed_expect_goes_on)
{
    EXPECT_EQ(1 + 1, 3);
    kt::print("framework: still running after a failed EXPECT\n");
}

TEST(failed_assert_returns)
{
    ASSERT_EQ(-1, 1);
    kt::print("framework: ASSERT did not return\n");
}

TEST(unexpected_exception_fails_only_its_test)
{
    asm volatile("ud2");
    kt::print("framework: resumed after ud2\n");
}

TEST(runs_after_an_exception)
{
    EXPECT_TRUE(true);
}

TEST(passes_again)
{
    EXPECT_GE(5u, 5);
}
