// Threads blocked in a read, write or epoll_wait of a pipe, eventfd or epoll instance.
//
// Unlike WaitQueue::wake, which sets the waiters' events while it holds its lock, Waiters
// takes each woken waiter off the list under the lock and sets the events after dropping
// it, as the futexes do: a woken thread that the host runs at once on its waker's CPU must
// not find a lock still held by the waker it preempted (it would spin for the rest of its
// time slice, ~10 ms per wake-up). A woken thread does not touch the list again.
//
// Lock order: Waiters::m_lock is a leaf; wake() may be called under other locks.
#pragma once

#include <libos/result.h>
#include <libos/spinlock.h>
#include <stdint.h>

#include "../proc/wait.h"

namespace carbyne::libos::net {

class Waiters {
public:
    struct Waiter {
        Thread* thread;
        uint32_t events;  // the POLL* bits it waits for
        bool queued;      // on the list; cleared (release) by the waker
        Waiter* prev;
        Waiter* next;
    };

    // Wakes every waiter that waits for any of `events`.
    void wake(uint32_t events);

    // Puts `w` on the list (again, after a wake-up took it off); idempotent.
    void add(Waiter* w);
    // Takes `w` off the list if a waker has not.
    void remove(Waiter* w);

    // Blocks until ready() (OK), `deadline` (ETIMEDOUT) or a deliverable signal
    // (ERESTARTSYS). ready() runs with no lock held, after the thread is on the list.
    template <typename Ready>
    Result<void> wait(uint32_t events, uint64_t deadline, Ready ready) {
        Waiter w = {current_thread_or_null(), events, false, nullptr, nullptr};
        Result<void> r;
        for (;;) {
            add(&w);
            if (ready())
                break;
            r = thread_block(deadline);
            if (!r.ok()) {
                if (r.error().code == ETIMEDOUT && ready())
                    r = Result<void>();
                break;
            }
        }
        remove(&w);
        return r;
    }

private:
    Spinlock m_lock;
    Waiter* m_head = nullptr;
};

}  // namespace carbyne::libos::net
