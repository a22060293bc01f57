// Compares Kestrel's guest-abi headers with Xen's public headers, fact by fact.
//
// Both tables come from the same generated list (gen_abi_items.py), so row i names the same fact on both
// sides. One test per structure checks its size, alignment and every field's offset, size and alignment
// ("abi.layout.<struct>"); one test per header checks every constant's value, type width and signedness, and
// every string ("abi.constants.<header>"). "abi.coverage.<struct>" checks on the Kestrel side alone that the
// asserted fields tile the structure, so a field left out of the assertions shows up as a hole. "abi.checker.*"
// feeds the comparison and coverage code deliberately broken tables to show they do fail.
#include "abi_table.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace {

std::string describe(const abi_entry& e) { return std::string(e.group) + ": " + e.name; }

bool is_layout(const abi_entry& e) {
    return e.kind == ABI_KIND_SIZE || e.kind == ABI_KIND_FIELD || e.kind == ABI_KIND_FLEX;
}

// Test names may only use identifier characters: "xen/arch-x86/cpuid.h" becomes "arch_x86_cpuid_h".
std::string test_name(std::string group) {
    if (group.rfind("xen/", 0) == 0) group.erase(0, 4);
    for (char& c : group)
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
    return group;
}

void compare_rows(const abi_entry* ours_table, const abi_entry* xen_table, const std::vector<size_t>& rows) {
    for (size_t i : rows) {
        const abi_entry& ours = ours_table[i];
        const abi_entry& xen = xen_table[i];
        ASSERT_STREQ(ours.name, xen.name) << "tables out of step at row " << i;
        ASSERT_EQ(ours.kind, xen.kind) << describe(ours);
        switch (ours.kind) {
        case ABI_KIND_SIZE:
            EXPECT_EQ(ours.value, xen.value) << "sizeof " << describe(ours);
            EXPECT_EQ(ours.align, xen.align) << "alignment of " << describe(ours);
            break;
        case ABI_KIND_FIELD:
            EXPECT_EQ(ours.value, xen.value) << "offset of " << describe(ours);
            EXPECT_EQ(ours.size, xen.size) << "size of " << describe(ours);
            EXPECT_EQ(ours.align, xen.align) << "alignment of " << describe(ours);
            break;
        case ABI_KIND_FLEX:
            EXPECT_EQ(ours.value, xen.value) << "offset of " << describe(ours);
            EXPECT_EQ(ours.align, xen.align) << "element alignment of " << describe(ours);
            break;
        case ABI_KIND_INT:
            EXPECT_EQ(ours.value, xen.value) << "value of " << describe(ours);
            EXPECT_EQ(ours.size, xen.size) << "type width of " << describe(ours);
            EXPECT_EQ(ours.align, xen.align) << "signedness of " << describe(ours);
            break;
        case ABI_KIND_STR:
        case ABI_KIND_ALIAS:
            EXPECT_STREQ(ours.text, xen.text) << describe(ours);
            break;
        default:
            ADD_FAILURE() << "unknown kind " << ours.kind << " for " << describe(ours);
        }
    }
}

size_t round_up(size_t value, size_t align) { return align ? (value + align - 1) / align * align : value; }

// Top-level fields (no '.' or '[' in the designator) must follow each other with no more than alignment padding,
// and the structure must end where its alignment puts it after the last one. This catches a field whose
// assertion was forgotten, unless it would fit entirely into padding.
void check_coverage(const abi_entry* table, const std::vector<size_t>& rows) {
    const abi_entry* whole = nullptr;
    std::vector<const abi_entry*> fields;
    for (size_t i : rows) {
        const abi_entry& e = table[i];
        if (e.kind == ABI_KIND_SIZE) whole = &e;
        bool top_level = std::strpbrk(e.name, ".[") == nullptr;
        if ((e.kind == ABI_KIND_FIELD || e.kind == ABI_KIND_FLEX) && top_level) fields.push_back(&e);
    }
    ASSERT_NE(whole, nullptr) << "no size assertion";
    if (fields.empty()) return;  // an array or scalar typedef: its size is all there is
    if (std::strncmp(whole->name, "union ", 6) == 0) {
        // Union members all start at 0; the largest decides the size.
        size_t largest = 0;
        for (const abi_entry* f : fields) {
            EXPECT_EQ(f->value, 0u) << describe(*f);
            largest = std::max<size_t>(largest, f->size);
        }
        EXPECT_EQ(whole->value, round_up(largest, whole->align)) << "unasserted members of " << whole->name;
        return;
    }
    std::stable_sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->value < b->value; });
    size_t end = 0;
    for (const abi_entry* f : fields) {
        EXPECT_EQ(f->value, round_up(end, f->align)) << "hole or overlap before " << describe(*f);
        end = std::max<size_t>(end, f->value + f->size);
    }
    EXPECT_EQ(whole->value, round_up(end, whole->align)) << "unasserted bytes at the end of " << whole->name;
}

class RowsTest : public testing::Test {
public:
    explicit RowsTest(std::function<void()> body) : body_(std::move(body)) {}
    void TestBody() override { body_(); }

private:
    std::function<void()> body_;
};

