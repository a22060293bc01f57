// A value or an error, for code that must report why it failed without exceptions.
#pragma once

#include <new>
#include <type_traits>

namespace kstd {

template <typename E>
struct Unexpected {
    E error;
};

template <typename E>
constexpr Unexpected<E> unexpected(E e) { return Unexpected<E>{e}; }

template <typename T, typename E>
class [[nodiscard]] Expected {
    static_assert(std::is_trivially_destructible_v<T> && std::is_trivially_destructible_v<E>,
                  "kept simple: only trivially destructible payloads");

public:
    constexpr Expected(const T& v) : ok_(true), value_(v) {}
    constexpr Expected(Unexpected<E> u) : ok_(false), error_(u.error) {}

    constexpr bool has_value() const { return ok_; }
    constexpr explicit operator bool() const { return ok_; }

    constexpr T& value() { return value_; }
    constexpr const T& value() const { return value_; }
    constexpr T* operator->() { return &value_; }
    constexpr const T* operator->() const { return &value_; }
    constexpr T& operator*() { return value_; }
    constexpr const T& operator*() const { return value_; }
    constexpr const E& error() const { return error_; }

private:
    bool ok_;
    union {
        T value_;
        E error_;
    };
};

}  // namespace kstd
