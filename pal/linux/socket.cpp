// Host TCP/UDP sockets over IPv4 and IPv6. Every host socket is non-blocking: a call that
// would wait returns PAL_E_AGAIN (connect: PAL_E_INPROGRESS) and the LibOS waits for the
// handle with wait_for_many or a poller. Sends pass MSG_NOSIGNAL, so none raises SIGPIPE.
#include <asm/errno.h>
#include <asm/ioctls.h>
#include <asm/socket.h>
#include <asm/stat.h>
#include <linux/stat.h>
#include <asm/unistd.h>
#include <carbyne/string.h>
#include <linux/fcntl.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/sockios.h>
#include <linux/tcp.h>

#include "pal_internal.h"

namespace carbyne::pal {

namespace {

// What <sys/socket.h> would give; the uapi headers lack them.
constexpr uint16_t kAfUnspec = 0;
constexpr uint16_t kAfInet = 2;
constexpr uint16_t kAfInet6 = 10;
constexpr long kAfUnix = 1;
constexpr long kSockStream = 1;
constexpr long kSockDgram = 2;
constexpr long kSockSeqpacket = 5;
constexpr long kSockNonblock = O_NONBLOCK;
constexpr long kSockCloexec = O_CLOEXEC;
constexpr uint32_t kMsgOob = 0x1;
constexpr uint32_t kMsgPeek = 0x2;
constexpr uint32_t kMsgCtrunc = 0x8;
constexpr uint32_t kMsgTrunc = 0x20;
constexpr uint32_t kMsgDontwait = 0x40;
constexpr uint32_t kMsgNosignal = 0x4000;
constexpr uint32_t kMsgMore = 0x8000;

// Flags that mean nothing to a call are ignored, as the host ignores them; bits that are
// no PAL_MSG_* at all are PAL_E_INVAL.
constexpr uint32_t kKnownFlags = PAL_MSG_PEEK | PAL_MSG_OOB | PAL_MSG_MORE | PAL_MSG_TRUNC | PAL_MSG_CTRUNC;

// The host's struct msghdr (x86-64 user ABI).
struct HostMsg {
    void* name;
    uint32_t name_size;
    const PalIoVec* iov;  // the same layout as struct iovec
    size_t iov_count;
    void* control;
    size_t control_size;
    int flags;
};
static_assert(sizeof(HostMsg) == 56);
static_assert(sizeof(PalIoVec) == 16 && offsetof(PalIoVec, size) == 8);

struct HostLinger {
    int on;
    int seconds;
};

// A host socket address, as large as sockaddr_storage.
union HostAddr {
    uint16_t family;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
    uint8_t storage[128];
};

uint16_t swap16(uint16_t v) { return __builtin_bswap16(v); }
uint32_t swap32(uint32_t v) { return __builtin_bswap32(v); }

// The host fd of a socket handle, or -1.
int socket_fd(PalHandle* h) { return h && h->type == PAL_TYPE_SOCKET ? h->fd : -1; }

PalError addr_to_host(const PalSockAddr* a, HostAddr* out, uint32_t* size) {
    memset(out, 0, sizeof(*out));
    switch (a->family) {
    case PAL_AF_INET:
        out->in.sin_family = kAfInet;
        out->in.sin_port = swap16(a->port);
        memcpy(&out->in.sin_addr, a->addr, 4);
        *size = sizeof(out->in);
        return PAL_OK;
    case PAL_AF_INET6:
        out->in6.sin6_family = kAfInet6;
        out->in6.sin6_port = swap16(a->port);
        out->in6.sin6_flowinfo = swap32(a->flowinfo);
        out->in6.sin6_scope_id = a->scope_id;
        memcpy(&out->in6.sin6_addr, a->addr, 16);
        *size = sizeof(out->in6);
        return PAL_OK;
    case PAL_AF_UNSPEC:
        // Only connect gives it a meaning (dissolve the association); the host reads the family.
        out->family = kAfUnspec;
        *size = sizeof(out->in);
        return PAL_OK;
    default: return PAL_E_AFNOSUPPORT;
    }
}

// A host address of `size` bytes; a family the PAL does not know (or none, as a stream
// socket's recvmsg gives) becomes PAL_AF_UNSPEC.
void addr_from_host(const HostAddr& h, uint32_t size, PalSockAddr* out) {
    memset(out, 0, sizeof(*out));
    if (size >= sizeof(h.in) && h.family == kAfInet) {
        out->family = PAL_AF_INET;
        out->port = swap16(h.in.sin_port);
        memcpy(out->addr, &h.in.sin_addr, 4);
    } else if (size >= sizeof(h.in6) && h.family == kAfInet6) {
        out->family = PAL_AF_INET6;
        out->port = swap16(h.in6.sin6_port);
        out->flowinfo = swap32(h.in6.sin6_flowinfo);
        out->scope_id = h.in6.sin6_scope_id;
        memcpy(out->addr, &h.in6.sin6_addr, 16);
    } else {
        out->family = PAL_AF_UNSPEC;
    }
}

PalHandle* socket_handle(long fd) {
    PalHandle* h = handle_alloc(PAL_TYPE_SOCKET, int(fd));
    if (!h)
        host_syscall1(__NR_close, fd);
    return h;
}

// How a PalSockOption reaches the host.
enum class OptionKind : uint8_t {
    Int,         // a setsockopt/getsockopt int
    IntGetOnly,
    Linger,      // struct linger <-> -1 or seconds
    Error,       // SO_ERROR, converted to a PalError
    InQueue,     // ioctl SIOCINQ
    OutQueue,    // ioctl SIOCOUTQ
};

struct OptionInfo {
    int level;
    int name;
    OptionKind kind;
};

bool option_info(PalSockOption option, OptionInfo* out) {
    using K = OptionKind;
    switch (option) {
    case PAL_SO_REUSEADDR: *out = {SOL_SOCKET, SO_REUSEADDR, K::Int}; return true;
    case PAL_SO_REUSEPORT: *out = {SOL_SOCKET, SO_REUSEPORT, K::Int}; return true;
    case PAL_SO_KEEPALIVE: *out = {SOL_SOCKET, SO_KEEPALIVE, K::Int}; return true;
    case PAL_SO_BROADCAST: *out = {SOL_SOCKET, SO_BROADCAST, K::Int}; return true;
    case PAL_SO_OOBINLINE: *out = {SOL_SOCKET, SO_OOBINLINE, K::Int}; return true;
    case PAL_SO_RCVBUF: *out = {SOL_SOCKET, SO_RCVBUF, K::Int}; return true;
    case PAL_SO_SNDBUF: *out = {SOL_SOCKET, SO_SNDBUF, K::Int}; return true;
    case PAL_SO_RCVLOWAT: *out = {SOL_SOCKET, SO_RCVLOWAT, K::Int}; return true;
    case PAL_SO_LINGER: *out = {SOL_SOCKET, SO_LINGER, K::Linger}; return true;
    case PAL_SO_ERROR: *out = {SOL_SOCKET, SO_ERROR, K::Error}; return true;
    case PAL_SO_ACCEPTCONN: *out = {SOL_SOCKET, SO_ACCEPTCONN, K::IntGetOnly}; return true;
    case PAL_SO_INQ: *out = {0, 0, K::InQueue}; return true;
    case PAL_SO_OUTQ: *out = {0, 0, K::OutQueue}; return true;
    case PAL_TCP_NODELAY: *out = {IPPROTO_TCP, TCP_NODELAY, K::Int}; return true;
    case PAL_TCP_CORK: *out = {IPPROTO_TCP, TCP_CORK, K::Int}; return true;
    case PAL_TCP_KEEPIDLE: *out = {IPPROTO_TCP, TCP_KEEPIDLE, K::Int}; return true;
    case PAL_TCP_KEEPINTVL: *out = {IPPROTO_TCP, TCP_KEEPINTVL, K::Int}; return true;
    case PAL_TCP_KEEPCNT: *out = {IPPROTO_TCP, TCP_KEEPCNT, K::Int}; return true;
    case PAL_TCP_QUICKACK: *out = {IPPROTO_TCP, TCP_QUICKACK, K::Int}; return true;
    case PAL_TCP_DEFER_ACCEPT: *out = {IPPROTO_TCP, TCP_DEFER_ACCEPT, K::Int}; return true;
    case PAL_TCP_USER_TIMEOUT: *out = {IPPROTO_TCP, TCP_USER_TIMEOUT, K::Int}; return true;
    case PAL_TCP_MAXSEG: *out = {IPPROTO_TCP, TCP_MAXSEG, K::Int}; return true;
    case PAL_TCP_FASTOPEN: *out = {IPPROTO_TCP, TCP_FASTOPEN, K::Int}; return true;
    case PAL_TCP_SYNCNT: *out = {IPPROTO_TCP, TCP_SYNCNT, K::Int}; return true;
    case PAL_TCP_LINGER2: *out = {IPPROTO_TCP, TCP_LINGER2, K::Int}; return true;
    case PAL_TCP_WINDOW_CLAMP: *out = {IPPROTO_TCP, TCP_WINDOW_CLAMP, K::Int}; return true;
    case PAL_TCP_NOTSENT_LOWAT: *out = {IPPROTO_TCP, TCP_NOTSENT_LOWAT, K::Int}; return true;
    case PAL_IP_TOS: *out = {IPPROTO_IP, IP_TOS, K::Int}; return true;
    case PAL_IP_TTL: *out = {IPPROTO_IP, IP_TTL, K::Int}; return true;
    case PAL_IPV6_V6ONLY: *out = {IPPROTO_IPV6, IPV6_V6ONLY, K::Int}; return true;
    case PAL_IPV6_UNICAST_HOPS: *out = {IPPROTO_IPV6, IPV6_UNICAST_HOPS, K::Int}; return true;
    case PAL_IPV6_TCLASS: *out = {IPPROTO_IPV6, IPV6_TCLASS, K::Int}; return true;
    }
    return false;
}

}  // namespace

namespace {

// The host's SOCK_* for a PalSockType; 0 for none.
long host_sock_type(PalSockType type) {
    switch (type) {
    case PAL_SOCK_STREAM: return kSockStream;
    case PAL_SOCK_DGRAM: return kSockDgram;
    case PAL_SOCK_SEQPACKET: return kSockSeqpacket;
    default: return 0;
    }
}

}  // namespace

PalError socket_create(PalSockFamily family, PalSockType type, PalHandle** out) {
    if (family != PAL_AF_INET && family != PAL_AF_INET6)
        return PAL_E_AFNOSUPPORT;
    long host_type = type == PAL_SOCK_SEQPACKET ? 0 : host_sock_type(type);  // pairs only
    if (!host_type)
        return PAL_E_INVAL;
    long fd = host_syscall3(__NR_socket, family == PAL_AF_INET ? kAfInet : kAfInet6,
                            host_type | kSockNonblock | kSockCloexec, 0);
    if (host_failed(fd))
        return error_from_host(fd);
    PalHandle* h = socket_handle(fd);
    if (!h)
        return PAL_E_NOMEM;
    *out = h;
    return PAL_OK;
}

PalError socket_pair(PalSockType type, PalHandle** a, PalHandle** b) {
    if (!a || !b)
        return PAL_E_INVAL;
    long host_type = host_sock_type(type);
    if (!host_type)
        return PAL_E_INVAL;
    int pair[2];
    long ret = host_syscall4(__NR_socketpair, kAfUnix, host_type | kSockNonblock | kSockCloexec, 0, long(pair));
    if (host_failed(ret))
        return error_from_host(ret);
    PalHandle* x = socket_handle(pair[0]);  // (closes its fd when it fails)
    if (!x) {
        host_syscall1(__NR_close, pair[1]);
        return PAL_E_NOMEM;
    }
    PalHandle* y = socket_handle(pair[1]);
    if (!y) {
        stream_close(x);
        return PAL_E_NOMEM;
    }
    *a = x;
    *b = y;
    return PAL_OK;
}

PalError socket_bind(PalHandle* h, const PalSockAddr* addr) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    HostAddr host;
    uint32_t size;
    if (PalError err = addr_to_host(addr, &host, &size); err != PAL_OK)
        return err;
    return error_from_host(host_syscall3(__NR_bind, fd, long(&host), size));
}

