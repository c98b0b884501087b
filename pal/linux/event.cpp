// Events (host eventfds, so that they can be waited on together with streams) and waiting.
#include <asm/errno.h>
#include <asm/unistd.h>
#include <linux/fcntl.h>
#include <linux/poll.h>
#include <linux/time.h>

#include "pal_internal.h"

namespace carbyne::pal {

uint32_t wait_bits_from_host(uint32_t revents) {
    uint32_t r = 0;
    if (revents & POLLIN)
        r |= PAL_WAIT_READ;
    if (revents & POLLOUT)
        r |= PAL_WAIT_WRITE;
    if (revents & (POLLERR | POLLNVAL))
        r |= PAL_WAIT_ERROR;
    if (revents & POLLHUP)
        r |= PAL_WAIT_HANGUP;
    if (revents & POLLRDHUP)
        r |= PAL_WAIT_RDHUP;
    return r;
}

namespace {

constexpr long kEfdCloexec = O_CLOEXEC;  // EFD_CLOEXEC and EFD_NONBLOCK have no uapi header
constexpr long kEfdNonblock = O_NONBLOCK;
constexpr size_t kMaxWait = 64;

// ppoll with a relative timeout; returns the host result.
long poll_fds(struct pollfd* fds, size_t count, uint64_t timeout_ns) {
    struct __kernel_timespec ts;
    struct __kernel_timespec* tsp = nullptr;
    if (timeout_ns != PAL_WAIT_FOREVER) {
        ts.tv_sec = long(timeout_ns / 1000000000ull);
        ts.tv_nsec = long(timeout_ns % 1000000000ull);
        tsp = &ts;
    }
    return host_syscall5(__NR_ppoll, long(fds), long(count), long(tsp), 0, 8);
}

}  // namespace

PalError event_create(int initially_set, int auto_clear, PalHandle** out) {
    long fd = host_syscall2(__NR_eventfd2, initially_set ? 1 : 0, kEfdCloexec | kEfdNonblock);
    if (host_failed(fd))
        return error_from_host(fd);
    PalHandle* h = handle_alloc(PAL_TYPE_EVENT, int(fd));
    if (!h) {
        host_syscall1(__NR_close, fd);
        return PAL_E_NOMEM;
    }
    h->auto_clear = auto_clear != 0;
    *out = h;
    return PAL_OK;
}

PalError counter_create(uint64_t initval, int semaphore, PalHandle** out) {
    constexpr long kEfdSemaphore = 1;
    if (!out || initval == ~uint64_t{0})
        return PAL_E_INVAL;
    long fd = host_syscall2(__NR_eventfd2, 0, kEfdCloexec | kEfdNonblock | (semaphore ? kEfdSemaphore : 0));
    if (host_failed(fd))
        return error_from_host(fd);
    // eventfd2 takes an unsigned int: the whole value goes in by a write.
    long wrote = initval ? host_syscall3(__NR_write, fd, long(&initval), 8) : 8;
    if (wrote != 8) {
        host_syscall1(__NR_close, fd);
        return host_failed(wrote) ? error_from_host(wrote) : PAL_E_IO;
    }
    PalHandle* h = handle_alloc(PAL_TYPE_EVENT, int(fd));
    if (!h) {
        host_syscall1(__NR_close, fd);
        return PAL_E_NOMEM;
    }
    *out = h;
    return PAL_OK;
}

void event_set(PalHandle* ev) {
    uint64_t one = 1;
    host_syscall3(__NR_write, ev->fd, long(&one), 8);
}

void event_clear(PalHandle* ev) {
    uint64_t value;
    host_syscall3(__NR_read, ev->fd, long(&value), 8);
}

PalError event_wait(PalHandle* ev, uint64_t timeout_ns) {
    if (!ev || ev->type != PAL_TYPE_EVENT)
        return PAL_E_BADHANDLE;
    uint64_t deadline = 0;
    if (timeout_ns != PAL_WAIT_FOREVER) {
        uint64_t now;
        time_get(PAL_CLOCK_MONOTONIC, &now);
        // A timeout past the end of time waits forever.
        deadline = timeout_ns > ~uint64_t{0} - now ? ~uint64_t{0} : now + timeout_ns;
    }
    for (;;) {
        if (ev->auto_clear) {
            uint64_t value;
            long n = host_syscall3(__NR_read, ev->fd, long(&value), 8);
            if (n == 8)
                return PAL_OK;
        }
        struct pollfd p = {ev->fd, POLLIN, 0};
        uint64_t left = PAL_WAIT_FOREVER;
        if (timeout_ns != PAL_WAIT_FOREVER) {
            uint64_t now;
            time_get(PAL_CLOCK_MONOTONIC, &now);
            left = now >= deadline ? 0 : deadline - now;
        }
        long ret = poll_fds(&p, 1, left);
        if (host_failed(ret))
            return error_from_host(ret);
        if (ret == 0)
            return PAL_E_TIMEDOUT;
        if (!ev->auto_clear)
            return PAL_OK;
    }
}

PalError wait_for_many(size_t count, PalHandle* const* handles, const uint32_t* events, uint32_t* ready,
                       uint64_t timeout_ns) {
    if (count > kMaxWait)
        return PAL_E_INVAL;
    struct pollfd fds[kMaxWait];
    for (size_t i = 0; i < count; i++) {
        if (!handles[i])
            return PAL_E_BADHANDLE;
        short want = 0;
        if (events[i] & PAL_WAIT_READ)
            want |= POLLIN;
        if (events[i] & PAL_WAIT_WRITE)
            want |= POLLOUT;
        if (events[i] & PAL_WAIT_RDHUP)
            want |= POLLRDHUP;
        fds[i] = {handles[i]->fd, want, 0};
    }
    long ret = poll_fds(fds, count, timeout_ns);
    if (host_failed(ret))
        return error_from_host(ret);
    if (ret == 0)
        return PAL_E_TIMEDOUT;
    for (size_t i = 0; i < count; i++)
        ready[i] = wait_bits_from_host(uint32_t(fds[i].revents));
    return PAL_OK;
}

}  // namespace carbyne::pal
