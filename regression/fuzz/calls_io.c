// The fd objects and sockets: pipes, eventfd, epoll, signalfd, timerfd, poll and select,
// and the socket calls (loopback and scratch names only).
#include "calls.h"

// --- pipes, event objects, polling ---

static void g_pipe(struct worker *w, struct call *c) {
    int *fds = scratch(w, 8);
    fds[0] = fds[1] = -1;
    A[0] = maybe_bad(w, fds);
    c->fd_out = (uint64_t)fds == A[0] ? fds : NULL;
}

static void g_pipe2(struct worker *w, struct call *c) {
    g_pipe(w, c);
    A[1] = gen_flags(w, O_CLOEXEC | O_NONBLOCK | O_DIRECT) | (chance(w, 85) ? O_NONBLOCK : 0);
}

// Most fds are nonblocking: a blocking read costs the watchdog's interrupt delay.
static void make_nonblocking(struct worker *w, long fd) {
    if (fd >= 3 && chance(w, 85))
        syscall(SYS_fcntl, fd, F_SETFL, O_NONBLOCK);
}

static void p_fd_pair(struct worker *w, struct call *c, long ret) {
    if (ret == 0 && c->fd_out)
        for (int i = 0; i < 2; i++)
            if (c->fd_out[i] >= 3 && c->fd_out[i] < (1 << 20)) {
                if (c->nr == SYS_pipe)
                    make_nonblocking(w, c->fd_out[i]);
                pool_add(c->fd_out[i], K_ANY);
            }
}

static void p_nonblocking(struct worker *w, struct call *c, long ret) {
    (void)c;
    make_nonblocking(w, ret);
}

static void g_eventfd(struct worker *w, struct call *c) { A[0] = gen_small(w, 10); }

static void g_eventfd2(struct worker *w, struct call *c) {
    A[0] = gen_small(w, 10);
    A[1] = gen_flags(w, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE) | (chance(w, 85) ? EFD_NONBLOCK : 0);
}

static void g_epoll_create(struct worker *w, struct call *c) { A[0] = gen_small(w, 10); }

static void g_epoll_create1(struct worker *w, struct call *c) { A[0] = gen_flags(w, EPOLL_CLOEXEC); }

static void g_epoll_ctl(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_EPOLL);
    A[1] = chance(w, 90) ? 1 + below(w, 3) : gen_int(w);  // ADD, DEL, MOD
    A[2] = gen_fd(w);
    struct epoll_event *ev = scratch(w, sizeof(*ev));
    ev->events = (uint32_t)gen_flags(w, EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLERR | EPOLLHUP | EPOLLRDHUP |
                                            EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE);
    ev->data.u64 = rnd(w);
    A[3] = maybe_bad(w, ev);
}

// A wait timeout in ms: mostly none or short; -1 waits until the watchdog interrupts.
static uint64_t gen_timeout_ms(struct worker *w) {
    unsigned r = (unsigned)below(w, 100);
    if (r < 40)
        return 0;
    if (r < 90)
        return below(w, 3);
    if (r < 96)
        return (uint64_t)-1;
    return gen_int(w);
}

static void g_epoll_wait(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_EPOLL);
    size_t n = 1 + below(w, 16);
    A[1] = gen_out(w, n * sizeof(struct epoll_event));
    A[2] = chance(w, 90) ? n : gen_int(w);
    A[3] = gen_timeout_ms(w);
}

static void g_epoll_pwait(struct worker *w, struct call *c) {
    g_epoll_wait(w, c);
    A[4] = chance(w, 50) ? 0 : gen_sigset_ptr(w);
    A[5] = chance(w, 90) ? 8 : gen_int(w);
}

static void g_epoll_pwait2(struct worker *w, struct call *c) {
    g_epoll_pwait(w, c);
    A[3] = chance(w, 20) ? 0 : gen_timespec(w);
    if (!A[3] && chance(w, 80))
        A[3] = gen_timespec(w);
}

static void g_signalfd(struct worker *w, struct call *c) {
    A[0] = chance(w, 70) ? (uint64_t)-1 : (uint64_t)gen_fd_of(w, K_SIGNALFD);
    A[1] = gen_sigset_ptr(w);
    A[2] = chance(w, 90) ? 8 : gen_int(w);
}

static void g_signalfd4(struct worker *w, struct call *c) {
    g_signalfd(w, c);
    A[3] = gen_flags(w, SFD_CLOEXEC | SFD_NONBLOCK) | (chance(w, 85) ? SFD_NONBLOCK : 0);
}

