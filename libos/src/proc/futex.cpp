// Futex wait queues (see futex.h).
#include "futex.h"

#include <libos/pal.h>
#include <libos/spinlock.h>
#include <libos/user.h>

#include "process.h"
#include "wait.h"

namespace carbyne::libos {

namespace {

struct Waiter {
    uint64_t uaddr;
    uint32_t bitset;
    Thread* thread;
    Waiter* next;
    bool queued;  // cleared by the waker that dequeued it
};

constexpr size_t kBuckets = 256;

struct Bucket {
    Spinlock lock;
    Waiter* head;
};

constinit Bucket g_buckets[kBuckets] = {};

Bucket& bucket_of(uint64_t uaddr) { return g_buckets[(uaddr >> 2) % kBuckets]; }

// Unlinks `w` from its bucket's list (caller holds the lock).
void unlink_locked(Bucket& b, Waiter* w) {
    for (Waiter** link = &b.head; *link; link = &(*link)->next) {
        if (*link == w) {
            *link = w->next;
            return;
        }
    }
}

}  // namespace

Result<void> futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns, uint32_t bitset) {
    if (uaddr & 3)
        return Errno(EINVAL);
    Thread* self = current_thread();
    Waiter w{uaddr, bitset, self, nullptr, true};
    Bucket& b = bucket_of(uaddr);
    {
        SpinGuard g(b.lock);
        // Reading the word under the bucket lock is what makes check-and-sleep atomic
        // against a waker; a fault here only ends in EFAULT (the copy cannot block).
        uint32_t value;
        TRY(copy_from_user(&value, uaddr, sizeof(value)));
        if (value != expected)
            return Errno(EAGAIN);
        g_pal->event_clear(self->wait_event);
        w.next = b.head;
        b.head = &w;
    }
    uint64_t deadline = timeout_ns == PAL_WAIT_FOREVER ? kNoDeadline : deadline_after(timeout_ns);
    Result<void> r;
    while (__atomic_load_n(&w.queued, __ATOMIC_ACQUIRE)) {
        r = thread_block(deadline);
        if (!r.ok())
            break;
    }
    SpinGuard g(b.lock);
    if (!w.queued)
        return {};  // woken, even if the wait also timed out or a signal came
    unlink_locked(b, &w);
    return r;  // ETIMEDOUT, or ERESTARTSYS for a signal
}

Result<long> futex_wake(uint64_t uaddr, uint32_t count, uint32_t bitset) {
    if (uaddr & 3)
        return Errno(EINVAL);
    Bucket& b = bucket_of(uaddr);
    long woken = 0;
    SpinGuard g(b.lock);
    for (Waiter** link = &b.head; *link && uint32_t(woken) < count;) {
        Waiter* w = *link;
        if (w->uaddr == uaddr && (w->bitset & bitset)) {
            *link = w->next;
            PalHandle* ev = w->thread->wait_event;
            __atomic_store_n(&w->queued, false, __ATOMIC_RELEASE);
            g_pal->event_set(ev);
            woken++;
        } else {
            link = &w->next;
        }
    }
    return woken;
}

Result<long> futex_requeue(uint64_t uaddr, uint32_t wake, uint32_t requeue, uint64_t uaddr2, bool check,
                           uint32_t expected) {
    if ((uaddr & 3) || (uaddr2 & 3) || uaddr == uaddr2)
        return Errno(EINVAL);
    Bucket& from = bucket_of(uaddr);
    Bucket& to = bucket_of(uaddr2);
    // Both buckets, in address order so that two requeues cannot deadlock.
    Bucket* first = &from < &to ? &from : &to;
    Bucket* second = &from < &to ? &to : &from;
    SpinGuard g1(first->lock);
    if (second != first)
        second->lock.lock();
    struct Unlock {
        Bucket* b;
        ~Unlock() {
            if (b)
                b->lock.unlock();
        }
    } unlock{second != first ? second : nullptr};
    if (check) {
        uint32_t value;
        TRY(copy_from_user(&value, uaddr, sizeof(value)));
        if (value != expected)
            return Errno(EAGAIN);
    }
    long done = 0;
    uint32_t woken = 0, moved = 0;
    for (Waiter** link = &from.head; *link;) {
        Waiter* w = *link;
        if (w->uaddr != uaddr) {
            link = &w->next;
            continue;
        }
        if (woken < wake) {
            *link = w->next;
            __atomic_store_n(&w->queued, false, __ATOMIC_RELEASE);
            g_pal->event_set(w->thread->wait_event);
            woken++;
            done++;
        } else if (moved < requeue) {
            *link = w->next;
            w->uaddr = uaddr2;
            w->next = to.head;
            to.head = w;
            moved++;
            done++;
            if (&from == &to)
                link = &from.head;  // the list changed under the cursor: rescan
        } else {
            break;
        }
    }
    return done;
}

}  // namespace carbyne::libos
