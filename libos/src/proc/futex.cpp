// Futex wait queues and PI futexes (see futex.h).
#include "futex.h"

#include <libos/heap.h>
#include <libos/lock.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/futex.h>

#include "process.h"
#include "thread.h"
#include "user_atomic.h"
#include "wait.h"

namespace carbyne::libos {

namespace {

struct Waiter {
    uint64_t uaddr;  // changed by a requeue, which holds both buckets' locks
    uint32_t bitset;
    uint32_t tid;
    Thread* thread;
    Waiter* prev;
    Waiter* next;
    bool queued;   // cleared (release) by whoever takes it off its queue, under the lock
    bool pi;       // waits in futex_lock_pi
    bool granted;  // pi: the unlocker made it the owner
};

constexpr size_t kBuckets = 256;

// Waiters in arrival order: the first is woken first.
struct Bucket {
    Mutex lock{LockRank::FutexBucket};
    Waiter* head;
    Waiter* tail;
};

constinit Bucket g_buckets[kBuckets] = {};

// How often a thread waiting for a PI futex checks that the owner still lives: a thread
// that exits holding one it did not register as robust hands it on nowhere else.
// FIXME: a hook in thread_exit would make this immediate.
constexpr uint64_t kPiOwnerPollNs = 100'000'000;

Bucket& bucket_of(uint64_t uaddr) { return g_buckets[(uaddr >> 2) % kBuckets]; }

void enqueue_locked(Bucket& b, Waiter* w) {
    w->next = nullptr;
    w->prev = b.tail;
    if (b.tail)
        b.tail->next = w;
    else
        b.head = w;
    b.tail = w;
}

void unlink_locked(Bucket& b, Waiter* w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        b.head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        b.tail = w->prev;
    w->prev = w->next = nullptr;
}

// The wait events to set once the bucket locks are dropped: a woken thread that runs at
// once must not find the lock still held by its waker (on a busy host it would spin for
// the rest of its time slice). A late or extra set only costs the thread one more look.
class Wakeups {
public:
    Wakeups() = default;
    Wakeups(const Wakeups&) = delete;
    Wakeups& operator=(const Wakeups&) = delete;
    ~Wakeups() { flush(); }

