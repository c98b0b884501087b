// Helpers of the socket regression programs: loopback addresses, connected pairs, waits,
// random names and private temporary directories (the native and Carbyne runs may overlap,
// so nothing here uses a fixed port, path or abstract name).
#ifndef CARBYNE_REGRESSION_NET_H
#define CARBYNE_REGRESSION_NET_H

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#define NET_UNUSED __attribute__((unused))

// Checks that `call` returns `want`; errno is read right after the call (the arguments of
// check() are evaluated in no fixed order, so a message must not read errno itself).
#define CHECK_RETURNS(name, call, want)                                                \
  do {                                                                                 \
    errno = 0;                                                                         \
    long check_ret_ = (long)(call);                                                    \
    int check_err_ = errno;                                                            \
    check(name, check_ret_ == (long)(want), "returned %ld (%s), want %ld", check_ret_, \
          check_ret_ == -1 ? strerrorname_np(check_err_) : "-", (long)(want));         \
  } while (0)

// An address no program maps (hidden from the compiler's buffer-size warnings).
static void *volatile g_bad NET_UNUSED = (void *)8;

// How long a check waits for something that must happen (a loopback packet, a thread).
enum { k_wait_ms = 5000 };

union sockaddr_any {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
  struct sockaddr_un un;
  struct sockaddr_storage ss;
};

NET_UNUSED static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

NET_UNUSED static long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// A call the test needs to set up its checks: a failure ends the program (exit 2).
NET_UNUSED static int must(int ret, const char *what) {
  if (ret < 0) {
    printf("SETUP FAILED %s: %s\n", what, strerrorname_np(errno));
    exit(2);
  }
  return ret;
}

NET_UNUSED static const char *family_name(int family) {
  return family == AF_INET ? "v4" : family == AF_INET6 ? "v6" : "unix";
}

// "v4-NAME" or "v6-NAME", from a ring of buffers so that a check can use a few at once.
NET_UNUSED static const char *fam(int family, const char *name) {
  static char bufs[8][96];
  static int next;
  char *buf = bufs[next++ % 8];
  snprintf(buf, sizeof(bufs[0]), "%s-%s", family_name(family), name);
  return buf;
}

// The loopback address of `family` with `port` (host order); returns its length.
NET_UNUSED static socklen_t loopback(int family, int port, union sockaddr_any *a) {
  memset(a, 0, sizeof(*a));
  if (family == AF_INET) {
    a->in.sin_family = AF_INET;
    a->in.sin_port = htons((uint16_t)port);
    a->in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return sizeof(a->in);
  }
  a->in6.sin6_family = AF_INET6;
  a->in6.sin6_port = htons((uint16_t)port);
  a->in6.sin6_addr = in6addr_loopback;
  return sizeof(a->in6);
}

