// Socket options: SO_TYPE/SO_DOMAIN/SO_PROTOCOL of every kind of socket, SO_ACCEPTCONN,
// SO_ERROR, SO_REUSEADDR (with a TIME_WAIT port) and SO_REUSEPORT (two listeners on one
// port), SO_KEEPALIVE, SO_RCVBUF/SO_SNDBUF, SO_RCVLOWAT/SO_SNDLOWAT, SO_LINGER,
// SO_RCVTIMEO/SO_SNDTIMEO, TCP_NODELAY and the keepalive timers, IPV6_V6ONLY, and the
// errors: unknown options and levels, short and negative lengths, bad pointers.
#define _GNU_SOURCE
#include <netinet/tcp.h>
#include <sys/time.h>

#include "net.h"

struct Kind {
  const char *name;
  int family, type, protocol;
  int want_type, want_protocol;
};

static void identity(void) {
  static const struct Kind kinds[] = {
      {"tcp-v4", AF_INET, SOCK_STREAM, 0, SOCK_STREAM, IPPROTO_TCP},
      {"tcp-v4-explicit", AF_INET, SOCK_STREAM, IPPROTO_TCP, SOCK_STREAM, IPPROTO_TCP},
      {"udp-v4", AF_INET, SOCK_DGRAM, 0, SOCK_DGRAM, IPPROTO_UDP},
      {"tcp-v6", AF_INET6, SOCK_STREAM, 0, SOCK_STREAM, IPPROTO_TCP},
      {"udp-v6", AF_INET6, SOCK_DGRAM, 0, SOCK_DGRAM, IPPROTO_UDP},
      {"unix-stream", AF_UNIX, SOCK_STREAM, 0, SOCK_STREAM, 0},
      {"unix-dgram", AF_UNIX, SOCK_DGRAM, 0, SOCK_DGRAM, 0},
      {"unix-seqpacket", AF_UNIX, SOCK_SEQPACKET, 0, SOCK_SEQPACKET, 0},
      // Linux makes an AF_UNIX SOCK_RAW socket a datagram socket ("BSD has it, nothing uses it").
      {"unix-raw-is-dgram", AF_UNIX, SOCK_RAW, 0, SOCK_DGRAM, 0},
      {"unix-protocol-pf-unix", AF_UNIX, SOCK_STREAM, PF_UNIX, SOCK_STREAM, 0},
  };
  char name[64];
  for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
    const struct Kind *k = &kinds[i];
    if (k->family == AF_INET6 && !g_have_ipv6)
      continue;
    int fd = socket(k->family, k->type, k->protocol);
    int type = getsockopt_int(fd, SOL_SOCKET, SO_TYPE);
    int domain = getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN);
    int protocol = getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL);
    snprintf(name, sizeof(name), "identity-%s", k->name);
    check(name, fd >= 0 && type == k->want_type && domain == k->family && protocol == k->want_protocol,
          "fd %d type %d domain %d protocol %d", fd, type, domain, protocol);
    close(fd);
  }
}

