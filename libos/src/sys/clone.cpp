// clone, clone3 (threads), exit, futex, futex_waitv
#include <libos/heap.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/time.h>

#include "../proc/futex.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/thread_attrs.h"
#include "../proc/timer.h"
#include "../proc/wait.h"
#include "syscall.h"
#include "timespec.h"

namespace carbyne::libos {

namespace {

constexpr uint64_t kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
constexpr uint64_t kAllowedFlags = kThreadFlags | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                   CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED;

// The kernel's own consistency rules, before anything else (clone(2) ERRORS).
Result<void> check_clone_flags(uint64_t flags) {
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
        return Errno(EINVAL);
    if ((flags & CLONE_PIDFD) && (flags & CLONE_THREAD))
        return Errno(EINVAL);  // no pidfds of threads (PIDFD_THREAD) yet
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return Errno(EINVAL);
    if ((flags & (CLONE_NEWNS | CLONE_FS)) == (CLONE_NEWNS | CLONE_FS) ||
        (flags & (CLONE_NEWUSER | CLONE_FS)) == (CLONE_NEWUSER | CLONE_FS))
        return Errno(EINVAL);
    return {};
}

Result<long> clone_thread(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls) {
    if ((flags & kThreadFlags) != kThreadFlags)
        return Errno(ENOSYS);  // a new process: fork comes with the multi-process work
    if (flags & ~kAllowedFlags)
        return Errno(EINVAL);
    if ((flags & CLONE_SETTLS) && tls >= (1ull << 47))
        return Errno(EPERM);
    CloneRequest req{stack,
                     (flags & CLONE_SETTLS) != 0,
                     tls,
                     (flags & CLONE_PARENT_SETTID) != 0,
                     (flags & CLONE_CHILD_SETTID) != 0,
                     (flags & CLONE_CHILD_CLEARTID) != 0,
                     parent_tid,
                     child_tid};
    thread_attrs_ready(current_thread());  // what the new thread copies must be ours already
    int tid = TRY(thread_clone(req));
    // The new thread may already run; it waits in thread_attrs_ready until this is done.
    if (Thread* child = thread_by_tid(tid))
        thread_attrs_inherit(child, current_thread());
    return long(tid);
}

}  // namespace

Result<long> clone_process(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls,
                           uint64_t pidfd_at);
bool process_instance_shared();

Result<long> sys_clone(const SyscallArgs& a) {
    uint64_t flags = a.u64(0);
    TRY(check_clone_flags(flags));
    if (!(flags & CLONE_THREAD))
        return clone_process(flags, a.u64(1), a.u64(2), a.u64(3), a.u64(4), a.u64(2));
    if (flags & 0xff)
        return Errno(EINVAL);  // a thread has no exit signal
    return clone_thread(flags, a.u64(1), a.u64(2), a.u64(3), a.u64(4));
}

Result<long> sys_clone3(const SyscallArgs& a) {
    struct clone_args args = {};
    uint64_t size = a.u64(1);
    if (size < CLONE_ARGS_SIZE_VER0 || size > 4096)
        return Errno(EINVAL);
    TRY(copy_from_user(&args, a.u64(0), size < sizeof(args) ? size : sizeof(args)));
    // A larger structure from a newer caller: its extra bytes must be zero.
    for (uint64_t off = sizeof(args); off < size; off += 8) {
        uint64_t word = 0;
        TRY(copy_from_user(&word, a.u64(0) + off, size - off < 8 ? size - off : 8));
        if (word)
            return Errno(E2BIG);
    }
    if (args.set_tid || args.set_tid_size || args.cgroup)
        return Errno(ENOSYS);  // chosen pids and cgroups: not supported
    if ((args.stack == 0) != (args.stack_size == 0) || args.exit_signal > 64 || (args.flags & 0xff))
        return Errno(EINVAL);
    uint64_t sp = args.stack ? args.stack + args.stack_size : 0;
    TRY(check_clone_flags(args.flags));
    if (!(args.flags & CLONE_THREAD))
        return clone_process(args.flags | args.exit_signal, sp, args.parent_tid, args.child_tid, args.tls,
                             args.pidfd);
    if (args.exit_signal)
        return Errno(EINVAL);
    return clone_thread(args.flags, sp, args.parent_tid, args.child_tid, args.tls);
}

Result<long> sys_exit(const SyscallArgs& a) { thread_exit(a.i32(0) & 0xff); }

namespace {

bool futex_has_timeout(int cmd) {
    return cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET || cmd == FUTEX_LOCK_PI || cmd == FUTEX_LOCK_PI2 ||
           cmd == FUTEX_WAIT_REQUEUE_PI;
}

// The monotonic deadline of a futex call's timeout: relative for FUTEX_WAIT; absolute on
// CLOCK_REALTIME for LOCK_PI and with FUTEX_CLOCK_REALTIME, else on CLOCK_MONOTONIC. An
// absolute REALTIME deadline ignores later changes of that clock.
Result<uint64_t> futex_deadline(uint64_t utime, int cmd, bool realtime) {
    if (!utime)
        return kNoDeadline;
    uint64_t ns = TRY(read_timespec(utime));
    if (cmd == FUTEX_WAIT)
        return deadline_after(ns);
    uint64_t now = TRY(clock_now(realtime || cmd == FUTEX_LOCK_PI ? CLOCK_REALTIME : CLOCK_MONOTONIC));
    return deadline_after(ns > now ? ns - now : 0);
}

// What Linux checks of a futex address before it looks at any queue: alignment, a user
// address, and for a shared (non-PRIVATE) futex a mapped page.
Result<void> check_futex_addr(uint64_t uaddr, bool shared) {
    if (uaddr & 3)
        return Errno(EINVAL);
    if (uaddr > (1ull << 47) - sizeof(uint32_t))
        return Errno(EFAULT);
    if (shared) {
        uint32_t value;
        TRY(copy_from_user(&value, uaddr, sizeof(value)));
    }
    return {};
}

}  // namespace

Result<long> sys_futex(const SyscallArgs& a) {
    uint64_t uaddr = a.u64(0), uaddr2 = a.u64(4);
    int cmd = a.i32(1) & FUTEX_CMD_MASK;
    bool realtime = (a.i32(1) & FUTEX_CLOCK_REALTIME) != 0;
    bool shared = !(a.i32(1) & FUTEX_PRIVATE_FLAG);
    uint32_t val = a.u32(2), val2 = uint32_t(a.u64(3)), val3 = a.u32(5);
    uint64_t deadline = futex_has_timeout(cmd) ? TRY(futex_deadline(a.u64(3), cmd, realtime)) : kNoDeadline;
    if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI && cmd != FUTEX_LOCK_PI2)
        return Errno(ENOSYS);
    switch (cmd) {
    case FUTEX_WAIT:
        val3 = kFutexBitsetAll;
        [[fallthrough]];
    case FUTEX_WAIT_BITSET: {
        if (!val3)
            return Errno(EINVAL);
        // A process-shared futex may be woken from another process, whose wake does not
        // reach this one's waiters yet: once the instance has several processes, such a
        // wait looks at the word again every millisecond (a wake-up futex(2) allows).
        constexpr uint64_t kSharedPollNs = 1000000;
        bool poll = shared && process_instance_shared();
        uint64_t capped = poll ? deadline_after(kSharedPollNs) : deadline;
        bool cut = poll && capped < deadline;
        auto waited = futex_wait(uaddr, val, cut ? capped : deadline, val3);
        if (!waited.ok() && waited.error().code == ETIMEDOUT && cut)
            return 0;
        TRY(waited);
        return 0;
    }
    case FUTEX_WAKE:
        val3 = kFutexBitsetAll;
        [[fallthrough]];
    case FUTEX_WAKE_BITSET:
        if (!val3)
            return Errno(EINVAL);
        TRY(check_futex_addr(uaddr, shared));
        return futex_wake(uaddr, val, val3);
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
        TRY(check_futex_addr(uaddr, shared));
        TRY(check_futex_addr(uaddr2, shared));
        return futex_requeue(uaddr, val, val2, uaddr2, cmd == FUTEX_CMP_REQUEUE, val3);
    case FUTEX_WAKE_OP:
        TRY(check_futex_addr(uaddr, shared));
        TRY(check_futex_addr(uaddr2, false));  // written by the operation, which faults itself
        return futex_wake_op(uaddr, val, uaddr2, val2, val3);
    case FUTEX_LOCK_PI:
    case FUTEX_LOCK_PI2:
    case FUTEX_TRYLOCK_PI: {
        auto locked = futex_lock_pi(uaddr, deadline, cmd == FUTEX_TRYLOCK_PI);
        if (!locked.ok() && locked.error().code == ERESTARTSYS)
            return Errno(ERESTARTNOINTR);  // started again after the handler, as on Linux
        TRY(locked);
        return 0;
    }
    case FUTEX_UNLOCK_PI:
        TRY(futex_unlock_pi(uaddr));
        return 0;
    default:
        return Errno(ENOSYS);  // FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI: see docs/syscalls.md
    }
}