NET_UNUSED static socklen_t inet_len(int family) {
  return family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

NET_UNUSED static int port_of(const union sockaddr_any *a) {
  return ntohs(a->sa.sa_family == AF_INET ? a->in.sin_port : a->in6.sin6_port);
}

NET_UNUSED static int is_loopback(const union sockaddr_any *a) {
  if (a->sa.sa_family == AF_INET)
    return a->in.sin_addr.s_addr == htonl(INADDR_LOOPBACK);
  return a->sa.sa_family == AF_INET6 && memcmp(&a->in6.sin6_addr, &in6addr_loopback, 16) == 0;
}

// Same family, address and port (IPv6 flow info and scope are ignored).
NET_UNUSED static int same_inet(const union sockaddr_any *a, const union sockaddr_any *b) {
  if (a->sa.sa_family != b->sa.sa_family)
    return 0;
  if (a->sa.sa_family == AF_INET)
    return a->in.sin_port == b->in.sin_port && a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
  return a->in6.sin6_port == b->in6.sin6_port && memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

NET_UNUSED static int local_port(int fd) {
  union sockaddr_any a;
  socklen_t len = sizeof(a);
  must(getsockname(fd, &a.sa, &len), "getsockname");
  return port_of(&a);
}

// A socket of `type` bound to the loopback address of `family`, port 0 (the kernel picks).
NET_UNUSED static int bound_socket(int family, int type, union sockaddr_any *addr) {
  int fd = must(socket(family, type, 0), "socket");
  union sockaddr_any a;
  socklen_t len = loopback(family, 0, &a);
  must(bind(fd, &a.sa, len), "bind");
  if (addr) {
    len = sizeof(*addr);
    must(getsockname(fd, &addr->sa, &len), "getsockname");
  }
  return fd;
}

NET_UNUSED static int tcp_listener(int family, union sockaddr_any *addr) {
  int fd = bound_socket(family, SOCK_STREAM, addr);
  must(listen(fd, 16), "listen");
  return fd;
}

// A connected TCP pair over loopback: `client` connected, `server` accepted.
NET_UNUSED static void tcp_pair(int family, int *client, int *server) {
  union sockaddr_any addr;
  int l = tcp_listener(family, &addr);
  *client = must(socket(family, SOCK_STREAM, 0), "socket");
  must(connect(*client, &addr.sa, family == AF_INET ? sizeof(addr.in) : sizeof(addr.in6)), "connect");
  *server = must(accept(l, NULL, NULL), "accept");
  close(l);
}

// Whether IPv6 loopback works; hosts with IPv6 disabled skip the IPv6 half (both runs see
// the same host).
static int g_have_ipv6 NET_UNUSED;

NET_UNUSED static void probe_ipv6(void) {
  int probe = socket(AF_INET6, SOCK_STREAM, 0);
  union sockaddr_any lo6;
  g_have_ipv6 = probe >= 0 && bind(probe, &lo6.sa, loopback(AF_INET6, 0, &lo6)) == 0;
  close(probe);
  printf("ipv6 loopback: %s\n", g_have_ipv6 ? "yes" : "no (skipped)");
}

// Runs `test` for IPv4, then IPv6.
NET_UNUSED static void each_family(void (*test)(int)) {
  test(AF_INET);
  if (g_have_ipv6)
    test(AF_INET6);
}

// poll() for `events` for up to `timeout_ms`; returns revents (0 on timeout).
NET_UNUSED static int wait_for(int fd, short events, int timeout_ms) {
  struct pollfd pfd = {fd, events, 0};
  int n = poll(&pfd, 1, timeout_ms);
  return n == 1 ? pfd.revents : 0;
}

// Sends 4096-byte blocks without blocking until EAGAIN; returns the bytes sent.
NET_UNUSED static long fill(int fd) {
  static char block[4096];
  long total = 0;
  for (;;) {
    ssize_t n = send(fd, block, sizeof(block), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n <= 0)
      return errno == EAGAIN ? total : -1;
    total += n;
  }
}

// Reads without blocking until EAGAIN; returns the bytes read.
NET_UNUSED static long drain(int fd) {
  static char block[65536];
  long total = 0;
  for (;;) {
    ssize_t n = recv(fd, block, sizeof(block), MSG_DONTWAIT);
    if (n <= 0)
      return total;
    total += n;
  }
}

// `size` - 1 random lowercase hex digits and a NUL: part of abstract names.
NET_UNUSED static void random_hex(char *buf, size_t size) {
  unsigned char raw[32];
  size_t digits = size - 1;
  if (digits > 2 * sizeof(raw))
    digits = 2 * sizeof(raw);
  if (getrandom(raw, (digits + 1) / 2, 0) < 0) {
    printf("SETUP FAILED getrandom: %s\n", strerrorname_np(errno));
    exit(2);
  }
  for (size_t i = 0; i < digits; i++)
    buf[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 4 : 0)) & 15];
  buf[digits] = 0;
}

// A private directory in /tmp (a tmpfs under Carbyne), for socket paths.
NET_UNUSED static void make_tmpdir(char *buf, size_t size, const char *prog) {
  snprintf(buf, size, "/tmp/carbyne-%s-XXXXXX", prog);
  if (!mkdtemp(buf)) {
    printf("SETUP FAILED mkdtemp: %s\n", strerrorname_np(errno));
    exit(2);
  }
}

// A path-or-abstract AF_UNIX address; returns its length for bind/connect.
NET_UNUSED static socklen_t unix_path(union sockaddr_any *a, const char *path) {
  memset(a, 0, sizeof(*a));
  a->un.sun_family = AF_UNIX;
  snprintf(a->un.sun_path, sizeof(a->un.sun_path), "%s", path);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

// An abstract name: a NUL, then `name` (not NUL-terminated: the length says where it ends).
NET_UNUSED static socklen_t unix_abstract(union sockaddr_any *a, const char *name) {
  memset(a, 0, sizeof(*a));
  a->un.sun_family = AF_UNIX;
  size_t n = strlen(name);
  memcpy(a->un.sun_path + 1, name, n);
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

// The lowest free descriptor: compared before and after a call to find leaked fds.
NET_UNUSED static int lowest_free_fd(void) {
  int fd = dup(0);
  close(fd);
  return fd;
}

NET_UNUSED static int getsockopt_int(int fd, int level, int name) {
  int v = -12345;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, name, &v, &len) != 0)
    return -1000 - errno;
  return v;
}

NET_UNUSED static int setsockopt_int(int fd, int level, int name, int value) {
  return setsockopt(fd, level, name, &value, sizeof(value));
}

#endif  // CARBYNE_REGRESSION_NET_H