uint64_t gen_clockid(struct worker *w) {
    static const int64_t kClocks[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                      CLOCK_THREAD_CPUTIME_ID, CLOCK_MONOTONIC_RAW, CLOCK_REALTIME_COARSE,
                                      CLOCK_MONOTONIC_COARSE, CLOCK_BOOTTIME, CLOCK_REALTIME_ALARM,
                                      CLOCK_BOOTTIME_ALARM, CLOCK_TAI, 12, 16, -1, INT32_MIN,
                                      -6 /* the cpu clock of pid 0 */, -2 /* of thread 0 */,
                                      ~(0x40000000l << 3) /* of a pid that cannot exist */};
    return (uint64_t)PICK(w, kClocks);
}

static void g_timerfd_create(struct worker *w, struct call *c) {
    A[0] = gen_clockid(w);
    A[1] = gen_flags(w, TFD_CLOEXEC | TFD_NONBLOCK) | (chance(w, 85) ? TFD_NONBLOCK : 0);
}

static void g_timerfd_settime(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_TIMERFD);
    A[1] = gen_flags(w, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET);
    A[2] = gen_itimerspec(w, 0);
    A[3] = chance(w, 50) ? 0 : gen_out(w, sizeof(struct itimerspec));
}

static void g_timerfd_gettime(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_TIMERFD);
    A[1] = gen_out(w, sizeof(struct itimerspec));
}

static void g_poll(struct worker *w, struct call *c) {
    size_t n = below(w, 8);
    struct pollfd *p = scratch(w, (n + 1) * sizeof(*p));
    for (size_t i = 0; i < n; i++) {
        p[i].fd = chance(w, 10) ? -1 : gen_fd(w);
        p[i].events = (short)gen_flags(w, 0xffff);
        p[i].revents = (short)rnd(w);
    }
    A[0] = maybe_bad(w, p);
    A[1] = chance(w, 95) ? n : gen_int(w);
    A[2] = gen_timeout_ms(w);
}

static void g_ppoll(struct worker *w, struct call *c) {
    g_poll(w, c);
    A[2] = chance(w, 10) ? 0 : gen_timespec(w);
    A[3] = chance(w, 50) ? 0 : gen_sigset_ptr(w);
    A[4] = chance(w, 90) ? 8 : gen_int(w);
}

static uint64_t gen_fdset(struct worker *w, int nfds) {
    if (chance(w, 30))
        return 0;
    uint64_t *set = scratch(w, 128);
    memset(set, 0, 128);
    for (int i = 0; i < 4; i++) {
        int fd = gen_fd(w);
        if (fd >= 0 && fd < nfds && fd < 1024)
            set[fd / 64] |= 1ull << (fd % 64);
    }
    return maybe_bad(w, set);
}

static void g_select(struct worker *w, struct call *c) {
    int n = chance(w, 90) ? (int)below(w, 100) : (int)gen_int(w);
    A[0] = (uint64_t)(int64_t)n;
    for (int i = 1; i <= 3; i++)
        A[i] = gen_fdset(w, n);
    A[4] = chance(w, 5) ? 0 : gen_timeval(w);
}

static void g_pselect6(struct worker *w, struct call *c) {
    g_select(w, c);
    A[4] = chance(w, 5) ? 0 : gen_timespec(w);
    if (chance(w, 50)) {
        A[5] = 0;
    } else {
        struct {
            uint64_t set;
            uint64_t size;
        } *d = scratch(w, 16);
        d->set = gen_sigset_ptr(w);
        d->size = chance(w, 90) ? 8 : gen_int(w);
        A[5] = ctl(w, d);  // holds the sigset pointer
    }
}

// --- sockets ---

