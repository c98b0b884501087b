// Sockets (TCP and UDP over 127.0.0.1 and ::1) and pollers.
//
// Every socket is non-blocking: the checks wait with wait_for_many or a poller, at most
// kWaitLimitNs, and fail instead of hanging.
#include <asm/unistd.h>

#include "pal_test.h"

namespace pal_test {

namespace {

constexpr uint64_t kCookieA = 0x1111000000000001ull;
constexpr uint64_t kCookieB = 0x2222000000000002ull;
constexpr int kUdpSockets = 5;

PalSockAddr loopback(PalSockFamily family, uint16_t port) {
    PalSockAddr a = {};
    a.family = uint16_t(family);
    a.port = port;
    if (family == PAL_AF_INET) {
        a.addr[0] = 127;
        a.addr[3] = 1;
    } else {
        a.addr[15] = 1;
    }
    return a;
}

// Whether the host itself can bind a TCP socket to ::1, asked with raw system calls (not
// through the PAL under test): 0 when it can, else the host's errno. Where it can, the
// IPv6 checks must pass whatever the PAL answers; where it cannot, they say they were
// skipped and why.
long host_ipv6_errno() {
    constexpr long kAfInet6 = 10, kSockStream = 1, kSockCloexec = 02000000;
    struct {
        uint16_t family, port;
        uint32_t flowinfo;
        uint8_t addr[16];
        uint32_t scope_id;
    } a = {};
    static_assert(sizeof(a) == 28, "struct sockaddr_in6");
    a.family = uint16_t(kAfInet6);
    a.addr[15] = 1;
    long fd = pal_test_raw_syscall3(__NR_socket, kAfInet6, kSockStream | kSockCloexec, 0);
    if (fd < 0)
        return -fd;
    long rc = pal_test_raw_syscall3(__NR_bind, fd, long(&a), long(sizeof(a)));
    pal_test_raw_syscall3(__NR_close, fd, 0, 0);
    return rc < 0 ? -rc : 0;
}

// True when `family` is IPv4, or IPv6 on a host that has ::1; else marks `c` skipped.
bool host_has(Check& c, PalSockFamily family) {
    if (family != PAL_AF_INET6)
        return true;
    long err = host_ipv6_errno();
    if (err)
        c.skip("the host has no IPv6 loopback (::1): socket or bind gave errno %ld", err);
    return err == 0;
}

bool is_loopback(const PalSockAddr& a, PalSockFamily family) {
    PalSockAddr want = loopback(family, a.port);
    return a.family == want.family && memcmp(a.addr, want.addr, family == PAL_AF_INET ? 4 : 16) == 0;
}

// The readiness of one handle, waiting up to kWaitLimitNs for any of `events`.
uint32_t wait_one(PalHandle* h, uint32_t events, uint64_t timeout_ns = kWaitLimitNs) {
    uint32_t ready = 0;
    PalError err = g_api->wait_for_many(1, &h, &events, &ready, timeout_ns);
    return err == PAL_OK ? ready : 0;
}

int64_t get_option(PalHandle* h, PalSockOption option, PalError* err) {
    int64_t v = -12345;
    *err = g_api->socket_get_option(h, option, &v);
    return v;
}

void close_all(PalHandle** hs, size_t count) {
    for (size_t i = 0; i < count; i++) {
        if (hs[i])
            g_api->stream_close(hs[i]);
        hs[i] = nullptr;
    }
}

bool send_all(Check& c, PalHandle* h, const void* buf, size_t size, const char* what) {
    PalIoVec iov = {const_cast<void*>(buf), size};
    size_t done = 0;
    return c.expect_ok(g_api->socket_send(h, &iov, 1, nullptr, 0, &done), what) &&
           c.expect(done == size, "%s: sent %zu bytes of %zu", what, done, size);
}

// Receives exactly `size` bytes (waiting for them to arrive) into buf.
bool recv_exact(Check& c, PalHandle* h, void* buf, size_t size, const char* what) {
    size_t got = 0;
    while (got < size) {
        if (!c.expect(wait_one(h, PAL_WAIT_READ) & PAL_WAIT_READ, "%s: not readable after %zu of %zu bytes", what, got,
                      size))
            return false;
        PalIoVec iov = {static_cast<uint8_t*>(buf) + got, size - got};
        size_t done = 0;
        uint32_t flags = 0;
        if (!c.expect_ok(g_api->socket_recv(h, &iov, 1, nullptr, 0, &done, &flags), what) ||
            !c.expect(done > 0, "%s: end of stream after %zu of %zu bytes", what, got, size))
            return false;
        got += done;
    }
    return true;
}

// A listener on the loopback address, a client connected to it and the server's end.
struct TcpPair {
    PalHandle* listener = nullptr;
    PalHandle* client = nullptr;
    PalHandle* server = nullptr;
    uint16_t port = 0;