static void basic_flags(void) {
  int t = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("acceptconn-before-listen", getsockopt_int(t, SOL_SOCKET, SO_ACCEPTCONN), 0);
  union sockaddr_any lo;
  must(bind(t, &lo.sa, loopback(AF_INET, 0, &lo)), "bind");
  must(listen(t, 1), "listen");
  CHECK_RETURNS("acceptconn-after-listen", getsockopt_int(t, SOL_SOCKET, SO_ACCEPTCONN), 1);
  CHECK_FAILS_WITH("acceptconn-read-only", setsockopt_int(t, SOL_SOCKET, SO_ACCEPTCONN, 1), ENOPROTOOPT);
  CHECK_RETURNS("so-error-fresh", getsockopt_int(t, SOL_SOCKET, SO_ERROR), 0);
  CHECK_FAILS_WITH("so-error-read-only", setsockopt_int(t, SOL_SOCKET, SO_ERROR, 1), ENOPROTOOPT);
  CHECK_FAILS_WITH("so-type-read-only", setsockopt_int(t, SOL_SOCKET, SO_TYPE, SOCK_DGRAM), ENOPROTOOPT);
  close(t);

  struct {
    const char *name;
    int level, option;
  } booleans[] = {
      {"so-reuseaddr", SOL_SOCKET, SO_REUSEADDR}, {"so-reuseport", SOL_SOCKET, SO_REUSEPORT},
      {"so-keepalive", SOL_SOCKET, SO_KEEPALIVE}, {"so-broadcast", SOL_SOCKET, SO_BROADCAST},
      {"so-oobinline", SOL_SOCKET, SO_OOBINLINE}, {"tcp-nodelay", IPPROTO_TCP, TCP_NODELAY},
  };
  char name[64];
  for (size_t i = 0; i < sizeof(booleans) / sizeof(booleans[0]); i++) {
    int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
    int level = booleans[i].level, option = booleans[i].option;
    int before = getsockopt_int(fd, level, option);
    int set_one = setsockopt_int(fd, level, option, 1);
    int after_one = getsockopt_int(fd, level, option);
    // Any nonzero value turns a flag on, and reads back as 1.
    setsockopt_int(fd, level, option, 0);
    int after_zero = getsockopt_int(fd, level, option);
    setsockopt_int(fd, level, option, 7);
    int after_seven = getsockopt_int(fd, level, option);
    snprintf(name, sizeof(name), "%s-round-trip", booleans[i].name);
    check(name, before == 0 && set_one == 0 && after_one == 1 && after_zero == 0 && after_seven == 1,
          "default %d, after 1: %d, after 0: %d, after 7: %d", before, after_one, after_zero, after_seven);
    close(fd);
  }
  int u = must(socket(AF_INET, SOCK_DGRAM, 0), "socket");
  CHECK_FAILS_WITH("tcp-nodelay-on-udp", setsockopt_int(u, IPPROTO_TCP, TCP_NODELAY, 1), ENOPROTOOPT);
  CHECK_RETURNS("acceptconn-udp", getsockopt_int(u, SOL_SOCKET, SO_ACCEPTCONN), 0);
  close(u);
}

static void buffers_and_lowat(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  int rcv_default = getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF);
  int snd_default = getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF);
  check("so-rcvbuf-default", rcv_default > 0, "SO_RCVBUF %d", rcv_default);
  check("so-sndbuf-default", snd_default > 0, "SO_SNDBUF %d", snd_default);
  // Linux doubles the value it is given (for its bookkeeping): only get >= set is portable.
  setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 65536);
  setsockopt_int(fd, SOL_SOCKET, SO_SNDBUF, 65536);
  check("so-rcvbuf-get-at-least-set", getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF) >= 65536, "smaller");
  check("so-sndbuf-get-at-least-set", getsockopt_int(fd, SOL_SOCKET, SO_SNDBUF) >= 65536, "smaller");
  // A tiny value is raised to a minimum, not taken as is.
  setsockopt_int(fd, SOL_SOCKET, SO_RCVBUF, 1);
  check("so-rcvbuf-minimum", getsockopt_int(fd, SOL_SOCKET, SO_RCVBUF) >= 1024, "not raised to a minimum");
  CHECK_RETURNS("so-rcvlowat-default", getsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT), 1);
  setsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT, 5);
  CHECK_RETURNS("so-rcvlowat-round-trip", getsockopt_int(fd, SOL_SOCKET, SO_RCVLOWAT), 5);
  CHECK_RETURNS("so-sndlowat-default", getsockopt_int(fd, SOL_SOCKET, SO_SNDLOWAT), 1);
  // Linux cannot change SO_SNDLOWAT.
  CHECK_FAILS_WITH("so-sndlowat-read-only", setsockopt_int(fd, SOL_SOCKET, SO_SNDLOWAT, 5), ENOPROTOOPT);
  close(fd);
}

