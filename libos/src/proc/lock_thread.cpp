// What the locks need of the current thread (lock.h): the event a sleeping lock's waiter
// blocks on, and the locks it holds for the order check.
#include <libos/lock.h>
#include <libos/log.h>
#include <libos/pal.h>

#include "process.h"

namespace carbyne::libos {

const char* lock_rank_name(LockRank r) {
    // In LockRank order.
    static constexpr const char* kNames[] = {
        "none", "leader call", "processes", "children", "async", "epoll nest", "epoll", "file position", "tmpfs io", "vma", "futex bucket",
        "timer start", "process", "fd table", "file", "unix socket", "unix names", "pipe",
        "pty table", "pty", "fifo", "tmpfs tree", "tmpfs node", "posix timers", "timer service",
        "threads", "epoll watch", "wait queue", "epoll ready", "aio", "dcache", "inotify", "dentries",
        "proc args", "shared files", "unix registry", "pushes", "tmpfs pages", "arena", "heap",
    };
    static_assert(sizeof(kNames) / sizeof(kNames[0]) == size_t(LockRank::Count));
    return size_t(r) < size_t(LockRank::Count) ? kNames[size_t(r)] : "?";
}

void* lock_wait_handle() {
    Thread* t = current_thread();
    return t ? t->lock_event : nullptr;
}

void lock_wait(void* handle, const int* woken) {
    while (!__atomic_load_n(woken, __ATOMIC_ACQUIRE)) {
        // A thread the LibOS does not know (the timer service) has no event: it yields.
        if (handle)
            g_pal->event_wait(static_cast<PalHandle*>(handle), PAL_WAIT_FOREVER);
        else
            g_pal->thread_yield();
    }
}

void lock_wake(void* handle) {
    if (handle)
        g_pal->event_set(static_cast<PalHandle*>(handle));
}

#ifdef CARBYNE_LOCK_CHECK

namespace {

// Set by the first report: the report and the exit take locks of their own.
bool g_reported;

// The current thread when its locks are checked.
Thread* checked_thread() {
    return __atomic_load_n(&g_reported, __ATOMIC_RELAXED) ? nullptr : current_thread();
}

#define report(...)                                               \
    do {                                                          \
        __atomic_store_n(&g_reported, true, __ATOMIC_RELAXED);    \
        libos_panic(__VA_ARGS__);                                 \
    } while (0)

}  // namespace

void lock_check_take(LockRank r) {
    Thread* t = checked_thread();
    if (!t)
        return;
    LockRank held = t->held_locks.conflict(r);
    if (held != LockRank::None)
        report("lock order: taking the %s lock (rank %d) while holding the %s lock (rank %d), in system call %ld",
                    lock_rank_name(r), int(r), lock_rank_name(held), int(held), t->syscall_nr);
    if (!t->held_locks.push(r))
        report("lock order: more than %zu locks held at once", HeldLocks::kMax);
}

void lock_check_drop(LockRank r) {
    Thread* t = checked_thread();
    if (t && !t->held_locks.pop(r))
        report("lock order: the %s lock released but not held", lock_rank_name(r));
}

void lock_check_may_block(const char* what) {
    Thread* t = checked_thread();
    LockRank held = t ? t->held_locks.last() : LockRank::None;
    if (held != LockRank::None)
        report("lock order: %s while holding the %s lock, in system call %ld", what, lock_rank_name(held),
                    t->syscall_nr);
}

#undef report

#endif

}  // namespace carbyne::libos
