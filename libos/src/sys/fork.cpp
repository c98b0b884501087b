// fork, vfork, clone of a new process (from clone.cpp), wait4, waitid
#include <carbyne/string.h>
#include <libos/log.h>
#include <libos/pal.h>
#include <libos/user.h>
#include <linux/fcntl.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/wait.h>

#include "../ipc/fork.h"
#include "../ipc/procs.h"
#include "../proc/process.h"
#include "../signal/signal.h"
#include "pidfd.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

constexpr int kSigchld = 17;
bool g_forked;
constexpr uint64_t kProcessCloneFlags = CLONE_VM | CLONE_VFORK | CLONE_SETTLS | CLONE_PARENT_SETTID |
                                        CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_SYSVSEM | CLONE_DETACHED |
                                        0xff /* the exit signal */;

Result<long> fork_with(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls) {
    ForkRequest req{};
    req.stack = stack;
    req.set_tls = (flags & CLONE_SETTLS) != 0;
    req.tls = tls;
    req.parent_settid = (flags & CLONE_PARENT_SETTID) != 0;
    req.child_settid = (flags & CLONE_CHILD_SETTID) != 0;
    req.child_cleartid = (flags & CLONE_CHILD_CLEARTID) != 0;
    req.parent_tid = parent_tid;
    req.child_tid = child_tid;
    req.exit_signal = int(flags & 0xff);
    req.vfork = (flags & CLONE_VFORK) != 0;
    __atomic_store_n(&g_forked, true, __ATOMIC_RELAXED);
    return process_fork(req);
}

}  // namespace

Result<long> clone_process(uint64_t flags, uint64_t stack, uint64_t parent_tid, uint64_t child_tid, uint64_t tls,
                           uint64_t pidfd_at) {
    if ((flags & 0xff) > 64)
        return Errno(EINVAL);
    if (flags & CLONE_PIDFD) {
        // The child's pidfd goes to `pidfd_at` (clone: parent_tid, which CLONE_PARENT_SETTID
        // may not share; clone3: its pidfd field), written before the child is made.
        if ((flags & CLONE_DETACHED) || (flags & CLONE_PARENT_SETTID && pidfd_at == parent_tid))
            return Errno(EINVAL);
        int none = -1;
        TRY(copy_to_user(pidfd_at, &none, sizeof(none)));
        flags &= ~uint64_t(CLONE_PIDFD);
        long pid = TRY(clone_process(flags, stack, parent_tid, child_tid, tls, 0));
        auto fd = pidfd_install(int(pid), 0);
        int value = fd.ok() ? fd.value() : -1;
        if (!fd.ok())
            log_warning("clone: the pidfd of child %ld was not made (errno %d)", pid, fd.error().code);
        (void)copy_to_user(pidfd_at, &value, sizeof(value));
        return pid;
    }
    if (flags & ~kProcessCloneFlags)
        return Errno(ENOSYS);  // new namespaces, CLONE_PARENT...: not supported
    // A process sharing its parent's memory is made only by vfork-style callers
    // (posix_spawn), which exec or exit at once: it gets a copy, as vfork's child does here.
    if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
        return Errno(ENOSYS);
    if ((flags & CLONE_SETTLS) && tls >= (1ull << 47))
        return Errno(EPERM);
    return fork_with(flags, stack, parent_tid, child_tid, tls);
}

// Whether memory may be shared with another process of the instance: this one was forked,
// or has forked.
bool process_instance_shared() { return g_boot->parent_channel != nullptr || __atomic_load_n(&g_forked, __ATOMIC_RELAXED); }

Result<long> sys_fork(const SyscallArgs&) { return fork_with(kSigchld, 0, 0, 0, 0); }

Result<long> sys_vfork(const SyscallArgs&) { return fork_with(CLONE_VFORK | kSigchld, 0, 0, 0, 0); }

Result<long> sys_wait4(const SyscallArgs& a) {
    int pid = a.i32(0);
    int options = a.i32(2);
    if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return Errno(EINVAL);
    if (pid == INT32_MIN)
        return Errno(ESRCH);
    // 0: a child in the caller's group; < -1: a child in group -pid.
    WaitRequest req{pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID,
                    pid > 0 ? pid : pid == 0 ? ipc::procs_own_ids().pgid : pid == -1 ? 0 : -pid, options | WEXITED};
    WaitResult r = TRY(process_wait_child(req));
    if (r.pid && a.u64(1)) {
        uint32_t status = r.code == kCldExited ? uint32_t(r.status & 0xff) << 8
                                               : uint32_t(r.status) | (r.code == kCldDumped ? 0x80 : 0);
        TRY(copy_to_user(a.u64(1), &status, sizeof(status)));
    }
    if (a.u64(3))
        TRY(clear_user(a.u64(3), sizeof(struct rusage)));  // no usage figures of children yet
    return r.pid;
}

Result<long> sys_waitid(const SyscallArgs& a) {
    int which = a.i32(0), id = a.i32(1), options = a.i32(3);
    bool nonblock_pidfd = false;
    if (options & ~(WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL))
        return Errno(EINVAL);
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
        return Errno(EINVAL);
    switch (which) {
    case P_ALL: break;
    case P_PID:
        if (id <= 0)
            return Errno(EINVAL);
        break;
    case P_PGID:
        if (id < 0)
            return Errno(EINVAL);
        if (id == 0)
            id = ipc::procs_own_ids().pgid;  // Linux 5.4+: the caller's group
        break;
    case P_PIDFD: {
        // The pidfd's process, which must be a child as for P_PID; one opened with
        // PIDFD_NONBLOCK does not wait (EAGAIN while it runs).
        FileRef f = TRY(g_process.fds.get(id));
        auto pid = pidfd_pid(f.get());
        if (!pid.ok())
            return Errno(EBADF);
        which = P_PID;
        id = pid.value();
        if (f->flags() & O_NONBLOCK)
            nonblock_pidfd = true;
        break;
    }
    default: return Errno(EINVAL);
    }
    if (nonblock_pidfd && !(options & WNOHANG)) {
        WaitResult look = TRY(process_wait_child(WaitRequest{which, id, options | WNOHANG | WNOWAIT}));
        if (!look.pid)
            return Errno(EAGAIN);
    }
    WaitResult r = TRY(process_wait_child(WaitRequest{which, id, options}));
    if (a.u64(2)) {
        SigInfo info;
        memset(&info, 0, sizeof(info));
        if (r.pid) {
            info.signo = kSigchld;
            info.code = r.code;
            info.kill.pid = r.pid;
            info.kill.uid = r.uid;
            info.kill.value = uint32_t(r.status);
        }
        TRY(copy_to_user(a.u64(2), &info, sizeof(info)));
    }
    if (a.u64(4))
        TRY(clear_user(a.u64(4), sizeof(struct rusage)));
    return 0;
}

}  // namespace carbyne::libos