void register_tests() {
    std::vector<std::string> order;
    std::map<std::string, std::vector<size_t>> rows;
    for (size_t i = 0; i < kestrel_abi_table_len; ++i) {
        std::string group = kestrel_abi_table[i].group;
        if (!rows.count(group)) order.push_back(group);
        rows[group].push_back(i);
    }
    for (const std::string& group : order) {
        const std::vector<size_t>& r = rows[group];
        bool layout = is_layout(kestrel_abi_table[r.front()]);
        std::string name = test_name(group);
        testing::RegisterTest(layout ? "layout" : "constants", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                              [r]() -> testing::Test* {
                                  return new RowsTest([r] { compare_rows(kestrel_abi_table, xen_abi_table, r); });
                              });
        if (layout)
            testing::RegisterTest("coverage", name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                                  [r]() -> testing::Test* {
                                      return new RowsTest([r] { check_coverage(kestrel_abi_table, r); });
                                  });
    }
}

const abi_entry* find(const abi_entry* table, size_t len, const char* name) {
    for (size_t i = 0; i < len; ++i)
        if (std::strcmp(table[i].name, name) == 0) return &table[i];
    return nullptr;
}

}  // namespace

// The comparison means something only if both tables are complete and really come from different headers.
TEST(tables, SameShapeAndNotEmpty) {
    ASSERT_EQ(kestrel_abi_table_len, xen_abi_table_len);
    EXPECT_GT(kestrel_abi_table_len, 500u) << "the generator found suspiciously few facts";
    EXPECT_NE(static_cast<const void*>(kestrel_abi_table), static_cast<const void*>(xen_abi_table));
}

TEST(tables, XenSideHoldsKnownFacts) {
    const abi_entry* iret = find(xen_abi_table, xen_abi_table_len, "__HYPERVISOR_iret");
    ASSERT_NE(iret, nullptr);
    EXPECT_EQ(iret->value, 23u);
    const abi_entry* start_info = find(xen_abi_table, xen_abi_table_len, "struct start_info");
    ASSERT_NE(start_info, nullptr);
    EXPECT_EQ(start_info->value, 1168u);
}

// The checkers themselves must fail on wrong input; synthetic tables stand in for a broken header.
namespace {
const abi_entry kGood[] = {
    {"s", "struct s", ABI_KIND_SIZE, 16, 16, 8, nullptr},
    {"s", "a", ABI_KIND_FIELD, 0, 4, 4, nullptr},
    {"s", "b", ABI_KIND_FIELD, 8, 8, 8, nullptr},
    {"h.h", "CONST", ABI_KIND_INT, 5, 4, 1, nullptr},
    {"h.h", "STR", ABI_KIND_STR, 0, 0, 0, "abc"},
};
const abi_entry kMoved[] = {
    {"s", "struct s", ABI_KIND_SIZE, 16, 16, 8, nullptr},
    {"s", "a", ABI_KIND_FIELD, 0, 4, 4, nullptr},
    {"s", "b", ABI_KIND_FIELD, 4, 8, 8, nullptr},
    {"h.h", "CONST", ABI_KIND_INT, 5, 4, 0, nullptr},
    {"h.h", "STR", ABI_KIND_STR, 0, 0, 0, "abd"},
};
const abi_entry kHole[] = {
    {"h", "struct h", ABI_KIND_SIZE, 12, 12, 4, nullptr},
    {"h", "a", ABI_KIND_FIELD, 0, 4, 4, nullptr},
    {"h", "c", ABI_KIND_FIELD, 8, 4, 4, nullptr},
};
const abi_entry kTail[] = {
    {"t", "struct t", ABI_KIND_SIZE, 8, 8, 4, nullptr},
    {"t", "a", ABI_KIND_FIELD, 0, 4, 4, nullptr},
};
void compare_good_with_itself() { compare_rows(kGood, kGood, {0, 1, 2, 3, 4}); }
void compare_moved_field() { compare_rows(kGood, kMoved, {0, 1, 2}); }
void compare_changed_signedness() { compare_rows(kGood, kMoved, {3}); }
void compare_changed_string() { compare_rows(kGood, kMoved, {4}); }
void coverage_with_hole() { check_coverage(kHole, {0, 1, 2}); }
void coverage_with_tail() { check_coverage(kTail, {0, 1}); }
}  // namespace

TEST(checker, AcceptsIdenticalTables) { compare_good_with_itself(); }

TEST(checker, RejectsAMovedField) { EXPECT_NONFATAL_FAILURE(compare_moved_field(), "offset of s: b"); }

TEST(checker, RejectsAConstantOfTheWrongSignedness) {
    EXPECT_NONFATAL_FAILURE(compare_changed_signedness(), "signedness of h.h: CONST");
}

TEST(checker, RejectsADifferentString) { EXPECT_NONFATAL_FAILURE(compare_changed_string(), "h.h: STR"); }

TEST(checker, CoverageFindsAHoleAndUnassertedTail) {
    EXPECT_NONFATAL_FAILURE(coverage_with_hole(), "hole or overlap before h: c");
    EXPECT_NONFATAL_FAILURE(coverage_with_tail(), "unasserted bytes at the end of struct t");
}

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    register_tests();
    return RUN_ALL_TESTS();
}

#include "abi_checks.h"

// The C11, C++20 and assembly compile checks also run: their macros must behave, not just compile.
TEST(checks, MacrosWorkFromCAndCxxAndAssembly) {
    EXPECT_EQ(abi_c11_check(), 1);
    EXPECT_EQ(abi_cxx20_check(), 1);
    EXPECT_EQ(abi_asm_flat_kernel_cs(), 0xe033 + 23);
}
