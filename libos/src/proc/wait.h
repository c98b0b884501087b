// Blocking inside the LibOS.
//
// A thread blocks only on its own auto-clear wait event (Thread::wait_event). Whatever it
// waits for sets that event when it changes: a futex waker, a pipe writer, a timer, a
// signal sender. The waiter re-checks its condition after every wake-up, so a stale or
// spurious wake-up costs one loop. Host handles are waited on together with the wait event,
// so a signal ends those waits too. A signal that becomes deliverable ends every wait with
// ERESTARTSYS; the return path turns it into EINTR or a restart of the call (SA_RESTART).
//
// Lock order: a WaitQueue's lock is a leaf; wake() may run inside an object's own lock.
#pragma once

#include <libos/result.h>
#include <libos/lock.h>
#include <pal/pal.h>
#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos {

struct Thread;

// Deadlines are CLOCK_MONOTONIC nanoseconds.
inline constexpr uint64_t kNoDeadline = ~uint64_t{0};

// Kernel-internal errnos, never seen by the application: the system-call return path turns
// them into EINTR or restarts the call, as Linux's signal delivery does.
inline constexpr int ERESTARTSYS = 512;     // restart if the handler has SA_RESTART (or none runs)
inline constexpr int ERESTARTNOINTR = 513;  // always restart, after the handler
inline constexpr int ERESTARTNOHAND = 514;  // restart only if no handler runs

uint64_t monotonic_now();
// The deadline `ns` from now, at most KTIME_MAX (time_ns.h): a huge timeout is a deadline
// no clock reaches.
uint64_t deadline_after(uint64_t ns);

// Blocks until the thread's wait event is set (OK: look again), `deadline` passes
// (ETIMEDOUT) or a signal is deliverable (ERESTARTSYS).
Result<void> thread_block(uint64_t deadline);

// The same, also returning OK when one of the host handles is ready for events[i]
// (PAL_WAIT_*); ready[i] says for what (0 for all when the wait event woke it).
Result<void> thread_block_on(size_t count, PalHandle* const* handles, const uint32_t* events, uint32_t* ready,
                             uint64_t deadline);

// One waiter on a WaitQueue: a thread (its wait event is set) or a callback (epoll).
struct WaitLink {
    Thread* thread;
    // Called instead of waking `thread`, with the queue's lock held: must not block.
    void (*callback)(WaitLink* link, uint32_t events);
    uint32_t events;  // the POLL* bits it cares about; 0: all
    WaitLink* prev;
    WaitLink* next;
    uint64_t woken = 0;  // the queue's last wake() round that reached it
};

// The waiters on one LibOS object (a pipe end, an eventfd, a timer...).
class WaitQueue {
public:
    void add(WaitLink* link);
    void remove(WaitLink* link);
    // Wakes every waiter that cares about any of `events` (POLL* bits).
    void wake(uint32_t events);

private:
    Spinlock m_lock{LockRank::WaitQueue};
    WaitLink* m_head = nullptr;
    uint64_t m_rounds = 0;
};

Thread* current_thread_or_null();

// Blocks until ready() is true (OK), the deadline passes (ETIMEDOUT) or a signal is
// deliverable (ERESTARTSYS). ready() runs with no lock held, after the thread is on the
// queue, so a wake() between the check and the block is never lost.
template <typename Ready>
Result<void> wait_until(WaitQueue& queue, uint32_t events, uint64_t deadline, Ready ready) {
    WaitLink link = {current_thread_or_null(), nullptr, events, nullptr, nullptr};
    queue.add(&link);
    Result<void> r;
    for (;;) {
        if (ready())
            break;
        r = thread_block(deadline);
        if (!r.ok()) {
            if (r.error().code == ETIMEDOUT && ready())
                r = Result<void>();
            break;
        }
    }
    queue.remove(&link);
    return r;
}

}  // namespace carbyne::libos