PalError socket_listen(PalHandle* h, int backlog) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    return error_from_host(host_syscall2(__NR_listen, fd, backlog));
}

PalError socket_accept(PalHandle* h, PalHandle** out, PalSockAddr* peer) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    HostAddr host;
    uint32_t size = sizeof(host);
    long conn;
    do {
        conn = host_syscall4(__NR_accept4, fd, long(&host), long(&size), kSockNonblock | kSockCloexec);
    } while (conn == -EINTR);
    if (host_failed(conn))
        return error_from_host(conn);
    PalHandle* c = socket_handle(conn);
    if (!c)
        return PAL_E_NOMEM;
    if (peer)
        addr_from_host(host, size, peer);
    *out = c;
    return PAL_OK;
}

PalError socket_connect(PalHandle* h, const PalSockAddr* addr) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    HostAddr host;
    uint32_t size;
    if (PalError err = addr_to_host(addr, &host, &size); err != PAL_OK)
        return err;
    // A non-blocking connect does not sleep, so the host has no EINTR to give here.
    return error_from_host(host_syscall3(__NR_connect, fd, long(&host), size));
}

namespace {

// An SCM_RIGHTS control message with room for PAL_MAX_PASS_HANDLES fds (a cmsghdr, then
// the fds; its size rounded to 8 bytes).
struct RightsControl {
    size_t len;
    int level;
    int type;
    int fds[PAL_MAX_PASS_HANDLES + 1];
};
constexpr int kSolSocket = 1, kScmRights = 1;
constexpr size_t kCmsgHead = sizeof(size_t) + 2 * sizeof(int);
constexpr uint32_t kMsgCmsgCloexec = 0x40000000;

PalError send_message(PalHandle* h, HostMsg& msg, uint32_t flags, size_t* done) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    if (flags & ~kKnownFlags)
        return PAL_E_INVAL;
    uint32_t host_flags = kMsgDontwait | kMsgNosignal;
    if (flags & PAL_MSG_OOB)
        host_flags |= kMsgOob;
    if (flags & PAL_MSG_MORE)
        host_flags |= kMsgMore;
    long n;
    do {
        n = host_syscall3(__NR_sendmsg, fd, long(&msg), host_flags);
    } while (n == -EINTR);
    if (host_failed(n))
        return error_from_host(n);
    *done = size_t(n);
    return PAL_OK;
}

