// The process's threads: creation for clone(CLONE_THREAD), exit with CLONE_CHILD_CLEARTID
// and robust futexes, and the thread list.
//
// Lock order: g_threads_lock is a leaf.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/lock.h>
#include <libos/user.h>

#include "../ipc/leader.h"
#include "futex.h"
#include "user_atomic.h"
#include "process.h"
#include "thread.h"

extern "C" [[noreturn]] void libos_return_to_app(const PalContext* ctx);

namespace carbyne::libos {

[[noreturn]] void process_exit(int code);

namespace {

Spinlock g_threads_lock{LockRank::Threads};
Thread* g_threads;  // sorted by tid
size_t g_thread_count;
// Threads that have exited, kept for reuse with their wait events: a Thread is never
// freed, so a pointer to one (a signal being sent to it, a /proc reader) never dangles;
// at worst it reaches the thread that reuses it, as a reused tid would on Linux.
Thread* g_free_threads;

// The thread's wait and lock events.
Result<void> thread_events_create(Thread* t) {
    TRY(pal_result(g_pal->event_create(0, 1, &t->wait_event)));
    auto created = pal_result(g_pal->event_create(0, 1, &t->lock_event));
    if (!created.ok()) {
        g_pal->stream_close(t->wait_event);
        return created.error();
    }
    return {};
}

// A Thread for a new thread: a recycled one, or a fresh one with its own wait event.
Result<Thread*> thread_alloc() {
    Thread* t = nullptr;
    {
        SpinGuard g(g_threads_lock);
        t = g_free_threads;
        if (t)
            g_free_threads = t->next;
    }
    if (t) {
        PalHandle* ev = t->wait_event;
        PalHandle* lock_ev = t->lock_event;
        memset(static_cast<void*>(t), 0, sizeof(Thread));
        t->wait_event = ev;
        t->lock_event = lock_ev;
        g_pal->event_clear(ev);
        g_pal->event_clear(lock_ev);
        return t;
    }
    t = static_cast<Thread*>(kzalloc(sizeof(Thread)));
    if (!t)
        return Errno(ENOMEM);
    auto created = thread_events_create(t);
    if (!created.ok()) {
        kfree(t);
        return created.error();
    }
    return t;
}

void thread_release(Thread* t) {
    SpinGuard g(g_threads_lock);
    t->next = g_free_threads;
    g_free_threads = t;
}

void insert_locked(Thread* t) {
    Thread** link = &g_threads;
    while (*link && (*link)->tid < t->tid)
        link = &(*link)->next;
    t->next = *link;
    *link = t;
    g_thread_count++;
}

// Removes t; returns the number of threads left.
size_t remove(Thread* t) {
    SpinGuard g(g_threads_lock);
    for (Thread** link = &g_threads; *link; link = &(*link)->next) {
        if (*link == t) {
            *link = t->next;
            __atomic_store_n(&t->pal_id, 0, __ATOMIC_RELEASE);
            g_thread_count--;
            break;
        }
    }
    return g_thread_count;
}

[[noreturn]] void thread_start(void* arg) {
    auto* t = static_cast<Thread*>(arg);
    asm volatile("mov %0, %%gs:8" : : "r"(t) : "memory");
    __atomic_store_n(&t->pal_id, g_pal->thread_id(), __ATOMIC_RELEASE);
    if (t->start_fs_base)
        g_pal->set_fs_base(t->start_fs_base);
    libos_return_to_app(&t->start_ctx);
}

// The robust-futex list of a dying thread (set_robust_list(2)): every lock it still holds
// gets FUTEX_OWNER_DIED and one waiter is woken.
void release_robust_futexes(Thread* t) {
    constexpr int kMaxLocks = 2048;  // ROBUST_LIST_LIMIT
    if (!t->robust_list)
        return;
    struct Head {
        uint64_t next;
        int64_t offset;
        uint64_t pending;
    } head;
    if (!copy_from_user(&head, t->robust_list, sizeof(head)).ok())
        return;
    auto release = [&](uint64_t entry) {
        uint64_t word = (entry & ~uint64_t{1}) + uint64_t(head.offset);
        if (word & 3)
            return;
        // Atomically against the application's own lock operations (handle_futex_death).
        uint32_t value;
        if (!copy_from_user(&value, word, sizeof(value)).ok())
            return;
        for (;;) {
            if ((value & kFutexTidMask) != uint32_t(t->tid))
                return;
            uint32_t died = (value & kFutexWaiters) | kFutexOwnerDied;
            auto seen = user_cmpxchg(word, value, died);
            if (!seen.ok())
                return;
            if (seen.value() == value)
                break;
            value = seen.value();
        }
        if (value & kFutexWaiters)
            (void)futex_wake(word, 1, kFutexBitsetAll);
    };
    uint64_t entry = head.next;
    for (int i = 0; entry != t->robust_list && i < kMaxLocks; i++) {
        uint64_t next;
        if (!copy_from_user(&next, entry & ~uint64_t{1}, sizeof(next)).ok())
            break;
        if (entry != head.pending)
            release(entry);
        entry = next;
    }
    if (head.pending)
        release(head.pending);
}

}  // namespace

Result<void> threads_init_main(Thread* main) {
    TRY(thread_events_create(main));
    main->pal_id = g_pal->thread_id();
    SpinGuard g(g_threads_lock);
    insert_locked(main);
    return {};
}

size_t thread_count() {
    SpinGuard g(g_threads_lock);
    return g_thread_count;
}

Thread* thread_by_tid(int tid) {
    SpinGuard g(g_threads_lock);
    for (Thread* t = g_threads; t; t = t->next)
        if (t->tid == tid)
            return t;
    return nullptr;
}

Thread* thread_pick_for_signal(Thread* caller, int sig) {
    uint64_t bit = sig_bit(sig);
    auto takes = [bit](Thread* t) {
        return !(__atomic_load_n(&t->sigmask, __ATOMIC_RELAXED) & bit) ||
               (__atomic_load_n(&t->sigwait_set, __ATOMIC_RELAXED) & bit);
    };
    if (caller && takes(caller))
        return caller;
    SpinGuard g(g_threads_lock);
    for (Thread* t = g_threads; t; t = t->next)
        if (takes(t))
            return t;
    return nullptr;
}

bool thread_any_unblocks(int sig) {
    uint64_t bit = sig_bit(sig);
    SpinGuard g(g_threads_lock);
    for (Thread* t = g_threads; t; t = t->next)
        if (!(__atomic_load_n(&t->sigmask, __ATOMIC_RELAXED) & bit))
            return true;
    return false;
}

void thread_discard_pending(uint64_t mask) {
    SpinGuard g(g_threads_lock);
    for (Thread* t = g_threads; t; t = t->next)
        t->pending &= ~mask;
}

size_t thread_list(int* out, size_t max) {
    SpinGuard g(g_threads_lock);
    size_t n = 0;
    for (Thread* t = g_threads; t; t = t->next, n++)
        if (n < max)
            out[n] = t->tid;
    return n;
}

Result<int> thread_clone(const CloneRequest& req) {
    Thread* parent = current_thread();
    int tid_value = TRY(ipc::id_alloc());
    Thread* t = TRY(thread_alloc());
    t->tid = tid_value;
    t->syscall_nr = -1;
    t->sigmask = parent->sigmask;
    // The child resumes where the parent made the call, with 0 in rax and its own stack.
    t->start_ctx = *parent->syscall_ctx;
    t->start_ctx.rax = 0;
    if (req.stack)
        t->start_ctx.rsp = req.stack;
    t->start_fs_base = req.set_tls ? req.tls : g_pal->get_fs_base();
    if (req.child_cleartid)
        t->clear_child_tid = req.child_tid;
    uint32_t tid = uint32_t(t->tid);
    auto fail = [&](Errno e) -> Result<int> {
        thread_release(t);
        return e;
    };
    if (req.parent_settid) {
        auto r = copy_to_user(req.parent_tid, &tid, sizeof(tid));
        if (!r.ok())
            return fail(r.error());
    }
    if (req.child_settid) {
        auto r = copy_to_user(req.child_tid, &tid, sizeof(tid));
        if (!r.ok())
            return fail(r.error());
    }
    {
        SpinGuard g(g_threads_lock);
        insert_locked(t);
    }
    PalError e = g_pal->thread_create(thread_start, t);
    if (e != PAL_OK) {
        remove(t);
        return fail(e == PAL_E_NOMEM ? Errno(EAGAIN) : errno_from_pal(e));
    }
    return t->tid;
}

[[noreturn]] void thread_exit(int code) {
    Thread* t = current_thread();
    release_robust_futexes(t);
    if (t->clear_child_tid) {
        uint32_t zero = 0;
        if (copy_to_user(t->clear_child_tid, &zero, sizeof(zero)).ok())
            (void)futex_wake(t->clear_child_tid, 1, kFutexBitsetAll);
    }
    if (remove(t) == 0)
        process_exit(code);  // the last thread: the process ends with its status
    {
        SpinGuard g(g_process.lock);
        signal_drop_queued(t);  // real-time signals sent to this thread alone
    }
    // From here on this host thread runs only PAL code; the Thread may be reused at once.
    thread_release(t);
    g_pal->thread_exit(nullptr);
}

void threads_reset_ids(int pid) {
    Thread* self = current_thread();
    SpinGuard g(g_threads_lock);
    g_threads = nullptr;
    g_thread_count = 0;
    self->tid = pid;
    insert_locked(self);
}

bool thread_exit_requested() { return __atomic_load_n(&current_thread()->exit_requested, __ATOMIC_ACQUIRE); }

Result<void> threads_end_others_for_exec() {
    static Thread* s_execing;  // the thread in execve's de_thread, if any
    Thread* self = current_thread();
    Thread* none = nullptr;
    if (!__atomic_compare_exchange_n(&s_execing, &none, self, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return Errno(EAGAIN);
    // Ask, then wake: a thread about to block sees the request or its set event; one in
    // the application or a host call takes the interrupt. Asked again until all are gone.
    for (int round = 0;; round++) {
        constexpr size_t kMax = 64;
        PalHandle* events[kMax];
        int64_t ids[kMax];
        size_t count = 0;
        {
            SpinGuard g(g_threads_lock);
            if (g_thread_count == 1)
                break;
            for (Thread* t = g_threads; t && count < kMax; t = t->next) {
                if (t == self)
                    continue;
                __atomic_store_n(&t->exit_requested, true, __ATOMIC_RELEASE);
                if (round % 64 == 0) {
                    events[count] = t->wait_event;
                    ids[count++] = __atomic_load_n(&t->pal_id, __ATOMIC_ACQUIRE);
                }
            }
        }
        for (size_t i = 0; i < count; i++) {
            g_pal->event_set(events[i]);
            if (ids[i])
                (void)g_pal->thread_interrupt(ids[i]);
        }
        uint64_t left;
        g_pal->sleep(round < 10 ? 20000 : 1000000, &left);  // 20 us at first, then 1 ms
    }
    // The survivor becomes the thread group's leader, as Linux's de_thread makes it.
    release_robust_futexes(self);
    self->robust_list = 0;
    self->robust_list_size = 0;
    self->clear_child_tid = 0;
    if (self->tid != g_process.pid) {
        SpinGuard g(g_threads_lock);
        g_threads = nullptr;
        g_thread_count = 0;
        self->tid = g_process.pid;
        insert_locked(self);
    }
    __atomic_store_n(&s_execing, nullptr, __ATOMIC_RELEASE);
    return {};
}

}  // namespace carbyne::libos
