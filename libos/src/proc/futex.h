// Futexes as LibOS objects: wait queues keyed by the futex word's address, each waiter
// blocked on its thread's PAL event. Host futexes are never used on application memory.
//
// PI futexes (FUTEX_LOCK_PI and friends) keep Linux's word protocol: the owner's tid, with
// FUTEX_WAITERS when someone waits in the LibOS and FUTEX_OWNER_DIED after a robust owner
// died. The word is the truth; the queue only orders the waiters. An unlock hands the lock
// to the first waiter. There is no priority inheritance: the host schedules the threads.
//
// Lock order: a bucket's lock (a sleeping Mutex: the futex word is read and changed in
// application memory under it; two, in address order, for REQUEUE and WAKE_OP) before the
// thread list's (thread_by_tid). Wakers set the PAL events after dropping it.
#pragma once

#include <libos/result.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos {

inline constexpr uint32_t kFutexBitsetAll = 0xffffffff;
inline constexpr uint32_t kFutexWaiters = 0x80000000;    // FUTEX_WAITERS
inline constexpr uint32_t kFutexOwnerDied = 0x40000000;  // FUTEX_OWNER_DIED
inline constexpr uint32_t kFutexTidMask = 0x3fffffff;    // FUTEX_TID_MASK

// Blocks while *uaddr == expected, until `deadline` (monotonic ns; kNoDeadline: forever).
// 0 when woken; EAGAIN, ETIMEDOUT, ERESTARTSYS (a signal), EFAULT, EINVAL.
Result<void> futex_wait(uint64_t uaddr, uint32_t expected, uint64_t deadline, uint32_t bitset);
// Wakes up to `count` waiters on uaddr whose bitset matches (at least one: Linux reads
// 0 and negative counts as 1); returns how many. A waiter in futex_lock_pi that is woken
// this way looks at the word again (a robust owner's death wakes it so).
Result<long> futex_wake(uint64_t uaddr, uint32_t count, uint32_t bitset);
// Wakes up to `wake` waiters on uaddr and moves up to `requeue` more to uaddr2; with
// `check`, first EAGAIN unless *uaddr == expected. Returns how many it woke and moved.
Result<long> futex_requeue(uint64_t uaddr, uint32_t wake, uint32_t requeue, uint64_t uaddr2, bool check,
                           uint32_t expected);
// FUTEX_WAKE_OP: applies the operation encoded in `encoded_op` (FUTEX_OP()) to *uaddr2
// atomically, wakes up to `wake` waiters on uaddr and, when the comparison of the old
// value holds, up to `wake2` on uaddr2. EFAULT (nothing woken) when uaddr2 cannot be
// written; ENOSYS for an unknown operation (nothing changed) or comparison (changed).
Result<long> futex_wake_op(uint64_t uaddr, uint32_t wake, uint64_t uaddr2, uint32_t wake2, uint32_t encoded_op);

// One futex of a futex_waitv(2) call: its address and the value it must hold.
struct FutexWaitItem {
    uint64_t uaddr;
    uint32_t expected;
};
// Blocks while every *items[i].uaddr == items[i].expected, until one of them is woken
// (returns its index; the highest when several were), `deadline` (ETIMEDOUT) or a signal
// (ERESTARTSYS). EAGAIN when a value differs (unless one was woken meanwhile), EFAULT.
Result<long> futex_waitv(const FutexWaitItem* items, size_t count, uint64_t deadline);

// FUTEX_LOCK_PI(2) / FUTEX_TRYLOCK_PI: makes the caller the owner of the PI futex at uaddr,
// waiting until `deadline` (monotonic ns) unless `trylock`. EDEADLK when it owns it already,
// ESRCH when the owning tid is no thread, EAGAIN (trylock) when owned, ETIMEDOUT,
// ERESTARTSYS (a signal: the caller restarts the call, as Linux's ERESTARTNOINTR), EINVAL
// when plain waiters wait on the word, EFAULT.
Result<void> futex_lock_pi(uint64_t uaddr, uint64_t deadline, bool trylock);
// FUTEX_UNLOCK_PI: hands the futex to its first waiter, or leaves it free (0). EPERM unless
// the caller owns it; EINVAL when plain waiters wait on the word; EFAULT.
Result<void> futex_unlock_pi(uint64_t uaddr);

}  // namespace carbyne::libos
