// The signal mask of ppoll, pselect6 and epoll_pwait: set for the duration of the call and
// restored when it returns, or, when it ends with EINTR, after the handler ran with the
// temporary mask in force (Linux's saved sigmask, as rt_sigsuspend uses it).
#pragma once

#include <libos/result.h>
#include <libos/user.h>
#include <stdint.h>

#include "../proc/process.h"
#include "../proc/wait.h"

namespace carbyne::libos {

class CallSigmask {
public:
    // Installs the application's mask at `user_mask` (0: none, the mask stays). EINVAL when
    // `size` is not 8, EFAULT for an unreadable mask.
    Result<void> set(uint64_t user_mask, uint64_t size) {
        if (!user_mask)
            return {};
        if (size != sizeof(uint64_t))
            return Errno(EINVAL);
        uint64_t mask = TRY(UserPtr<uint64_t>(user_mask).read());
        constexpr uint64_t kUnblockable = (1ull << (9 - 1)) | (1ull << (19 - 1));  // SIGKILL, SIGSTOP
        Thread* t = current_thread();
        SpinGuard g(g_process.lock);
        t->saved_sigmask = t->sigmask;
        t->restore_sigmask = true;
        t->sigmask = mask & ~kUnblockable;
        m_set = true;
        return {};
    }

    // The call's result, after putting the mask back unless a handler is about to run (the
    // call ends with ERESTARTNOHAND, or EINTR for epoll_pwait).
    template <typename T>
    Result<T> finish(Result<T> r) {
        if (!m_set || (!r.ok() && (r.error().code == ERESTARTNOHAND || r.error().code == EINTR)))
            return r;
        Thread* t = current_thread();
        SpinGuard g(g_process.lock);
        t->sigmask = t->saved_sigmask;
        t->restore_sigmask = false;
        return r;
    }

private:
    bool m_set = false;
};

}  // namespace carbyne::libos