static void linger(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct linger lg = {-1, -1};
  socklen_t len = sizeof(lg);
  check(
      "so-linger-default",
      getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len) == 0 && len == sizeof(lg) && lg.l_onoff == 0 && lg.l_linger == 0,
      "{%d, %d} len %u", lg.l_onoff, lg.l_linger, len);
  struct linger set = {1, 5};
  CHECK_RETURNS("so-linger-set", setsockopt(fd, SOL_SOCKET, SO_LINGER, &set, sizeof(set)), 0);
  getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
  check("so-linger-round-trip", lg.l_onoff == 1 && lg.l_linger == 5, "{%d, %d}", lg.l_onoff, lg.l_linger);
  set = (struct linger){7, 3};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &set, sizeof(set));
  getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
  check("so-linger-onoff-normalized", lg.l_onoff == 1 && lg.l_linger == 3, "{%d, %d}", lg.l_onoff, lg.l_linger);
  // Turning lingering off leaves the old timeout in place.
  set = (struct linger){0, 9};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &set, sizeof(set));
  getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
  check("so-linger-off-keeps-timeout", lg.l_onoff == 0 && lg.l_linger == 3, "{%d, %d}", lg.l_onoff, lg.l_linger);
  CHECK_FAILS_WITH("so-linger-short-optlen", setsockopt(fd, SOL_SOCKET, SO_LINGER, &set, sizeof(int)), EINVAL);
  close(fd);
}

static void timeouts(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  int names[2] = {SO_RCVTIMEO, SO_SNDTIMEO};
  const char *labels[2] = {"so-rcvtimeo", "so-sndtimeo"};
  char name[64];
  for (int i = 0; i < 2; i++) {
    struct timeval tv = {-1, -1};
    socklen_t len = sizeof(tv);
    snprintf(name, sizeof(name), "%s-default", labels[i]);
    check(
        name,
        getsockopt(fd, SOL_SOCKET, names[i], &tv, &len) == 0 && len == sizeof(tv) && tv.tv_sec == 0 && tv.tv_usec == 0,
        "{%ld, %ld}", (long)tv.tv_sec, (long)tv.tv_usec);
    struct timeval set = {2, 0};
    setsockopt(fd, SOL_SOCKET, names[i], &set, sizeof(set));
    getsockopt(fd, SOL_SOCKET, names[i], &tv, &len);
    snprintf(name, sizeof(name), "%s-round-trip", labels[i]);
    check(name, tv.tv_sec == 2 && tv.tv_usec == 0, "{%ld, %ld}", (long)tv.tv_sec, (long)tv.tv_usec);
    // Kept in jiffies: a fraction of a second may come back rounded up to the clock tick.
    set = (struct timeval){0, 100000};
    setsockopt(fd, SOL_SOCKET, names[i], &set, sizeof(set));
    getsockopt(fd, SOL_SOCKET, names[i], &tv, &len);
    snprintf(name, sizeof(name), "%s-fraction", labels[i]);
    check(name, tv.tv_sec == 0 && tv.tv_usec >= 100000 && tv.tv_usec < 110000, "{%ld, %ld}", (long)tv.tv_sec,
          (long)tv.tv_usec);
    set = (struct timeval){0, 1000000};
    snprintf(name, sizeof(name), "%s-usec-out-of-range-edom", labels[i]);
    CHECK_FAILS_WITH(name, setsockopt(fd, SOL_SOCKET, names[i], &set, sizeof(set)), EDOM);
    snprintf(name, sizeof(name), "%s-short-optlen", labels[i]);
    CHECK_FAILS_WITH(name, setsockopt(fd, SOL_SOCKET, names[i], &set, sizeof(set) - 1), EINVAL);
    set = (struct timeval){0, 0};
    setsockopt(fd, SOL_SOCKET, names[i], &set, sizeof(set));
    getsockopt(fd, SOL_SOCKET, names[i], &tv, &len);
    snprintf(name, sizeof(name), "%s-cleared", labels[i]);
    check(name, tv.tv_sec == 0 && tv.tv_usec == 0, "{%ld, %ld}", (long)tv.tv_sec, (long)tv.tv_usec);
  }
  close(fd);
}