Result<long> sys_futex_waitv(const SyscallArgs& a) {
    constexpr uint32_t kWaitvMax = 128;        // FUTEX_WAITV_MAX
    constexpr uint32_t kSizeMask = 3;          // FUTEX2_SIZE_MASK
    constexpr uint32_t kSizeU32 = 2;           // FUTEX2_SIZE_U32
    constexpr uint32_t kPrivate = 128;         // FUTEX2_PRIVATE
    struct WaitvEntry {                        // struct futex_waitv
        uint64_t val;
        uint64_t uaddr;
        uint32_t flags;
        uint32_t reserved;
    };
    uint64_t waiters = a.u64(0);
    uint32_t count = a.u32(1);
    if (a.u32(2))
        return Errno(EINVAL);
    if (!count || count > kWaitvMax || !waiters)
        return Errno(EINVAL);
    uint64_t deadline = kNoDeadline;
    if (a.u64(3)) {
        // An absolute time on the clock given.
        int clock = a.i32(4);
        if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC)
            return Errno(EINVAL);
        uint64_t ns = TRY(read_timespec(a.u64(3)));
        uint64_t now = TRY(clock_now(clock));
        deadline = deadline_after(ns > now ? ns - now : 0);
    }
    auto* entries = static_cast<WaitvEntry*>(kmalloc(count * sizeof(WaitvEntry)));
    auto* items = static_cast<FutexWaitItem*>(kmalloc(count * sizeof(FutexWaitItem)));
    HeapGuard entries_guard{entries}, items_guard{items};
    if (!entries || !items)
        return Errno(ENOMEM);
    TRY(copy_from_user(entries, waiters, count * sizeof(WaitvEntry)));
    for (uint32_t i = 0; i < count; i++) {
        const WaitvEntry& e = entries[i];
        if ((e.flags & ~(kSizeMask | kPrivate)) || e.reserved || (e.flags & kSizeMask) != kSizeU32 || (e.val >> 32))
            return Errno(EINVAL);
        TRY(check_futex_addr(e.uaddr, !(e.flags & kPrivate)));
        items[i] = FutexWaitItem{e.uaddr, uint32_t(e.val)};
    }
    return futex_waitv(items, count, deadline);
}

}  // namespace carbyne::libos
