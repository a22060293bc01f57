#include <gtest/gtest.h>

#include "symbols.hpp"

namespace {

const char strings[] = "alpha\0beta\0gamma";
const symbols::Entry entries[] = {
    {0x1000, 0x20, 0},   // alpha
    {0x1040, 0, 6},      // beta, size unknown: reaches to gamma
    {0x2000, 0x10, 11},  // gamma
};
const symbols::Table table{entries, 3, strings};

TEST(Symbols, AddressInsideSizedSymbol) {
    auto r = symbols::lookup(table, 0x1005);
    ASSERT_NE(r.name, nullptr);
    EXPECT_STREQ(r.name, "alpha");
    EXPECT_EQ(r.offset, 5u);
}

TEST(Symbols, GapAfterSizedSymbolIsUnknown) {
    EXPECT_EQ(symbols::lookup(table, 0x1030).name, nullptr);
}

TEST(Symbols, UnsizedSymbolReachesToNext) {
    auto r = symbols::lookup(table, 0x1fff);
    ASSERT_NE(r.name, nullptr);
    EXPECT_STREQ(r.name, "beta");
    EXPECT_EQ(r.offset, 0x1fffu - 0x1040u);
}

TEST(Symbols, BeforeFirstAndPastLast) {
    EXPECT_EQ(symbols::lookup(table, 0xfff).name, nullptr);
    EXPECT_EQ(symbols::lookup(table, 0x2010).name, nullptr);
    EXPECT_STREQ(symbols::lookup(table, 0x200f).name, "gamma");
}

TEST(Symbols, EmptyTable) {
    symbols::Table empty{nullptr, 0, ""};
    EXPECT_EQ(symbols::lookup(empty, 0x1000).name, nullptr);
}

}  // namespace
