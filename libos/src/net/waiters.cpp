// Blocked readers, writers and epoll_wait callers (see waiters.h).
#include "waiters.h"

#include <libos/pal.h>

#include "../proc/process.h"

namespace carbyne::libos::net {

void Waiters::add(Waiter* w) {
    if (__atomic_load_n(&w->queued, __ATOMIC_ACQUIRE))
        return;
    SpinGuard g(m_lock);
    w->prev = nullptr;
    w->next = m_head;
    if (m_head)
        m_head->prev = w;
    m_head = w;
    w->queued = true;
}

void Waiters::remove(Waiter* w) {
    if (!__atomic_load_n(&w->queued, __ATOMIC_ACQUIRE))
        return;
    SpinGuard g(m_lock);
    if (!w->queued)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        m_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->queued = false;
}

void Waiters::wake(uint32_t events) {
    constexpr size_t kBatch = 32;
    PalHandle* wake[kBatch];
    size_t n = 0;
    for (;;) {
        bool more = false;
        {
            SpinGuard g(m_lock);
            Waiter* w = m_head;
            while (w) {
                Waiter* next = w->next;
                if (w->events & events) {
                    if (n == kBatch) {
                        more = true;
                        break;
                    }
                    if (w->prev)
                        w->prev->next = w->next;
                    else
                        m_head = w->next;
                    if (w->next)
                        w->next->prev = w->prev;
                    wake[n++] = w->thread->wait_event;
                    // After this store the waiter may return and its frame go away.
                    __atomic_store_n(&w->queued, false, __ATOMIC_RELEASE);
                }
                w = next;
            }
        }
        for (size_t i = 0; i < n; i++)
            g_pal->event_set(wake[i]);
        n = 0;
        if (!more)
            return;
    }
}

}  // namespace carbyne::libos::net
