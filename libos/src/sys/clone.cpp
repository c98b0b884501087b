// clone, clone3 (threads), exit, futex
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <linux/time.h>

#include "../proc/futex.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/timer.h"
#include "syscall.h"

namespace carbyne::libos {


namespace {

constexpr uint64_t kThreadFlags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD;
constexpr uint64_t kAllowedFlags = kThreadFlags | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                   CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED;

Result<long> clone_thread(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls) {
    // The kernel's own consistency rules first (clone(2) ERRORS).
    if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
        return Errno(EINVAL);
    if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
        return Errno(EINVAL);
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
    return long(TRY(thread_clone(req)));
}

}  // namespace

Result<long> sys_clone(const SyscallArgs& a) {
    uint64_t flags = a.u64(0);
    if (flags & 0xff)
        return Errno(ENOSYS);  // an exit signal means a child process (multi-process work)
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
    if (args.exit_signal || args.pidfd || args.set_tid || args.set_tid_size || args.cgroup)
        return Errno(ENOSYS);  // process-creation features (multi-process work)
    if ((args.stack == 0) != (args.stack_size == 0))
        return Errno(EINVAL);
    uint64_t sp = args.stack ? args.stack + args.stack_size : 0;
    return clone_thread(args.flags, sp, args.parent_tid, args.child_tid, args.tls);
}

Result<long> sys_exit(const SyscallArgs& a) { thread_exit(a.i32(0) & 0xff); }

Result<long> sys_futex(const SyscallArgs& a) {
    uint64_t uaddr = a.u64(0);
    int op = a.i32(1) & FUTEX_CMD_MASK;
    bool realtime = (a.i32(1) & FUTEX_CLOCK_REALTIME) != 0;
    switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        uint32_t bitset = op == FUTEX_WAIT ? kFutexBitsetAll : a.u32(5);
        if (!bitset || (op == FUTEX_WAIT && realtime))
            return Errno(op == FUTEX_WAIT ? ENOSYS : EINVAL);
        uint64_t timeout = PAL_WAIT_FOREVER;
        if (a.u64(3)) {
            struct __kernel_timespec ts = TRY(UserPtr<struct __kernel_timespec>(a.u64(3)).read());
            if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
                return Errno(EINVAL);
            uint64_t ns = uint64_t(ts.tv_sec) > (~uint64_t{0} >> 1) / 1000000000ull
                              ? PAL_WAIT_FOREVER - 1
                              : uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
            if (op == FUTEX_WAIT_BITSET) {
                // An absolute deadline on CLOCK_MONOTONIC, or CLOCK_REALTIME with the flag.
                uint64_t now = TRY(clock_now(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC));
                ns = ns > now ? ns - now : 0;
            }
            timeout = ns;
        }
        TRY(futex_wait(uaddr, a.u32(2), timeout, bitset));
        return 0;
    }
    case FUTEX_WAKE:
        return futex_wake(uaddr, a.u32(2), kFutexBitsetAll);
    case FUTEX_WAKE_BITSET:
        if (!a.u32(5))
            return Errno(EINVAL);
        return futex_wake(uaddr, a.u32(2), a.u32(5));
    case FUTEX_REQUEUE:
        return futex_requeue(uaddr, a.u32(2), uint32_t(a.u64(3)), a.u64(4), false, 0);
    case FUTEX_CMP_REQUEUE:
        return futex_requeue(uaddr, a.u32(2), uint32_t(a.u64(3)), a.u64(4), true, a.u32(5));
    default:
        return Errno(ENOSYS);  // WAKE_OP and PI futexes: see docs/syscalls.md
    }
}

}  // namespace carbyne::libos
