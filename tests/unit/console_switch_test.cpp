// Serial input routing: Ctrl-A three times switches between the control domain and Kestrel's
// debug keys; fewer Ctrl-As are held back and then delivered, in order, to the current target.
#include <gtest/gtest.h>

#include <string>

#include "console_switch.hpp"
#include "debug_keys.hpp"

namespace {

std::string to_domain, to_kestrel;
std::string switches;

class ConsoleSwitch : public ::testing::Test {
protected:
    void SetUp() override {
        to_domain.clear();
        to_kestrel.clear();
        switches.clear();
        console_switch::set_sinks([](char c) { to_domain += c; }, [](char c) { to_kestrel += c; },
                                  [](bool k) { switches += k ? 'K' : 'D'; });
        if (console_switch::to_hypervisor()) type("\x01\x01\x01");  // start at dom0
        switches.clear();
    }
    void type(const std::string& s) {
        for (char c : s) console_switch::receive(c);
    }
};

TEST_F(ConsoleSwitch, InputGoesToTheDomainByDefault) {
    type("ls\n");
    EXPECT_EQ(to_domain, "ls\n");
    EXPECT_EQ(to_kestrel, "");
}

TEST_F(ConsoleSwitch, ThreeCtrlAsSwitchBothWays) {
    type("a\x01\x01\x01r");
    EXPECT_EQ(to_domain, "a");
    EXPECT_EQ(to_kestrel, "r");
    EXPECT_EQ(switches, "K");
    EXPECT_TRUE(console_switch::to_hypervisor());
    type("\x01\x01\x01z");
    EXPECT_EQ(to_domain, "az");
    EXPECT_EQ(switches, "KD");
}

TEST_F(ConsoleSwitch, FewerCtrlAsReachTheTargetBeforeTheNextCharacter) {
    type("\x01x\x01\x01y");
    EXPECT_EQ(to_domain, "\x01x\x01\x01y");
    EXPECT_EQ(switches, "");
}

TEST_F(ConsoleSwitch, SixCtrlAsSwitchTwice) {
    type("\x01\x01\x01\x01\x01\x01q");
    EXPECT_EQ(switches, "KD");
    EXPECT_EQ(to_domain, "q");
}

int hits;
TEST(DebugKeys, RegisteredKeysRunAndTakenOnesAreRefused) {
    EXPECT_TRUE(debug_keys::add('z', "a test key", [] { ++hits; }));
    EXPECT_FALSE(debug_keys::add('z', "again", [] {}));
    EXPECT_FALSE(debug_keys::add('h', "help is built in", [] {}));
    debug_keys::handle('z');
    debug_keys::handle('?');  // unknown: only a log line
    debug_keys::handle('h');
    EXPECT_EQ(hits, 1);
}

}  // namespace
