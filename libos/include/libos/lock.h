// The LibOS's locks and their one global order (libos/LOCKING.md says why it is this order).
//
//   Spinlock  short leaf sections: no PAL call, no access to application memory, no
//             blocking, no sleeping lock taken while one is held.
//   Mutex     a sleeping lock: a waiter spins briefly, then blocks on its thread's lock
//   RwLock    event (PAL); readers share an RwLock, a waiting writer keeps new readers out.
//             May be held across PAL calls and copies to and from the application, never
//             across a wait for something another thread must do (thread_block).
//
// Every lock has a rank. A thread takes locks in rising rank order only; a rank marked
// nestable may be taken again while one of its own rank is held (the callers order those
// instances themselves: two futex buckets in address order, epoll instances inside
// epoll instances). Built with -Dlock_check=true, every acquisition is checked against
// the locks the thread holds and the first inversion ends the process with a report
// naming both locks (lock_check.cpp).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace carbyne::libos {

// The global lock order, outermost first. Sleeping ranks all come before spinning ones.
enum class LockRank : uint8_t {
    None = 0,
    // -- sleeping (Mutex, RwLock) --
    LeaderCall,   // a request to the IPC leader and its reply; starting its service (ipc/leader.cpp)
    Procs,        // the leader's table of the instance's processes (ipc/procs.cpp)
    Children,     // a process's children and their exit statuses (ipc/fork.cpp)
    Async,        // the files watched for O_ASYNC signals (fs/async.cpp)
    EpollNest,    // adding an epoll instance to another (net/epoll.cpp)
    Epoll,        // an epoll instance's entries (nestable: an epoll watching an epoll)
    FilePos,      // a tmpfs file's position (Linux's f_pos_lock)
    TmpfsIo,      // a tmpfs regular file's data (Linux's i_rwsem)
    Vma,          // the VMA list and the host mappings it describes (mm/vma.cpp)
    FutexBucket,  // futex waiters; nestable: two in address order (REQUEUE, WAKE_OP)
    TimerStart,   // starting the timer service's thread
    // -- spinning (Spinlock) --
    FirstSpin,
    Process = FirstSpin,  // g_process.lock: credentials, signals, cwd, rlimits
    FdTable,      // a process's descriptor table
    File,         // one open file's own state (File::m_lock)
    UnixSock,     // one UNIX socket (one at a time)
    UnixNames,    // the UNIX name table
    Pipe,         // one pipe's buffer
    PtyTable,     // the pseudo-terminal pairs (fs/pty.cpp)
    Pty,          // one pseudo-terminal pair
    Fifo,         // a FIFO node's pipe pointer; the host FIFO table
    TmpfsTree,    // one tmpfs mount's namespace
    TmpfsNode,    // one tmpfs node's attributes
    PosixTimers,  // the POSIX timer table
    Timer,        // the timer service's armed list
    Threads,      // the thread list
    EpollWatch,   // every file's list of epoll entries
    WaitQueue,    // nestable: a watched file's queue, then the epoll instance's own queue
    EpollReady,   // an epoll instance's ready list (under a watched file's queue lock)
    Aio,          // the native AIO contexts and their completions (sys/aio.cpp)
    Dcache,       // a chroot mount's dentry cache
    Inotify,      // every inotify instance's watches and events (fs/inotify.cpp)
    Dentries,     // the dentry tree (fs/dentry.cpp)
    ProcArgs,     // /proc/self/cmdline and environ
    SharedFiles,  // the leader's table of files held by other processes (fs/remote.cpp)
    UnixRegistry, // the leader's table of the instance's UNIX socket names (net/unix_names.cpp)
    Pushes,       // the leader's pushes waiting for their members (ipc/push.cpp)
    TmpfsPages,   // the tmpfs page pool
    Arena,        // the LibOS arena's free ranges
    Heap,         // kmalloc (taken under anything)
    Count,
};

inline constexpr bool lock_rank_sleeps(LockRank r) { return r < LockRank::FirstSpin; }
inline constexpr bool lock_rank_nests(LockRank r) {
    return r == LockRank::Epoll || r == LockRank::FutexBucket || r == LockRank::WaitQueue;
}
const char* lock_rank_name(LockRank r);

// The locks one thread holds, for the order check: pure code, unit-tested.
class HeldLocks {
public:
    static constexpr size_t kMax = 24;
    // The held rank that `r` may not be taken under (LockRank::None when it may). Taking
    // a sleeping lock under any spinlock is an inversion too.
    LockRank conflict(LockRank r) const {
        for (size_t i = 0; i < m_count; i++) {
            LockRank h = m_ranks[i];
            if (h > r || (h == r && !lock_rank_nests(r)))
                return h;
        }
        return LockRank::None;
    }
    // False when the stack is full (the rank is not recorded).
    bool push(LockRank r) {
        if (m_count == kMax)
            return false;
        m_ranks[m_count++] = r;
        return true;
    }
    // Forgets the most recent hold of `r`; false when none is recorded.
    bool pop(LockRank r) {
        for (size_t i = m_count; i-- > 0;) {
            if (m_ranks[i] == r) {
                for (size_t j = i + 1; j < m_count; j++)
                    m_ranks[j - 1] = m_ranks[j];
                m_count--;
                return true;
            }
        }
        return false;
    }
    // The most recently taken lock still held, or LockRank::None.
    LockRank last() const { return m_count ? m_ranks[m_count - 1] : LockRank::None; }
    size_t count() const { return m_count; }

private:
    LockRank m_ranks[kMax] = {};
    size_t m_count = 0;
};