PalError recv_message(PalHandle* h, HostMsg& msg, uint32_t flags, size_t* done, uint32_t* out_flags) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    if (flags & ~kKnownFlags)
        return PAL_E_INVAL;
    uint32_t host_flags = kMsgDontwait | (msg.control ? kMsgCmsgCloexec : 0);
    if (flags & PAL_MSG_PEEK)
        host_flags |= kMsgPeek;
    if (flags & PAL_MSG_OOB)
        host_flags |= kMsgOob;
    if (flags & PAL_MSG_TRUNC)
        host_flags |= kMsgTrunc;
    long n;
    do {
        n = host_syscall3(__NR_recvmsg, fd, long(&msg), host_flags);
    } while (n == -EINTR);
    if (host_failed(n))
        return error_from_host(n);
    *done = size_t(n);
    if (out_flags) {
        uint32_t f = 0;
        if (uint32_t(msg.flags) & kMsgTrunc)
            f |= PAL_MSG_TRUNC;
        if (uint32_t(msg.flags) & kMsgCtrunc)
            f |= PAL_MSG_CTRUNC;
        *out_flags = f;
    }
    return PAL_OK;
}

}  // namespace

PalError socket_send(PalHandle* h, const PalIoVec* iov, size_t count, const PalSockAddr* to, uint32_t flags,
                     size_t* done) {
    HostAddr host;
    HostMsg msg = {nullptr, 0, iov, count, nullptr, 0, 0};
    if (to) {
        if (PalError err = addr_to_host(to, &host, &msg.name_size); err != PAL_OK)
            return err;
        msg.name = &host;
    }
    return send_message(h, msg, flags, done);
}

