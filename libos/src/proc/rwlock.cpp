// The sleeping locks' slow paths (lock.h): a short spin, then a place in the lock's queue
// and a wait on the thread's own handle until an unlock wakes the first waiter, which then
// tries again (first in line if it loses to a thread that was running: handing the lock
// to a sleeping thread would make every unlock wait for a host wake-up, a convoy).
//
// Why no wake-up is lost: a waiter counts itself in m_queued, then looks at m_state again,
// both under the queue lock and both sequentially consistent; an unlock stores m_state,
// then reads m_queued. So either the waiter sees the lock free and takes it, or the unlock
// sees the waiter and wakes it under the queue lock, which the waiter holds until it is in
// the queue.
#include <libos/lock.h>

namespace carbyne::libos {

namespace {

constexpr int kSpins = 100;  // ~ a microsecond: a holder that is running lets go by then

}  // namespace

void RwLock::queue_lock() {
    while (__atomic_exchange_n(&m_queue_locked, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(&m_queue_locked, __ATOMIC_RELAXED))
            asm volatile("pause");
    }
}

bool RwLock::try_take(bool exclusive) {
    int s = __atomic_load_n(&m_state, __ATOMIC_SEQ_CST);
    if (exclusive)
        return s == 0 && __atomic_compare_exchange_n(&m_state, &s, -1, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
    while (s >= 0) {
        if (__atomic_compare_exchange_n(&m_state, &s, s + 1, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return true;
    }
    return false;
}

void RwLock::lock_slow(bool exclusive) {
    bool again = false;  // woken once: first in line
    for (;;) {
        for (int i = 0; i < kSpins; i++) {
            asm volatile("pause");
            if ((again || !__atomic_load_n(&m_queued, __ATOMIC_RELAXED)) && try_take(exclusive))
                return;
        }
        LockWaiter self = {exclusive, 0, lock_wait_handle(), nullptr};
        queue_lock();
        __atomic_add_fetch(&m_queued, 1, __ATOMIC_SEQ_CST);
        // A reader does not pass waiters already queued (a writer among them would starve).
        if ((exclusive || again || !m_head) && try_take(exclusive)) {
            __atomic_sub_fetch(&m_queued, 1, __ATOMIC_RELAXED);
            queue_unlock();
            return;
        }
        // One woken that lost the lock to a running thread is first in line again.
        if (again) {
            self.next = m_head;
            m_head = &self;
            if (!m_tail)
                m_tail = &self;
        } else {
            if (m_tail)
                m_tail->next = &self;
            else
                m_head = &self;
            m_tail = &self;
        }
        queue_unlock();
        lock_wait(self.wake, &self.woken);
        again = true;
    }
}

void RwLock::wake_first() {
    constexpr size_t kBatch = 16;
    void* to_wake[kBatch];
    size_t count = 0;
    queue_lock();
    // The first waiter, or the readers at the head of the queue (up to a batch: each wakes
    // the next when it unlocks if any are left).
    while (m_head && count < kBatch && (count == 0 || !m_head->exclusive)) {
        LockWaiter* w = m_head;
        bool exclusive = w->exclusive;
        m_head = w->next;
        if (!m_head)
            m_tail = nullptr;
        __atomic_sub_fetch(&m_queued, 1, __ATOMIC_RELAXED);
        to_wake[count++] = w->wake;
        // From here on `w` may be gone: its thread runs on and may return.
        __atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
        if (exclusive)
            break;
    }
    queue_unlock();
    for (size_t i = 0; i < count; i++)
        lock_wake(to_wake[i]);
}

}  // namespace carbyne::libos
