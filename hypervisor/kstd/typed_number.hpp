// A distinct, trivially copyable type per kind of number (frame, address, CPU id, ...),
// so that a physical address can never be passed where a frame number is expected.
#pragma once

#include <compare>

#include "kstd/types.hpp"

namespace kstd {

template <typename Tag, typename Rep = uint64_t>
class TypedNumber {
public:
    using rep = Rep;

    constexpr TypedNumber() = default;
    constexpr explicit TypedNumber(Rep v) : value_(v) {}

    constexpr Rep raw() const { return value_; }

    friend constexpr bool operator==(TypedNumber a, TypedNumber b) { return a.value_ == b.value_; }
    friend constexpr auto operator<=>(TypedNumber a, TypedNumber b) { return a.value_ <=> b.value_; }

    // Offsets keep the kind: an address plus a byte count is still an address.
    friend constexpr TypedNumber operator+(TypedNumber a, Rep n) { return TypedNumber(a.value_ + n); }
    friend constexpr TypedNumber operator-(TypedNumber a, Rep n) { return TypedNumber(a.value_ - n); }
    // The distance between two numbers of a kind is a plain count.
    friend constexpr Rep operator-(TypedNumber a, TypedNumber b) { return a.value_ - b.value_; }

private:
    Rep value_{};
};

}  // namespace kstd
