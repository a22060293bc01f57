// The comparisons behind EXPECT_EQ and friends: integers compare by mathematical value
// whatever their signedness (so -38 never equals 0xffffffda), enums by their underlying value.
// Free of any hypervisor dependency so that the host unit tests run it too.
#pragma once

#include <cstdint>
#include <type_traits>

namespace kt {

template <typename T> auto check_value(T v)
{
    if constexpr (std::is_enum_v<T>)
        return static_cast<std::underlying_type_t<T>>(v);
    else
        return v;
}

enum class Cmp { Eq, Ne, Lt, Le, Gt, Ge };

template <typename A, typename B> bool compare(Cmp op, A a, B b)
{
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && std::is_signed_v<A> != std::is_signed_v<B>) {
        // Compare mathematically, whatever the signedness: -38 != 0xffffffda.
        const bool a_neg = std::is_signed_v<A> && a < 0;
        const bool b_neg = std::is_signed_v<B> && b < 0;
        if (a_neg != b_neg)
            return op == Cmp::Ne || (a_neg ? (op == Cmp::Lt || op == Cmp::Le) : (op == Cmp::Gt || op == Cmp::Ge));
        return compare(op, static_cast<std::uint64_t>(a), static_cast<std::uint64_t>(b));
    } else {
        switch (op) {
        case Cmp::Eq: return a == b;
        case Cmp::Ne: return a != b;
        case Cmp::Lt: return a < b;
        case Cmp::Le: return a <= b;
        case Cmp::Gt: return a > b;
        case Cmp::Ge: return a >= b;
        }
        return false;
    }
}

} // namespace kt