static void tcp_options(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct {
    const char *name;
    int option, value, too_big;
  } timers[] = {
      {"tcp-keepidle", TCP_KEEPIDLE, 60, 32768},
      {"tcp-keepintvl", TCP_KEEPINTVL, 10, 32768},
      {"tcp-keepcnt", TCP_KEEPCNT, 5, 128},
  };
  char name[64];
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "%s-default-positive", timers[i].name);
    check(name, getsockopt_int(fd, IPPROTO_TCP, timers[i].option) > 0, "not positive");
    setsockopt_int(fd, IPPROTO_TCP, timers[i].option, timers[i].value);
    snprintf(name, sizeof(name), "%s-round-trip", timers[i].name);
    CHECK_RETURNS(name, getsockopt_int(fd, IPPROTO_TCP, timers[i].option), timers[i].value);
    snprintf(name, sizeof(name), "%s-zero-einval", timers[i].name);
    CHECK_FAILS_WITH(name, setsockopt_int(fd, IPPROTO_TCP, timers[i].option, 0), EINVAL);
    snprintf(name, sizeof(name), "%s-too-big-einval", timers[i].name);
    CHECK_FAILS_WITH(name, setsockopt_int(fd, IPPROTO_TCP, timers[i].option, timers[i].too_big), EINVAL);
    snprintf(name, sizeof(name), "%s-kept-after-error", timers[i].name);
    CHECK_RETURNS(name, getsockopt_int(fd, IPPROTO_TCP, timers[i].option), timers[i].value);
  }
  CHECK_FAILS_WITH("tcp-nodelay-short-optlen", setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, 2), EINVAL);
  CHECK_FAILS_WITH("tcp-unknown-option", setsockopt_int(fd, IPPROTO_TCP, 9999, 1), ENOPROTOOPT);
  CHECK_FAILS_WITH("tcp-unknown-option-get", getsockopt(fd, IPPROTO_TCP, 9999, &(int){0}, &(socklen_t){4}),
                   ENOPROTOOPT);
  close(fd);
}

