// epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2
#include <libos/user.h>
#include <linux/eventpoll.h>
#include <linux/fcntl.h>

#include "../net/epoll.h"
#include "../proc/process.h"
#include "sigmask.h"
#include "syscall.h"
#include "timespec.h"

namespace carbyne::libos {

namespace {

Result<long> create(uint32_t flags) {
    fs::File* f = TRY(net::epoll_create(0));
    return TRY(g_process.fds.install(f, 0, (flags & EPOLL_CLOEXEC) != 0));
}

// epoll_wait and its variants after the timeout is known: the checks in Linux's order.
Result<long> wait(int epfd, uint64_t user_events, int max, uint64_t deadline) {
    if (max <= 0 || max > net::kEpollMaxEvents)
        return Errno(EINVAL);
    // Only that the array lies below the kernel's half (access_ok): an unmapped one fails
    // when events are copied out, as on Linux.
    constexpr uint64_t kUserTop = (1ull << 47) - 4096;
    uint64_t size = uint64_t(max) * sizeof(net::EpollEvent);
    if (user_events > kUserTop || size > kUserTop - user_events)
        return Errno(EFAULT);
    FileRef ep = TRY(g_process.fds.get(epfd));
    return net::epoll_wait(ep.get(), user_events, max, deadline);
}

uint64_t deadline_ms(int timeout_ms) {
    return timeout_ms < 0 ? kNoDeadline : deadline_after(uint64_t(timeout_ms) * 1000000);
}

}  // namespace

Result<long> sys_epoll_create(const SyscallArgs& a) {
    if (a.i32(0) <= 0)
        return Errno(EINVAL);
    return create(0);
}

Result<long> sys_epoll_create1(const SyscallArgs& a) {
    if (a.u32(0) & ~uint32_t(EPOLL_CLOEXEC))
        return Errno(EINVAL);
    return create(a.u32(0));
}

Result<long> sys_epoll_ctl(const SyscallArgs& a) {
    int op = a.i32(1);
    net::EpollEvent event = {0, 0};
    if (op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD)
        event = TRY(UserPtr<net::EpollEvent>(a.u64(3)).read());
    FileRef ep = TRY(g_process.fds.get(a.fd(0)));
    FileRef target = TRY(g_process.fds.get(a.fd(2)));
    TRY(net::epoll_ctl(ep.get(), op, a.fd(2), target.get(), event.events, event.data));
    return 0;
}

Result<long> sys_epoll_wait(const SyscallArgs& a) {
    return wait(a.fd(0), a.u64(1), a.i32(2), deadline_ms(a.i32(3)));
}

Result<long> sys_epoll_pwait(const SyscallArgs& a) {
    CallSigmask mask;
    TRY(mask.set(a.u64(4), a.u64(5)));
    return mask.finish(wait(a.fd(0), a.u64(1), a.i32(2), deadline_ms(a.i32(3))));
}

Result<long> sys_epoll_pwait2(const SyscallArgs& a) {
    uint64_t deadline = kNoDeadline;
    if (a.u64(3))
        deadline = deadline_after(TRY(read_timespec(a.u64(3))));
    CallSigmask mask;
    TRY(mask.set(a.u64(4), a.u64(5)));
    return mask.finish(wait(a.fd(0), a.u64(1), a.i32(2), deadline));
}

}  // namespace carbyne::libos
