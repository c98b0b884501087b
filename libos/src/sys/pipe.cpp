// pipe, pipe2
#include <libos/user.h>
#include <linux/fcntl.h>

#include "../net/pipe.h"
#include "../proc/process.h"
#include "syscall.h"

namespace carbyne::libos {

namespace {

Result<long> do_pipe(uint64_t user_fds, uint32_t flags) {
    // O_NOTIFICATION_PIPE (O_EXCL) needs watch queues, which the LibOS does not have.
    if (flags & ~uint32_t(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
        return Errno(EINVAL);
    fs::File* r;
    fs::File* w;
    TRY(net::pipe_create(flags, &r, &w));
    auto drop = [&] {
        r->unref();
        w->unref();
    };
    auto rfd = g_process.fds.reserve(0);
    if (!rfd.ok()) {
        drop();
        return rfd.error();
    }
    auto wfd = g_process.fds.reserve(0);
    if (!wfd.ok()) {
        g_process.fds.cancel(rfd.value());
        drop();
        return wfd.error();
    }
    int fds[2] = {rfd.value(), wfd.value()};
    auto copied = copy_to_user(user_fds, fds, sizeof(fds));
    if (!copied.ok()) {
        g_process.fds.cancel(fds[0]);
        g_process.fds.cancel(fds[1]);
        drop();
        return copied.error();
    }
    bool cloexec = (flags & O_CLOEXEC) != 0;
    g_process.fds.commit(fds[0], r, cloexec);
    g_process.fds.commit(fds[1], w, cloexec);
    return 0;
}

}  // namespace

Result<long> sys_pipe(const SyscallArgs& a) { return do_pipe(a.u64(0), 0); }

Result<long> sys_pipe2(const SyscallArgs& a) { return do_pipe(a.u64(0), a.u32(1)); }

}  // namespace carbyne::libos