static void ipv6_only(void) {
  if (!g_have_ipv6)
    return;
  int fd = must(socket(AF_INET6, SOCK_STREAM, 0), "socket");
  // The default comes from /proc/sys/net/ipv6/bindv6only (0 unless the host changed it).
  int def = getsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY);
  check("ipv6-v6only-default", def == 0 || def == 1, "IPV6_V6ONLY %d", def);
  printf("ipv6-v6only default: %d\n", def);
  setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
  CHECK_RETURNS("ipv6-v6only-set", getsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
  setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
  CHECK_RETURNS("ipv6-v6only-clear", getsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
  union sockaddr_any lo;
  must(bind(fd, &lo.sa, loopback(AF_INET6, 0, &lo)), "bind");
  // Fixed once the socket has a port.
  CHECK_FAILS_WITH("ipv6-v6only-after-bind", setsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1), EINVAL);
  close(fd);
  int u = must(socket(AF_INET6, SOCK_DGRAM, 0), "socket");
  CHECK_RETURNS("ipv6-v6only-udp", setsockopt_int(u, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
  close(u);
  int v4 = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("ipv6-v6only-on-ipv4", setsockopt_int(v4, IPPROTO_IPV6, IPV6_V6ONLY, 1), ENOPROTOOPT);
  close(v4);
}

static void errors(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("unknown-socket-option-set", setsockopt_int(fd, SOL_SOCKET, 9999, 1), ENOPROTOOPT);
  CHECK_FAILS_WITH("unknown-socket-option-get", getsockopt(fd, SOL_SOCKET, 9999, &(int){0}, &(socklen_t){4}),
                   ENOPROTOOPT);
  CHECK_FAILS_WITH("unknown-ip-option", setsockopt_int(fd, IPPROTO_IP, 9999, 1), ENOPROTOOPT);
  CHECK_FAILS_WITH("unknown-level", setsockopt_int(fd, 9999, 1, 1), ENOPROTOOPT);
  CHECK_FAILS_WITH("short-optlen-set", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &(int){1}, 2), EINVAL);
  CHECK_FAILS_WITH("zero-optlen-set", setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, 0), EINVAL);
  CHECK_FAILS_WITH("set-efault", setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, g_bad, sizeof(int)), EFAULT);
  // A short getsockopt buffer is not an error: the value is cut to fit, and the length says so.
  unsigned char bytes[4] = {0xee, 0xee, 0xee, 0xee};
  socklen_t len = 2;
  check("short-optlen-get-truncates",
        getsockopt(fd, SOL_SOCKET, SO_TYPE, bytes, &len) == 0 && len == 2 && bytes[0] == SOCK_STREAM && bytes[1] == 0 &&
            bytes[2] == 0xee,
        "len %u bytes %02x %02x %02x", len, bytes[0], bytes[1], bytes[2]);
  len = 0;
  check("zero-optlen-get", getsockopt(fd, SOL_SOCKET, SO_TYPE, bytes, &len) == 0 && len == 0, "len %u", len);
  len = 8;
  int big[2] = {-1, -1};
  check("long-optlen-get",
        getsockopt(fd, SOL_SOCKET, SO_TYPE, big, &len) == 0 && len == sizeof(int) && big[0] == SOCK_STREAM &&
            big[1] == -1,
        "len %u", len);
  CHECK_FAILS_WITH("negative-optlen-get", getsockopt(fd, SOL_SOCKET, SO_TYPE, bytes, &(socklen_t){-1u}), EINVAL);
  CHECK_FAILS_WITH("get-efault", getsockopt(fd, SOL_SOCKET, SO_TYPE, g_bad, &(socklen_t){4}), EFAULT);
  CHECK_FAILS_WITH("get-optlen-efault", getsockopt(fd, SOL_SOCKET, SO_TYPE, bytes, g_bad), EFAULT);
  close(fd);
  // AF_UNIX sockets have no protocol options at all: EOPNOTSUPP, not ENOPROTOOPT.
  int u = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("unix-tcp-option", setsockopt_int(u, IPPROTO_TCP, TCP_NODELAY, 1), EOPNOTSUPP);
  CHECK_FAILS_WITH("unix-tcp-option-get", getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &(int){0}, &(socklen_t){4}),
                   EOPNOTSUPP);
  CHECK_RETURNS("unix-socket-level-works", setsockopt_int(u, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
  close(u);
}

// ---- what SO_REUSEADDR and SO_REUSEPORT allow ---------------------------------------------

static int tcp_socket(int reuseaddr, int reuseport) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  if (reuseaddr)
    setsockopt_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
  if (reuseport)
    setsockopt_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
  return fd;
}

