// The sleeping locks' slow paths (lock.h): a short spin, then a place in the lock's queue
// and a wait on the thread's own handle until an unlock hands the lock over.
//
// Why no wake-up is lost: a waiter counts itself in m_queued, then looks at m_state again,
// both under the queue lock and both sequentially consistent; an unlock stores m_state,
// then reads m_queued. So either the waiter sees the lock free and takes it, or the unlock
// sees the waiter and hands the lock over under the queue lock, which the waiter holds
// until it is in the queue.
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
    for (int i = 0; i < kSpins; i++) {
        asm volatile("pause");
        if (!__atomic_load_n(&m_queued, __ATOMIC_RELAXED) && try_take(exclusive))
            return;
    }
    LockWaiter self = {exclusive, 0, lock_wait_handle(), nullptr};
    queue_lock();
    __atomic_add_fetch(&m_queued, 1, __ATOMIC_SEQ_CST);
    // A reader does not pass waiters already queued (a writer among them would starve).
    if ((exclusive || !m_head) && try_take(exclusive)) {
        __atomic_sub_fetch(&m_queued, 1, __ATOMIC_RELAXED);
        queue_unlock();
        return;
    }
    if (m_tail)
        m_tail->next = &self;
    else
        m_head = &self;
    m_tail = &self;
    queue_unlock();
    lock_wait(self.wake, &self.granted);
}

void RwLock::grant() {
    constexpr size_t kBatch = 16;
    void* woken[kBatch];
    size_t count = 0;
    bool more = true;
    while (more) {
        more = false;
        queue_lock();
        while (m_head) {
            LockWaiter* w = m_head;
            if (count == kBatch) {
                more = true;
                break;
            }
            if (!try_take(w->exclusive))
                break;
            m_head = w->next;
            if (!m_head)
                m_tail = nullptr;
            __atomic_sub_fetch(&m_queued, 1, __ATOMIC_RELAXED);
            woken[count++] = w->wake;
            // From here on `w` may be gone: its thread owns the lock and may return.
            // A writer is granted alone (the next try_take fails); readers are granted
            // until the next writer.
            __atomic_store_n(&w->granted, 1, __ATOMIC_RELEASE);
        }
        queue_unlock();
        for (size_t i = 0; i < count; i++)
            lock_wake(woken[i]);
        count = 0;
    }
}

}  // namespace carbyne::libos
