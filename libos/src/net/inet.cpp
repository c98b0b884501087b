// AF_INET and AF_INET6 sockets: host TCP and UDP sockets through the PAL (see socket.h).
//
// The host socket never blocks. A blocking call tries the PAL, and on PAL_E_AGAIN waits on
// the socket's handle and the thread's wait event together (thread_block_on), so a signal
// or SO_RCVTIMEO/SO_SNDTIMEO ends the wait as Linux's would. Readiness for poll and epoll
// comes from the host (poll_handle()).
//
// The state a checkpoint must carry is the handle (a host fd, passed on) and the options
// kept here.
#include <carbyne/string.h>
#include <libos/heap.h>
#include <libos/pal.h>
#include <linux/fcntl.h>
#include <linux/in.h>
#include <linux/poll.h>

#include "../proc/wait.h"
#include "net_allow.h"
#include "poll.h"
#include "socket.h"

namespace carbyne::libos::net {

namespace {

constexpr uint32_t kSockaddrIn = 16, kSockaddrIn6 = 28, kSockaddrIn6Rfc2133 = 24;

// Option numbers of the IP, IPv6 and TCP levels this file knows.
// (IP_TOS, IP_TTL come from linux/in.h; the IPv6 ones are not included: linux/in6.h
// needs libc's.)
constexpr int IPV6_UNICAST_HOPS = 16, IPV6_V6ONLY = 26, IPV6_TCLASS = 67;
constexpr int TCP_NODELAY = 1, TCP_MAXSEG = 2, TCP_CORK = 3, TCP_KEEPIDLE = 4, TCP_KEEPINTVL = 5, TCP_KEEPCNT = 6,
              TCP_SYNCNT = 7, TCP_LINGER2 = 8, TCP_DEFER_ACCEPT = 9, TCP_WINDOW_CLAMP = 10, TCP_QUICKACK = 12,
              TCP_USER_TIMEOUT = 18, TCP_FASTOPEN = 23, TCP_NOTSENT_LOWAT = 25;

uint16_t load16be(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
void store16be(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
uint32_t load32be(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }
void store32be(uint8_t* p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = uint8_t(v >> (24 - 8 * i));
}

// The application's sockaddr_in/sockaddr_in6 as the PAL's. EINVAL for a short one,
// EAFNOSUPPORT for another family; AF_UNSPEC passes (connect dissolves with it).
Result<PalSockAddr> to_pal(const SockAddr& a) {
    PalSockAddr out;
    memset(&out, 0, sizeof(out));
    if (a.len < 2)
        return Errno(EINVAL);
    switch (a.family()) {
    case AF_UNSPEC: out.family = PAL_AF_UNSPEC; return out;
    case AF_INET:
        if (a.len < kSockaddrIn)
            return Errno(EINVAL);
        out.family = PAL_AF_INET;
        out.port = load16be(a.bytes + 2);
        memcpy(out.addr, a.bytes + 4, 4);
        return out;
    case AF_INET6:
        if (a.len < kSockaddrIn6Rfc2133)
            return Errno(EINVAL);
        out.family = PAL_AF_INET6;
        out.port = load16be(a.bytes + 2);
        out.flowinfo = load32be(a.bytes + 4);
        memcpy(out.addr, a.bytes + 8, 16);
        if (a.len >= kSockaddrIn6)
            memcpy(&out.scope_id, a.bytes + 24, 4);
        return out;
    default: return Errno(EAFNOSUPPORT);
    }
}

void from_pal(const PalSockAddr& p, SockAddr* out) {
    memset(out->bytes, 0, sizeof(out->bytes));
    switch (p.family) {
    case PAL_AF_INET:
        out->len = kSockaddrIn;
        out->bytes[0] = AF_INET;
        store16be(out->bytes + 2, p.port);
        memcpy(out->bytes + 4, p.addr, 4);
        break;
    case PAL_AF_INET6:
        out->len = kSockaddrIn6;
        out->bytes[0] = AF_INET6;
        store16be(out->bytes + 2, p.port);
        store32be(out->bytes + 4, p.flowinfo);
        memcpy(out->bytes + 8, p.addr, 16);
        memcpy(out->bytes + 24, &p.scope_id, 4);
        break;
    default: out->len = 0;  // no address (a stream socket's recvfrom)
    }
}

// (level, name) of an integer option the host keeps, as the PAL's.
bool pal_option(int level, int name, PalSockOption* out) {
    struct Map {
        int level, name;
        PalSockOption option;
    };
    static constexpr Map kMap[] = {
        {SOL_SOCKET, SO_REUSEADDR, PAL_SO_REUSEADDR},
        {SOL_SOCKET, SO_REUSEPORT, PAL_SO_REUSEPORT},
        {SOL_SOCKET, SO_KEEPALIVE, PAL_SO_KEEPALIVE},
        {SOL_SOCKET, SO_BROADCAST, PAL_SO_BROADCAST},
        {SOL_SOCKET, SO_OOBINLINE, PAL_SO_OOBINLINE},
        {SOL_SOCKET, SO_RCVBUF, PAL_SO_RCVBUF},
        {SOL_SOCKET, SO_SNDBUF, PAL_SO_SNDBUF},
        {SOL_SOCKET, SO_RCVLOWAT, PAL_SO_RCVLOWAT},
        {SOL_SOCKET, SO_ACCEPTCONN, PAL_SO_ACCEPTCONN},
        {SOL_TCP, TCP_NODELAY, PAL_TCP_NODELAY},
        {SOL_TCP, TCP_MAXSEG, PAL_TCP_MAXSEG},
        {SOL_TCP, TCP_CORK, PAL_TCP_CORK},
        {SOL_TCP, TCP_KEEPIDLE, PAL_TCP_KEEPIDLE},
        {SOL_TCP, TCP_KEEPINTVL, PAL_TCP_KEEPINTVL},
        {SOL_TCP, TCP_KEEPCNT, PAL_TCP_KEEPCNT},
        {SOL_TCP, TCP_SYNCNT, PAL_TCP_SYNCNT},
        {SOL_TCP, TCP_LINGER2, PAL_TCP_LINGER2},
        {SOL_TCP, TCP_DEFER_ACCEPT, PAL_TCP_DEFER_ACCEPT},
        {SOL_TCP, TCP_WINDOW_CLAMP, PAL_TCP_WINDOW_CLAMP},
        {SOL_TCP, TCP_QUICKACK, PAL_TCP_QUICKACK},
        {SOL_TCP, TCP_USER_TIMEOUT, PAL_TCP_USER_TIMEOUT},
        {SOL_TCP, TCP_FASTOPEN, PAL_TCP_FASTOPEN},
        {SOL_TCP, TCP_NOTSENT_LOWAT, PAL_TCP_NOTSENT_LOWAT},
        {SOL_IP, IP_TOS, PAL_IP_TOS},
        {SOL_IP, IP_TTL, PAL_IP_TTL},
        {SOL_IPV6, IPV6_V6ONLY, PAL_IPV6_V6ONLY},
        {SOL_IPV6, IPV6_UNICAST_HOPS, PAL_IPV6_UNICAST_HOPS},
        {SOL_IPV6, IPV6_TCLASS, PAL_IPV6_TCLASS},
    };
    for (const Map& m : kMap)
        if (m.level == level && m.name == name) {
            *out = m.option;
            return true;
        }
    return false;
}

class InetSocket final : public Socket {
public:
    InetSocket(int family, int type, int protocol, uint32_t flags, PalHandle* h)
        : Socket(family, type, protocol, flags), m_handle(h) {}
    ~InetSocket() override {
        poll_release();  // epoll entries hold this handle
        g_pal->stream_close(m_handle);
    }

    Result<void> bind(const SockAddr& addr) override {
        PalSockAddr a = TRY(to_pal(addr));
        if (a.family == PAL_AF_UNSPEC) {
            // Linux takes AF_UNSPEC for INADDR_ANY on an AF_INET socket (old programs).
            if (family() != AF_INET || addr.len < kSockaddrIn || load32be(addr.bytes + 4) != 0)
                return Errno(EAFNOSUPPORT);
            a.family = PAL_AF_INET;
            a.port = load16be(addr.bytes + 2);
        }
        TRY(net_allow_check(NetAllowOp::Bind, type(), a));
        return pal_result(g_pal->socket_bind(m_handle, &a));
    }

    Result<void> listen(int backlog) override {
        // An unbound socket is bound to the any address and an ephemeral port by listen:
        // that is a bind net.allow must allow.
        if (g_net_allow_set) {
            PalSockAddr local;
            if (g_pal->socket_name(m_handle, 0, &local) == PAL_OK && local.port == 0) {
                PalSockAddr any;
                memset(&any, 0, sizeof(any));
                any.family = family() == AF_INET ? PAL_AF_INET : PAL_AF_INET6;
                TRY(net_allow_check(NetAllowOp::Bind, type(), any));
            }
        }
        return pal_result(g_pal->socket_listen(m_handle, backlog));
    }

    Result<Socket*> accept(uint32_t flags, SockAddr* peer) override {
        uint64_t deadline = recv_deadline();
        for (;;) {
            PalHandle* h;
            PalSockAddr from;
            PalError e = g_pal->socket_accept(m_handle, &h, &from);
            if (e == PAL_OK) {
                Socket* s = make<InetSocket>(family(), type(), protocol(), flags, h);
                if (!s) {
                    g_pal->stream_close(h);
                    return Errno(ENOMEM);
                }
                if (peer)
                    from_pal(from, peer);
                return s;
            }
            if (e != PAL_E_AGAIN)
                return pal_result(e).error();
            if (nonblocking(0))
                return Errno(EAGAIN);
            TRY(host_wait(m_handle, PAL_WAIT_READ, deadline));
        }
    }

    Result<void> connect(const SockAddr& addr) override {
        PalSockAddr a = TRY(to_pal(addr));
        if (a.family != PAL_AF_UNSPEC)
            TRY(net_allow_check(NetAllowOp::Connect, type(), a));
        PalError e = g_pal->socket_connect(m_handle, &a);
        if (e != PAL_E_INPROGRESS)
            return pal_result(e);
        if (nonblocking(0))
            return Errno(EINPROGRESS);
        // Blocking: wait, then ask the host's connect again, which reports the outcome
        // and leaves the socket as Linux's blocking connect does (connected, so that the
        // next connect is EISCONN; or refused and closed, so that it can connect again).
        uint64_t deadline = send_deadline();
        for (;;) {
            TRY(host_wait(m_handle, PAL_WAIT_WRITE, deadline));
            e = g_pal->socket_connect(m_handle, &a);
            if (e == PAL_E_ISCONN)
                return {};
            if (e != PAL_E_ALREADY && e != PAL_E_INPROGRESS)
                return pal_result(e);
        }
    }

    Result<size_t> send(const IoSeq& data, const SockAddr* to, Ancillary*, int flags) override {
        PalSockAddr dest;
        if (to) {
            dest = TRY(to_pal(*to));
            TRY(net_allow_check(NetAllowOp::Connect, type(), dest));
        }
        return host_send(m_handle, data, to ? &dest : nullptr, flags);
    }

    Result<RecvResult> recv(const IoSeq& data, SockAddr* from, Ancillary*, int flags) override {
        PalSockAddr src;
        src.family = PAL_AF_UNSPEC;
        RecvResult out = TRY(host_recv(m_handle, data, from ? &src : nullptr, flags));
        if (from)
            from_pal(src, from);
        return out;
    }

    Result<void> shutdown(int how) override { return pal_result(g_pal->socket_shutdown(m_handle, how)); }

    Result<void> local_name(SockAddr* out) override { return name(0, out); }
    Result<void> peer_name(SockAddr* out) override { return name(1, out); }

    Result<void> set_option(int level, int name, const void* value, uint32_t len) override {
        PalSockOption option;
        if (level == SOL_SOCKET && name == SO_LINGER) {
            // Kept here too: Linux keeps l_linger while lingering is off.
            Linger l;
            if (len < sizeof(l))
                return Errno(EINVAL);
            memcpy(&l, value, sizeof(l));
            int64_t secs = l.onoff ? (l.linger < 0 ? 0 : l.linger) : -1;
            TRY(pal_result(g_pal->socket_set_option(m_handle, PAL_SO_LINGER, secs)));
            if (l.onoff)
                m_linger = Linger{1, l.linger < 0 ? 0 : l.linger};
            else
                m_linger.onoff = 0;
            return {};
        }
        if (level == SOL_SOCKET && (name == SO_PRIORITY || name == SO_PASSCRED))
            return record_int(name, value, len);
        if (!pal_option(level, name, &option))
            return own_level(level) ? Errno(ENOPROTOOPT) : Socket::set_option(level, name, value, len);
        if (option == PAL_SO_ACCEPTCONN)
            return Errno(ENOPROTOOPT);
        if (len < sizeof(int32_t))
            return Errno(EINVAL);
        int32_t v;
        memcpy(&v, value, sizeof(v));
        return pal_result(g_pal->socket_set_option(m_handle, option, v));
    }

    Result<uint32_t> get_option(int level, int name, void* value, uint32_t len) override {
        int64_t v = 0;
        if (level == SOL_SOCKET && name == SO_ERROR) {
            TRY(pal_result(g_pal->socket_get_option(m_handle, PAL_SO_ERROR, &v)));
            auto e = pal_result(PalError(v));
            return put(value, len, e.ok() ? 0 : e.error().code);
        }
        if (level == SOL_SOCKET && name == SO_LINGER) {
            uint32_t n = len < sizeof(m_linger) ? len : uint32_t(sizeof(m_linger));
            memcpy(value, &m_linger, n);
            return n;
        }
        if (level == SOL_SOCKET && name == SO_PEERCRED) {
            SockCreds none = {0, ~0u, ~0u};  // no peer credentials on these sockets
            uint32_t n = len < sizeof(none) ? len : uint32_t(sizeof(none));
            memcpy(value, &none, n);
            return n;
        }
        if (level == SOL_SOCKET && name == SO_PRIORITY)
            return put(value, len, m_priority);
        if (level == SOL_SOCKET && name == SO_PASSCRED)
            return put(value, len, m_passcred);
        if (level == SOL_SOCKET && name == SO_SNDLOWAT)
            return put(value, len, 1);
        PalSockOption option;
        if (!pal_option(level, name, &option))
            return own_level(level) ? Errno(ENOPROTOOPT) : Socket::get_option(level, name, value, len);
        TRY(pal_result(g_pal->socket_get_option(m_handle, option, &v)));
        return put(value, len, int32_t(v));
    }

    Result<uint64_t> readable_bytes() override {
        int64_t v = 0;  // a listening socket: the host's EINVAL, as Linux
        TRY(pal_result(g_pal->socket_get_option(m_handle, PAL_SO_INQ, &v)));
        return uint64_t(v);
    }

    Result<uint64_t> unsent_bytes() override {
        int64_t v = 0;
        TRY(pal_result(g_pal->socket_get_option(m_handle, PAL_SO_OUTQ, &v)));
        return uint64_t(v);
    }

    uint32_t poll_events() override { return poll_events_from_pal(host_ready_now(m_handle, PAL_WAIT_READ | PAL_WAIT_WRITE | PAL_WAIT_RDHUP)); }
    PalHandle* poll_handle() override { return m_handle; }
    // fork: the host socket is one open file description in both processes (a listener
    // that parent and children accept on, as prefork servers do).
    Result<PalHandle*> share_host() override { return m_handle; }

private:
    static uint32_t put(void* value, uint32_t len, int32_t v) {
        uint32_t n = len < sizeof(v) ? len : uint32_t(sizeof(v));
        memcpy(value, &v, n);
        return n;
    }

    struct Linger {
        int32_t onoff, linger;
    };

    // The option levels this family answers in full (an unknown option there is
    // ENOPROTOOPT; at an unknown level, the base's answer).
    bool own_level(int level) const {
        return level == SOL_IP || level == SOL_IPV6 || (level == SOL_TCP && type() == SOCK_STREAM) ||
               (level == SOL_UDP && type() == SOCK_DGRAM);
    }

    Result<void> record_int(int name, const void* value, uint32_t len) {
        if (len < sizeof(int32_t))
            return Errno(EINVAL);
        int32_t v;
        memcpy(&v, value, sizeof(v));
        if (name == SO_PRIORITY) {
            if (v < 0 || v > 6)
                return Errno(EPERM);  // above 6 needs CAP_NET_ADMIN
            m_priority = v;
        } else if (name == SO_PASSCRED) {
            m_passcred = v != 0;
        }
        return {};
    }

    Result<void> name(int peer, SockAddr* out) {
        PalSockAddr a;
        TRY(pal_result(g_pal->socket_name(m_handle, peer, &a)));
        from_pal(a, out);
        if (out->len == 0) {  // an unbound socket of this family: the family and zeros
            out->len = family() == AF_INET ? kSockaddrIn : kSockaddrIn6;
            out->bytes[0] = uint8_t(family());
        }
        return {};
    }

    PalHandle* m_handle;
    Linger m_linger = {0, 0};
    int32_t m_priority = 0;
    bool m_passcred = false;
};

}  // namespace

Result<Socket*> inet_socket_create(int family, int type, int protocol, uint32_t flags) {
    if (protocol < 0 || protocol >= IPPROTO_MAX)
        return Errno(EINVAL);
    PalSockType pal_type;
    switch (type) {
    case SOCK_STREAM:
        if (protocol != 0 && protocol != IPPROTO_TCP)
            return Errno(EPROTONOSUPPORT);
        pal_type = PAL_SOCK_STREAM;
        protocol = IPPROTO_TCP;
        break;
    case SOCK_DGRAM:
        if (protocol != 0 && protocol != IPPROTO_UDP)
            return Errno(EPROTONOSUPPORT);
        pal_type = PAL_SOCK_DGRAM;
        protocol = IPPROTO_UDP;
        break;
    default: return Errno(ESOCKTNOSUPPORT);  // no raw, SCTP or ping sockets over the PAL
    }
    PalHandle* h;
    PalError e = g_pal->socket_create(family == AF_INET ? PAL_AF_INET : PAL_AF_INET6, pal_type, &h);
    if (e != PAL_OK)
        return errno_from_pal(e);
    Socket* s = make<InetSocket>(family, type, protocol, flags, h);
    if (!s) {
        g_pal->stream_close(h);
        return Errno(ENOMEM);
    }
    return s;
}

Result<Socket*> inet_socket_adopt(int family, int type, int protocol, uint32_t flags, PalHandle* h) {
    if ((family != AF_INET && family != AF_INET6) || (type != SOCK_STREAM && type != SOCK_DGRAM))
        return Errno(EINVAL);
    Socket* s = make<InetSocket>(family, type, protocol, flags, h);
    if (!s)
        return Errno(ENOMEM);
    return s;
}

}  // namespace carbyne::libos::net
