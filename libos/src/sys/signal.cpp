// rt_sigaction, rt_sigprocmask: the dispositions and the mask
#include <carbyne/string.h>
#include <libos/pal.h>
#include <libos/user.h>

#include "../fs/signalfd.h"
#include "../ipc/fork.h"
#include "../ipc/procs.h"
#include "../proc/process.h"
#include "../proc/thread.h"
#include "../proc/wait.h"
#include "timespec.h"
#include "kill.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {
constexpr int kSigKill = 9;
constexpr int kSigStop = 19;
constexpr uint64_t kUnblockable = (1ull << (kSigKill - 1)) | (1ull << (kSigStop - 1));
}  // namespace

Result<long> sys_rt_sigaction(const SyscallArgs& a) {
    int sig = a.i32(0);
    if (a.u64(3) != 8 || sig < 1 || sig > kNumSignals)
        return Errno(EINVAL);
    if (a.u64(1) && (sig == kSigKill || sig == kSigStop))
        return Errno(EINVAL);
    SignalAction want{};
    if (a.u64(1))
        TRY(copy_from_user(&want, a.u64(1), sizeof(want)));
    SignalAction old;
    {
        SpinGuard g(g_process.lock);
        old = g_process.actions[sig - 1];
        if (a.u64(1)) {
            want.mask &= ~kUnblockable;
            g_process.actions[sig - 1] = want;
        }
    }
    if (a.u64(2))
        TRY(copy_to_user(a.u64(2), &old, sizeof(old)));
    return 0;
}

Result<long> sys_rt_sigprocmask(const SyscallArgs& a) {
    int how = a.i32(0);
    if (a.u64(3) != 8)
        return Errno(EINVAL);
    Thread* t = current_thread();
    uint64_t old = t->sigmask;
    if (a.u64(1)) {
        uint64_t set = TRY(UserPtr<uint64_t>(a.u64(1)).read());
        switch (how) {
        case 0: t->sigmask |= set; break;    // SIG_BLOCK
        case 1: t->sigmask &= ~set; break;   // SIG_UNBLOCK
        case 2: t->sigmask = set; break;     // SIG_SETMASK
        default: return Errno(EINVAL);
        }
        t->sigmask &= ~kUnblockable;
    }
    if (a.u64(2)) {
        auto r = UserPtr<uint64_t>(a.u64(2)).write(old);
        if (!r.ok()) {
            t->sigmask = old;
            return r.error();
        }
    }
    return 0;
}

}  // namespace carbyne::libos