static void reuse(void) {
  union sockaddr_any addr;
  socklen_t len = loopback(AF_INET, 0, &addr);
  // Two bound (not listening) sockets share a port if both set SO_REUSEADDR; only one listens.
  int a = tcp_socket(1, 0);
  must(bind(a, &addr.sa, len), "bind");
  len = loopback(AF_INET, local_port(a), &addr);
  int plain = tcp_socket(0, 0);
  CHECK_FAILS_WITH("bind-taken-port", bind(plain, &addr.sa, len), EADDRINUSE);
  int b = tcp_socket(1, 0);
  CHECK_RETURNS("reuseaddr-both-bound", bind(b, &addr.sa, len), 0);
  CHECK_RETURNS("reuseaddr-first-listens", listen(a, 4), 0);
  CHECK_FAILS_WITH("reuseaddr-second-listen", listen(b, 4), EADDRINUSE);
  int c = tcp_socket(1, 0);
  CHECK_FAILS_WITH("reuseaddr-not-onto-listener", bind(c, &addr.sa, len), EADDRINUSE);
  close(a);
  close(b);
  close(c);
  close(plain);

  // The classic case: the server side closes first, so its port sits in TIME_WAIT.
  int l = tcp_socket(1, 0);
  len = loopback(AF_INET, 0, &addr);
  must(bind(l, &addr.sa, len), "bind");
  must(listen(l, 4), "listen");
  len = loopback(AF_INET, local_port(l), &addr);
  int cl = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  must(connect(cl, &addr.sa, len), "connect");
  int sv = must(accept(l, NULL, NULL), "accept");
  close(sv);
  close(l);
  char buf[4];
  check("time-wait-peer-eof", wait_for(cl, POLLIN, k_wait_ms) && recv(cl, buf, sizeof(buf), 0) == 0, "no EOF");
  close(cl);
  sleep_ms(50);
  plain = tcp_socket(0, 0);
  CHECK_FAILS_WITH("time-wait-bind-without-reuseaddr", bind(plain, &addr.sa, len), EADDRINUSE);
  int again = tcp_socket(1, 0);
  CHECK_RETURNS("time-wait-bind-with-reuseaddr", bind(again, &addr.sa, len), 0);
  CHECK_RETURNS("time-wait-listen-with-reuseaddr", listen(again, 4), 0);
  close(plain);
  close(again);

  // SO_REUSEPORT: two listeners on one port; connections go to one or the other.
  int l1 = tcp_socket(0, 1), l2 = tcp_socket(0, 1), l3 = tcp_socket(0, 0);
  len = loopback(AF_INET, 0, &addr);
  must(bind(l1, &addr.sa, len), "bind");
  len = loopback(AF_INET, local_port(l1), &addr);
  CHECK_RETURNS("reuseport-second-bind", bind(l2, &addr.sa, len), 0);
  CHECK_FAILS_WITH("reuseport-needs-both", bind(l3, &addr.sa, len), EADDRINUSE);
  CHECK_RETURNS("reuseport-first-listen", listen(l1, 16), 0);
  CHECK_RETURNS("reuseport-second-listen", listen(l2, 16), 0);
  enum { k_clients = 8 };
  int clients[k_clients];
  for (int i = 0; i < k_clients; i++) {
    clients[i] = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
    must(connect(clients[i], &addr.sa, len), "connect");
  }
  fcntl(l1, F_SETFL, O_NONBLOCK);
  fcntl(l2, F_SETFL, O_NONBLOCK);
  int accepted = 0;
  long start = monotonic_ms();
  while (accepted < k_clients && monotonic_ms() - start < k_wait_ms) {
    struct pollfd pfds[2] = {{l1, POLLIN, 0}, {l2, POLLIN, 0}};
    poll(pfds, 2, 100);
    for (int i = 0; i < 2; i++) {
      int fd;
      while ((fd = accept(pfds[i].fd, NULL, NULL)) >= 0) {
        accepted++;
        close(fd);
      }
    }
  }
  check("reuseport-all-accepted", accepted == k_clients, "accepted %d of %d", accepted, k_clients);
  for (int i = 0; i < k_clients; i++)
    close(clients[i]);
  close(l1);
  close(l2);
  close(l3);

  // UDP: SO_REUSEPORT lets two sockets bind one port as well.
  int u1 = must(socket(AF_INET, SOCK_DGRAM, 0), "socket"), u2 = must(socket(AF_INET, SOCK_DGRAM, 0), "socket");
  setsockopt_int(u1, SOL_SOCKET, SO_REUSEPORT, 1);
  setsockopt_int(u2, SOL_SOCKET, SO_REUSEPORT, 1);
  len = loopback(AF_INET, 0, &addr);
  must(bind(u1, &addr.sa, len), "bind");
  len = loopback(AF_INET, local_port(u1), &addr);
  CHECK_RETURNS("reuseport-udp", bind(u2, &addr.sa, len), 0);
  close(u1);
  close(u2);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  probe_ipv6();
  identity();
  basic_flags();
  buffers_and_lowat();
  linger();
  timeouts();
  tcp_options();
  ipv6_only();
  errors();
  reuse();
  return check_exit_status();
}
