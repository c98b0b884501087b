// TCP over IPv4 and IPv6 loopback: bind/listen/accept/accept4/connect and their addresses,
// blocking and non-blocking connect, every way to send and receive (iovecs, MSG_PEEK,
// MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL, MSG_TRUNC), FIONREAD/SIOCINQ/SIOCOUTQ, shutdown
// and POLLRDHUP/EPOLLRDHUP, resets and EPIPE, the errors of each call, and a dual-stack
// listener. With the argument "sigpipe-default" it sends to a closed peer and dies of
// SIGPIPE (exit 141). tcp_wait.c has the blocking and waiting side.
#define _GNU_SOURCE
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "net.h"

// The shortest address bind and connect take: IPv6 also takes RFC 2133's 24-byte
// sockaddr_in6, which had no sin6_scope_id.
static socklen_t min_len(int family) { return family == AF_INET ? sizeof(struct sockaddr_in) : 24; }

// ---- addresses and the plain data calls ---------------------------------------------------

static void addresses_and_data(int family) {
  int l = must(socket(family, SOCK_STREAM, 0), "socket");
  union sockaddr_any a, b;
  socklen_t len = sizeof(a);
  check(fam(family, "getsockname-unbound"),
        getsockname(l, &a.sa, &len) == 0 && len == inet_len(family) && a.sa.sa_family == family && port_of(&a) == 0,
        "len %u family %d port %d", len, a.sa.sa_family, port_of(&a));
  socklen_t alen = loopback(family, 0, &a);
  CHECK_RETURNS(fam(family, "bind-port-0"), bind(l, &a.sa, alen), 0);
  union sockaddr_any srv;
  len = sizeof(srv);
  getsockname(l, &srv.sa, &len);
  check(fam(family, "getsockname-bound"), len == inet_len(family) && is_loopback(&srv) && port_of(&srv) > 0,
        "len %u port>0 %d", len, port_of(&srv) > 0);
  CHECK_RETURNS(fam(family, "listen"), listen(l, 8), 0);
  CHECK_RETURNS(fam(family, "listen-again"), listen(l, 16), 0);

  int c = must(socket(family, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS(fam(family, "connect"), connect(c, &srv.sa, inet_len(family)), 0);
  union sockaddr_any cli, peer;
  len = sizeof(cli);
  getsockname(c, &cli.sa, &len);
  check(fam(family, "client-autobound"), is_loopback(&cli) && port_of(&cli) > 0 && port_of(&cli) != port_of(&srv),
        "port>0 %d, same as the server's %d", port_of(&cli) > 0, port_of(&cli) == port_of(&srv));
  len = sizeof(peer);
  check(fam(family, "getpeername"),
        getpeername(c, &peer.sa, &len) == 0 && len == inet_len(family) && same_inet(&peer, &srv), "len %u, same %d",
        len, same_inet(&peer, &srv));

  union sockaddr_any from;
  len = sizeof(from);
  int s = accept(l, &from.sa, &len);
  check(fam(family, "accept-address"), s >= 0 && len == inet_len(family) && same_inet(&from, &cli),
        "fd %d len %u same %d", s, len, same_inet(&from, &cli));
  len = sizeof(b);
  getsockname(s, &b.sa, &len);
  check(fam(family, "accepted-getsockname"), same_inet(&b, &srv), "not the listener's address");
  len = sizeof(b);
  getpeername(s, &b.sa, &len);
  check(fam(family, "accepted-getpeername"), same_inet(&b, &cli), "not the client's address");
  // A short buffer gets the start of the address, and the length says how long it was.
  len = 4;
  memset(&b, 0xee, sizeof(b));
  check(fam(family, "getpeername-short-len"),
        getpeername(s, &b.sa, &len) == 0 && len == inet_len(family) && b.sa.sa_family == family &&
            ((unsigned char *)&b)[4] == 0xee,
        "len %u", len);
  CHECK_FAILS_WITH(fam(family, "getsockname-negative-len"), getsockname(s, &b.sa, &(socklen_t){-1u}), EINVAL);
  CHECK_FAILS_WITH(fam(family, "getsockname-efault"), getsockname(s, g_bad, &(socklen_t){16}), EFAULT);
  CHECK_FAILS_WITH(fam(family, "getsockname-len-efault"), getsockname(s, &b.sa, g_bad), EFAULT);

  char buf[64] = {0};
  check(fam(family, "send"), send(c, "hello", 5, 0) == 5, "send failed");
  check(fam(family, "recv"), recv(s, buf, sizeof(buf), 0) == 5 && memcmp(buf, "hello", 5) == 0, "got '%s'", buf);
  check(fam(family, "write"), write(s, "world", 5) == 5, "write failed");
  check(fam(family, "read"), read(c, buf, sizeof(buf)) == 5 && memcmp(buf, "world", 5) == 0, "got '%.5s'", buf);
  check(fam(family, "zero-byte-send"), send(c, buf, 0, 0) == 0, "a zero-byte send did not return 0");

  struct iovec out[3] = {{"ab", 2}, {"", 0}, {"cdef", 4}};
  check(fam(family, "writev"), writev(c, out, 3) == 6, "writev failed");
  char x[2], y[8];
  struct iovec in[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
  ssize_t n = 0;
  // The six bytes may come in more than one segment: read until all are there.
  while (n < 6) {
    struct iovec rest[2] = {in[0], in[1]};
    if (n < 2) {
      rest[0].iov_base = x + n;
      rest[0].iov_len = 2 - (size_t)n;
    } else {
      rest[0].iov_len = 0;
      rest[1].iov_base = y + (n - 2);
      rest[1].iov_len = sizeof(y) - (size_t)(n - 2);
    }
    ssize_t got = readv(s, rest, 2);
    if (got <= 0)
      break;
    n += got;
  }
  check(fam(family, "readv"), n == 6 && memcmp(x, "ab", 2) == 0 && memcmp(y, "cdef", 4) == 0, "got %zd", n);

  struct iovec parts[2] = {{"msg", 3}, {"-one", 4}};
  struct msghdr m = {.msg_iov = parts, .msg_iovlen = 2};
  check(fam(family, "sendmsg-iovecs"), sendmsg(s, &m, 0) == 7, "sendmsg failed");
  char p1[3], p2[4];
  struct iovec rparts[2] = {{p1, sizeof(p1)}, {p2, sizeof(p2)}};  // MSG_WAITALL fills both
  union sockaddr_any name;
  memset(&name, 0xee, sizeof(name));
  struct msghdr rm = {
      .msg_name = &name, .msg_namelen = sizeof(name), .msg_iov = rparts, .msg_iovlen = 2, .msg_flags = -1};
  wait_for(c, POLLIN, k_wait_ms);
  n = recvmsg(c, &rm, MSG_WAITALL);
  // TCP does not report the sender's address: msg_namelen comes back 0.
  check(fam(family, "recvmsg-iovecs"),
        n == 7 && memcmp(p1, "msg", 3) == 0 && memcmp(p2, "-one", 4) == 0 && rm.msg_flags == 0 && rm.msg_namelen == 0,
        "n %zd flags %#x namelen %u", n, rm.msg_flags, rm.msg_namelen);
  send(c, "z", 1, 0);
  len = sizeof(name);
  wait_for(s, POLLIN, k_wait_ms);
  check(fam(family, "recvfrom-no-address"), recvfrom(s, buf, sizeof(buf), 0, &name.sa, &len) == 1 && len == 0, "len %u",
        len);
  // A connected TCP socket ignores the address given to sendto (after checking its size).
  union sockaddr_any elsewhere;
  socklen_t elen = loopback(family, 9, &elsewhere);
  CHECK_RETURNS(fam(family, "sendto-connected-ignores-address"), sendto(c, "q", 1, 0, &elsewhere.sa, elen), 1);
  CHECK_FAILS_WITH(fam(family, "sendto-address-efault"), sendto(c, "q", 1, 0, g_bad, elen), EFAULT);
  CHECK_FAILS_WITH(fam(family, "sendto-address-too-long"), sendto(c, "q", 1, 0, &elsewhere.sa, 1000), EINVAL);
  check(fam(family, "recv-after-sendto"), wait_for(s, POLLIN, k_wait_ms) && recv(s, buf, 1, 0) == 1 && buf[0] == 'q',
        "got '%c'", buf[0]);

  CHECK_FAILS_WITH(fam(family, "recv-efault"),
                   (send(c, "e", 1, 0), wait_for(s, POLLIN, k_wait_ms), recv(s, g_bad, 1, 0)), EFAULT);
  check(fam(family, "efault-keeps-data"), recv(s, buf, sizeof(buf), MSG_DONTWAIT) == 1 && buf[0] == 'e',
        "the byte was lost");
  CHECK_FAILS_WITH(fam(family, "send-efault"), send(c, g_bad, 4, 0), EFAULT);
  close(c);
  close(s);
  close(l);
}

// ---- accept and accept4 -------------------------------------------------------------------

static void accepting(int family) {
  union sockaddr_any addr;
  int l = tcp_listener(family, &addr);
  int c1 = must(socket(family, SOCK_STREAM, 0), "socket");
  int c2 = must(socket(family, SOCK_STREAM, 0), "socket");
  must(connect(c1, &addr.sa, inet_len(family)), "connect");
  must(connect(c2, &addr.sa, inet_len(family)), "connect");
  wait_for(l, POLLIN, k_wait_ms);
  int s1 = accept4(l, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  check(fam(family, "accept4-flags"), s1 >= 0 && (fcntl(s1, F_GETFL) & O_NONBLOCK) && fcntl(s1, F_GETFD) == FD_CLOEXEC,
        "fd %d flags %#x fd flags %d", s1, fcntl(s1, F_GETFL), fcntl(s1, F_GETFD));
  check(fam(family, "accept4-flags-not-on-listener"), !(fcntl(l, F_GETFL) & O_NONBLOCK) && fcntl(l, F_GETFD) == 0,
        "the listener changed");
  // Linux does not copy O_NONBLOCK from a listening socket to the accepted one (BSD does).
  fcntl(l, F_SETFL, O_NONBLOCK);
  wait_for(l, POLLIN, k_wait_ms);
  int s2 = accept(l, NULL, NULL);
  check(fam(family, "accept-does-not-inherit-nonblock"), s2 >= 0 && !(fcntl(s2, F_GETFL) & O_NONBLOCK),
        "fd %d flags %#x", s2, fcntl(s2, F_GETFL));
  CHECK_FAILS_WITH(fam(family, "accept-nonblock-empty"), accept(l, NULL, NULL), EAGAIN);
  CHECK_FAILS_WITH(fam(family, "accept4-bad-flags"), accept4(l, NULL, NULL, O_APPEND), EINVAL);
  CHECK_FAILS_WITH(fam(family, "accept-not-listening"), accept(c1, NULL, NULL), EINVAL);
  int fresh = must(socket(family, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH(fam(family, "accept-unbound"), accept(fresh, NULL, NULL), EINVAL);
  CHECK_FAILS_WITH(fam(family, "listen-connected"), listen(c1, 1), EINVAL);
  close(fresh);

  // A short address buffer: truncated, and the length says the full size.
  int c3 = must(socket(family, SOCK_STREAM, 0), "socket");
  must(connect(c3, &addr.sa, inet_len(family)), "connect");
  wait_for(l, POLLIN, k_wait_ms);
  union sockaddr_any from;
  memset(&from, 0xee, sizeof(from));
  socklen_t len = 2;
  int s3 = accept(l, &from.sa, &len);
  check(fam(family, "accept-short-addrlen"),
        s3 >= 0 && len == inet_len(family) && from.sa.sa_family == family && ((unsigned char *)&from)[2] == 0xee,
        "fd %d len %u", s3, len);
  close(c1);
  close(c2);
  close(c3);
  close(s1);
  close(s2);
  close(s3);
  close(l);
}

// ---- connect: blocking, non-blocking, refused ---------------------------------------------

static void connecting(int family) {
  union sockaddr_any addr;
  int l = tcp_listener(family, &addr);
  int c = must(socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  // Even over loopback a non-blocking connect never completes in the call.
  CHECK_FAILS_WITH(fam(family, "connect-nonblock-einprogress"), connect(c, &addr.sa, inet_len(family)), EINPROGRESS);
  int revents = wait_for(c, POLLOUT, k_wait_ms);
  check(fam(family, "connect-nonblock-pollout"), revents == POLLOUT, "revents %#x", revents);
  CHECK_RETURNS(fam(family, "connect-nonblock-so-error"), getsockopt_int(c, SOL_SOCKET, SO_ERROR), 0);
  // Surprise: the first connect() after the handshake finished reports success (it moves the
  // socket from "connecting" to "connected"); only the next one says EISCONN.
  CHECK_RETURNS(fam(family, "connect-after-completion-succeeds"), connect(c, &addr.sa, inet_len(family)), 0);
  CHECK_FAILS_WITH(fam(family, "connect-again-eisconn"), connect(c, &addr.sa, inet_len(family)), EISCONN);
  int s = must(accept(l, NULL, NULL), "accept");
  check(fam(family, "nonblock-connected-data"), send(c, "n", 1, 0) == 1 && wait_for(s, POLLIN, k_wait_ms) == POLLIN,
        "no data");
  close(s);
  close(c);

  int b = must(socket(family, SOCK_STREAM, 0), "socket");
  must(connect(b, &addr.sa, inet_len(family)), "connect");
  CHECK_FAILS_WITH(fam(family, "connect-blocking-twice-eisconn"), connect(b, &addr.sa, inet_len(family)), EISCONN);
  CHECK_FAILS_WITH(fam(family, "bind-after-connect"), bind(b, &addr.sa, inet_len(family)), EINVAL);
  close(b);

  // A port that was bound and closed again refuses; so does one bound but not listening
  // (which, unlike a closed port, no other program can take meanwhile).
  union sockaddr_any gone;
  close(bound_socket(family, SOCK_STREAM, &gone));
  c = must(socket(family, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH(fam(family, "connect-closed-port-econnrefused"), connect(c, &gone.sa, inet_len(family)),
                   ECONNREFUSED);
  // After a refusal the socket can try again.
  CHECK_RETURNS(fam(family, "connect-after-refusal"), connect(c, &addr.sa, inet_len(family)), 0);
  close(c);
  union sockaddr_any idle_addr;
  int idle = bound_socket(family, SOCK_STREAM, &idle_addr);
  c = must(socket(family, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH(fam(family, "connect-not-listening-econnrefused"), connect(c, &idle_addr.sa, inet_len(family)),
                   ECONNREFUSED);
  close(c);

  c = must(socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  CHECK_FAILS_WITH(fam(family, "connect-nonblock-refused-einprogress"), connect(c, &idle_addr.sa, inet_len(family)),
                   EINPROGRESS);
  revents = wait_for(c, POLLOUT, k_wait_ms);
  check(fam(family, "connect-refused-poll"), revents == (POLLOUT | POLLERR | POLLHUP), "revents %#x", revents);
  CHECK_RETURNS(fam(family, "connect-refused-so-error"), getsockopt_int(c, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
  CHECK_RETURNS(fam(family, "so-error-cleared"), getsockopt_int(c, SOL_SOCKET, SO_ERROR), 0);
  // The pending error was read by SO_ERROR, so connect() can only say the attempt was aborted.
  CHECK_FAILS_WITH(fam(family, "connect-after-refused-so-error"), connect(c, &idle_addr.sa, inet_len(family)),
                   ECONNABORTED);
  close(c);
  c = must(socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  connect(c, &idle_addr.sa, inet_len(family));
  wait_for(c, POLLOUT, k_wait_ms);
  // Without SO_ERROR, the next connect() reports the refusal itself.
  CHECK_FAILS_WITH(fam(family, "connect-reports-pending-error"), connect(c, &idle_addr.sa, inet_len(family)),
                   ECONNREFUSED);
  close(c);
  close(idle);

  c = must(socket(family, SOCK_STREAM, 0), "socket");
  union sockaddr_any other;
  loopback(family == AF_INET ? AF_INET6 : AF_INET, port_of(&addr), &other);
  if (family == AF_INET) {
    CHECK_FAILS_WITH("v4-connect-wrong-family", connect(c, &other.sa, sizeof(other.in6)), EAFNOSUPPORT);
  } else {
    // An IPv6 socket given a sockaddr_in: the length is checked first.
    CHECK_FAILS_WITH("v6-connect-wrong-family", connect(c, &other.sa, sizeof(other.in)), EINVAL);
  }
  CHECK_FAILS_WITH(fam(family, "connect-short-addrlen"), connect(c, &addr.sa, min_len(family) - 1), EINVAL);
  CHECK_FAILS_WITH(fam(family, "connect-efault"), connect(c, g_bad, inet_len(family)), EFAULT);
  CHECK_FAILS_WITH(fam(family, "connect-addrlen-too-long"), connect(c, &addr.sa, sizeof(addr) + 1), EINVAL);
  close(c);
  close(l);
}

// ---- bind and the not-connected errors ----------------------------------------------------

static void binding_and_unconnected(int family) {
  union sockaddr_any addr;
  int l = tcp_listener(family, &addr);
  int s = must(socket(family, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH(fam(family, "bind-eaddrinuse"), bind(s, &addr.sa, inet_len(family)), EADDRINUSE);
  union sockaddr_any any;
  socklen_t alen = loopback(family, 0, &any);
  CHECK_RETURNS(fam(family, "bind-after-eaddrinuse"), bind(s, &any.sa, alen), 0);
  CHECK_FAILS_WITH(fam(family, "bind-twice"), bind(s, &any.sa, alen), EINVAL);
  close(s);

  s = must(socket(family, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH(fam(family, "bind-short-addrlen"), bind(s, &any.sa, min_len(family) - 1), EINVAL);
  CHECK_FAILS_WITH(fam(family, "bind-efault"), bind(s, g_bad, alen), EFAULT);
  CHECK_FAILS_WITH(fam(family, "bind-addrlen-too-long"), bind(s, &any.sa, sizeof(any) + 1), EINVAL);
  union sockaddr_any foreign;
  alen = loopback(family, 0, &foreign);
  if (family == AF_INET)
    inet_pton(AF_INET, "198.51.100.77", &foreign.in.sin_addr);  // TEST-NET-2: on no host
  else
    inet_pton(AF_INET6, "2001:db8::77", &foreign.in6.sin6_addr);  // documentation prefix
  CHECK_FAILS_WITH(fam(family, "bind-eaddrnotavail"), bind(s, &foreign.sa, alen), EADDRNOTAVAIL);
  if (family == AF_INET) {
    union sockaddr_any v6;
    loopback(AF_INET6, 0, &v6);
    CHECK_FAILS_WITH("v4-bind-wrong-family", bind(s, &v6.sa, sizeof(v6.in6)), EAFNOSUPPORT);
    // All of 127/8 is loopback: any address in it can be bound.
    union sockaddr_any other;
    alen = loopback(AF_INET, 0, &other);
    inet_pton(AF_INET, "127.0.0.2", &other.in.sin_addr);
    CHECK_RETURNS("v4-bind-127.0.0.2", bind(s, &other.sa, alen), 0);
  } else {
    CHECK_RETURNS("v6-bind-rfc2133-length", bind(s, &any.sa, min_len(AF_INET6)), 0);
  }

  int u = must(socket(family, SOCK_STREAM, 0), "socket");
  union sockaddr_any peer;
  socklen_t len = sizeof(peer);
  CHECK_FAILS_WITH(fam(family, "getpeername-unconnected"), getpeername(u, &peer.sa, &len), ENOTCONN);
  CHECK_FAILS_WITH(fam(family, "getpeername-listener"), getpeername(l, &peer.sa, &len), ENOTCONN);
  char buf[4];
  CHECK_FAILS_WITH(fam(family, "recv-unconnected"), recv(u, buf, sizeof(buf), 0), ENOTCONN);
  CHECK_FAILS_WITH(fam(family, "recv-listener"), recv(l, buf, sizeof(buf), 0), ENOTCONN);
  CHECK_FAILS_WITH(fam(family, "read-unconnected"), read(u, buf, sizeof(buf)), ENOTCONN);
  CHECK_FAILS_WITH(fam(family, "shutdown-unconnected"), shutdown(u, SHUT_RDWR), ENOTCONN);
  // Surprise: sending on a TCP socket that never connected is EPIPE (with SIGPIPE), not
  // ENOTCONN: the send path finds the socket neither connected nor connecting.
  CHECK_FAILS_WITH(fam(family, "send-unconnected-epipe"), send(u, "x", 1, MSG_NOSIGNAL), EPIPE);
  CHECK_FAILS_WITH(fam(family, "send-listener-epipe"), send(l, "x", 1, MSG_NOSIGNAL), EPIPE);
  close(u);
  close(s);
  close(l);
}

// ---- flags of send and recv ---------------------------------------------------------------

struct Dribble {
  int fd;
  const char *text;
};

static void *dribble(void *arg) {
  struct Dribble *d = arg;
  for (const char *p = d->text; *p; p++) {
    sleep_ms(20);
    send(d->fd, p, 1, 0);
  }
  return NULL;
}

static volatile sig_atomic_t g_sigpipes;
static void on_sigpipe(int sig) {
  (void)sig;
  g_sigpipes++;
}

static void flags(int family) {
  int c, s;
  tcp_pair(family, &c, &s);
  char buf[64] = {0};
  CHECK_FAILS_WITH(fam(family, "recv-dontwait-empty"), recv(s, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
  send(c, "peekaboo", 8, 0);
  wait_for(s, POLLIN, k_wait_ms);
  check(fam(family, "msg-peek"), recv(s, buf, 4, MSG_PEEK) == 4 && memcmp(buf, "peek", 4) == 0, "got '%.4s'", buf);
  check(fam(family, "msg-peek-again"), recv(s, buf, sizeof(buf), MSG_PEEK) == 8, "a second peek differs");
  check(fam(family, "read-after-peek"), recv(s, buf, sizeof(buf), 0) == 8 && memcmp(buf, "peekaboo", 8) == 0,
        "got '%.8s'", buf);
  // MSG_TRUNC on TCP discards what it "reads".
  send(c, "discard-me", 10, 0);
  wait_for(s, POLLIN, k_wait_ms);
  check(fam(family, "msg-trunc-discards"),
        recv(s, NULL, 8, MSG_TRUNC) == 8 && recv(s, buf, sizeof(buf), 0) == 2 && memcmp(buf, "me", 2) == 0,
        "got '%.2s'", buf);

  // MSG_WAITALL waits for all 6 bytes although they come one at a time.
  struct Dribble d = {c, "abcdef"};
  pthread_t t;
  pthread_create(&t, NULL, dribble, &d);
  memset(buf, 0, sizeof(buf));
  ssize_t n = recv(s, buf, 6, MSG_WAITALL);
  pthread_join(t, NULL);
  check(fam(family, "msg-waitall"), n == 6 && memcmp(buf, "abcdef", 6) == 0, "got %zd '%s'", n, buf);
  d.text = "xyz";
  pthread_create(&t, NULL, dribble, &d);
  n = recv(s, buf, 3, 0);
  pthread_join(t, NULL);
  check(fam(family, "recv-without-waitall-returns-early"), n >= 1 && n <= 3 && buf[0] == 'x', "got %zd", n);
  if (n >= 1 && n < 3)
    recv(s, buf, (size_t)(3 - n), MSG_WAITALL);  // the rest, which may still be on its way

  // FIONREAD/SIOCINQ count queued bytes; SIOCOUTQ counts unacknowledged ones.
  int queued = -1;
  check(fam(family, "fionread-empty"), ioctl(s, FIONREAD, &queued) == 0 && queued == 0, "FIONREAD %d", queued);
  send(c, "0123456789", 10, 0);
  long start = monotonic_ms();
  while (ioctl(s, SIOCINQ, &queued) == 0 && queued < 10 && monotonic_ms() - start < k_wait_ms)
    sleep_ms(1);
  check(fam(family, "siocinq"), queued == 10, "SIOCINQ %d", queued);
  check(fam(family, "fionread"), ioctl(s, FIONREAD, &queued) == 0 && queued == 10, "FIONREAD %d", queued);
  int outq = -1;
  start = monotonic_ms();
  while (ioctl(c, SIOCOUTQ, &outq) == 0 && outq != 0 && monotonic_ms() - start < k_wait_ms)
    sleep_ms(1);
  check(fam(family, "siocoutq-acked"), outq == 0, "SIOCOUTQ %d", outq);
  recv(s, buf, 4, 0);
  check(fam(family, "fionread-after-read"), ioctl(s, FIONREAD, &queued) == 0 && queued == 6, "FIONREAD %d", queued);
  int lst = tcp_listener(family, NULL);
  CHECK_FAILS_WITH(fam(family, "fionread-listener"), ioctl(lst, FIONREAD, &queued), EINVAL);
  close(lst);
  drain(s);

  // A closed peer: the first send still goes out (the peer answers with a reset), later
  // ones fail with EPIPE; MSG_NOSIGNAL keeps SIGPIPE away, a handler sees it otherwise.
  close(s);
  check(fam(family, "eof-after-peer-close"), wait_for(c, POLLIN, k_wait_ms) && recv(c, buf, sizeof(buf), 0) == 0,
        "no EOF");
  CHECK_RETURNS(fam(family, "send-to-closed-peer-first"), send(c, "a", 1, MSG_NOSIGNAL), 1);
  int revents = wait_for(c, 0, k_wait_ms);
  check(fam(family, "reset-pollhup"), revents == (POLLERR | POLLHUP), "revents %#x", revents);
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_sigpipe;
  sigaction(SIGPIPE, &sa, &old);
  g_sigpipes = 0;
  CHECK_FAILS_WITH(fam(family, "msg-nosignal-epipe"), send(c, "b", 1, MSG_NOSIGNAL), EPIPE);
  check(fam(family, "msg-nosignal-no-signal"), g_sigpipes == 0, "SIGPIPE came %d times", (int)g_sigpipes);
  CHECK_FAILS_WITH(fam(family, "send-epipe"), send(c, "b", 1, 0), EPIPE);
  check(fam(family, "send-epipe-sigpipe"), g_sigpipes == 1, "SIGPIPE came %d times", (int)g_sigpipes);
  CHECK_FAILS_WITH(fam(family, "write-epipe"), write(c, "b", 1), EPIPE);
  check(fam(family, "write-epipe-sigpipe"), g_sigpipes == 2, "SIGPIPE came %d times", (int)g_sigpipes);
  check(fam(family, "recv-after-reset-eof"), recv(c, buf, sizeof(buf), 0) == 0, "recv did not return 0");
  sigaction(SIGPIPE, &old, NULL);
  close(c);
}

// ---- shutdown, RDHUP, resets --------------------------------------------------------------

static void shutdowns(int family) {
  int c, s;
  tcp_pair(family, &c, &s);
  char buf[16];
  CHECK_FAILS_WITH(fam(family, "shutdown-bad-how"), shutdown(c, 3), EINVAL);
  int revents = wait_for(s, POLLIN | POLLOUT | POLLRDHUP, 0);
  check(fam(family, "connected-pollout"), revents == POLLOUT, "revents %#x", revents);
  int ep = must(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.u32 = 1};
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  send(c, "bye", 3, 0);
  CHECK_RETURNS(fam(family, "shutdown-wr"), shutdown(c, SHUT_WR), 0);
  CHECK_RETURNS(fam(family, "shutdown-wr-twice"), shutdown(c, SHUT_WR), 0);
  revents = 0;
  long start = monotonic_ms();
  while (!((revents = wait_for(s, POLLIN | POLLRDHUP, k_wait_ms)) & POLLRDHUP) && monotonic_ms() - start < k_wait_ms)
    sleep_ms(1);
  check(fam(family, "pollrdhup"), revents == (POLLIN | POLLRDHUP), "revents %#x", revents);
  check(fam(family, "epollrdhup"), epoll_wait(ep, &ev, 1, k_wait_ms) == 1 && ev.events == (EPOLLIN | EPOLLRDHUP),
        "events %#x", ev.events);
  check(fam(family, "data-before-eof"), recv(s, buf, sizeof(buf), 0) == 3 && memcmp(buf, "bye", 3) == 0, "data lost");
  check(fam(family, "eof-after-shutdown-wr"), recv(s, buf, sizeof(buf), 0) == 0, "no EOF");
  check(fam(family, "eof-again"), read(s, buf, sizeof(buf)) == 0, "no EOF");
  CHECK_FAILS_WITH(fam(family, "send-after-shutdown-wr"), send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
  check(fam(family, "half-open-other-way"),
        send(s, "back", 4, 0) == 4 && wait_for(c, POLLIN, k_wait_ms) && recv(c, buf, sizeof(buf), 0) == 4,
        "the other direction broke");
  shutdown(s, SHUT_WR);
  start = monotonic_ms();
  while (!((revents = wait_for(c, POLLIN, k_wait_ms)) & POLLHUP) && monotonic_ms() - start < k_wait_ms)
    sleep_ms(1);
  check(fam(family, "both-shut-pollhup"), revents == (POLLIN | POLLHUP), "revents %#x", revents);
  CHECK_FAILS_WITH(fam(family, "shutdown-after-both-closed"), shutdown(c, SHUT_RDWR), ENOTCONN);
  close(ep);
  close(c);
  close(s);

  // SHUT_RD: reads return 0 at once.
  tcp_pair(family, &c, &s);
  CHECK_RETURNS(fam(family, "shutdown-rd"), shutdown(s, SHUT_RD), 0);
  check(fam(family, "recv-after-shutdown-rd"), recv(s, buf, sizeof(buf), 0) == 0, "recv did not return 0");
  close(c);
  close(s);

  // Closing with unread data resets the connection: the peer's recv says ECONNRESET once,
  // then EOF; sends fail with EPIPE.
  tcp_pair(family, &c, &s);
  send(c, "unread", 6, 0);
  start = monotonic_ms();
  int queued = 0;
  while (ioctl(s, FIONREAD, &queued) == 0 && queued < 6 && monotonic_ms() - start < k_wait_ms)
    sleep_ms(1);
  close(s);
  revents = wait_for(c, POLLIN, k_wait_ms);
  check(fam(family, "reset-poll"), revents == (POLLIN | POLLERR | POLLHUP), "revents %#x", revents);
  CHECK_FAILS_WITH(fam(family, "recv-econnreset"), recv(c, buf, sizeof(buf), 0), ECONNRESET);
  check(fam(family, "recv-after-econnreset"), recv(c, buf, sizeof(buf), 0) == 0, "recv did not return 0");
  CHECK_FAILS_WITH(fam(family, "send-after-reset"), send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
  close(c);

  // SO_LINGER with a zero timeout: close() resets at once.
  tcp_pair(family, &c, &s);
  struct linger lg = {1, 0};
  setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(s);
  wait_for(c, POLLIN, k_wait_ms);
  CHECK_FAILS_WITH(fam(family, "linger-zero-econnreset"), recv(c, buf, sizeof(buf), 0), ECONNRESET);
  close(c);
}

static void dual_stack(void) {
  // An IPv6 socket on :: (IPV6_V6ONLY off) takes IPv4 connections: the peer shows up as a
  // v4-mapped address.
  int l = must(socket(AF_INET6, SOCK_STREAM, 0), "socket");
  setsockopt_int(l, IPPROTO_IPV6, IPV6_V6ONLY, 0);
  struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
  must(bind(l, (struct sockaddr *)&any, sizeof(any)), "bind");
  must(listen(l, 4), "listen");
  int port = local_port(l);
  union sockaddr_any v4;
  socklen_t len = loopback(AF_INET, port, &v4);
  int c = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("dual-stack-connect-v4", connect(c, &v4.sa, len), 0);
  union sockaddr_any from;
  len = sizeof(from);
  int s = accept(l, &from.sa, &len);
  static const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  check("dual-stack-v4-mapped-peer",
        s >= 0 && len == sizeof(struct sockaddr_in6) && from.sa.sa_family == AF_INET6 &&
            memcmp(&from.in6.sin6_addr, mapped, 16) == 0 && ntohs(from.in6.sin6_port) == local_port(c),
        "fd %d len %u family %d", s, len, from.sa.sa_family);
  close(s);
  close(c);
  close(l);

  // With IPV6_V6ONLY, the same kind of listener refuses IPv4.
  l = must(socket(AF_INET6, SOCK_STREAM, 0), "socket");
  setsockopt_int(l, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  must(bind(l, (struct sockaddr *)&any, sizeof(any)), "bind");
  must(listen(l, 4), "listen");
  len = loopback(AF_INET, local_port(l), &v4);
  c = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("v6only-refuses-v4", connect(c, &v4.sa, len), ECONNREFUSED);
  close(c);
  close(l);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  if (argc > 1 && strcmp(argv[1], "sigpipe-default") == 0) {
    int c, s;
    tcp_pair(AF_INET, &c, &s);
    close(s);
    // The first sends may succeed while the reset is on its way; SIGPIPE ends the loop.
    for (int i = 0; i < 1000; i++) {
      send(c, "x", 1, 0);
      sleep_ms(1);
    }
    printf("still alive\n");
    return 0;
  }
  probe_ipv6();
  each_family(addresses_and_data);
  each_family(accepting);
  each_family(connecting);
  each_family(binding_and_unconnected);
  each_family(flags);
  each_family(shutdowns);
  if (g_have_ipv6)
    dual_stack();
  return check_exit_status();
}