#ifdef CARBYNE_LOCK_CHECK
// Checks `r` against the current thread's held locks (a report and the end of the process
// on an inversion), then records it. Threads the LibOS does not know (its timer service,
// start-up) are not checked.
void lock_check_take(LockRank r);
void lock_check_drop(LockRank r);
// Reports a wait for another thread (thread_block) made while holding any lock.
void lock_check_may_block(const char* what);
#else
inline void lock_check_take(LockRank) {}
inline void lock_check_drop(LockRank) {}
inline void lock_check_may_block(const char*) {}
#endif

class Spinlock {
public:
    constexpr explicit Spinlock(LockRank rank) : m_rank(rank) {}
    Spinlock(const Spinlock&) = delete;
    Spinlock& operator=(const Spinlock&) = delete;

    void lock() {
        lock_check_take(m_rank);
        while (__atomic_exchange_n(&m_locked, 1, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(&m_locked, __ATOMIC_RELAXED))
                asm volatile("pause");
        }
    }
    void unlock() {
        __atomic_store_n(&m_locked, 0, __ATOMIC_RELEASE);
        lock_check_drop(m_rank);
    }

private:
    int m_locked = 0;
    const LockRank m_rank;
};

// One thread waiting in a sleeping lock's queue (on its stack).
struct LockWaiter {
    bool exclusive;
    int woken;     // set by the unlock that wakes it (it then tries again)
    void* wake;      // lock_wait_handle() of the waiter
    LockWaiter* next;
};

// The waiting itself, apart from the lock's logic (proc/lock_wait.cpp; the unit test has a
// host version): the current thread's handle to be woken through, a wait until
// *woken is set, and the wake-up of a handle.
void* lock_wait_handle();
void lock_wait(void* handle, const int* woken);
void lock_wake(void* handle);

// A sleeping reader-writer lock (proc/rwlock.cpp). Waiters queue in arrival order; an
// unlock wakes the first waiter (or the readers at the head), which tries again.
class RwLock {
public:
    constexpr explicit RwLock(LockRank rank) : m_rank(rank) {}
    RwLock(const RwLock&) = delete;
    RwLock& operator=(const RwLock&) = delete;

    void lock() {
        lock_check_take(m_rank);
        int free = 0;
        if (!__atomic_compare_exchange_n(&m_state, &free, -1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            lock_slow(true);
    }
    void unlock() {
        lock_check_drop(m_rank);
        __atomic_store_n(&m_state, 0, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&m_queued, __ATOMIC_SEQ_CST))
            wake_first();
    }
    void lock_shared() {
        lock_check_take(m_rank);
        int s = __atomic_load_n(&m_state, __ATOMIC_RELAXED);
        if (s < 0 || __atomic_load_n(&m_queued, __ATOMIC_RELAXED) ||
            !__atomic_compare_exchange_n(&m_state, &s, s + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            lock_slow(false);
    }
    void unlock_shared() {
        lock_check_drop(m_rank);
        if (__atomic_sub_fetch(&m_state, 1, __ATOMIC_SEQ_CST) == 0 && __atomic_load_n(&m_queued, __ATOMIC_SEQ_CST))
            wake_first();
    }

private:
    void lock_slow(bool exclusive);
    bool try_take(bool exclusive);
    void wake_first();
    void queue_lock();
    void queue_unlock() { __atomic_store_n(&m_queue_locked, 0, __ATOMIC_RELEASE); }

    int m_state = 0;   // readers holding it, or -1 for a writer
    int m_queued = 0;  // waiters in the queue (and one about to be)
    int m_queue_locked = 0;
    LockWaiter* m_head = nullptr;
    LockWaiter* m_tail = nullptr;
    const LockRank m_rank;
};

// An RwLock used only exclusively.
class Mutex {
public:
    constexpr explicit Mutex(LockRank rank) : m_lock(rank) {}
    void lock() { m_lock.lock(); }
    void unlock() { m_lock.unlock(); }

private:
    RwLock m_lock;
};

template <typename L>
class LockGuard {
public:
    explicit LockGuard(L& l) : m_lock(l) { m_lock.lock(); }
    ~LockGuard() { m_lock.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    L& m_lock;
};

using SpinGuard = LockGuard<Spinlock>;

class SharedGuard {
public:
    explicit SharedGuard(RwLock& l) : m_lock(l) { m_lock.lock_shared(); }
    ~SharedGuard() { m_lock.unlock_shared(); }
    SharedGuard(const SharedGuard&) = delete;
    SharedGuard& operator=(const SharedGuard&) = delete;

private:
    RwLock& m_lock;
};

// Data that lives inside the spinlock that guards it.
template <typename T>
class Guarded {
public:
    constexpr explicit Guarded(LockRank rank) : m_lock(rank) {}
    template <typename F>
    auto with(F&& f) {
        SpinGuard g(m_lock);
        return f(m_value);
    }

private:
    Spinlock m_lock;
    T m_value{};
};

}  // namespace carbyne::libos