PalError socket_recv(PalHandle* h, const PalIoVec* iov, size_t count, PalSockAddr* from, uint32_t flags,
                     size_t* done, uint32_t* out_flags) {
    HostAddr host;
    HostMsg msg = {from ? &host : nullptr, from ? uint32_t(sizeof(host)) : 0, iov, count, nullptr, 0, 0};
    PalError err = recv_message(h, msg, flags, done, out_flags);
    if (err == PAL_OK && from)
        addr_from_host(host, msg.name_size, from);
    return err;
}

PalError socket_send_handles(PalHandle* h, const PalIoVec* iov, size_t count, PalHandle* const* handles,
                             size_t nhandles, uint32_t flags, size_t* done) {
    if (nhandles > PAL_MAX_PASS_HANDLES || (nhandles && !handles))
        return PAL_E_INVAL;
    RightsControl control = {kCmsgHead + nhandles * sizeof(int), kSolSocket, kScmRights, {}};
    for (size_t i = 0; i < nhandles; i++) {
        if (!handles[i] || handles[i]->fd < 0)
            return PAL_E_BADHANDLE;
        control.fds[i] = handles[i]->fd;
    }
    HostMsg msg = {nullptr, 0, iov, count, nhandles ? &control : nullptr,
                   nhandles ? (control.len + 7) & ~size_t(7) : 0, 0};
    return send_message(h, msg, flags, done);
}