static void g_socket(struct worker *w, struct call *c) {
    // No AF_PACKET (raw frames), nothing that leaves the host.
    static const int64_t kDomains[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, 0, 44, -1, 0x10000};
    static const int64_t kTypes[] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW, SOCK_RDM, 0, 11};
    if (chance(w, 70)) {
        // The common kinds, which the other socket calls need.
        static const int64_t kCommon[][2] = {{AF_UNIX, SOCK_STREAM}, {AF_UNIX, SOCK_DGRAM},
                                             {AF_UNIX, SOCK_SEQPACKET}, {AF_INET, SOCK_STREAM},
                                             {AF_INET, SOCK_DGRAM}, {AF_INET6, SOCK_STREAM},
                                             {AF_INET6, SOCK_DGRAM}};
        int i = (int)below(w, sizeof(kCommon) / sizeof(kCommon[0]));
        A[0] = (uint64_t)kCommon[i][0];
        A[1] = (uint64_t)kCommon[i][1];
        A[2] = 0;
    } else {
        A[0] = (uint64_t)PICK(w, kDomains);
        A[1] = (uint64_t)PICK(w, kTypes);
        A[2] = chance(w, 60) ? 0 : PICK(w, ((const uint64_t[]){IPPROTO_TCP, IPPROTO_UDP, 1, 255, 0xffff}));
    }
    A[1] |= gen_flags(w, SOCK_CLOEXEC | SOCK_NONBLOCK) | (chance(w, 85) ? SOCK_NONBLOCK : 0);
}

static void g_socketpair(struct worker *w, struct call *c) {
    g_socket(w, c);
    if (chance(w, 70))
        A[0] = AF_UNIX;
    int *fds = scratch(w, 8);
    fds[0] = fds[1] = -1;
    A[3] = maybe_bad(w, fds);
    c->fd_out = A[3] == (uint64_t)fds ? fds : NULL;
}

static void g_bind(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_sockaddr(w, &A[2]);
}

static void g_listen(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = chance(w, 80) ? below(w, 16) : gen_int(w);
}

static void g_accept(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    if (chance(w, 30)) {
        A[1] = A[2] = 0;
    } else {
        A[1] = gen_out(w, 128);
        uint32_t *len = scratch(w, 4);
        *len = (uint32_t)(chance(w, 80) ? 128 : gen_int(w));
        A[2] = maybe_bad(w, len);
    }
}

static void g_accept4(struct worker *w, struct call *c) {
    g_accept(w, c);
    A[3] = gen_flags(w, SOCK_CLOEXEC | SOCK_NONBLOCK) | (chance(w, 85) ? SOCK_NONBLOCK : 0);
}

static void g_sockname(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_out(w, 128);
    uint32_t *len = scratch(w, 4);
    *len = (uint32_t)(chance(w, 80) ? below(w, 129) : gen_int(w));
    A[2] = maybe_bad(w, len);
}

static uint64_t gen_msg_flags(struct worker *w) {
    return gen_flags(w, MSG_OOB | MSG_PEEK | MSG_DONTROUTE | MSG_CTRUNC | MSG_TRUNC | MSG_DONTWAIT |
                            MSG_EOR | MSG_WAITALL | MSG_NOSIGNAL | MSG_MORE | MSG_CMSG_CLOEXEC |
                            MSG_ERRQUEUE | MSG_CONFIRM | MSG_ZEROCOPY | MSG_FASTOPEN) |
           (chance(w, 85) ? MSG_DONTWAIT : 0);
}

static void g_connect(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_sockaddr(w, &A[2]);
}

static void g_sendto(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    size_t room = 1 + below(w, 2048);
    A[1] = gen_in_rand(w, room);
    A[2] = gen_size(w, room);
    A[3] = gen_msg_flags(w);
    if (chance(w, 50)) {
        A[4] = A[5] = 0;
    } else {
        A[4] = gen_sockaddr(w, &A[5]);
    }
}

static void g_recvfrom(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    size_t room = 1 + below(w, 4096);
    A[1] = gen_out(w, room);
    A[2] = gen_size(w, room);
    A[3] = gen_msg_flags(w);
    if (chance(w, 50)) {
        A[4] = A[5] = 0;
    } else {
        A[4] = gen_out(w, 128);
        uint32_t *len = scratch(w, 4);
        *len = (uint32_t)(chance(w, 80) ? 128 : gen_int(w));
        A[5] = maybe_bad(w, len);
    }
}

static void g_sendmsg(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_msghdr(w, 0);
    A[2] = gen_msg_flags(w);
}

static void g_recvmsg(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_msghdr(w, 1);
    A[2] = gen_msg_flags(w);
}