// rt_sigreturn, kill, tkill, tgkill, rt_sigqueueinfo, rt_sigpending, rt_sigsuspend, pause,
// rt_sigtimedwait, signalfd, signalfd4, sigaltstack
namespace carbyne::libos {

namespace {

SigInfo user_info(int sig) { return signal_user_info(sig); }

Thread* find_thread(int tid) { return thread_by_tid(tid); }

// Blocks the thread until a signal is deliverable, with `mask` as its mask meanwhile;
// the old mask comes back after the handler (rt_sigsuspend(2)).
Result<long> suspend_with(uint64_t mask) {
    Thread* t = current_thread();
    {
        SpinGuard g(g_process.lock);
        t->saved_sigmask = t->sigmask;
        t->restore_sigmask = true;
        t->sigmask = mask & ~kUnblockable;
    }
    for (;;) {
        auto r = thread_block(kNoDeadline);
        if (!r.ok() && r.error().code == ERESTARTSYS)
            return Errno(ERESTARTNOHAND);  // a handler runs: EINTR
    }
}

}  // namespace

Result<long> signal_process(int pid, const SigInfo& info, int tid) {
    if (pid == g_process.pid) {
        Thread* t = tid ? find_thread(tid) : nullptr;
        if (tid && !t)
            return Errno(ESRCH);
        TRY(signal_send(t, info.signo, info));
        return 0;
    }
    if (TRY(child_signal(pid, info, tid)))
        return 0;
    return TRY(ipc::procs_kill(ipc::KillScope::Process, pid, info, tid)) ? Result<long>(0) : Errno(ESRCH);
}

Result<long> sys_rt_sigreturn(const SyscallArgs&) { signal_return(current_thread()->syscall_ctx); }

Result<long> sys_kill(const SyscallArgs& a) {
    int pid = a.i32(0);
    int sig = a.i32(1);
    if (sig < 0 || sig > kNumSignals)
        return Errno(EINVAL);
    if (pid == -__INT_MAX__ - 1)
        return Errno(ESRCH);  // -INT_MIN names no group
    SigInfo info = user_info(sig);
    if (pid > 0)
        return signal_process(pid, info, 0);
    // Every process but pid 1 and the caller (-1), or a group (0: the caller's), which
    // includes the caller when it is in it.
    if (pid == -1)
        return TRY(ipc::procs_kill(ipc::KillScope::All, 0, info)) ? Result<long>(0) : Errno(ESRCH);
    return signal_group(pid == 0 ? ipc::procs_own_ids().pgid : -pid, info);
}

Result<long> signal_group(int pgid, const SigInfo& info) {
    bool self_in = ipc::procs_own_ids().pgid == pgid;
    int others = TRY(ipc::procs_kill(ipc::KillScope::Group, pgid, info));
    if (self_in)
        TRY(signal_send(nullptr, info.signo, info));
    return others || self_in ? Result<long>(0) : Errno(ESRCH);
}

namespace {

// tgkill and rt_tgsigqueueinfo: EINVAL for ids below 1 or a bad signal. A thread of
// another process is named by its ids and found there (one that is gone leaves the
// signal to its process: see ipc/procs.h).
Result<long> signal_thread(int tgid, int tid, const SigInfo& info) {
    if (tgid <= 0 || tid <= 0 || info.signo < 0 || info.signo > kNumSignals)
        return Errno(EINVAL);
    return signal_process(tgid, info, tid);
}

}  // namespace

Result<long> sys_tgkill(const SyscallArgs& a) {
    SigInfo info = user_info(a.i32(2));
    info.code = -6;  // SI_TKILL
    return signal_thread(a.i32(0), a.i32(1), info);
}

Result<long> sys_tkill(const SyscallArgs& a) {
    SyscallArgs tg = {{uint64_t(g_process.pid), a.a[0], a.a[1], 0, 0, 0}};
    return sys_tgkill(tg);
}

namespace {

// The siginfo of rt_sigqueueinfo and rt_tgsigqueueinfo: a process may pretend to be the
// kernel or kill() only to itself (rt_sigqueueinfo(2)).
Result<SigInfo> queued_info(int pid, int sig, uint64_t user_info) {
    SigInfo info;
    TRY(copy_from_user(&info, user_info, sizeof(info)));
    if ((info.code >= 0 || info.code == -6) && pid != g_process.pid)
        return Errno(EPERM);
    info.signo = sig;
    return info;
}

}  // namespace

Result<long> sys_rt_sigqueueinfo(const SyscallArgs& a) {
    int pid = a.i32(0), sig = a.i32(1);
    if (sig < 0 || sig > kNumSignals)
        return Errno(EINVAL);
    if (pid <= 0)
        return Errno(ESRCH);
    return signal_process(pid, TRY(queued_info(pid, sig, a.u64(2))), 0);
}

Result<long> sys_rt_tgsigqueueinfo(const SyscallArgs& a) {
    int sig = a.i32(2);
    if (a.i32(0) <= 0 || a.i32(1) <= 0 || sig < 0 || sig > kNumSignals)
        return Errno(EINVAL);
    return signal_thread(a.i32(0), a.i32(1), TRY(queued_info(a.i32(0), sig, a.u64(3))));
}

Result<long> sys_rt_sigpending(const SyscallArgs& a) {
    if (a.u64(1) > 8)
        return Errno(EINVAL);
    Thread* t = current_thread();
    uint64_t set;
    {
        SpinGuard g(g_process.lock);
        set = (t->pending | g_process.pending) & t->sigmask;
    }
    TRY(copy_to_user(a.u64(0), &set, a.u64(1)));
    return 0;
}

Result<long> sys_rt_sigsuspend(const SyscallArgs& a) {
    if (a.u64(1) != 8)
        return Errno(EINVAL);
    uint64_t mask = TRY(UserPtr<uint64_t>(a.u64(0)).read());
    return suspend_with(mask);
}

Result<long> sys_pause(const SyscallArgs&) { return suspend_with(current_thread()->sigmask); }

Result<long> sys_rt_sigtimedwait(const SyscallArgs& a) {
    if (a.u64(3) != 8)
        return Errno(EINVAL);
    uint64_t set = TRY(UserPtr<uint64_t>(a.u64(0)).read()) & ~kUnblockable;
    uint64_t deadline = kNoDeadline;
    if (a.u64(2))
        deadline = deadline_after(TRY(read_timespec(a.u64(2))));
    Thread* t = current_thread();
    int sig = 0;
    SigInfo info;
    // Waiting makes the set's signals pick this thread and end its wait, not be delivered.
    __atomic_store_n(&t->sigwait_set, set, __ATOMIC_RELEASE);
    Result<void> r;
    bool got;
    for (;;) {
        got = signal_take(set, &sig, &info);
        if (got)
            break;
        r = thread_block(deadline);
        if (!r.ok()) {
            got = signal_take(set, &sig, &info);
            break;
        }
    }
    __atomic_store_n(&t->sigwait_set, 0, __ATOMIC_RELEASE);
    if (!got)
        return r.error().code == ETIMEDOUT ? Errno(EAGAIN) : Errno(EINTR);
    if (a.u64(1)) {
        auto w = copy_to_user(a.u64(1), &info, sizeof(info));
        if (!w.ok()) {
            (void)signal_send(t, sig, info);  // not lost: pending again
            return w.error();
        }
    }
    return sig;
}

namespace {

Result<long> do_signalfd(int fd, uint64_t user_mask, uint64_t mask_size, uint32_t flags) {
    constexpr uint32_t kNonblock = 04000, kCloexec = 02000000;  // SFD_NONBLOCK, SFD_CLOEXEC
    if (mask_size != 8 || (flags & ~(kNonblock | kCloexec)))
        return Errno(EINVAL);
    uint64_t mask = TRY(UserPtr<uint64_t>(user_mask).read());
    if (fd != -1) {
        FileRef f = TRY(g_process.fds.get(fd));
        TRY(fs::signalfd_set_mask(f.get(), mask));
        return fd;
    }
    fs::File* f = TRY(fs::signalfd_create(mask, flags & kNonblock));
    return TRY(g_process.fds.install(f, 0, flags & kCloexec));
}

}  // namespace

Result<long> sys_signalfd(const SyscallArgs& a) { return do_signalfd(a.fd(0), a.u64(1), a.u64(2), 0); }

Result<long> sys_signalfd4(const SyscallArgs& a) { return do_signalfd(a.fd(0), a.u64(1), a.u64(2), a.u32(3)); }

Result<long> sys_sigaltstack(const SyscallArgs& a) {
    constexpr int kSsOnstack = 1, kSsDisable = 2, kSsAutodisarm = 1 << 31;
    constexpr uint64_t kMinSigstksz = 2048;
    struct Stack {
        uint64_t sp;
        int32_t flags;
        int32_t pad;
        uint64_t size;
    };
    Thread* t = current_thread();
    uint64_t sp = t->syscall_ctx->rsp;
    bool on = t->altstack_size && !(t->altstack_flags & kSsDisable) && sp > t->altstack_sp &&
              sp <= t->altstack_sp + t->altstack_size;
    Stack old = {t->altstack_sp, t->altstack_flags | (on ? kSsOnstack : 0), 0, t->altstack_size};
    if (!t->altstack_size)
        old.flags = kSsDisable;
    if (a.u64(0)) {
        Stack want = TRY(UserPtr<Stack>(a.u64(0)).read());
        if (on)
            return Errno(EPERM);
        int mode = want.flags & ~kSsAutodisarm;
        if (mode != 0 && mode != kSsDisable && mode != kSsOnstack)
            return Errno(EINVAL);
        if (mode == kSsDisable) {
            t->altstack_sp = t->altstack_size = 0;
            t->altstack_flags = kSsDisable;
        } else {
            if (want.size < kMinSigstksz)
                return Errno(ENOMEM);
            t->altstack_sp = want.sp;
            t->altstack_size = want.size;
            t->altstack_flags = want.flags & kSsAutodisarm;
        }
    }
    if (a.u64(1))
        TRY(UserPtr<Stack>(a.u64(1)).write(old));
    return 0;
}

}  // namespace carbyne::libos
