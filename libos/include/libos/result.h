// Errno, Result<T> and TRY: how LibOS code reports errors. Only the dispatcher turns an
// Errno into the negative return value the application sees.
#pragma once

#include <asm/errno.h>
#include <stdint.h>

namespace carbyne::libos {

// A Linux errno value (positive), kept apart from plain ints so it cannot mix silently.
struct Errno {
    int code;
    constexpr explicit Errno(int c) : code(c) {}
    constexpr bool operator==(const Errno&) const = default;
};

template <typename T>
class [[nodiscard]] Result {
public:
    constexpr Result(T value) : m_value(static_cast<T&&>(value)), m_error(0) {}
    constexpr Result(Errno e) : m_value(), m_error(e.code) {}

    constexpr bool ok() const { return m_error == 0; }
    constexpr Errno error() const { return Errno(m_error); }
    constexpr T& value() { return m_value; }
    constexpr const T& value() const { return m_value; }
    constexpr T release_value() { return static_cast<T&&>(m_value); }

private:
    T m_value;
    int m_error;
};

template <>
class [[nodiscard]] Result<void> {
public:
    constexpr Result() : m_error(0) {}
    constexpr Result(Errno e) : m_error(e.code) {}

    constexpr bool ok() const { return m_error == 0; }
    constexpr Errno error() const { return Errno(m_error); }
    constexpr void release_value() {}

private:
    int m_error;
};

}  // namespace carbyne::libos

// Evaluates a Result; returns its error from the enclosing function, else yields the value.
#define TRY(expr)                                      \
    ({                                                 \
        auto _try_result = (expr);                     \
        if (!_try_result.ok())                         \
            return _try_result.error();                \
        _try_result.release_value();                   \
    })