static void p_recvmsg(struct worker *w, struct call *c, long ret) {
    // Fds that arrived with SCM_RIGHTS join the pool (they would leak otherwise). Only
    // what lies in the scratch buffer is read: the kernel may have written anything.
    uint64_t lo = (uint64_t)w->buf, hi = lo + BUF_SIZE;
    if (ret < 0 || A[1] < lo || A[1] + sizeof(struct msghdr) > hi)
        return;
    struct msghdr *m = (struct msghdr *)A[1];
    uint64_t ctl = (uint64_t)m->msg_control, len = m->msg_controllen;
    if (ctl < lo || ctl >= hi || len > hi - ctl || len < sizeof(struct cmsghdr))
        return;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(m); cm; cm = CMSG_NXTHDR(m, cm)) {
        if ((uint64_t)cm < lo || (uint64_t)cm + sizeof(*cm) > hi || cm->cmsg_len > hi - (uint64_t)cm)
            return;
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                pool_add(((int *)CMSG_DATA(cm))[i], K_ANY);
    }
}

static uint64_t gen_mmsg(struct worker *w, uint64_t *count, int writable) {
    size_t n = chance(w, 90) ? 1 + below(w, 3) : below(w, 8);
    struct mmsghdr *v = scratch(w, (n ? n : 1) * sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        uint64_t m = gen_msghdr(w, writable);
        if (m - (uint64_t)w->buf < BUF_SIZE)
            memcpy(&v[i].msg_hdr, (void *)m, sizeof(struct msghdr));
        v[i].msg_len = (unsigned)rnd(w);
    }
    *count = chance(w, 90) ? n : gen_int(w);
    return ctl(w, v);
}

static void g_sendmmsg(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_mmsg(w, &A[2], 0);
    A[3] = gen_msg_flags(w);
}

static void g_recvmmsg(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = gen_mmsg(w, &A[2], 1);
    A[3] = gen_msg_flags(w);
    A[4] = chance(w, 30) ? 0 : gen_timespec(w);
}

static void g_shutdown(struct worker *w, struct call *c) {
    A[0] = gen_fd_of(w, K_SOCK);
    A[1] = chance(w, 90) ? below(w, 3) : gen_int(w);
}

static void g_sockopt(struct worker *w, struct call *c, int set) {
    static const struct {
        int level, name;
    } kOpts[] = {{SOL_SOCKET, SO_REUSEADDR}, {SOL_SOCKET, SO_REUSEPORT}, {SOL_SOCKET, SO_KEEPALIVE},
                 {SOL_SOCKET, SO_RCVBUF}, {SOL_SOCKET, SO_SNDBUF}, {SOL_SOCKET, SO_RCVTIMEO},
                 {SOL_SOCKET, SO_SNDTIMEO}, {SOL_SOCKET, SO_LINGER}, {SOL_SOCKET, SO_ERROR},
                 {SOL_SOCKET, SO_TYPE}, {SOL_SOCKET, SO_PASSCRED}, {SOL_SOCKET, SO_PEERCRED},
                 {SOL_SOCKET, SO_BROADCAST}, {SOL_SOCKET, SO_OOBINLINE}, {SOL_SOCKET, SO_RCVLOWAT},
                 {SOL_SOCKET, SO_ACCEPTCONN}, {SOL_SOCKET, SO_DOMAIN}, {SOL_SOCKET, SO_PROTOCOL},
                 {SOL_SOCKET, SO_PRIORITY}, {SOL_SOCKET, SO_ATTACH_FILTER}, {SOL_SOCKET, SO_PEEK_OFF},
                 {IPPROTO_TCP, TCP_NODELAY}, {IPPROTO_TCP, TCP_MAXSEG}, {IPPROTO_TCP, TCP_CORK},
                 {IPPROTO_TCP, TCP_KEEPIDLE}, {IPPROTO_TCP, TCP_INFO}, {IPPROTO_TCP, TCP_USER_TIMEOUT},
                 {IPPROTO_IP, IP_TTL}, {IPPROTO_IP, IP_TOS}, {IPPROTO_IP, IP_RECVERR},
                 {IPPROTO_IPV6, IPV6_V6ONLY}, {IPPROTO_IPV6, IPV6_UNICAST_HOPS}, {0xffff, 1}, {-1, -1},
                 {SOL_SOCKET, 0x7fff}};
    A[0] = gen_fd_of(w, K_SOCK);
    int i = (int)below(w, sizeof(kOpts) / sizeof(kOpts[0]));
    A[1] = (uint64_t)(int64_t)kOpts[i].level;
    A[2] = (uint64_t)(int64_t)kOpts[i].name;
    size_t room = chance(w, 70) ? 4 : 1 + below(w, 256);
    if (set) {
        unsigned char *v = scratch_rand(w, room < 16 ? 16 : room);
        if (kOpts[i].name == SO_LINGER && kOpts[i].level == SOL_SOCKET)
            ((int *)v)[1] = (int)below(w, 2);  // a linger time in s: close would wait that long
        else if (room == 4 && chance(w, 70))
            *(int *)v = (int)gen_small(w, 1 << 16);
        A[3] = maybe_bad(w, v);
        A[4] = chance(w, 90) ? room : gen_int(w);
        if (kOpts[i].name == SO_LINGER && kOpts[i].level == SOL_SOCKET && A[4] >= 8)
            A[4] = 8;
    } else {
        A[3] = gen_out(w, room);
        uint32_t *len = scratch(w, 4);
        *len = (uint32_t)(chance(w, 80) ? room : gen_int(w));
        A[4] = maybe_bad(w, len);
    }
}