    ~TcpPair() { close(); }
    void close() {
        PalHandle* hs[] = {listener, client, server};
        close_all(hs, 3);
        listener = client = server = nullptr;
    }
};

// A listener bound to the loopback address on a port the host picks; its port in *port.
PalError open_listener(Check& c, PalSockFamily family, PalHandle** out, uint16_t* port) {
    PalError err = g_api->socket_create(family, PAL_SOCK_STREAM, out);
    if (err != PAL_OK)
        return err;
    PalSockAddr addr = loopback(family, 0);
    PalSockAddr name = {};
    if ((err = g_api->socket_bind(*out, &addr)) != PAL_OK || (err = g_api->socket_listen(*out, 16)) != PAL_OK ||
        (err = g_api->socket_name(*out, 0, &name)) != PAL_OK) {
        g_api->stream_close(*out);
        *out = nullptr;
        return err;
    }
    c.expect(name.port != 0 && is_loopback(name, family), "the listener's name: family %u port %u", name.family,
             name.port);
    *port = name.port;
    return PAL_OK;
}

// Connects a pair the way the LibOS will: INPROGRESS, writable, SO_ERROR, accept.
bool open_tcp_pair(Check& c, PalSockFamily family, TcpPair* p) {
    if (!c.expect_ok(open_listener(c, family, &p->listener, &p->port), "the listener"))
        return false;
    PalHandle* none = nullptr;
    c.expect_error(g_api->socket_accept(p->listener, &none, nullptr), PAL_E_AGAIN, "accept with nothing pending");
    if (!c.expect_ok(g_api->socket_create(family, PAL_SOCK_STREAM, &p->client), "socket_create (client)"))
        return false;
    PalSockAddr to = loopback(family, p->port);
    PalError err = g_api->socket_connect(p->client, &to);
    c.expect(err == PAL_OK || err == PAL_E_INPROGRESS, "connect: %s, expected PAL_E_INPROGRESS or PAL_OK",
             error_name(err));
    c.expect(wait_one(p->client, PAL_WAIT_WRITE) & PAL_WAIT_WRITE, "the connecting socket never became writable");
    int64_t so_error = get_option(p->client, PAL_SO_ERROR, &err);
    c.expect_ok(err, "SO_ERROR");
    c.expect(so_error == PAL_OK, "SO_ERROR after connecting: %s", error_name(PalError(so_error)));
    c.expect(wait_one(p->listener, PAL_WAIT_READ) & PAL_WAIT_READ, "the listener never became readable");
    PalSockAddr peer = {};
    if (!c.expect_ok(g_api->socket_accept(p->listener, &p->server, &peer), "accept"))
        return false;
    PalSockAddr client_name = {}, client_peer = {}, server_name = {};
    c.expect_ok(g_api->socket_name(p->client, 0, &client_name), "socket_name (client)");
    c.expect_ok(g_api->socket_name(p->client, 1, &client_peer), "socket_name (client's peer)");
    c.expect_ok(g_api->socket_name(p->server, 0, &server_name), "socket_name (server)");
    c.expect(is_loopback(peer, family) && peer.port == client_name.port && client_name.port != 0,
             "accept's peer: family %u port %u, the client's name: family %u port %u", peer.family, peer.port,
             client_name.family, client_name.port);
    c.expect(is_loopback(client_peer, family) && client_peer.port == p->port && server_name.port == p->port,
             "the client's peer port %u, the server's port %u, the listener's %u", client_peer.port,
             server_name.port, p->port);
    return !c.failed();
}

// The connection check of one family: the pair, then data both ways.
void check_tcp(PalSockFamily family, const char* name) {
    Check c(name);
    if (!host_has(c, family))
        return;
    TcpPair p;
    if (!open_tcp_pair(c, family, &p))
        return;
    PalError err;
    c.expect(get_option(p.listener, PAL_SO_ACCEPTCONN, &err) == 1 && err == PAL_OK, "ACCEPTCONN on the listener");
    c.expect(get_option(p.client, PAL_SO_ACCEPTCONN, &err) == 0 && err == PAL_OK, "ACCEPTCONN on the client");
    PalStreamAttr attr = {};
    if (c.expect_ok(g_api->stream_attributes(p.server, &attr), "stream_attributes"))
        c.expect(attr.type == PAL_TYPE_SOCKET, "a socket's stream type %d", attr.type);

    // Two buffers out as one message, two buffers in.
    char hello[] = "hello, ", world[] = "world";
    PalIoVec out[2] = {{hello, 7}, {world, 5}};
    size_t done = 0;
    c.expect_ok(g_api->socket_send(p.client, out, 2, nullptr, 0, &done), "send of 2 buffers");
    c.expect(done == 12, "sent %zu bytes of 12", done);
    c.expect(wait_one(p.server, PAL_WAIT_READ) & PAL_WAIT_READ, "the server end never became readable");
    int64_t inq = get_option(p.server, PAL_SO_INQ, &err);
    c.expect(err == PAL_OK && inq == 12, "INQ %ld (%s), expected 12", inq, error_name(err));
    int64_t outq = get_option(p.client, PAL_SO_OUTQ, &err);
    c.expect(err == PAL_OK && outq >= 0 && outq <= 12, "OUTQ %ld (%s)", outq, error_name(err));
    char peek[32] = {};
    PalIoVec peek_iov = {peek, sizeof(peek)};
    uint32_t flags = 99;
    // MORE means nothing to a receive: ignored, as the host ignores it.
    c.expect_ok(g_api->socket_recv(p.server, &peek_iov, 1, nullptr, PAL_MSG_PEEK | PAL_MSG_MORE, &done, &flags),
                "recv PEEK");
    c.expect(done == 12 && memcmp(peek, "hello, world", 12) == 0 && flags == 0, "PEEK gave %zu bytes '%.12s' flags %u",
             done, peek, flags);
    char a[5] = {}, b[32] = {};
    PalIoVec in[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
    PalSockAddr from = {};
    from.family = 77;
    c.expect_ok(g_api->socket_recv(p.server, in, 2, &from, 0, &done, &flags), "recv into 2 buffers");
    c.expect(done == 12 && memcmp(a, "hello", 5) == 0 && memcmp(b, ", world", 7) == 0,
             "received %zu bytes '%.5s' + '%.7s'", done, a, b);
    c.expect(from.family == PAL_AF_UNSPEC, "a stream socket's `from` has family %u, expected PAL_AF_UNSPEC",
             from.family);
    c.expect_error(g_api->socket_recv(p.server, in, 2, nullptr, 0, &done, &flags), PAL_E_AGAIN, "recv with nothing queued");
    // And back, with stream_read/stream_write on the same handles.
    c.expect_ok(g_api->stream_write(p.server, PAL_NO_OFFSET, "pong", 4, &done), "stream_write on a socket");
    char pong[4] = {};
    if (recv_exact(c, p.client, pong, 4, "the reply"))
        c.expect(memcmp(pong, "pong", 4) == 0, "the client got '%.4s'", pong);
}

void check_tcp_shutdown() {
    Check c("socket-tcp-shutdown");
    TcpPair p;
    if (!open_tcp_pair(c, PAL_AF_INET, &p))
        return;
    c.expect_error(g_api->socket_shutdown(p.client, 3), PAL_E_INVAL, "shutdown how 3");
    c.expect_ok(g_api->socket_shutdown(p.client, 1), "shutdown of writing");
    uint32_t ready = wait_one(p.server, PAL_WAIT_READ | PAL_WAIT_RDHUP);
    c.expect((ready & PAL_WAIT_RDHUP) && (ready & PAL_WAIT_READ), "the peer's end reports %#x, expected READ|RDHUP",
             ready);
    ready = wait_one(p.server, PAL_WAIT_READ);
    c.expect(ready == PAL_WAIT_READ, "RDHUP not asked for: %#x, expected READ alone", ready);
    char buf[8];
    PalIoVec iov = {buf, sizeof(buf)};
    size_t done = 99;
    uint32_t flags = 0;
    c.expect_ok(g_api->socket_recv(p.server, &iov, 1, nullptr, 0, &done, &flags), "recv at the end");
    c.expect(done == 0, "recv at the end of the stream gave %zu bytes", done);
    // Half closed: the other way still works.
    send_all(c, p.server, "back", 4, "send on the half-closed connection");
    if (recv_exact(c, p.client, buf, 4, "recv on the half-closed connection"))
        c.expect(memcmp(buf, "back", 4) == 0, "got '%.4s'", buf);
    PalSockAddr bad = {};
    bad.family = 1;  // AF_UNIX: not a PAL family
    PalHandle* s = nullptr;
    if (c.expect_ok(g_api->socket_create(PAL_AF_INET, PAL_SOCK_STREAM, &s), "socket_create")) {
        c.expect_error(g_api->socket_shutdown(s, 2), PAL_E_NOTCONN, "shutdown of an unconnected socket");
        c.expect_error(g_api->socket_bind(s, &bad), PAL_E_AFNOSUPPORT, "bind to family 1");
        g_api->stream_close(s);
    }
}

void check_tcp_errors() {
    {
        Check c("socket-connect-refused");
        // A port that was just free: bound, never listened on, closed.
        PalHandle* s = nullptr;
        PalSockAddr addr = loopback(PAL_AF_INET, 0);
        PalSockAddr name = {};
        if (!c.expect_ok(g_api->socket_create(PAL_AF_INET, PAL_SOCK_STREAM, &s), "socket_create"))
            return;
        c.expect_ok(g_api->socket_bind(s, &addr), "bind");
        c.expect_ok(g_api->socket_name(s, 0, &name), "socket_name");
        g_api->stream_close(s);
        if (c.expect_ok(g_api->socket_create(PAL_AF_INET, PAL_SOCK_STREAM, &s), "socket_create")) {
            PalError err = g_api->socket_connect(s, &name);
            if (err == PAL_E_INPROGRESS) {
                uint32_t ready = wait_one(s, PAL_WAIT_WRITE);
                c.expect(ready & (PAL_WAIT_WRITE | PAL_WAIT_ERROR), "a refused connect reports %#x", ready);
                PalError opt_err;
                err = PalError(get_option(s, PAL_SO_ERROR, &opt_err));
                c.expect_ok(opt_err, "SO_ERROR");
                int64_t again = get_option(s, PAL_SO_ERROR, &opt_err);
                c.expect(opt_err == PAL_OK && again == PAL_OK, "SO_ERROR read twice: %s, expected PAL_OK (cleared)",
                         error_name(PalError(again)));
            }
            c.expect_error(err, PAL_E_CONNREFUSED, "connect to a closed port");
            g_api->stream_close(s);
        }
    }
    {
        Check c("socket-addrinuse");
        PalHandle* listener = nullptr;
        PalHandle* s = nullptr;
        uint16_t port = 0;
        if (c.expect_ok(open_listener(c, PAL_AF_INET, &listener, &port), "the listener") &&
            c.expect_ok(g_api->socket_create(PAL_AF_INET, PAL_SOCK_STREAM, &s), "socket_create")) {
            PalSockAddr addr = loopback(PAL_AF_INET, port);
            c.expect_error(g_api->socket_bind(s, &addr), PAL_E_ADDRINUSE, "bind to a port in use");
        }
        PalHandle* hs[] = {listener, s};
        close_all(hs, 2);
    }
    {
        // The peer is gone: sends fail with PAL_E_PIPE (or the reset), and no host SIGPIPE
        // ends the process (which reaching the end of this check shows).
        Check c("socket-send-peer-closed");
        TcpPair p;
        if (!open_tcp_pair(c, PAL_AF_INET, &p))
            return;
        g_api->stream_close(p.server);
        p.server = nullptr;
        PalError err = PAL_OK;
        uint64_t deadline = monotonic_ns() + kWaitLimitNs;
        int sends = 0;
        while (err == PAL_OK && monotonic_ns() < deadline) {
            size_t done = 0;
            PalIoVec iov = {const_cast<char*>("x"), 1};
            err = g_api->socket_send(p.client, &iov, 1, nullptr, 0, &done);
            sends++;
            if (err == PAL_OK)
                g_api->sleep(2 * kMsec, nullptr);
        }
        c.expect(err == PAL_E_PIPE || err == PAL_E_CONNRESET, "send %d to a closed peer: %s, expected PAL_E_PIPE or "
                 "PAL_E_CONNRESET", sends, error_name(err));
        uint32_t ready = wait_one(p.client, PAL_WAIT_READ, 0);
        c.expect(ready & PAL_WAIT_HANGUP, "the reset connection reports %#x, expected HANGUP", ready);
    }
}

void check_udp(PalSockFamily family, const char* name) {
    Check c(name);
    if (!host_has(c, family))
        return;
    PalHandle* hs[2] = {};
    PalSockAddr names[2] = {};
    for (int i = 0; i < 2; i++) {
        PalSockAddr addr = loopback(family, 0);
        PalError err = g_api->socket_create(family, PAL_SOCK_DGRAM, &hs[i]);
        if (err == PAL_OK)
            err = g_api->socket_bind(hs[i], &addr);
        if (!c.expect_ok(err, "a bound datagram socket") || !c.expect_ok(g_api->socket_name(hs[i], 0, &names[i]), "name")) {
            close_all(hs, 2);
            return;
        }
    }
    PalHandle *a = hs[0], *b = hs[1];
    char ping[] = "ping", pong[] = "-pong";
    PalIoVec out[2] = {{ping, 4}, {pong, 5}};
    size_t done = 0;
    uint32_t flags = 0;
    c.expect_error(g_api->socket_send(a, out, 2, nullptr, 0, &done), PAL_E_DESTADDRREQ, "send with no destination");
    c.expect_ok(g_api->socket_send(a, out, 2, &names[1], 0, &done), "sendto");
    c.expect(done == 9, "sendto took %zu bytes of 9", done);
    c.expect(wait_one(b, PAL_WAIT_READ) & PAL_WAIT_READ, "the receiver never became readable");
    PalError err;
    int64_t inq = get_option(b, PAL_SO_INQ, &err);
    c.expect(err == PAL_OK && inq == 9, "INQ %ld (%s), expected 9", inq, error_name(err));
    char buf[128] = {};
    PalIoVec in = {buf, sizeof(buf)};
    PalSockAddr from = {};
    c.expect_ok(g_api->socket_recv(b, &in, 1, &from, 0, &done, &flags), "recvfrom");
    c.expect(done == 9 && memcmp(buf, "ping-pong", 9) == 0 && flags == 0, "received %zu bytes '%.9s' flags %#x",
             done, buf, flags);
    c.expect(is_loopback(from, family) && from.port == names[0].port, "from: family %u port %u, the sender's port %u",
             from.family, from.port, names[0].port);

    // A datagram longer than the buffer: cut, and with PAL_MSG_TRUNC its real length.
    uint8_t big[100];
    memset(big, 'z', sizeof(big));
    PalIoVec big_iov = {big, sizeof(big)};
    PalIoVec small = {buf, 10};
    for (uint32_t want_real = 1; want_real <= 1; want_real--) {
        c.expect_ok(g_api->socket_send(a, &big_iov, 1, &names[1], 0, &done), "sendto 100 bytes");
        c.expect(wait_one(b, PAL_WAIT_READ) & PAL_WAIT_READ, "the receiver never became readable");
        c.expect_ok(g_api->socket_recv(b, &small, 1, nullptr, want_real ? PAL_MSG_TRUNC : 0, &done, &flags),
                    "recv into 10 bytes");
        c.expect(done == (want_real ? 100 : 10) && (flags & PAL_MSG_TRUNC),
                 "recv of 100 bytes into 10 %s PAL_MSG_TRUNC: %zu bytes, flags %#x", want_real ? "with" : "without",
                 done, flags);
    }
    c.expect_error(g_api->socket_recv(b, &in, 1, nullptr, 0, &done, &flags), PAL_E_AGAIN, "recv with nothing queued");

    // connect associates at once; PAL_AF_UNSPEC dissolves the association.
    c.expect_ok(g_api->socket_connect(a, &names[1]), "connect of a datagram socket");
    c.expect_ok(g_api->socket_send(a, out, 1, nullptr, 0, &done), "send on the associated socket");
    c.expect(wait_one(b, PAL_WAIT_READ) & PAL_WAIT_READ, "the receiver never became readable");
    c.expect_ok(g_api->socket_recv(b, &in, 1, &from, 0, &done, &flags), "recvfrom");
    c.expect(done == 4 && from.port == names[0].port, "%zu bytes from port %u", done, from.port);
    PalSockAddr unspec = {};
    c.expect_ok(g_api->socket_connect(a, &unspec), "connect to PAL_AF_UNSPEC");
    c.expect_error(g_api->socket_send(a, out, 1, nullptr, 0, &done), PAL_E_DESTADDRREQ, "send after dissolving");
    close_all(hs, 2);
}

void check_options() {
    Check c("socket-options");
    PalHandle* s = nullptr;
    PalHandle* s6 = nullptr;
    PalHandle* ev = nullptr;
    PalError err = PAL_OK;
    if (c.expect_ok(g_api->socket_create(PAL_AF_INET, PAL_SOCK_STREAM, &s), "socket_create")) {
        struct Flag {
            PalSockOption option;
            const char* name;
        };
        const Flag flags[] = {{PAL_TCP_NODELAY, "TCP_NODELAY"}, {PAL_SO_REUSEADDR, "SO_REUSEADDR"},
                              {PAL_SO_KEEPALIVE, "SO_KEEPALIVE"}};
        for (Flag f : flags) {
            int64_t before = get_option(s, f.option, &err);
            c.expect(err == PAL_OK && before == 0, "%s at first: %ld (%s)", f.name, before, error_name(err));
            c.expect_ok(g_api->socket_set_option(s, f.option, 1), f.name);
            int64_t after = get_option(s, f.option, &err);
            c.expect(err == PAL_OK && after == 1, "%s after setting it: %ld (%s)", f.name, after, error_name(err));
        }
        c.expect_ok(g_api->socket_set_option(s, PAL_SO_RCVBUF, 8192), "SO_RCVBUF");
        int64_t rcvbuf = get_option(s, PAL_SO_RCVBUF, &err);
        c.expect(err == PAL_OK && rcvbuf >= 8192, "SO_RCVBUF %ld after asking for 8192 (%s)", rcvbuf, error_name(err));
        int64_t linger = get_option(s, PAL_SO_LINGER, &err);
        c.expect(err == PAL_OK && linger == -1, "SO_LINGER at first: %ld (%s), expected -1", linger, error_name(err));
        c.expect_ok(g_api->socket_set_option(s, PAL_SO_LINGER, 5), "SO_LINGER 5");
        linger = get_option(s, PAL_SO_LINGER, &err);
        c.expect(err == PAL_OK && linger == 5, "SO_LINGER %ld, expected 5", linger);
        c.expect_ok(g_api->socket_set_option(s, PAL_SO_LINGER, 0), "SO_LINGER 0");
        linger = get_option(s, PAL_SO_LINGER, &err);
        c.expect(err == PAL_OK && linger == 0, "SO_LINGER %ld, expected 0 (on, reset at close)", linger);
        c.expect_ok(g_api->socket_set_option(s, PAL_SO_LINGER, -1), "SO_LINGER off");
        linger = get_option(s, PAL_SO_LINGER, &err);
        c.expect(err == PAL_OK && linger == -1, "SO_LINGER %ld after turning it off", linger);
        c.expect_error(g_api->socket_set_option(s, PAL_SO_LINGER, -2), PAL_E_INVAL, "SO_LINGER -2");
        c.expect_ok(g_api->socket_set_option(s, PAL_TCP_USER_TIMEOUT, 1234), "TCP_USER_TIMEOUT");
        int64_t timeout = get_option(s, PAL_TCP_USER_TIMEOUT, &err);
        c.expect(err == PAL_OK && timeout == 1234, "TCP_USER_TIMEOUT %ld", timeout);
        c.expect_error(g_api->socket_set_option(s, PAL_TCP_USER_TIMEOUT, int64_t(1) << 40), PAL_E_INVAL,
                       "a value past int");
        c.expect_error(g_api->socket_set_option(s, PAL_SO_ERROR, 0), PAL_E_NOPROTOOPT, "setting SO_ERROR");
        c.expect_error(g_api->socket_set_option(s, PAL_SO_INQ, 0), PAL_E_NOPROTOOPT, "setting SO_INQ");
        c.expect_error(g_api->socket_set_option(s, PalSockOption(999), 1), PAL_E_NOPROTOOPT, "option 999");
        int64_t v;
        c.expect_error(g_api->socket_get_option(s, PalSockOption(999), &v), PAL_E_NOPROTOOPT, "get option 999");
        c.expect_error(g_api->socket_set_option(s, PAL_IPV6_V6ONLY, 1), PAL_E_NOPROTOOPT, "IPV6_V6ONLY on IPv4");
        int64_t so_error = get_option(s, PAL_SO_ERROR, &err);
        c.expect(err == PAL_OK && so_error == PAL_OK, "SO_ERROR of a fresh socket: %ld", so_error);
    }
    if (c.expect_ok(g_api->socket_create(PAL_AF_INET6, PAL_SOCK_STREAM, &s6), "socket_create (IPv6)")) {
        for (int64_t want = 1; want >= 0; want--) {
            c.expect_ok(g_api->socket_set_option(s6, PAL_IPV6_V6ONLY, want), "IPV6_V6ONLY");
            int64_t got = get_option(s6, PAL_IPV6_V6ONLY, &err);
            c.expect(err == PAL_OK && got == want, "IPV6_V6ONLY %ld after setting %ld (%s)", got, want,
                     error_name(err));
        }
    }
    if (c.expect_ok(g_api->event_create(0, 0, &ev), "event_create")) {
        int64_t v;
        c.expect_error(g_api->socket_get_option(ev, PAL_TCP_NODELAY, &v), PAL_E_BADHANDLE, "an option of an event");
        PalSockAddr a = loopback(PAL_AF_INET, 0);
        c.expect_error(g_api->socket_bind(ev, &a), PAL_E_BADHANDLE, "bind of an event");
        c.expect_error(g_api->socket_listen(nullptr, 1), PAL_E_BADHANDLE, "listen of NULL");
    }
    c.expect_error(g_api->socket_create(PalSockFamily(1), PAL_SOCK_STREAM, &ev), PAL_E_AFNOSUPPORT, "family 1");
    c.expect_error(g_api->socket_create(PAL_AF_INET, PalSockType(5), &ev), PAL_E_INVAL, "type 5");
    if (s) {
        size_t done;
        uint32_t flags;
        PalIoVec iov = {&done, 1};
        c.expect_error(g_api->socket_send(s, &iov, 1, nullptr, 1u << 20, &done), PAL_E_INVAL, "send flag 1 << 20");
        c.expect_error(g_api->socket_recv(s, &iov, 1, nullptr, 1u << 20, &done, &flags), PAL_E_INVAL,
                       "recv flag 1 << 20");
    }
    PalHandle* hs[] = {s, s6, ev};
    close_all(hs, 3);
}

// Waits on the poller; returns the count, or -1 after recording the error.
int poll_once(Check& c, PalHandle* poller, PalPollEvent* out, size_t max, uint64_t timeout_ns) {
    size_t count = 0;
    PalError err = g_api->poller_wait(poller, out, max, &count, timeout_ns);
    if (!c.expect_ok(err, "poller_wait"))
        return -1;
    return int(count);
}

// Sends one byte and reads it back on the other end, so that the end is not readable.
void drain(PalHandle* h) {
    char buf[64];
    PalIoVec iov = {buf, sizeof(buf)};
    size_t done;
    uint32_t flags;
    while (g_api->socket_recv(h, &iov, 1, nullptr, 0, &done, &flags) == PAL_OK && done > 0) {
    }
}

struct PollerWaiter {
    PalHandle* poller;
    int64_t id;
    PalError result;
    int32_t exited;
};

void poller_waiting_thread(void* arg) {
    auto* w = static_cast<PollerWaiter*>(arg);
    __atomic_store_n(&w->id, g_api->thread_id(), __ATOMIC_RELEASE);
    PalPollEvent ev;
    size_t count = 0;
    w->result = g_api->poller_wait(w->poller, &ev, 1, &count, kWaitLimitNs);
    g_api->thread_exit(&w->exited);
}

void check_pollers() {
    TcpPair p1, p2;
    PalHandle* poller = nullptr;
    PalPollEvent evs[8];
    {
        Check c("poller-ready-cookie");
        if (!open_tcp_pair(c, PAL_AF_INET, &p1) || !open_tcp_pair(c, PAL_AF_INET, &p2) ||
            !c.expect_ok(g_api->poller_create(&poller), "poller_create"))
            return;
        c.expect_ok(g_api->poller_ctl(poller, p1.server, PAL_WAIT_READ, kCookieA), "poller_ctl add A");
        c.expect_ok(g_api->poller_ctl(poller, p2.server, PAL_WAIT_READ, kCookieB), "poller_ctl add B");
        send_all(c, p2.client, "b", 1, "send to B");
        int n = poll_once(c, poller, evs, 8, kWaitLimitNs);
        c.expect(n == 1 && evs[0].cookie == kCookieB && evs[0].events == PAL_WAIT_READ,
                 "%d ready, first cookie %#lx events %#x; expected B's cookie %#lx with READ", n,
                 n > 0 ? evs[0].cookie : 0, n > 0 ? evs[0].events : 0, kCookieB);
        // Level-triggered: still ready while unread.
        n = poll_once(c, poller, evs, 8, 0);
        c.expect(n == 1 && evs[0].cookie == kCookieB, "level-triggered, unread: %d ready", n);
        drain(p2.server);
        n = poll_once(c, poller, evs, 8, 0);
        c.expect(n == 0, "%d ready after reading", n);
    }
    if (!poller)
        return;
    {
        Check c("poller-timeout");
        uint64_t start = monotonic_ns();
        int n = poll_once(c, poller, evs, 8, 20 * kMsec);
        uint64_t took = monotonic_ns() - start;
        c.expect(n == 0, "%d ready, expected 0 (PAL_OK with *count 0 on a timeout)", n);
        c.expect(took >= 20 * kMsec && took < 5 * kSec, "a 20 ms poller_wait took %lu ns", took);
        start = monotonic_ns();
        n = poll_once(c, poller, evs, 8, 0);
        took = monotonic_ns() - start;
        c.expect(n == 0 && took < kSec, "timeout 0: %d ready after %lu ns", n, took);
    }
    {
        Check c("poller-wait-for-many");
        PalHandle* ev = nullptr;
        if (c.expect_ok(g_api->event_create(0, 0, &ev), "event_create")) {
            PalHandle* hs[2] = {poller, ev};
            uint32_t want[2] = {PAL_WAIT_READ, PAL_WAIT_READ};
            uint32_t ready[2] = {};
            c.expect_error(g_api->wait_for_many(2, hs, want, ready, 0), PAL_E_TIMEDOUT, "nothing ready");
            send_all(c, p1.client, "a", 1, "send to A");
            c.expect_ok(g_api->wait_for_many(2, hs, want, ready, kWaitLimitNs), "wait_for_many");
            c.expect(ready[0] == PAL_WAIT_READ && ready[1] == 0, "ready %#x (poller) %#x (event)", ready[0], ready[1]);
            int n = poll_once(c, poller, evs, 8, 0);
            c.expect(n == 1 && evs[0].cookie == kCookieA, "%d ready, cookie %#lx", n, n > 0 ? evs[0].cookie : 0);
            drain(p1.server);
            // An event in a poller: ready while set.
            c.expect_ok(g_api->poller_ctl(poller, ev, PAL_WAIT_READ, 7), "poller_ctl add an event");
            g_api->event_set(ev);
            n = poll_once(c, poller, evs, 8, kWaitLimitNs);
            c.expect(n == 1 && evs[0].cookie == 7 && evs[0].events == PAL_WAIT_READ, "a set event: %d ready, cookie %lu",
                     n, n > 0 ? evs[0].cookie : 0);
            g_api->event_clear(ev);
            c.expect(poll_once(c, poller, evs, 8, 0) == 0, "the cleared event is still ready");
            c.expect_ok(g_api->poller_ctl(poller, ev, 0, 0), "poller_ctl remove the event");
            g_api->stream_close(ev);
        }
    }
    {
        Check c("poller-edge");
        c.expect_ok(g_api->poller_ctl(poller, p1.server, uint32_t(PAL_WAIT_READ) | PAL_POLL_EDGE, kCookieA),
                    "poller_ctl READ|EDGE on a handle already there");
        send_all(c, p1.client, "1", 1, "send");
        int n = poll_once(c, poller, evs, 8, kWaitLimitNs);
        c.expect(n == 1 && evs[0].cookie == kCookieA, "%d ready after a send", n);
        n = poll_once(c, poller, evs, 8, 0);
        c.expect(n == 0, "edge-triggered: reported again (%d) with no new data", n);
        send_all(c, p1.client, "2", 1, "send");
        n = poll_once(c, poller, evs, 8, kWaitLimitNs);
        c.expect(n == 1 && evs[0].cookie == kCookieA, "edge-triggered: new data gave %d ready", n);
        drain(p1.server);
    }
    {
        Check c("poller-oneshot");
        c.expect_ok(g_api->poller_ctl(poller, p2.server, uint32_t(PAL_WAIT_READ) | PAL_POLL_ONESHOT, kCookieB),
                    "poller_ctl READ|ONESHOT");
        send_all(c, p2.client, "1", 1, "send");
        int n = poll_once(c, poller, evs, 8, kWaitLimitNs);
        c.expect(n == 1 && evs[0].cookie == kCookieB, "%d ready after a send", n);
        send_all(c, p2.client, "2", 1, "send");
        g_api->sleep(5 * kMsec, nullptr);
        n = poll_once(c, poller, evs, 8, 0);
        c.expect(n == 0, "one-shot: %d ready after the first report", n);
        c.expect_ok(g_api->poller_ctl(poller, p2.server, uint32_t(PAL_WAIT_READ) | PAL_POLL_ONESHOT, kCookieB), "re-arm");
        n = poll_once(c, poller, evs, 8, 0);
        c.expect(n == 1 && evs[0].cookie == kCookieB, "re-armed with data queued: %d ready", n);
        drain(p2.server);
    }
    {
        Check c("poller-remove");
        c.expect_ok(g_api->poller_ctl(poller, p1.server, 0, 0), "remove A");
        c.expect_ok(g_api->poller_ctl(poller, p1.server, 0, 0), "remove A again");
        send_all(c, p1.client, "x", 1, "send to A");
        c.expect(wait_one(p1.server, PAL_WAIT_READ) & PAL_WAIT_READ, "A never became readable");
        int n = poll_once(c, poller, evs, 8, 0);
        c.expect(n == 0, "%d ready after removing A (cookie %#lx)", n, n > 0 ? evs[0].cookie : 0);
        drain(p1.server);
        c.expect_ok(g_api->poller_ctl(poller, p2.server, 0, 0), "remove B");
    }
    {
        Check c("poller-write-rdhup");
        c.expect_ok(g_api->poller_ctl(poller, p1.client, PAL_WAIT_WRITE, 3), "add for WRITE");
        int n = poll_once(c, poller, evs, 8, kWaitLimitNs);
        c.expect(n == 1 && evs[0].cookie == 3 && evs[0].events == PAL_WAIT_WRITE, "%d ready, events %#x", n,
                 n > 0 ? evs[0].events : 0);
        c.expect_ok(g_api->poller_ctl(poller, p1.client, 0, 0), "remove");
        c.expect_ok(g_api->poller_ctl(poller, p2.server, PAL_WAIT_READ | PAL_WAIT_RDHUP, kCookieB), "add READ|RDHUP");
        c.expect(poll_once(c, poller, evs, 8, 0) == 0, "ready before the shutdown");
        c.expect_ok(g_api->socket_shutdown(p2.client, 1), "shutdown of writing");
        n = poll_once(c, poller, evs, 8, kWaitLimitNs);
        c.expect(n == 1 && evs[0].cookie == kCookieB && (evs[0].events & PAL_WAIT_RDHUP) &&
                     (evs[0].events & PAL_WAIT_READ),
                 "%d ready, events %#x, expected READ|RDHUP", n, n > 0 ? evs[0].events : 0);
        c.expect_ok(g_api->poller_ctl(poller, p2.server, 0, 0), "remove");
    }
    {
        // Several ready handles at once: each cookie exactly once, and `max` honoured.
        Check c("poller-many");
        PalHandle* hs[kUdpSockets] = {};
        PalSockAddr names[kUdpSockets] = {};
        for (int i = 0; i < kUdpSockets; i++) {
            PalSockAddr addr = loopback(PAL_AF_INET, 0);
            if (!c.expect_ok(g_api->socket_create(PAL_AF_INET, PAL_SOCK_DGRAM, &hs[i]), "socket_create") ||
                !c.expect_ok(g_api->socket_bind(hs[i], &addr), "bind") ||
                !c.expect_ok(g_api->socket_name(hs[i], 0, &names[i]), "socket_name"))
                break;
            c.expect_ok(g_api->poller_ctl(poller, hs[i], PAL_WAIT_READ, 100 + uint64_t(i)), "poller_ctl");
        }
        if (!c.failed()) {
            for (int i = 0; i < kUdpSockets; i++) {
                PalIoVec iov = {&i, sizeof(i)};
                size_t done;
                c.expect_ok(g_api->socket_send(hs[0], &iov, 1, &names[i], 0, &done), "sendto");
            }
            for (int i = 0; i < kUdpSockets; i++)
                c.expect(wait_one(hs[i], PAL_WAIT_READ) & PAL_WAIT_READ, "socket %d never became readable", i);
            int n = poll_once(c, poller, evs, 2, 0);
            c.expect(n == 2, "max 2: %d ready", n);
            n = poll_once(c, poller, evs, 8, 0);
            uint32_t seen = 0;
            for (int i = 0; i < n; i++) {
                uint64_t k = evs[i].cookie - 100;
                if (c.expect(k < kUdpSockets && evs[i].events == PAL_WAIT_READ, "event %d: cookie %lu events %#x", i,
                             evs[i].cookie, evs[i].events))
                    seen |= 1u << k;
            }
            c.expect(n == kUdpSockets && seen == (1u << kUdpSockets) - 1, "%d ready, cookies seen %#x", n, seen);
        }
        close_all(hs, kUdpSockets);
        // Closed handles leave the poller.
        c.expect(poll_once(c, poller, evs, 8, 0) == 0, "closed sockets still reported");
    }
    {
        Check c("poller-wait-interrupted");
        PollerWaiter w = {poller, 0, PAL_OK, 1};
        if (c.expect_ok(g_api->thread_create(poller_waiting_thread, &w), "thread_create")) {
            uint64_t deadline = monotonic_ns() + kWaitLimitNs;
            while (!__atomic_load_n(&w.id, __ATOMIC_ACQUIRE) && monotonic_ns() < deadline)
                g_api->sleep(kMsec, nullptr);
            g_api->sleep(20 * kMsec, nullptr);  // let it block
            uint64_t start = monotonic_ns();
            while (__atomic_load_n(&w.exited, __ATOMIC_ACQUIRE) && monotonic_ns() - start < kWaitLimitNs) {
                c.expect_ok(g_api->thread_interrupt(w.id), "thread_interrupt");
                g_api->sleep(5 * kMsec, nullptr);
            }
            c.expect(wait_for_word(&w.exited, 0), "the waiting thread did not exit");
            c.expect_error(w.result, PAL_E_INTR, "the interrupted poller_wait");
        }
    }
    {
        Check c("poller-bad-arguments");
        PalHandle* ev = nullptr;
        size_t count = 0;
        c.expect_error(g_api->poller_wait(poller, evs, 0, &count, 0), PAL_E_INVAL, "max 0");
        c.expect_error(g_api->poller_wait(p1.client, evs, 8, &count, 0), PAL_E_BADHANDLE, "poller_wait on a socket");
        c.expect_error(g_api->poller_ctl(p1.client, p2.client, PAL_WAIT_READ, 0), PAL_E_BADHANDLE,
                       "poller_ctl on a socket");
        c.expect_error(g_api->poller_ctl(poller, nullptr, PAL_WAIT_READ, 0), PAL_E_BADHANDLE, "poller_ctl of NULL");
        c.expect_error(g_api->poller_ctl(poller, p1.client, 1u << 20, 0), PAL_E_INVAL, "unknown event bits");
        if (c.expect_ok(g_api->event_create(0, 0, &ev), "event_create")) {
            c.expect_error(g_api->poller_wait(ev, evs, 8, &count, 0), PAL_E_BADHANDLE, "poller_wait on an event");
            g_api->stream_close(ev);
        }
        size_t done;
        c.expect_error(g_api->stream_read(poller, PAL_NO_OFFSET, evs, 8, &done), PAL_E_BADHANDLE, "stream_read of a poller");
    }
    g_api->stream_close(poller);
}

// socket_pair with handles passed as SCM_RIGHTS: they come with their byte, a read stops
// after it, a peek gives new handles and leaves the message, and no room means CTRUNC.
void check_pair_handles() {
    Check c("socket-pair-handles");
    PalHandle *a = nullptr, *b = nullptr;
    if (!c.expect_ok(g_api->socket_pair(PAL_SOCK_STREAM, &a, &b), "socket_pair"))
        return;
    PalHandle *shm = nullptr, *rd = nullptr, *wr = nullptr;
    c.expect_ok(g_api->shm_create(kPageSize, &shm), "shm_create");
    c.expect_ok(g_api->pipe_create(&rd, &wr), "pipe_create");
    size_t done = 0;
    c.expect_ok(g_api->stream_write(shm, 0, "passed", 6, &done), "stream_write(shm)");
    PalIoVec before = {const_cast<char*>("ab"), 2};
    c.expect_ok(g_api->socket_send(a, &before, 1, nullptr, 0, &done), "socket_send");
    PalHandle* pass[2] = {shm, rd};
    PalIoVec with = {const_cast<char*>("cd"), 2};
    c.expect_ok(g_api->socket_send_handles(a, &with, 1, pass, 2, 0, &done), "socket_send_handles");
    c.expect(done == 2, "sent %zu bytes", done);
    PalIoVec after = {const_cast<char*>("ef"), 2};
    c.expect_ok(g_api->socket_send(a, &after, 1, nullptr, 0, &done), "socket_send after");

    char buf[8] = {};
    PalIoVec in = {buf, sizeof(buf)};
    PalHandle* got[4] = {};
    size_t n = 9;
    uint32_t flags = 0;
    c.expect_ok(g_api->socket_recv_handles(b, &in, 1, PAL_MSG_PEEK, &done, &flags, got, 4, &n), "peek");
    c.expect(n == 2 && done == 4 && memcmp(buf, "abcd", 4) == 0, "peeked %zu handles, %zu bytes", n, done);
    close_all(got, n);
    c.expect_ok(g_api->socket_recv_handles(b, &in, 1, 0, &done, &flags, got, 4, &n), "socket_recv_handles");
    c.expect(n == 2 && done == 4 && !(flags & PAL_MSG_CTRUNC), "%zu handles, %zu bytes, flags %x", n, done, flags);
    if (n == 2) {
        PalStreamAttr attr;
        c.expect(g_api->stream_attributes(got[0], &attr) == PAL_OK && attr.type == PAL_TYPE_FILE, "handle 0's type");
        c.expect(g_api->stream_attributes(got[1], &attr) == PAL_OK && attr.type == PAL_TYPE_FIFO, "handle 1's type");
        char text[8] = {};
        c.expect_ok(g_api->stream_read(got[0], 0, text, 6, &done), "stream_read of the passed shm");
        c.expect(memcmp(text, "passed", 6) == 0, "the passed shm holds '%s'", text);
    }
    close_all(got, n);
    c.expect_ok(g_api->socket_recv_handles(b, &in, 1, 0, &done, &flags, got, 4, &n), "the bytes after");
    c.expect(n == 0 && done == 2 && memcmp(buf, "ef", 2) == 0, "%zu handles, %zu bytes", n, done);

    c.expect_ok(g_api->socket_send_handles(a, &with, 1, pass, 2, 0, &done), "send again");
    c.expect_ok(g_api->socket_recv_handles(b, &in, 1, 0, &done, &flags, got, 1, &n), "receive with room for one");
    c.expect(n == 1 && (flags & PAL_MSG_CTRUNC), "%zu handles, flags %x", n, flags);
    close_all(got, n);
    c.expect_error(g_api->socket_send_handles(a, &with, 1, pass, PAL_MAX_PASS_HANDLES + 1, 0, &done), PAL_E_INVAL,
                   "too many handles");
    PalHandle* handles[4] = {a, b, shm, rd};
    close_all(handles, 4);
    g_api->stream_close(wr);

    // A seqpacket pair keeps each send one record.
    if (c.expect_ok(g_api->socket_pair(PAL_SOCK_SEQPACKET, &a, &b), "socket_pair(SEQPACKET)")) {
        PalIoVec one = {const_cast<char*>("one"), 3}, two = {const_cast<char*>("two!"), 4};
        c.expect_ok(g_api->socket_send(a, &one, 1, nullptr, 0, &done), "send one");
        c.expect_ok(g_api->socket_send(a, &two, 1, nullptr, 0, &done), "send two");
        c.expect_ok(g_api->socket_recv(b, &in, 1, nullptr, 0, &done, &flags), "recv one");
        c.expect(done == 3, "the first record is %zu bytes", done);
        c.expect_ok(g_api->socket_recv(b, &in, 1, nullptr, 0, &done, &flags), "recv two");
        c.expect(done == 4, "the second record is %zu bytes", done);
        PalHandle* pair[2] = {a, b};
        close_all(pair, 2);
    }
}

}  // namespace

void check_sockets() {
    check_tcp(PAL_AF_INET, "socket-tcp-ipv4");
    check_tcp(PAL_AF_INET6, "socket-tcp-ipv6");
    check_tcp_shutdown();
    check_tcp_errors();
    check_udp(PAL_AF_INET, "socket-udp-ipv4");
    check_udp(PAL_AF_INET6, "socket-udp-ipv6");
    check_options();
    check_pair_handles();
    // Sockets and pollers are host fds; closing them gives every one back.
    bool has_std = false;
    int before = host_fd_count(&has_std);
    check_pollers();
    int after = host_fd_count(&has_std);
    Check c("socket-close-releases-fds");
    c.expect(before > 0 && after == before, "%d host fds before the poller checks, %d after", before, after);
}

}  // namespace pal_test
