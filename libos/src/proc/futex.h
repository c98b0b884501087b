// Futexes as LibOS objects: wait queues keyed by the futex word's address, each waiter
// blocked on its thread's PAL event. Host futexes are never used on application memory.
//
// Lock order: a bucket's lock is a leaf, except that wake() sets PAL events under it.
#pragma once

#include <libos/result.h>
#include <stdint.h>

namespace carbyne::libos {

inline constexpr uint32_t kFutexBitsetAll = 0xffffffff;

// Blocks while *uaddr == expected, up to timeout_ns (UINT64_MAX: forever) on the
// monotonic clock. 0 when woken; EAGAIN, ETIMEDOUT, EINTR, EFAULT.
Result<void> futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns, uint32_t bitset);
// Wakes up to `count` waiters on uaddr whose bitset matches; returns how many.
Result<long> futex_wake(uint64_t uaddr, uint32_t count, uint32_t bitset);
// Wakes up to `wake` waiters on uaddr and moves up to `requeue` more to uaddr2; with
// `check`, first EAGAIN unless *uaddr == expected.
Result<long> futex_requeue(uint64_t uaddr, uint32_t wake, uint32_t requeue, uint64_t uaddr2, bool check,
                           uint32_t expected);

}  // namespace carbyne::libos