static void g_setsockopt(struct worker *w, struct call *c) { g_sockopt(w, c, 1); }
static void g_getsockopt(struct worker *w, struct call *c) { g_sockopt(w, c, 0); }

// The kind of fd a call creates, when fstat cannot tell (anonymous inodes).
enum fd_kind created_kind(long nr) {
    switch (nr) {
    case SYS_epoll_create:
    case SYS_epoll_create1: return K_EPOLL;
    case SYS_eventfd:
    case SYS_eventfd2: return K_EVENTFD;
    case SYS_timerfd_create: return K_TIMERFD;
    case SYS_signalfd:
    case SYS_signalfd4: return K_SIGNALFD;
    case SYS_pidfd_open: return K_PIDFD;
    case SYS_inotify_init1: return K_INOTIFY;
    default: return K_ANY;
    }
}

const struct sysdef g_calls_io[] = {
    // pipes, event objects, polling
    S(pipe, 10, 0, g_pipe, p_fd_pair),
    S(pipe2, 15, 0, g_pipe2, p_fd_pair),
    S(eventfd, 5, F_RETFD, g_eventfd, p_nonblocking),
    S(eventfd2, 10, F_RETFD, g_eventfd2, NULL),
    S(epoll_create, 5, F_RETFD, g_epoll_create, NULL),
    S(epoll_create1, 10, F_RETFD, g_epoll_create1, NULL),
    S(epoll_ctl, 25, 0, g_epoll_ctl, NULL),
    S(epoll_wait, 10, 0, g_epoll_wait, NULL),
    S(epoll_pwait, 8, 0, g_epoll_pwait, NULL),
    S(epoll_pwait2, 8, 0, g_epoll_pwait2, NULL),
    S(signalfd, 5, F_RETFD, g_signalfd, p_nonblocking),
    S(signalfd4, 8, F_RETFD, g_signalfd4, NULL),
    S(timerfd_create, 8, F_RETFD, g_timerfd_create, NULL),
    S(timerfd_settime, 10, 0, g_timerfd_settime, NULL),
    S(timerfd_gettime, 5, 0, g_timerfd_gettime, NULL),
    S(poll, 10, 0, g_poll, NULL),
    S(ppoll, 10, 0, g_ppoll, NULL),
    S(select, 8, 0, g_select, NULL),
    S(pselect6, 8, 0, g_pselect6, NULL),
    // sockets
    S(socket, 20, F_RETFD, g_socket, NULL),
    S(socketpair, 10, 0, g_socketpair, p_fd_pair),
    S(bind, 10, 0, g_bind, NULL),
    S(listen, 8, 0, g_listen, NULL),
    S(connect, 10, 0, g_connect, NULL),
    S(accept, 5, F_RETFD, g_accept, p_nonblocking),
    S(accept4, 5, F_RETFD, g_accept4, NULL),
    S(getsockname, 5, 0, g_sockname, NULL),
    S(getpeername, 5, 0, g_sockname, NULL),
    S(sendto, 15, F_SIZE2, g_sendto, NULL),
    S(recvfrom, 15, 0, g_recvfrom, NULL),  // MSG_TRUNC returns the full length
    S(sendmsg, 10, 0, g_sendmsg, NULL),
    S(recvmsg, 10, 0, g_recvmsg, p_recvmsg),
    S(sendmmsg, 5, 0, g_sendmmsg, NULL),
    S(recvmmsg, 5, 0, g_recvmmsg, NULL),
    S(shutdown, 5, 0, g_shutdown, NULL),
    S(setsockopt, 15, 0, g_setsockopt, NULL),
    S(getsockopt, 10, 0, g_getsockopt, NULL),
};
const int g_ncalls_io = (int)(sizeof(g_calls_io) / sizeof(g_calls_io[0]));
