// Application memory: touched only through these, which fail with EFAULT instead of
// crashing the LibOS (a fault inside the copy routines resumes at their fixup).
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos {

// False for ranges that wrap, reach past user space, or touch the PAL or libos.so images.
bool user_range_ok(uint64_t addr, size_t size);
// Linux's access_ok: false only for a range that wraps or reaches past user space. What
// lies inside (unmapped pages, LibOS memory) shows when it is copied.
bool user_access_ok(uint64_t addr, size_t size);

Result<void> copy_from_user(void* dst, uint64_t user_src, size_t size);
Result<void> copy_to_user(uint64_t user_dst, const void* src, size_t size);
Result<void> clear_user(uint64_t user_dst, size_t size);
// Copies a NUL-terminated string into dst[max]; ENAMETOOLONG when it does not fit.
Result<size_t> copy_string_from_user(char* dst, uint64_t user_src, size_t max);

// A typed application pointer. It is never dereferenced directly.
template <typename T>
class UserPtr {
public:
    constexpr UserPtr() = default;
    constexpr explicit UserPtr(uint64_t addr) : m_addr(addr) {}

    uint64_t addr() const { return m_addr; }
    bool is_null() const { return m_addr == 0; }
    UserPtr operator+(size_t n) const { return UserPtr(m_addr + n * sizeof(T)); }

    Result<T> read() const {
        T v;
        TRY(copy_from_user(&v, m_addr, sizeof(T)));
        return v;
    }
    Result<void> write(const T& v) const { return copy_to_user(m_addr, &v, sizeof(T)); }

private:
    uint64_t m_addr = 0;
};

// Inside the LibOS's copy routines: the exception upcall resumes faults here at the fixup.
bool usercopy_fixup(uint64_t* rip, uint64_t* rax);

}  // namespace carbyne::libos