    void add(PalHandle* ev) {
        if (m_count == kMax)
            flush();  // many at once: the rest under the lock
        m_events[m_count++] = ev;
    }

private:
    static constexpr size_t kMax = 32;
    void flush() {
        for (size_t i = 0; i < m_count; i++)
            g_pal->event_set(m_events[i]);
        m_count = 0;
    }
    PalHandle* m_events[kMax];
    size_t m_count = 0;
};

// Takes `w` off its queue; its thread is woken when `wakeups` ends. After the release
// store the waiter may return at once, so nothing of `w` is touched afterwards.
void wake_locked(Bucket& b, Waiter* w, Wakeups& wakeups) {
    unlink_locked(b, w);
    PalHandle* ev = w->thread->wait_event;
    __atomic_store_n(&w->queued, false, __ATOMIC_RELEASE);
    wakeups.add(ev);
}

Waiter* first_waiter_locked(Bucket& b, uint64_t uaddr) {
    for (Waiter* w = b.head; w; w = w->next)
        if (w->uaddr == uaddr)
            return w;
    return nullptr;
}

// Locks the bucket `w` is queued on; a requeue may move it while we look, so look again.
Bucket& lock_bucket_of(Waiter* w) {
    for (;;) {
        Bucket& b = bucket_of(__atomic_load_n(&w->uaddr, __ATOMIC_ACQUIRE));
        b.lock.lock();
        if (&bucket_of(w->uaddr) == &b)
            return b;
        b.lock.unlock();
    }
}

// Both buckets, in address order so that two callers cannot deadlock.
class DoubleLock {
public:
    DoubleLock(Bucket& a, Bucket& b) {
        m_first = &a < &b ? &a : &b;
        m_second = &a == &b ? nullptr : &a < &b ? &b : &a;
        m_first->lock.lock();
        if (m_second)
            m_second->lock.lock();
    }
    ~DoubleLock() {
        if (m_second)
            m_second->lock.unlock();
        m_first->lock.unlock();
    }
    DoubleLock(const DoubleLock&) = delete;
    DoubleLock& operator=(const DoubleLock&) = delete;

private:
    Bucket* m_first;
    Bucket* m_second;
};

// Linux counts wake-ups with a signed count and stops after the first when it is not
// positive.
uint32_t wake_limit(uint32_t count) { return int32_t(count) > 0 ? count : 1; }

// Wakes up to `count` waiters on uaddr whose bitset matches; with `refuse_pi`, a PI waiter
// on uaddr ends it with EINVAL (those woken before stay woken, as on Linux).
Result<long> wake_some_locked(Bucket& b, uint64_t uaddr, uint32_t count, uint32_t bitset, bool refuse_pi,
                              Wakeups& wakeups) {
    long woken = 0;
    for (Waiter* w = b.head; w && uint32_t(woken) < count;) {
        Waiter* next = w->next;
        if (w->uaddr == uaddr && refuse_pi && w->pi)
            return Errno(EINVAL);
        if (w->uaddr == uaddr && (w->bitset & bitset)) {
            wake_locked(b, w, wakeups);
            woken++;
        }
        w = next;
    }
    return woken;
}

// ---- PI futexes -------------------------------------------------------------------------

bool thread_alive(uint32_t tid) { return thread_by_tid(int(tid)) != nullptr; }

// Makes the first PI waiter on uaddr the owner of the word (which held `value`), with
// FUTEX_WAITERS and `extra`, as Linux's handoff does. False when there is no PI waiter or
// the word changed.
Result<bool> grant_first_locked(Bucket& b, uint64_t uaddr, uint32_t value, uint32_t extra, Wakeups& wakeups) {
    Waiter* top = first_waiter_locked(b, uaddr);
    if (!top || !top->pi)
        return false;
    uint32_t seen = TRY(user_cmpxchg(uaddr, value, top->tid | kFutexWaiters | extra));
    if (seen != value)
        return false;
    top->granted = true;
    wake_locked(b, top, wakeups);
    return true;
}

enum class PiStep { Taken, Wait, Again };

// One look at a PI futex word with the bucket locked: take it if free, else mark it
// FUTEX_WAITERS so that its owner's unlock comes to the LibOS. Again: the word changed
// under us (the application's own atomics), look once more.
Result<PiStep> pi_try_locked(Bucket& b, uint64_t uaddr, uint32_t tid, bool trylock, Wakeups& wakeups) {
    // Reading and changing the word under the bucket lock is what makes take-or-queue
    // atomic against an unlock; the accesses cannot block, a fault ends in EFAULT.
    uint32_t value;
    TRY(copy_from_user(&value, uaddr, sizeof(value)));
    if ((value & kFutexTidMask) == tid)
        return Errno(EDEADLK);
    Waiter* top = first_waiter_locked(b, uaddr);
    if (top && !top->pi)
        return Errno(EINVAL);  // FUTEX_WAIT and FUTEX_LOCK_PI mixed on one word
    uint32_t owner = value & kFutexTidMask;
    if (!owner) {
        // Free, perhaps after a robust owner died: take it, keeping FUTEX_OWNER_DIED for the
        // application to see, and FUTEX_WAITERS when others still wait.
        uint32_t mine = tid | (value & kFutexOwnerDied) | (top ? kFutexWaiters : 0);
        uint32_t seen = TRY(user_cmpxchg(uaddr, value, mine));
        return seen == value ? PiStep::Taken : PiStep::Again;
    }
    if (!(value & kFutexWaiters)) {
        uint32_t seen = TRY(user_cmpxchg(uaddr, value, value | kFutexWaiters));
        if (seen != value)
            return PiStep::Again;
        value |= kFutexWaiters;
    }
    if (!thread_alive(owner)) {
        // An owner that exited without handing the lock on. With waiters, Linux gave the
        // lock to the first of them at the exit, marked FUTEX_OWNER_DIED; without, the
        // caller learns of it.
        if (!top)
            return Errno(ESRCH);
        TRY(grant_first_locked(b, uaddr, value, kFutexOwnerDied, wakeups));
        return PiStep::Again;
    }
    return trylock ? Result<PiStep>(Errno(EAGAIN)) : Result<PiStep>(PiStep::Wait);
}

// A PI waiter's periodic look: when the word names no living owner (one exited holding it,
// or a robust owner's death freed it while nobody was woken), the first waiter gets it,
// marked FUTEX_OWNER_DIED as on Linux.
void pi_check_owner_locked(Bucket& b, uint64_t uaddr, Wakeups& wakeups) {
    uint32_t value;
    if (!copy_from_user(&value, uaddr, sizeof(value)).ok())
        return;
    uint32_t owner = value & kFutexTidMask;
    if (owner && thread_alive(owner))
        return;
    (void)grant_first_locked(b, uaddr, value, kFutexOwnerDied, wakeups);
}

}  // namespace

Result<void> futex_wait(uint64_t uaddr, uint32_t expected, uint64_t deadline, uint32_t bitset) {
    if (uaddr & 3)
        return Errno(EINVAL);
    Thread* self = current_thread();
    Waiter w{uaddr, bitset, uint32_t(self->tid), self, nullptr, nullptr, true, false, false};
    Bucket& b = bucket_of(uaddr);
    {
        LockGuard g(b.lock);
        // Reading the word under the bucket lock is what makes check-and-sleep atomic
        // against a waker; a fault here only ends in EFAULT (the copy cannot block).
        uint32_t value;
        TRY(copy_from_user(&value, uaddr, sizeof(value)));
        if (value != expected)
            return Errno(EAGAIN);
        g_pal->event_clear(self->wait_event);
        enqueue_locked(b, &w);
    }
    Result<void> r;
    while (__atomic_load_n(&w.queued, __ATOMIC_ACQUIRE)) {
        r = thread_block(deadline);
        if (!r.ok())
            break;
    }
    Bucket& now = lock_bucket_of(&w);  // a requeue may have moved it
    bool woken = !w.queued;
    if (!woken)
        unlink_locked(now, &w);
    now.lock.unlock();
    if (woken)
        return {};  // woken, even if the wait also timed out or a signal came
    return r;       // ETIMEDOUT, or ERESTARTSYS for a signal
}

Result<long> futex_waitv(const FutexWaitItem* items, size_t count, uint64_t deadline) {
    Thread* self = current_thread();
    auto* w = static_cast<Waiter*>(kzalloc(count * sizeof(Waiter)));
    if (!w)
        return Errno(ENOMEM);
    HeapGuard guard{w};
    g_pal->event_clear(self->wait_event);
    // Queued one by one, each checked under its bucket's lock as futex_wait does: a wake
    // of any queued one before the last is queued is kept (its `queued` is cleared).
    size_t queued = 0;
    Result<void> setup;
    for (; queued < count; queued++) {
        uint64_t uaddr = items[queued].uaddr;
        w[queued] = Waiter{uaddr, kFutexBitsetAll, uint32_t(self->tid), self, nullptr, nullptr, true, false, false};
        Bucket& b = bucket_of(uaddr);
        LockGuard g(b.lock);
        uint32_t value;
        setup = copy_from_user(&value, uaddr, sizeof(value));
        if (setup.ok() && value != items[queued].expected)
            setup = Errno(EAGAIN);
        if (!setup.ok())
            break;
        enqueue_locked(b, &w[queued]);
    }
    auto any_woken = [&] {
        for (size_t i = 0; i < queued; i++)
            if (!__atomic_load_n(&w[i].queued, __ATOMIC_ACQUIRE))
                return true;
        return false;
    };
    Result<void> waited;
    while (setup.ok() && !any_woken()) {
        waited = thread_block(deadline);
        if (!waited.ok())
            break;
    }
    long woken = -1;
    for (size_t i = 0; i < queued; i++) {
        Bucket& now = lock_bucket_of(&w[i]);  // a requeue may have moved it
        if (w[i].queued)
            unlink_locked(now, &w[i]);
        else
            woken = long(i);
        now.lock.unlock();
    }
    if (woken >= 0)
        return woken;  // woken, even if a value differed, the wait timed out or a signal came
    if (!setup.ok())
        return setup.error();
    return waited.error();  // ETIMEDOUT or ERESTARTSYS
}

Result<long> futex_wake(uint64_t uaddr, uint32_t count, uint32_t bitset) {
    if (uaddr & 3)
        return Errno(EINVAL);
    Bucket& b = bucket_of(uaddr);
    Wakeups wakeups;
    LockGuard g(b.lock);
    return wake_some_locked(b, uaddr, wake_limit(count), bitset, false, wakeups);
}

Result<long> futex_requeue(uint64_t uaddr, uint32_t wake, uint32_t requeue, uint64_t uaddr2, bool check,
                           uint32_t expected) {
    if ((uaddr & 3) || (uaddr2 & 3) || int32_t(wake) < 0 || int32_t(requeue) < 0)
        return Errno(EINVAL);
    Bucket& from = bucket_of(uaddr);
    Bucket& to = bucket_of(uaddr2);
    Wakeups wakeups;
    DoubleLock locked(from, to);
    if (check) {
        uint32_t value;
        TRY(copy_from_user(&value, uaddr, sizeof(value)));
        if (value != expected)
            return Errno(EAGAIN);
    }
    for (Waiter* w = from.head; w; w = w->next)
        if (w->uaddr == uaddr && w->pi)
            return Errno(EINVAL);  // PI waiters move only with the PI requeue operations
    // As Linux: the first `wake` matching waiters are woken, the next `requeue` moved.
    // Walk a snapshot of the queue: a waiter moved to the tail of the same bucket (uaddr2
    // may hash there, or be uaddr) must not come round again.
    long count = 0;
    Waiter* last = from.tail;
    for (Waiter* w = from.head; w && count - long(wake) < long(requeue);) {
        Waiter* next = w == last ? nullptr : w->next;
        if (w->uaddr == uaddr) {
            if (++count <= long(wake)) {
                wake_locked(from, w, wakeups);
            } else {
                unlink_locked(from, w);
                __atomic_store_n(&w->uaddr, uaddr2, __ATOMIC_RELEASE);
                enqueue_locked(to, w);
            }
        }
        w = next;
    }
    return count;
}

Result<long> futex_wake_op(uint64_t uaddr, uint32_t wake, uint64_t uaddr2, uint32_t wake2, uint32_t encoded_op) {
    if ((uaddr & 3) || (uaddr2 & 3))
        return Errno(EINVAL);
    if (!user_range_ok(uaddr2, sizeof(uint32_t)))
        return Errno(EFAULT);
    uint32_t op = (encoded_op >> 28) & 7;
    uint32_t cmp = (encoded_op >> 24) & 15;
    auto sign_extend12 = [](uint32_t v) { return int32_t(v << 20) >> 20; };
    int32_t oparg = sign_extend12((encoded_op >> 12) & 0xfff);
    int32_t cmparg = sign_extend12(encoded_op & 0xfff);
    if (encoded_op & (uint32_t(FUTEX_OP_OPARG_SHIFT) << 28))
        oparg = int32_t(1u << (oparg & 31));  // Linux masks a shift outside 0..31 (and logs it)
    if (op > FUTEX_OP_XOR)
        return Errno(ENOSYS);
    Bucket& b1 = bucket_of(uaddr);
    Bucket& b2 = bucket_of(uaddr2);
    Wakeups wakeups;
    DoubleLock locked(b1, b2);
    uint32_t old = TRY(user_update(uaddr2, [&](uint32_t v) -> uint32_t {
        switch (op) {
        case FUTEX_OP_SET: return uint32_t(oparg);
        case FUTEX_OP_ADD: return v + uint32_t(oparg);
        case FUTEX_OP_OR: return v | uint32_t(oparg);
        case FUTEX_OP_ANDN: return v & ~uint32_t(oparg);
        default: return v ^ uint32_t(oparg);  // FUTEX_OP_XOR
        }
    }));
    int32_t was = int32_t(old);
    bool holds;
    switch (cmp) {
    case FUTEX_OP_CMP_EQ: holds = was == cmparg; break;
    case FUTEX_OP_CMP_NE: holds = was != cmparg; break;
    case FUTEX_OP_CMP_LT: holds = was < cmparg; break;
    case FUTEX_OP_CMP_LE: holds = was <= cmparg; break;
    case FUTEX_OP_CMP_GT: holds = was > cmparg; break;
    case FUTEX_OP_CMP_GE: holds = was >= cmparg; break;
    default: return Errno(ENOSYS);  // after the operation, as Linux
    }
    long woken = TRY(wake_some_locked(b1, uaddr, wake_limit(wake), kFutexBitsetAll, true, wakeups));
    if (holds)
        woken += TRY(wake_some_locked(b2, uaddr2, wake_limit(wake2), kFutexBitsetAll, true, wakeups));
    return woken;
}

Result<void> futex_lock_pi(uint64_t uaddr, uint64_t deadline, bool trylock) {
    if (uaddr & 3)
        return Errno(EINVAL);
    Thread* self = current_thread();
    uint32_t tid = uint32_t(self->tid);
    Bucket& b = bucket_of(uaddr);
    Waiter w{uaddr, kFutexBitsetAll, tid, self, nullptr, nullptr, false, true, false};
    for (;;) {
        {
            Wakeups wakeups;
            LockGuard g(b.lock);
            PiStep step = TRY(pi_try_locked(b, uaddr, tid, trylock, wakeups));
            if (step == PiStep::Taken)
                return {};
            if (step == PiStep::Again)
                continue;
            g_pal->event_clear(self->wait_event);
            w.queued = true;
            enqueue_locked(b, &w);
        }
        Result<void> r;
        while (__atomic_load_n(&w.queued, __ATOMIC_ACQUIRE)) {
            uint64_t poll = deadline_after(kPiOwnerPollNs);
            bool polling = poll < deadline;
            r = thread_block(polling ? poll : deadline);
            if (r.ok())
                continue;
            if (r.error().code != ETIMEDOUT || !polling)
                break;
            r = {};
            Wakeups wakeups;
            LockGuard g(b.lock);
            if (w.queued)
                pi_check_owner_locked(b, uaddr, wakeups);
        }
        LockGuard g(b.lock);
        if (w.granted)
            return {};  // the owner now, even if the wait also timed out or a signal came
        if (w.queued) {
            unlink_locked(b, &w);
            return r;  // ETIMEDOUT or ERESTARTSYS; FUTEX_WAITERS stays for the owner's unlock
        }
        // Woken without the lock (a robust owner died, or a plain wake): look again. A
        // deadline that passed meanwhile ends the next wait at once.
    }
}

Result<void> futex_unlock_pi(uint64_t uaddr) {
    if (uaddr & 3)
        return Errno(EINVAL);
    uint32_t tid = uint32_t(current_thread()->tid);
    Bucket& b = bucket_of(uaddr);
    Wakeups wakeups;
    LockGuard g(b.lock);
    for (;;) {
        uint32_t value;
        TRY(copy_from_user(&value, uaddr, sizeof(value)));
        if ((value & kFutexTidMask) != tid)
            return Errno(EPERM);
        Waiter* top = first_waiter_locked(b, uaddr);
        if (top && !top->pi)
            return Errno(EINVAL);
        if (top) {
            if (TRY(grant_first_locked(b, uaddr, value, 0, wakeups)))
                return {};
            continue;  // the word changed under us
        }
        // No waiter: free, dropping FUTEX_WAITERS and FUTEX_OWNER_DIED as Linux does.
        uint32_t seen = TRY(user_cmpxchg(uaddr, value, 0));
        if (seen == value)
            return {};
    }
}

}  // namespace carbyne::libos
