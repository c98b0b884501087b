// Blocking inside the LibOS (see wait.h).
#include "wait.h"

#include <libos/pal.h>
#include <libos/time_ns.h>

#include "../signal/signal.h"
#include "process.h"

namespace carbyne::libos {

Thread* current_thread_or_null() { return current_thread(); }

uint64_t monotonic_now() {
    uint64_t ns = 0;
    g_pal->time_get(PAL_CLOCK_MONOTONIC, &ns);
    return ns;
}

uint64_t deadline_after(uint64_t ns) { return time_add(monotonic_now(), ns); }

namespace {

// How long a PAL wait may last before `deadline`; false when it has passed.
bool time_left(uint64_t deadline, uint64_t* timeout) {
    if (deadline == kNoDeadline) {
        *timeout = PAL_WAIT_FOREVER;
        return true;
    }
    uint64_t now = monotonic_now();
    if (now >= deadline)
        return false;
    *timeout = deadline - now;
    return true;
}

}  // namespace

Result<void> thread_block(uint64_t deadline) {
    lock_check_may_block("a blocking wait");
    Thread* t = current_thread();
    if (signal_deliverable())
        return Errno(ERESTARTSYS);
    uint64_t timeout;
    if (!time_left(deadline, &timeout))
        return Errno(ETIMEDOUT);
    PalError e = g_pal->event_wait(t->wait_event, timeout);
    if (signal_deliverable())
        return Errno(ERESTARTSYS);
    if (e == PAL_E_TIMEDOUT)
        return Errno(ETIMEDOUT);
    // PAL_E_INTR: a host signal or a wake-up aimed at the application's code; look again.
    return {};
}

Result<void> thread_block_on(size_t count, PalHandle* const* handles, const uint32_t* events, uint32_t* ready,
                             uint64_t deadline) {
    constexpr size_t kMax = 16;
    if (count + 1 > kMax)
        return Errno(EINVAL);
    lock_check_may_block("a blocking wait on host handles");
    Thread* t = current_thread();
    if (signal_deliverable())
        return Errno(ERESTARTSYS);
    uint64_t timeout;
    if (!time_left(deadline, &timeout))
        return Errno(ETIMEDOUT);
    PalHandle* all[kMax];
    uint32_t want[kMax], got[kMax] = {};
    for (size_t i = 0; i < count; i++) {
        all[i] = handles[i];
        want[i] = events[i];
    }
    all[count] = t->wait_event;
    want[count] = PAL_WAIT_READ;
    PalError e = g_pal->wait_for_many(count + 1, all, want, got, timeout);
    for (size_t i = 0; i < count; i++)
        ready[i] = e == PAL_OK ? got[i] : 0;
    if (e == PAL_OK && (got[count] & PAL_WAIT_READ))
        g_pal->event_clear(t->wait_event);
    if (signal_deliverable())
        return Errno(ERESTARTSYS);
    if (e == PAL_E_TIMEDOUT)
        return Errno(ETIMEDOUT);
    if (e != PAL_OK && e != PAL_E_INTR)
        return errno_from_pal(e);
    return {};
}

void WaitQueue::add(WaitLink* link) {
    SpinGuard g(m_lock);
    link->prev = nullptr;
    link->next = m_head;
    if (m_head)
        m_head->prev = link;
    m_head = link;
}

void WaitQueue::remove(WaitLink* link) {
    SpinGuard g(m_lock);
    if (link->prev)
        link->prev->next = link->next;
    else if (m_head == link)
        m_head = link->next;
    if (link->next)
        link->next->prev = link->prev;
    link->prev = link->next = nullptr;
}

void WaitQueue::wake(uint32_t events) {
    // Threads are woken after the lock is dropped (a woken thread that runs at once, on the
    // waker's CPU, would otherwise spin on the lock for its time slice), a batch at a time:
    // a crowd of waiters takes several rounds, each skipping the links this call has seen.
    // Their events stay valid (a Thread is never freed), even if the link goes meanwhile.
    constexpr size_t kBatch = 32;
    PalHandle* to_set[kBatch];
    bool more = true;
    uint64_t round = 0;
    while (more) {
        size_t count = 0;
        more = false;
        {
            SpinGuard g(m_lock);
            if (!round)
                round = ++m_rounds;
            for (WaitLink* l = m_head; l; l = l->next) {
                if ((l->events && !(l->events & events)) || l->woken == round)
                    continue;
                if (!l->callback && l->thread && count == kBatch) {
                    more = true;
                    break;
                }
                l->woken = round;
                if (l->callback)
                    l->callback(l, events);
                else if (l->thread)
                    to_set[count++] = l->thread->wait_event;
            }
        }
        for (size_t i = 0; i < count; i++)
            g_pal->event_set(to_set[i]);
    }
}

}  // namespace carbyne::libos
