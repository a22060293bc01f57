// DomainList: ids up to DOMID_FIRST_RESERVED in a fixed number of slots; lookups, the lowest id
// at or above one (getdomaininfo's walk), the held mark of a dying domain, and a full list.
// The list never looks inside a domain, so distinct made-up pointers stand for domains here.
#include <gtest/gtest.h>

#include <memory>

#include "domain_list.hpp"

namespace {

Domain* fake(uintptr_t n) { return reinterpret_cast<Domain*>(0x1000 * (n + 1)); }

class DomainListTest : public ::testing::Test {
protected:
    std::unique_ptr<DomainList> list = std::make_unique<DomainList>();
};

TEST_F(DomainListTest, FindsByIdAnywhereBelowTheReservedIds) {
    EXPECT_TRUE(list->add(DomId(3), fake(3)));
    EXPECT_TRUE(list->add(DomId(0x7fef), fake(4)));
    EXPECT_EQ(list->find(DomId(3)), fake(3));
    EXPECT_EQ(list->find(DomId(0x7fef)), fake(4));
    EXPECT_EQ(list->find(DomId(4)), nullptr);
    EXPECT_FALSE(list->id_free(DomId(3)));
    EXPECT_TRUE(list->id_free(DomId(4)));
    EXPECT_FALSE(list->id_free(DomId(DOMID_FIRST_RESERVED)));
    EXPECT_EQ(list->count(), 2u);
}

TEST_F(DomainListTest, RefusesATakenIdAndAReservedOne) {
    EXPECT_TRUE(list->add(DomId(5), fake(5)));
    EXPECT_FALSE(list->add(DomId(5), fake(6)));
    EXPECT_FALSE(list->add(DomId(DOMID_FIRST_RESERVED), fake(7)));
    EXPECT_EQ(list->find(DomId(5)), fake(5));
    EXPECT_EQ(list->count(), 1u);
}

TEST_F(DomainListTest, FirstFromIsTheLowestIdAtOrAbove) {
    for (uint16_t id : {9, 2, 40}) ASSERT_TRUE(list->add(DomId(id), fake(id)));
    EXPECT_EQ(list->first_from(DomId(0)), fake(2));
    EXPECT_EQ(list->first_from(DomId(3)), fake(9));
    EXPECT_EQ(list->first_from(DomId(9)), fake(9));
    EXPECT_EQ(list->first_from(DomId(10)), fake(40));
    EXPECT_EQ(list->first_from(DomId(41)), nullptr);
}

TEST_F(DomainListTest, RemovingFreesTheSlotAndTheHeldMark) {
    ASSERT_TRUE(list->add(DomId(7), fake(7)));
    EXPECT_FALSE(list->held(DomId(7)));
    list->set_held(DomId(7));
    EXPECT_TRUE(list->held(DomId(7)));
    list->remove(DomId(7), fake(8));  // another domain under that id: not removed
    EXPECT_EQ(list->find(DomId(7)), fake(7));
    list->remove(DomId(7), fake(7));
    EXPECT_EQ(list->find(DomId(7)), nullptr);
    EXPECT_FALSE(list->held(DomId(7)));
    EXPECT_EQ(list->count(), 0u);
    list->set_held(DomId(7));  // no such domain: nothing to mark
    EXPECT_TRUE(list->add(DomId(7), fake(7)));
    EXPECT_FALSE(list->held(DomId(7))) << "a new entry starts unheld";
}

TEST_F(DomainListTest, AFullListRefusesMore) {
    for (uint16_t i = 0; i < DomainList::CAPACITY; ++i) ASSERT_TRUE(list->add(DomId(uint16_t(100 + i)), fake(i)));
    EXPECT_TRUE(list->full());
    EXPECT_FALSE(list->add(DomId(1), fake(999)));
    size_t seen = 0;
    list->for_each([&seen](Domain&) { ++seen; });
    EXPECT_EQ(seen, DomainList::CAPACITY);
    list->remove(DomId(117), fake(17));
    EXPECT_FALSE(list->full());
    EXPECT_TRUE(list->add(DomId(1), fake(999)));
}

}  // namespace
