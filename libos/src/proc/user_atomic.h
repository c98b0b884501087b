// Atomic read-modify-write of 32-bit application words, for futexes (WAKE_OP and the PI
// operations): one fault-safe compare-and-exchange (user_atomic.S) and a loop around it.
#pragma once

#include <libos/result.h>
#include <libos/user.h>
#include <stdint.h>

extern "C" {
long libos_user_cmpxchg32(uint32_t* word, uint32_t expected, uint32_t desired);
extern const char libos_user_atomic_begin[], libos_user_atomic_end[], libos_user_atomic_fault[];
}

namespace carbyne::libos {

// For the exception upcall, as usercopy_fixup: a fault inside the atomic routines (a word
// mapped read-only, or unmapped by another thread) resumes at their fixup, which returns
// EFAULT.
inline bool user_atomic_fixup(uint64_t* rip, uint64_t* rax) {
    if (*rip < uint64_t(libos_user_atomic_begin) || *rip >= uint64_t(libos_user_atomic_end))
        return false;
    *rip = uint64_t(libos_user_atomic_fault);
    *rax = uint64_t(-EFAULT);
    return true;
}

// Stores `desired` in the word at `uaddr` (4-byte aligned) if it holds `expected`, as one
// atomic step against the application's own atomics; returns the value it held.
inline Result<uint32_t> user_cmpxchg(uint64_t uaddr, uint32_t expected, uint32_t desired) {
    uint32_t probe;
    TRY(copy_from_user(&probe, uaddr, sizeof(probe)));  // EFAULT for an unmapped word
    long seen = libos_user_cmpxchg32(reinterpret_cast<uint32_t*>(uaddr), expected, desired);
    if (seen < 0)
        return Errno(EFAULT);
    return uint32_t(seen);
}

// Replaces the word at `uaddr` with update(old) atomically; returns the old value.
template <typename Update>
Result<uint32_t> user_update(uint64_t uaddr, Update update) {
    uint32_t old;
    TRY(copy_from_user(&old, uaddr, sizeof(old)));
    for (;;) {
        uint32_t seen = TRY(user_cmpxchg(uaddr, old, update(old)));
        if (seen == old)
            return old;
        old = seen;
    }
}

}  // namespace carbyne::libos
