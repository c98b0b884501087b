// UDP over IPv4 and IPv6 loopback: sendto/recvfrom and the sender's address, implicit
// binding, datagram boundaries and empty datagrams, truncation (MSG_TRUNC both as a result
// flag and as a request), MSG_PEEK, FIONREAD, connect() filtering and connect(AF_UNSPEC)
// undoing it, ICMP refusals, the largest datagram and EMSGSIZE past it, sendmmsg/recvmmsg,
// v4-mapped senders, and shutdown(SHUT_RD) waking a blocked reader.
#define _GNU_SOURCE
#include <linux/sockios.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include "net.h"

static int udp(int family) { return must(socket(family, SOCK_DGRAM, 0), "socket"); }

// Receives one datagram waiting up to k_wait_ms; returns its size or -1.
static ssize_t recv_wait(int fd, void *buf, size_t size, int flags) {
  if (!(wait_for(fd, POLLIN, k_wait_ms) & POLLIN))
    return -1;
  return recv(fd, buf, size, flags | MSG_DONTWAIT);
}

static void addresses(int family) {
  union sockaddr_any a_addr, b_addr;
  int a = bound_socket(family, SOCK_DGRAM, &a_addr);
  int b = bound_socket(family, SOCK_DGRAM, &b_addr);
  check(fam(family, "bound-port"), port_of(&a_addr) > 0 && is_loopback(&a_addr), "port>0 %d", port_of(&a_addr) > 0);
  int revents = wait_for(a, POLLIN | POLLOUT, 0);
  check(fam(family, "idle-pollout"), revents == POLLOUT, "revents %#x", revents);
  char buf[64] = {0};
  CHECK_FAILS_WITH(fam(family, "recv-empty-eagain"), recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

  CHECK_RETURNS(fam(family, "sendto"), sendto(b, "one", 3, 0, &a_addr.sa, inet_len(family)), 3);
  wait_for(a, POLLIN, k_wait_ms);
  union sockaddr_any from;
  memset(&from, 0xee, sizeof(from));
  socklen_t len = sizeof(from);
  ssize_t n = recvfrom(a, buf, sizeof(buf), 0, &from.sa, &len);
  check(fam(family, "recvfrom-address"),
        n == 3 && memcmp(buf, "one", 3) == 0 && len == inet_len(family) && same_inet(&from, &b_addr),
        "n %zd len %u same %d", n, len, same_inet(&from, &b_addr));
  if (family == AF_INET6)
    check("v6-recvfrom-flowinfo-scope", from.in6.sin6_flowinfo == 0 && from.in6.sin6_scope_id == 0,
          "flowinfo %u scope %u", from.in6.sin6_flowinfo, from.in6.sin6_scope_id);
  // A short address buffer: truncated; the length says the full size.
  sendto(b, "two", 3, 0, &a_addr.sa, inet_len(family));
  wait_for(a, POLLIN, k_wait_ms);
  memset(&from, 0xee, sizeof(from));
  len = 4;
  n = recvfrom(a, buf, sizeof(buf), 0, &from.sa, &len);
  check(fam(family, "recvfrom-short-addrlen"),
        n == 3 && len == inet_len(family) && from.sa.sa_family == family && ((unsigned char *)&from)[4] == 0xee,
        "n %zd len %u", n, len);

  // An unbound socket is bound to a port by its first sendto.
  int c = udp(family);
  check(fam(family, "unbound-port-0"), local_port(c) == 0, "an unused socket has a port");
  sendto(c, "auto", 4, 0, &a_addr.sa, inet_len(family));
  int c_port = local_port(c);
  check(fam(family, "sendto-autobinds"), c_port > 0, "no port after sendto");
  wait_for(a, POLLIN, k_wait_ms);
  len = sizeof(from);
  n = recvfrom(a, buf, sizeof(buf), 0, &from.sa, &len);
  check(fam(family, "recvfrom-autobound-sender"), n == 4 && port_of(&from) == c_port, "n %zd", n);

  union sockaddr_any port0;
  socklen_t p0len = loopback(family, 0, &port0);
  CHECK_FAILS_WITH(fam(family, "sendto-port-0"), sendto(c, "x", 1, 0, &port0.sa, p0len), EINVAL);
  CHECK_FAILS_WITH(fam(family, "send-unconnected-edestaddrreq"), send(c, "x", 1, 0), EDESTADDRREQ);
  CHECK_FAILS_WITH(fam(family, "sendto-short-addrlen"), sendto(c, "x", 1, 0, &a_addr.sa, 8), EINVAL);
  CHECK_FAILS_WITH(fam(family, "sendto-efault"), sendto(c, "x", 1, 0, g_bad, inet_len(family)), EFAULT);
  CHECK_FAILS_WITH(fam(family, "getpeername-unconnected"), getpeername(c, &from.sa, &len), ENOTCONN);
  CHECK_FAILS_WITH(fam(family, "listen-eopnotsupp"), listen(a, 1), EOPNOTSUPP);
  CHECK_FAILS_WITH(fam(family, "accept-eopnotsupp"), accept(a, NULL, NULL), EOPNOTSUPP);
  close(a);
  close(b);
  close(c);
}

static void datagrams(int family) {
  union sockaddr_any a_addr;
  int a = bound_socket(family, SOCK_DGRAM, &a_addr);
  int b = udp(family);
  must(connect(b, &a_addr.sa, inet_len(family)), "connect");
  char buf[64] = {0};

  // Each send is one datagram, each recv takes one, whatever the buffer size.
  send(b, "first", 5, 0);
  send(b, "second", 6, 0);
  send(b, "", 0, 0);
  send(b, "third", 5, 0);
  check(fam(family, "boundary-1"), recv_wait(a, buf, sizeof(buf), 0) == 5 && memcmp(buf, "first", 5) == 0, "wrong");
  check(fam(family, "boundary-2"), recv_wait(a, buf, sizeof(buf), 0) == 6 && memcmp(buf, "second", 6) == 0, "wrong");
  check(fam(family, "empty-datagram"), recv_wait(a, buf, sizeof(buf), 0) == 0, "an empty datagram was not 0 bytes");
  check(fam(family, "boundary-3"), recv_wait(a, buf, sizeof(buf), 0) == 5, "wrong");

  // FIONREAD is the size of the first datagram, not of everything queued.
  send(b, "12345", 5, 0);
  send(b, "1234567", 7, 0);
  recv_wait(a, buf, 0, MSG_PEEK);
  sleep_ms(20);
  int queued = -1;
  check(fam(family, "fionread-first-datagram"), ioctl(a, FIONREAD, &queued) == 0 && queued == 5, "FIONREAD %d", queued);
  check(fam(family, "siocinq-first-datagram"), ioctl(a, SIOCINQ, &queued) == 0 && queued == 5, "SIOCINQ %d", queued);
  // MSG_PEEK|MSG_TRUNC with no buffer: the size of the next datagram, which stays queued.
  check(fam(family, "peek-trunc-size"), recv(a, NULL, 0, MSG_PEEK | MSG_TRUNC) == 5, "wrong size");
  check(fam(family, "peek-keeps"), recv(a, buf, sizeof(buf), MSG_PEEK) == 5, "not kept");
  recv(a, buf, sizeof(buf), 0);
  recv_wait(a, buf, sizeof(buf), 0);

  // A short buffer truncates the datagram and drops the rest.
  send(b, "0123456789", 10, 0);
  send(b, "next", 4, 0);
  memset(buf, 0, sizeof(buf));
  check(fam(family, "truncated-recv"), recv_wait(a, buf, 4, 0) == 4 && memcmp(buf, "0123", 4) == 0, "got '%s'", buf);
  check(fam(family, "rest-dropped"), recv_wait(a, buf, sizeof(buf), 0) == 4 && memcmp(buf, "next", 4) == 0,
        "got '%.4s'", buf);
  send(b, "0123456789", 10, 0);
  struct iovec iov = {buf, 4};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  wait_for(a, POLLIN, k_wait_ms);
  ssize_t n = recvmsg(a, &m, 0);
  check(fam(family, "recvmsg-msg-trunc-flag"), n == 4 && m.msg_flags == MSG_TRUNC, "n %zd flags %#x", n, m.msg_flags);
  // MSG_TRUNC asked for: the full size comes back although only 4 bytes were copied.
  send(b, "0123456789", 10, 0);
  check(fam(family, "recv-msg-trunc-full-size"), recv_wait(a, buf, 4, MSG_TRUNC) == 10, "not the full size");

  // The largest datagram, and one byte more.
  int max = family == AF_INET ? 65535 - 20 - 8 : 65535 - 8;
  static char big[70000];
  memset(big, 'b', sizeof(big));
  CHECK_RETURNS(fam(family, "largest-datagram"), send(b, big, (size_t)max, 0), max);
  static char got[70000];
  CHECK_RETURNS(fam(family, "largest-datagram-received"), recv_wait(a, got, sizeof(got), 0), max);
  CHECK_FAILS_WITH(fam(family, "datagram-too-large-emsgsize"), send(b, big, (size_t)max + 1, 0), EMSGSIZE);
  CHECK_FAILS_WITH(fam(family, "datagram-over-64k-emsgsize"), send(b, big, sizeof(big), 0), EMSGSIZE);
  close(a);
  close(b);
}

static void connected(int family) {
  union sockaddr_any a_addr, d_addr, c_addr;
  int a = bound_socket(family, SOCK_DGRAM, &a_addr);
  int d = bound_socket(family, SOCK_DGRAM, &d_addr);
  int c = bound_socket(family, SOCK_DGRAM, &c_addr);
  CHECK_RETURNS(fam(family, "connect"), connect(c, &a_addr.sa, inet_len(family)), 0);
  union sockaddr_any peer;
  socklen_t len = sizeof(peer);
  check(fam(family, "getpeername"), getpeername(c, &peer.sa, &len) == 0 && same_inet(&peer, &a_addr), "wrong peer");
  char buf[64] = {0};
  CHECK_RETURNS(fam(family, "send-connected"), send(c, "conn", 4, 0), 4);
  check(fam(family, "recv-from-connected"), recv_wait(a, buf, sizeof(buf), 0) == 4, "nothing came");

  // A connected socket takes datagrams from its peer only.
  sendto(d, "from-d", 6, 0, &c_addr.sa, inet_len(family));
  sendto(a, "from-a", 6, 0, &c_addr.sa, inet_len(family));
  check(fam(family, "connected-filters-others"),
        recv_wait(c, buf, sizeof(buf), 0) == 6 && memcmp(buf, "from-a", 6) == 0, "got '%.6s'", buf);
  sleep_ms(20);
  CHECK_FAILS_WITH(fam(family, "connected-nothing-else"), recv(c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
  // sendto with an address still works on a connected UDP socket, and goes there.
  CHECK_RETURNS(fam(family, "sendto-on-connected"), sendto(c, "to-d", 4, 0, &d_addr.sa, inet_len(family)), 4);
  check(fam(family, "sendto-on-connected-arrives"),
        recv_wait(d, buf, sizeof(buf), 0) == 4 && memcmp(buf, "to-d", 4) == 0, "got '%.4s'", buf);
  CHECK_RETURNS(fam(family, "connect-again-elsewhere"), connect(c, &d_addr.sa, inet_len(family)), 0);

  // connect(AF_UNSPEC) dissolves the association. Surprise: c was bound to port 0, so its
  // port was the kernel's pick, and disconnecting gives it back (the address stays).
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  CHECK_RETURNS(fam(family, "connect-af-unspec"), connect(c, &unspec, sizeof(unspec)), 0);
  CHECK_FAILS_WITH(fam(family, "getpeername-after-unspec"), getpeername(c, &peer.sa, &len), ENOTCONN);
  union sockaddr_any now;
  len = sizeof(now);
  getsockname(c, &now.sa, &len);
  check(fam(family, "unspec-releases-picked-port"), is_loopback(&now) && port_of(&now) == 0, "loopback %d, port %s",
        is_loopback(&now), port_of(&now) ? "nonzero" : "0");
  // With its port gone, the socket can be bound again.
  union sockaddr_any lo;
  socklen_t lo_len = loopback(family, 0, &lo);
  CHECK_RETURNS(fam(family, "bind-after-unspec"), bind(c, &lo.sa, lo_len), 0);
  CHECK_RETURNS(fam(family, "connect-af-unspec-again"), connect(c, &unspec, sizeof(unspec)), 0);
  CHECK_FAILS_WITH(fam(family, "connect-unspec-short"), connect(c, &unspec, 1), EINVAL);
  // Surprise: a send that fails for want of an address still binds the socket to a port
  // first (every send on an inet socket without a port does).
  CHECK_FAILS_WITH(fam(family, "send-after-unspec"), send(c, "x", 1, 0), EDESTADDRREQ);
  check(fam(family, "failed-send-binds-port"), local_port(c) > 0, "no port");

  // A port asked for by number stays. SO_REUSEADDR lets a second socket bind the first's port.
  int first = udp(family), second = udp(family);
  setsockopt_int(first, SOL_SOCKET, SO_REUSEADDR, 1);
  setsockopt_int(second, SOL_SOCKET, SO_REUSEADDR, 1);
  must(bind(first, &lo.sa, lo_len), "bind");
  lo_len = loopback(family, local_port(first), &lo);
  CHECK_RETURNS(fam(family, "bind-explicit-port"), bind(second, &lo.sa, lo_len), 0);
  connect(second, &a_addr.sa, inet_len(family));
  connect(second, &unspec, sizeof(unspec));
  len = sizeof(now);
  getsockname(second, &now.sa, &len);
  check(fam(family, "unspec-keeps-explicit-port"), same_inet(&now, &lo), "the address changed");
  close(first);
  close(second);

  // A port that connect() picked is given back by connect(AF_UNSPEC): getsockname says 0.
  int e = udp(family);
  connect(e, &a_addr.sa, inet_len(family));
  int picked = local_port(e);
  connect(e, &unspec, sizeof(unspec));
  len = sizeof(now);
  getsockname(e, &now.sa, &len);
  check(fam(family, "unspec-releases-autobound-port"), picked > 0 && port_of(&now) == 0 && !is_loopback(&now),
        "port>0 %d, port now %s", picked > 0, port_of(&now) ? "nonzero" : "0");
  close(e);

  // Sending to a closed port: the ICMP refusal comes back as ECONNREFUSED on a connected socket.
  union sockaddr_any gone;
  close(bound_socket(family, SOCK_DGRAM, &gone));
  e = udp(family);
  connect(e, &gone.sa, inet_len(family));
  CHECK_RETURNS(fam(family, "send-to-closed-port"), send(e, "x", 1, 0), 1);
  int revents = wait_for(e, POLLIN, k_wait_ms);
  check(fam(family, "icmp-refusal-pollerr"), revents == POLLERR, "revents %#x", revents);
  CHECK_FAILS_WITH(fam(family, "recv-econnrefused"), recv(e, buf, sizeof(buf), MSG_DONTWAIT), ECONNREFUSED);
  CHECK_FAILS_WITH(fam(family, "error-reported-once"), recv(e, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
  close(e);
  close(a);
  close(c);
  close(d);
}

static void mmsg(int family) {
  union sockaddr_any a_addr, b_addr;
  int a = bound_socket(family, SOCK_DGRAM, &a_addr);
  int b = bound_socket(family, SOCK_DGRAM, &b_addr);
  struct iovec out[3] = {{"one", 3}, {"four", 4}, {"seven", 5}};
  struct mmsghdr send_msgs[3];
  memset(send_msgs, 0, sizeof(send_msgs));
  for (int i = 0; i < 3; i++) {
    send_msgs[i].msg_hdr.msg_name = &a_addr;
    send_msgs[i].msg_hdr.msg_namelen = inet_len(family);
    send_msgs[i].msg_hdr.msg_iov = &out[i];
    send_msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = sendmmsg(b, send_msgs, 3, 0);
  check(fam(family, "sendmmsg"),
        n == 3 && send_msgs[0].msg_len == 3 && send_msgs[1].msg_len == 4 && send_msgs[2].msg_len == 5, "n %d", n);
  CHECK_RETURNS(fam(family, "sendmmsg-vlen-0"), sendmmsg(b, send_msgs, 0, 0), 0);

  char bufs[4][4];
  struct iovec in[4];
  union sockaddr_any names[4];
  struct mmsghdr recv_msgs[4];
  memset(recv_msgs, 0, sizeof(recv_msgs));
  for (int i = 0; i < 4; i++) {
    in[i].iov_base = bufs[i];
    in[i].iov_len = sizeof(bufs[i]);
    recv_msgs[i].msg_hdr.msg_name = &names[i];
    recv_msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
    recv_msgs[i].msg_hdr.msg_iov = &in[i];
    recv_msgs[i].msg_hdr.msg_iovlen = 1;
  }
  // Without MSG_WAITFORONE a blocking recvmmsg waits until all three are there.
  struct timespec limit = {5, 0};
  n = recvmmsg(a, recv_msgs, 3, 0, &limit);
  check(fam(family, "recvmmsg"),
        n == 3 && recv_msgs[0].msg_len == 3 && recv_msgs[1].msg_len == 4 && recv_msgs[2].msg_len == 4 &&
            memcmp(bufs[2], "seve", 4) == 0,
        "n %d", n);
  check(fam(family, "recvmmsg-names"),
        same_inet(&names[0], &b_addr) && same_inet(&names[2], &b_addr) &&
            recv_msgs[1].msg_hdr.msg_namelen == inet_len(family),
        "wrong sender");
  // The 5-byte datagram did not fit in 4 bytes: its own msg_flags says so.
  check(fam(family, "recvmmsg-trunc-flags"),
        recv_msgs[0].msg_hdr.msg_flags == 0 && recv_msgs[2].msg_hdr.msg_flags == MSG_TRUNC, "flags %#x %#x",
        recv_msgs[0].msg_hdr.msg_flags, recv_msgs[2].msg_hdr.msg_flags);
  CHECK_FAILS_WITH(fam(family, "recvmmsg-empty-dontwait"), recvmmsg(a, recv_msgs, 4, MSG_DONTWAIT, NULL), EAGAIN);
  // MSG_WAITFORONE: waits for the first datagram, then takes only what is there.
  sendto(b, "solo", 4, 0, &a_addr.sa, inet_len(family));
  n = recvmmsg(a, recv_msgs, 4, MSG_WAITFORONE, NULL);
  check(fam(family, "recvmmsg-waitforone"), n == 1 && recv_msgs[0].msg_len == 4, "n %d", n);
  CHECK_FAILS_WITH(fam(family, "sendmmsg-efault"), sendmmsg(b, g_bad, 1, 0), EFAULT);
  close(a);
  close(b);
}

static void v4_mapped(void) {
  int a = must(socket(AF_INET6, SOCK_DGRAM, 0), "socket");
  setsockopt_int(a, IPPROTO_IPV6, IPV6_V6ONLY, 0);
  struct sockaddr_in6 any = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT};
  must(bind(a, (struct sockaddr *)&any, sizeof(any)), "bind");
  union sockaddr_any to;
  socklen_t len = loopback(AF_INET, local_port(a), &to);
  int b = udp(AF_INET);
  sendto(b, "v4", 2, 0, &to.sa, len);
  wait_for(a, POLLIN, k_wait_ms);
  union sockaddr_any from;
  len = sizeof(from);
  char buf[8];
  ssize_t n = recvfrom(a, buf, sizeof(buf), 0, &from.sa, &len);
  static const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  check("v6-socket-v4-mapped-sender",
        n == 2 && len == sizeof(struct sockaddr_in6) && memcmp(&from.in6.sin6_addr, mapped, 16) == 0 &&
            ntohs(from.in6.sin6_port) == local_port(b),
        "n %zd len %u", n, len);
  close(a);
  close(b);
}

struct Blocked {
  int fd;
  long ret;
  int err;
  volatile int done;
};

static void *blocked_recv(void *arg) {
  struct Blocked *b = arg;
  char buf[8];
  errno = 0;
  b->ret = recv(b->fd, buf, sizeof(buf), 0);
  b->err = errno;
  __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void shutdown_wakes(void) {
  // shutdown(SHUT_RD) on an unconnected UDP socket fails with ENOTCONN but still marks it
  // shut: a thread blocked in recv wakes up with 0 (programs use this to stop a reader).
  union sockaddr_any a_addr;
  int a = bound_socket(AF_INET, SOCK_DGRAM, &a_addr);
  struct Blocked b = {a, -5, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, blocked_recv, &b);
  sleep_ms(100);
  CHECK_FAILS_WITH("shutdown-rd-unconnected-enotconn", shutdown(a, SHUT_RD), ENOTCONN);
  long start = monotonic_ms();
  while (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE) && monotonic_ms() - start < k_wait_ms)
    sleep_ms(5);
  int woke = __atomic_load_n(&b.done, __ATOMIC_ACQUIRE);
  if (!woke) {  // not woken: a datagram ends the wait, so that the check can fail rather than hang
    int w = udp(AF_INET);
    sendto(w, "wake", 4, 0, &a_addr.sa, sizeof(a_addr.in));
    close(w);
  }
  pthread_join(t, NULL);
  check("shutdown-rd-wakes-reader", woke && b.ret == 0, "woken %d; recv returned %ld (%s)", woke, b.ret,
        b.ret < 0 ? strerrorname_np(b.err) : "-");
  char buf[4];
  // (A timeout, so that a recv that does block fails the check instead of hanging.)
  struct timeval tv = {2, 0};
  setsockopt(a, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  CHECK_RETURNS("recv-after-shutdown-rd", recv(a, buf, sizeof(buf), 0), 0);
  // Only a recv that would wait looks at the shutdown: a non-blocking one finds no data.
  CHECK_FAILS_WITH("recv-dontwait-after-shutdown-rd", recv(a, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
  close(a);

  // On a connected UDP socket shutdown succeeds.
  union sockaddr_any addr;
  int s = bound_socket(AF_INET, SOCK_DGRAM, &addr);
  int c = udp(AF_INET);
  connect(c, &addr.sa, sizeof(addr.in));
  CHECK_RETURNS("shutdown-wr-connected", shutdown(c, SHUT_WR), 0);
  CHECK_FAILS_WITH("send-after-shutdown-wr", send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
  close(c);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  probe_ipv6();
  each_family(addresses);
  each_family(datagrams);
  each_family(connected);
  each_family(mmsg);
  if (g_have_ipv6)
    v4_mapped();
  shutdown_wakes();
  return check_exit_status();
}
