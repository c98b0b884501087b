// rt_sigaction, rt_sigprocmask: the dispositions and the mask (delivery comes later)
#include <libos/user.h>

#include "../proc/process.h"
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
