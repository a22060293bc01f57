// The console input ring: characters come out in the order typed, a full ring (1024
// characters) drops and counts new ones without disturbing those waiting, indices keep
// working past many wraps, and one producer thread with one consumer thread lose nothing.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "console_input.hpp"


namespace {

constexpr size_t RING = 1024;

class ConsoleInput : public ::testing::Test {
protected:
    void SetUp() override { drain(); }
    void TearDown() override { drain(); }
    static std::string drain(size_t max = SIZE_MAX) {
        std::string out;
        char buf[100];
        while (out.size() < max) {
            size_t want = std::min(sizeof buf, max - out.size());
            size_t n = console_input::pop(buf, want);
            if (!n) break;
            out.append(buf, n);
        }
        return out;
    }
    static void type(const std::string& s) {
        for (char c : s) console_input::push(c);
    }
};

TEST_F(ConsoleInput, StartsEmpty) {
    EXPECT_EQ(console_input::pending(), 0u);
    char c;
    EXPECT_EQ(console_input::pop(&c, 1), 0u);
}

TEST_F(ConsoleInput, CharactersComeOutInOrder) {
    type("hello");
    EXPECT_EQ(console_input::pending(), 5u);
    EXPECT_EQ(drain(), "hello");
    EXPECT_EQ(console_input::pending(), 0u);
}

TEST_F(ConsoleInput, PopTakesAtMostWhatWasAsked) {
    type("abcdef");
    char buf[8] = {};
    EXPECT_EQ(console_input::pop(buf, 2), 2u);
    EXPECT_EQ(std::string(buf, 2), "ab");
    EXPECT_EQ(console_input::pending(), 4u);
    EXPECT_EQ(console_input::pop(buf, 0), 0u);
    EXPECT_EQ(console_input::pending(), 4u);
    EXPECT_EQ(console_input::pop(buf, 8), 4u);
    EXPECT_EQ(std::string(buf, 4), "cdef");
}

TEST_F(ConsoleInput, AnyByteValueIsKept) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += char(i);
    type(all);
    EXPECT_EQ(drain(), all);
}

TEST_F(ConsoleInput, FullRingDropsAndCountsNewCharacters) {
    uint64_t dropped = console_input::dropped();
    std::string first;
    for (size_t i = 0; i < RING; ++i) first += char('a' + i % 26);
    type(first);
    EXPECT_EQ(console_input::pending(), RING);
    EXPECT_EQ(console_input::dropped(), dropped);
    type("XYZ");
    EXPECT_EQ(console_input::pending(), RING);
    EXPECT_EQ(console_input::dropped(), dropped + 3);
    EXPECT_EQ(drain(), first) << "the waiting characters are untouched";
}

TEST_F(ConsoleInput, SpaceComesBackAfterAPop) {
    uint64_t dropped = console_input::dropped();
    type(std::string(RING, 'x'));
    char c;
    EXPECT_EQ(console_input::pop(&c, 1), 1u);
    type("yz");
    EXPECT_EQ(console_input::dropped(), dropped + 1) << "room for one";
    std::string out = drain();
    EXPECT_EQ(out.size(), RING);
    EXPECT_EQ(out.back(), 'y');
}

TEST_F(ConsoleInput, ManyWrapsKeepTheOrder) {
    // 300 characters stay waiting while 500 at a time go in and out: the indices pass the
    // end of the ring at ever different places and nothing is ever dropped.
    uint64_t dropped = console_input::dropped();
    std::string expect, got;
    auto feed = [&](size_t n, int seed) {
        std::string chunk;
        for (size_t i = 0; i < n; ++i) chunk += char('0' + (seed * 7 + int(i)) % 75);
        type(chunk);
        expect += chunk;
    };
    feed(300, 99);
    for (int round = 0; round < 40; ++round) {
        feed(500, round);
        got += drain(500);
        EXPECT_EQ(console_input::pending(), 300u);
    }
    got += drain();
    EXPECT_EQ(got.size(), expect.size());
    EXPECT_TRUE(got == expect);
    EXPECT_EQ(console_input::dropped(), dropped);
}

TEST_F(ConsoleInput, PeekLeavesCharactersWaiting) {
    type("peek");
    char buf[8] = {};
    EXPECT_EQ(console_input::peek(buf, 8), 4u);
    EXPECT_EQ(std::string(buf, 4), "peek");
    EXPECT_EQ(console_input::pending(), 4u);
    EXPECT_EQ(console_input::peek(buf, 2), 2u);
    EXPECT_EQ(console_input::pending(), 4u);
}

TEST_F(ConsoleInput, ConsumeTakesAtMostWhatIsWaiting) {
    type("abcdef");
    console_input::consume(2);
    EXPECT_EQ(console_input::pending(), 4u);
    char buf[8] = {};
    EXPECT_EQ(console_input::peek(buf, 8), 4u);
    EXPECT_EQ(std::string(buf, 4), "cdef");
    console_input::consume(100);
    EXPECT_EQ(console_input::pending(), 0u);
    console_input::consume(1);
    EXPECT_EQ(console_input::pending(), 0u) << "consuming from an empty ring does nothing";
    type("g");
    EXPECT_EQ(drain(), "g");
}

TEST_F(ConsoleInput, PeekAcrossTheEndOfTheRing) {
    type(std::string(RING - 2, '.'));
    drain();
    type("wrap");
    char buf[8] = {};
    EXPECT_EQ(console_input::peek(buf, 8), 4u);
    EXPECT_EQ(std::string(buf, 4), "wrap");
}

TEST_F(ConsoleInput, OneProducerOneConsumer) {
    constexpr size_t N = 200000;
    uint64_t dropped = console_input::dropped();
    std::thread producer([] {
        for (size_t i = 0; i < N; ++i) {
            while (console_input::pending() >= RING) std::this_thread::yield();
            console_input::push(char(i % 251));
        }
    });
    size_t got = 0;
    bool in_order = true;
    char buf[64];
    while (got < N) {
        size_t n = console_input::pop(buf, sizeof buf);
        for (size_t i = 0; i < n; ++i) in_order &= buf[i] == char((got + i) % 251);
        got += n;
        if (!n) std::this_thread::yield();
    }
    producer.join();
    EXPECT_TRUE(in_order);
    EXPECT_EQ(got, N);
    EXPECT_EQ(console_input::dropped(), dropped);
}

}  // namespace