PalError socket_recv_handles(PalHandle* h, const PalIoVec* iov, size_t count, uint32_t flags, size_t* done,
                             uint32_t* out_flags, PalHandle** handles, size_t cap, size_t* nhandles) {
    if (!nhandles || (cap && !handles))
        return PAL_E_INVAL;
    *nhandles = 0;
    RightsControl control = {};
    HostMsg msg = {nullptr, 0, iov, count, &control, sizeof(control), 0};
    uint32_t got_flags = 0;
    PalError err = recv_message(h, msg, flags, done, &got_flags);
    if (err != PAL_OK)
        return err;
    size_t fds = 0;
    if (msg.control_size >= kCmsgHead && control.level == kSolSocket && control.type == kScmRights &&
        control.len >= kCmsgHead && control.len <= msg.control_size)
        fds = (control.len - kCmsgHead) / sizeof(int);
    for (size_t i = 0; i < fds; i++) {
        int fd = control.fds[i];
        PalHandle* got = nullptr;
        if (*nhandles < cap) {
            struct stat st;
            long ret = host_syscall2(__NR_fstat, fd, long(&st));
            // No type bits: an anonymous inode, which the PAL passes only as a counter.
            PalStreamType type = (st.st_mode & S_IFMT) ? type_from_mode(st.st_mode) : PAL_TYPE_EVENT;
            got = host_failed(ret) ? nullptr : handle_alloc(type, fd);
        }
        if (!got) {
            host_syscall1(__NR_close, fd);
            got_flags |= PAL_MSG_CTRUNC;
            continue;
        }
        handles[(*nhandles)++] = got;
    }
    if (out_flags)
        *out_flags = got_flags;
    return PAL_OK;
}

PalError socket_shutdown(PalHandle* h, int how) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    if (how < 0 || how > 2)
        return PAL_E_INVAL;
    return error_from_host(host_syscall2(__NR_shutdown, fd, how));
}

PalError socket_name(PalHandle* h, int peer, PalSockAddr* out) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    HostAddr host;
    uint32_t size = sizeof(host);
    long ret = host_syscall3(peer ? __NR_getpeername : __NR_getsockname, fd, long(&host), long(&size));
    if (host_failed(ret))
        return error_from_host(ret);
    addr_from_host(host, size, out);
    return PAL_OK;
}

PalError socket_set_option(PalHandle* h, PalSockOption option, int64_t value) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    OptionInfo info;
    if (!option_info(option, &info))
        return PAL_E_NOPROTOOPT;
    switch (info.kind) {
    case OptionKind::Int: {
        if (value < INT32_MIN || value > INT32_MAX)
            return PAL_E_INVAL;
        int v = int(value);
        return error_from_host(host_syscall5(__NR_setsockopt, fd, info.level, info.name, long(&v), sizeof(v)));
    }
    case OptionKind::Linger: {
        if (value < -1 || value > INT32_MAX)
            return PAL_E_INVAL;
        HostLinger l = {value >= 0 ? 1 : 0, value >= 0 ? int(value) : 0};
        return error_from_host(host_syscall5(__NR_setsockopt, fd, info.level, info.name, long(&l), sizeof(l)));
    }
    case OptionKind::IntGetOnly:
    case OptionKind::Error:
    case OptionKind::InQueue:
    case OptionKind::OutQueue: return PAL_E_NOPROTOOPT;
    }
    return PAL_E_NOPROTOOPT;
}

PalError socket_get_option(PalHandle* h, PalSockOption option, int64_t* value) {
    int fd = socket_fd(h);
    if (fd < 0)
        return PAL_E_BADHANDLE;
    OptionInfo info;
    if (!option_info(option, &info))
        return PAL_E_NOPROTOOPT;
    if (info.kind == OptionKind::InQueue || info.kind == OptionKind::OutQueue) {
        int v = 0;
        long ret = host_syscall3(__NR_ioctl, fd, info.kind == OptionKind::InQueue ? SIOCINQ : SIOCOUTQ, long(&v));
        if (host_failed(ret))
            return error_from_host(ret);
        *value = v;
        return PAL_OK;
    }
    if (info.kind == OptionKind::Linger) {
        HostLinger l = {};
        uint32_t size = sizeof(l);
        long ret = host_syscall5(__NR_getsockopt, fd, info.level, info.name, long(&l), long(&size));
        if (host_failed(ret))
            return error_from_host(ret);
        *value = l.on ? l.seconds : -1;
        return PAL_OK;
    }
    int v = 0;
    uint32_t size = sizeof(v);
    long ret = host_syscall5(__NR_getsockopt, fd, info.level, info.name, long(&v), long(&size));
    if (host_failed(ret))
        return error_from_host(ret);
    *value = info.kind == OptionKind::Error ? int64_t(error_from_host(-long(v))) : int64_t(v);
    return PAL_OK;
}

}  // namespace carbyne::pal
