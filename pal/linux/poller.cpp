// Pollers: host epoll instances as PAL handles. The epoll fd is itself pollable, so
// wait_for_many sees a poller readable while one of its handles is ready.
#include <asm/errno.h>
#include <asm/unistd.h>
#include <carbyne/string.h>
#include <linux/eventpoll.h>
#include <linux/fcntl.h>
#include <linux/time.h>

#include "pal_internal.h"

namespace carbyne::pal {

namespace {

constexpr uint32_t kCtlEvents =
    PAL_WAIT_READ | PAL_WAIT_WRITE | PAL_WAIT_ERROR | PAL_WAIT_HANGUP | PAL_WAIT_RDHUP | PAL_POLL_EDGE | PAL_POLL_ONESHOT;
// The most events one epoll_pwait returns (the host's EP_MAX_EVENTS).
constexpr size_t kMaxEvents = 0x7fffffff / sizeof(struct epoll_event);

static_assert(sizeof(struct epoll_event) == 12, "the x86-64 epoll_event is packed");
static_assert(sizeof(PalPollEvent) == 16);

bool is_poller(PalHandle* p) { return p && p->poller; }

uint32_t epoll_bits(uint32_t events) {
    uint32_t e = 0;
    if (events & PAL_WAIT_READ)
        e |= EPOLLIN;
    if (events & PAL_WAIT_WRITE)
        e |= EPOLLOUT;
    if (events & PAL_WAIT_RDHUP)
        e |= EPOLLRDHUP;
    if (events & PAL_POLL_EDGE)
        e |= EPOLLET;
    if (events & PAL_POLL_ONESHOT)
        e |= EPOLLONESHOT;
    return e;  // EPOLLERR and EPOLLHUP: the host reports them always
}

// epoll_pwait2 (Linux 5.11) takes the timeout in ns; older hosts get epoll_pwait with
// the timeout rounded up to whole milliseconds.
bool g_no_pwait2;

long epoll_wait_ns(int epfd, struct epoll_event* events, size_t max, uint64_t timeout_ns) {
    if (!__atomic_load_n(&g_no_pwait2, __ATOMIC_RELAXED)) {
        struct __kernel_timespec ts;
        struct __kernel_timespec* tsp = nullptr;
        if (timeout_ns != PAL_WAIT_FOREVER) {
            ts.tv_sec = long(timeout_ns / 1000000000ull);
            ts.tv_nsec = long(timeout_ns % 1000000000ull);
            tsp = &ts;
        }
        long n = host_syscall6(__NR_epoll_pwait2, epfd, long(events), long(max), long(tsp), 0, 8);
        if (n != -ENOSYS)
            return n;
        __atomic_store_n(&g_no_pwait2, true, __ATOMIC_RELAXED);
    }
    long ms = -1;
    if (timeout_ns != PAL_WAIT_FOREVER) {
        uint64_t up = timeout_ns / 1000000ull + (timeout_ns % 1000000ull != 0);
        ms = up > 0x7fffffffull ? 0x7fffffffL : long(up);
    }
    return host_syscall6(__NR_epoll_pwait, epfd, long(events), long(max), ms, 0, 8);
}

}  // namespace

PalError poller_create(PalHandle** out) {
    long fd = host_syscall1(__NR_epoll_create1, EPOLL_CLOEXEC);
    if (host_failed(fd))
        return error_from_host(fd);
    // Not a stream: no type the stream calls accept; stream_close closes the epoll fd.
    PalHandle* h = handle_alloc(PAL_TYPE_UNKNOWN, int(fd));
    if (!h) {
        host_syscall1(__NR_close, fd);
        return PAL_E_NOMEM;
    }
    h->poller = true;
    *out = h;
    return PAL_OK;
}

PalError poller_ctl(PalHandle* poller, PalHandle* h, uint32_t events, uint64_t cookie) {
    if (!is_poller(poller) || !h || h->fd < 0)
        return PAL_E_BADHANDLE;
    if (events & ~kCtlEvents)
        return PAL_E_INVAL;
    if (events == 0) {
        long ret = host_syscall4(__NR_epoll_ctl, poller->fd, EPOLL_CTL_DEL, h->fd, 0);
        return ret == -ENOENT ? PAL_OK : error_from_host(ret);
    }
    struct epoll_event ev;
    ev.events = epoll_bits(events);
    ev.data = cookie;
    long ret = host_syscall4(__NR_epoll_ctl, poller->fd, EPOLL_CTL_ADD, h->fd, long(&ev));
    if (ret == -EEXIST)
        ret = host_syscall4(__NR_epoll_ctl, poller->fd, EPOLL_CTL_MOD, h->fd, long(&ev));
    return error_from_host(ret);
}

PalError poller_wait(PalHandle* poller, PalPollEvent* out, size_t max, size_t* count, uint64_t timeout_ns) {
    if (!is_poller(poller))
        return PAL_E_BADHANDLE;
    if (max == 0)
        return PAL_E_INVAL;
    if (max > kMaxEvents)
        max = kMaxEvents;
    // The host writes its 12-byte records at the start of `out`; they are widened in place
    // from the last one down, where out[i] (16i..16i+16) never covers a record j < i
    // still to be read (12j + 12 <= 12i < 16i for i > 0).
    auto* host = reinterpret_cast<struct epoll_event*>(out);
    long n = epoll_wait_ns(poller->fd, host, max, timeout_ns);
    if (host_failed(n))
        return error_from_host(n);
    for (long i = n - 1; i >= 0; i--) {
        struct epoll_event ev;
        memcpy(&ev, reinterpret_cast<const uint8_t*>(out) + 12 * i, sizeof(ev));
        PalPollEvent pe = {ev.data, wait_bits_from_host(ev.events)};
        memcpy(&out[i], &pe, sizeof(pe));
    }
    *count = size_t(n);
    return PAL_OK;
}

}  // namespace carbyne::pal
