// AF_UNIX stream sockets: socketpair (and its flags and errors), a server bound to a path
// (the socket node, EADDRINUSE, ENOENT, ECONNREFUSED), abstract names, autobind, the forms
// and lengths of getsockname/getpeername/accept addresses, shutdown in each direction, EOF,
// ECONNRESET, EPIPE and SIGPIPE, a full socket, blocking against threads, and epoll. With
// the argument "sigpipe-default" it writes to a closed peer and dies of SIGPIPE (exit 141).
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "net.h"

static const socklen_t k_unnamed_len = sizeof(sa_family_t);

static char g_dir[64];

static void pair(int type, int sv[2]) { must(socketpair(AF_UNIX, type, 0, sv), "socketpair"); }

// The address bound to or connected from `fd`, through getsockname or getpeername.
static socklen_t name_of(int fd, int peer, union sockaddr_any *a) {
  memset(a, 0xee, sizeof(*a));
  socklen_t len = sizeof(*a);
  int r = peer ? getpeername(fd, &a->sa, &len) : getsockname(fd, &a->sa, &len);
  return r == 0 ? len : 0;
}

// `a` (of length `len`) is the path `path`, NUL included in the length.
static int is_path(const union sockaddr_any *a, socklen_t len, const char *path) {
  return a->un.sun_family == AF_UNIX && len == offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1 &&
         strcmp(a->un.sun_path, path) == 0;
}

// ---- socketpair ---------------------------------------------------------------------------

static void socketpairs(void) {
  int sv[2];
  CHECK_RETURNS("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  char buf[64] = {0};
  check("pair-a-to-b",
        write(sv[0], "ping", 4) == 4 && read(sv[1], buf, sizeof(buf)) == 4 && memcmp(buf, "ping", 4) == 0, "got '%s'",
        buf);
  check("pair-b-to-a",
        write(sv[1], "pong", 4) == 4 && read(sv[0], buf, sizeof(buf)) == 4 && memcmp(buf, "pong", 4) == 0, "got '%s'",
        buf);
  check("pair-blocking-by-default", !(fcntl(sv[0], F_GETFL) & O_NONBLOCK) && fcntl(sv[0], F_GETFD) == 0, "flags %#x",
        fcntl(sv[0], F_GETFL));
  // A stream has no boundaries: two writes can be read at once.
  write(sv[0], "ab", 2);
  write(sv[0], "cd", 2);
  check("pair-stream-merges", recv(sv[1], buf, sizeof(buf), 0) == 4 && memcmp(buf, "abcd", 4) == 0, "got '%.4s'", buf);
  union sockaddr_any a;
  socklen_t len = name_of(sv[0], 0, &a);
  check("pair-getsockname-unnamed", len == k_unnamed_len && a.un.sun_family == AF_UNIX, "len %u", len);
  // Unlike TCP, getpeername of an unnamed peer succeeds, with just the family.
  len = name_of(sv[0], 1, &a);
  check("pair-getpeername-unnamed", len == k_unnamed_len && a.un.sun_family == AF_UNIX, "len %u", len);

  struct stat st;
  fstat(sv[0], &st);
  check("pair-fstat-sock", S_ISSOCK(st.st_mode), "mode %o", st.st_mode);
  char path[64], link[64], want[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", sv[0]);
  ssize_t n = readlink(path, link, sizeof(link) - 1);
  link[n > 0 ? n : 0] = 0;
  snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
  check("pair-proc-fd-link", strcmp(link, want) == 0, "link is '%s'",
        n > 0 && strncmp(link, "socket:[", 8) == 0 ? "socket:[another inode]" : link);
  struct stat other;
  fstat(sv[1], &other);
  check("pair-two-inodes", other.st_ino != st.st_ino, "both ends share an inode");
  close(sv[0]);
  close(sv[1]);

  int types[3] = {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET};
  const char *names[3] = {"stream", "dgram", "seqpacket"};
  char name[64];
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof(name), "pair-%s-nonblock-cloexec", names[i]);
    int r = socketpair(AF_UNIX, types[i] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv);
    check(name,
          r == 0 && (fcntl(sv[0], F_GETFL) & O_NONBLOCK) && (fcntl(sv[1], F_GETFL) & O_NONBLOCK) &&
              fcntl(sv[0], F_GETFD) == FD_CLOEXEC && fcntl(sv[1], F_GETFD) == FD_CLOEXEC,
          "r %d", r);
    snprintf(name, sizeof(name), "pair-%s-empty-eagain", names[i]);
    CHECK_FAILS_WITH(name, recv(sv[0], buf, sizeof(buf), 0), EAGAIN);
    snprintf(name, sizeof(name), "pair-%s-type", names[i]);
    CHECK_RETURNS(name, getsockopt_int(sv[1], SOL_SOCKET, SO_TYPE), types[i]);
    close(sv[0]);
    close(sv[1]);
  }

  int before = lowest_free_fd();
  CHECK_FAILS_WITH("socketpair-inet", socketpair(AF_INET, SOCK_STREAM, 0, sv), EOPNOTSUPP);
  CHECK_FAILS_WITH("socketpair-bad-protocol", socketpair(AF_UNIX, SOCK_STREAM, 2, sv), EPROTONOSUPPORT);
  CHECK_FAILS_WITH("socketpair-bad-type", socketpair(AF_UNIX, SOCK_RDM, 0, sv), ESOCKTNOSUPPORT);
  CHECK_FAILS_WITH("socketpair-bad-flags", socketpair(AF_UNIX, SOCK_STREAM | O_APPEND, 0, sv), EINVAL);
  CHECK_FAILS_WITH("socketpair-efault", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, g_bad), EFAULT);
  check("socketpair-errors-leak-no-fd", lowest_free_fd() == before, "an fd was left open");
}

// ---- shutdown, EOF, resets, EPIPE ---------------------------------------------------------

static volatile sig_atomic_t g_sigpipes;
static void on_sigpipe(int sig) {
  (void)sig;
  g_sigpipes++;
}

static void closing(void) {
  int sv[2];
  char buf[16];
  pair(SOCK_STREAM, sv);
  write(sv[0], "last", 4);
  CHECK_RETURNS("shutdown-wr", shutdown(sv[0], SHUT_WR), 0);
  int revents = wait_for(sv[1], POLLIN | POLLRDHUP, 0);
  check("shutdown-wr-peer-pollrdhup", revents == (POLLIN | POLLRDHUP), "revents %#x", revents);
  check("data-before-eof", read(sv[1], buf, sizeof(buf)) == 4, "data lost");
  check("eof-after-shutdown-wr", read(sv[1], buf, sizeof(buf)) == 0, "no EOF");
  CHECK_FAILS_WITH("write-after-shutdown-wr", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
  check("other-way-still-open", write(sv[1], "back", 4) == 4 && read(sv[0], buf, sizeof(buf)) == 4, "broken");
  CHECK_FAILS_WITH("shutdown-bad-how", shutdown(sv[0], -1), EINVAL);
  close(sv[0]);
  close(sv[1]);

  // SHUT_RD: our reads see EOF, and (unlike TCP) the peer's writes fail with EPIPE.
  pair(SOCK_STREAM, sv);
  CHECK_RETURNS("shutdown-rd", shutdown(sv[0], SHUT_RD), 0);
  check("read-after-shutdown-rd", read(sv[0], buf, sizeof(buf)) == 0, "no EOF");
  CHECK_FAILS_WITH("peer-write-after-shutdown-rd", send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
  revents = wait_for(sv[1], POLLIN | POLLOUT | POLLRDHUP, 0);
  check("peer-of-shut-rd-poll", revents == POLLOUT, "revents %#x", revents);
  close(sv[0]);
  close(sv[1]);

  // The peer closes: EOF; POLLHUP; writes fail with EPIPE and SIGPIPE unless MSG_NOSIGNAL.
  pair(SOCK_STREAM, sv);
  write(sv[1], "tail", 4);
  close(sv[1]);
  revents = wait_for(sv[0], POLLIN | POLLOUT | POLLRDHUP, 0);
  check("peer-closed-poll", revents == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP), "revents %#x", revents);
  check("peer-closed-data-then-eof", read(sv[0], buf, sizeof(buf)) == 4 && read(sv[0], buf, sizeof(buf)) == 0,
        "no EOF");
  struct sigaction sa = {0}, old;
  sa.sa_handler = on_sigpipe;
  sigaction(SIGPIPE, &sa, &old);
  g_sigpipes = 0;
  CHECK_FAILS_WITH("send-nosignal-epipe", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
  check("send-nosignal-no-sigpipe", g_sigpipes == 0, "SIGPIPE came");
  CHECK_FAILS_WITH("write-epipe", write(sv[0], "x", 1), EPIPE);
  check("write-epipe-sigpipe", g_sigpipes == 1, "SIGPIPE came %d times", (int)g_sigpipes);
  struct iovec iov = {"x", 1};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  CHECK_FAILS_WITH("sendmsg-epipe", sendmsg(sv[0], &m, 0), EPIPE);
  check("sendmsg-epipe-sigpipe", g_sigpipes == 2, "SIGPIPE came %d times", (int)g_sigpipes);
  sigaction(SIGPIPE, &old, NULL);
  close(sv[0]);

  // The peer closes with data it never read: ECONNRESET once, then EOF.
  pair(SOCK_STREAM, sv);
  write(sv[0], "unread", 6);
  close(sv[1]);
  revents = wait_for(sv[0], POLLIN | POLLOUT, 0);
  check("reset-poll", revents == (POLLIN | POLLOUT | POLLERR | POLLHUP), "revents %#x", revents);
  CHECK_FAILS_WITH("read-econnreset", read(sv[0], buf, sizeof(buf)), ECONNRESET);
  check("read-after-econnreset", read(sv[0], buf, sizeof(buf)) == 0, "no EOF");
  CHECK_FAILS_WITH("send-after-reset", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
  close(sv[0]);
}

// ---- a full socket, threads on the other end ----------------------------------------------

struct Sink {
  int fd;
  long got;
  uint32_t sum;
};

static void *sink(void *arg) {
  struct Sink *k = arg;
  static unsigned char buf[65536];
  for (;;) {
    ssize_t n = read(k->fd, buf, (size_t)(k->got % 7 + 1) * 1500);
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      k->sum = k->sum * 31 + buf[i];
    k->got += n;
  }
  return NULL;
}

static void *late_write(void *arg) {
  sleep_ms(100);
  write(*(int *)arg, "late", 4);
  return NULL;
}

static void *late_read(void *arg) {
  sleep_ms(100);
  drain(*(int *)arg);
  return NULL;
}

static void capacity(void) {
  int sv[2];
  pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
  long total = fill(sv[0]);
  check("full-pair-eagain", total > 0, "fill returned %ld", total);
  CHECK_FAILS_WITH("write-full-eagain", write(sv[0], "x", 1), EAGAIN);
  check("full-not-pollout", wait_for(sv[0], POLLOUT, 0) == 0, "still writable");
  int queued = -1;
  ioctl(sv[1], FIONREAD, &queued);
  check("fionread-full", queued == total, "FIONREAD %d of %ld", queued, total);
  check("drain-all", drain(sv[1]) == total, "lost data");
  check("pollout-after-drain", wait_for(sv[0], POLLOUT, 0) == POLLOUT, "not writable");
  close(sv[0]);
  close(sv[1]);

  pair(SOCK_STREAM, sv);
  pthread_t t;
  pthread_create(&t, NULL, late_write, &sv[1]);
  char buf[8] = {0};
  check("blocking-read-wakes", read(sv[0], buf, sizeof(buf)) == 4 && memcmp(buf, "late", 4) == 0, "got '%s'", buf);
  pthread_join(t, NULL);
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  fill(sv[0]);
  fcntl(sv[0], F_SETFL, 0);
  pthread_create(&t, NULL, late_read, &sv[1]);
  CHECK_RETURNS("blocking-write-wakes", write(sv[0], "more", 4), 4);
  pthread_join(t, NULL);
  close(sv[0]);
  close(sv[1]);

  pair(SOCK_STREAM, sv);
  struct Sink k = {sv[1], 0, 0};
  pthread_create(&t, NULL, sink, &k);
  static unsigned char data[65521];
  uint32_t sum = 0, x = 3;
  long size = 4 << 20, sent = 0;
  while (sent < size) {
    size_t chunk = size - sent < (long)sizeof(data) ? (size_t)(size - sent) : sizeof(data);
    for (size_t i = 0; i < chunk; i++) {
      x = x * 1103515245 + 12345;
      data[i] = (unsigned char)(x >> 16);
      sum = sum * 31 + data[i];
    }
    size_t off = 0;
    while (off < chunk) {
      ssize_t w = write(sv[0], data + off, chunk - off);
      if (w <= 0)
        break;
      off += (size_t)w;
    }
    sent += (long)chunk;
  }
  close(sv[0]);
  pthread_join(t, NULL);
  check("stream-4mib", k.got == size && k.sum == sum, "got %ld bytes, checksum %s", k.got,
        k.sum == sum ? "same" : "differs");
  close(sv[1]);
}

// ---- a server bound to a path -------------------------------------------------------------

static void path_server(void) {
  char path[128], client_path[128], file_path[128];
  snprintf(path, sizeof(path), "%s/server.sock", g_dir);
  snprintf(client_path, sizeof(client_path), "%s/client.sock", g_dir);
  snprintf(file_path, sizeof(file_path), "%s/plain-file", g_dir);
  union sockaddr_any addr, cl_addr;
  socklen_t len = unix_path(&addr, path);

  int l = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  // Unlike TCP, an unbound AF_UNIX socket cannot listen (it has no name to be found by).
  CHECK_FAILS_WITH("listen-unbound-einval", listen(l, 4), EINVAL);
  mode_t old_umask = umask(022);
  CHECK_RETURNS("bind-path", bind(l, &addr.sa, len), 0);
  umask(old_umask);
  struct stat st;
  check("bind-creates-socket-node", stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0755,
        "mode %o", st.st_mode);
  union sockaddr_any got;
  socklen_t got_len = name_of(l, 0, &got);
  check("getsockname-path", is_path(&got, got_len, path), "len %u", got_len);
  // Binding again: the path is looked at first (it exists: EADDRINUSE); a new path gets
  // EINVAL, and its node is removed again.
  CHECK_FAILS_WITH("bind-twice-same-path", bind(l, &addr.sa, len), EADDRINUSE);
  union sockaddr_any second;
  char second_path[160];
  snprintf(second_path, sizeof(second_path), "%s/second.sock", g_dir);
  CHECK_FAILS_WITH("bind-twice-new-path", bind(l, &second.sa, unix_path(&second, second_path)), EINVAL);
  check("bind-twice-leaves-no-node", stat(second_path, &st) == -1 && errno == ENOENT, "the node exists");
  int other = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("bind-existing-path-eaddrinuse", bind(other, &addr.sa, len), EADDRINUSE);
  close(other);

  int c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  // Bound but not listening.
  CHECK_FAILS_WITH("connect-not-listening-econnrefused", connect(c, &addr.sa, len), ECONNREFUSED);
  CHECK_RETURNS("listen", listen(l, 4), 0);
  CHECK_FAILS_WITH("connect-to-listener-socket", connect(l, &addr.sa, len), EINVAL);

  // A blocking connect to a listener completes before accept: the connection waits in the queue.
  CHECK_RETURNS("connect-path", connect(c, &addr.sa, len), 0);
  CHECK_FAILS_WITH("connect-twice-eisconn", connect(c, &addr.sa, len), EISCONN);
  check("listener-pollin", wait_for(l, POLLIN, 0) == POLLIN, "no pending connection");
  union sockaddr_any from;
  memset(&from, 0xee, sizeof(from));
  socklen_t from_len = sizeof(from);
  int s = accept(l, &from.sa, &from_len);
  check("accept-unnamed-client", s >= 0 && from_len == k_unnamed_len && from.un.sun_family == AF_UNIX, "fd %d len %u",
        s, from_len);
  got_len = name_of(s, 0, &got);
  check("accepted-getsockname-is-server-path", is_path(&got, got_len, path), "len %u", got_len);
  got_len = name_of(s, 1, &got);
  check("accepted-getpeername-unnamed", got_len == k_unnamed_len, "len %u", got_len);
  got_len = name_of(c, 1, &got);
  check("client-getpeername-server-path", is_path(&got, got_len, path), "len %u", got_len);
  got_len = name_of(c, 0, &got);
  check("client-getsockname-unnamed", got_len == k_unnamed_len, "len %u", got_len);
  char buf[16];
  check("path-data", write(c, "hi", 2) == 2 && read(s, buf, sizeof(buf)) == 2, "no data");
  close(c);
  close(s);

  // A client bound to its own path: the server sees that path.
  c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  socklen_t cl_len = unix_path(&cl_addr, client_path);
  must(bind(c, &cl_addr.sa, cl_len), "bind");
  must(connect(c, &addr.sa, len), "connect");
  from_len = sizeof(from);
  s = accept(l, &from.sa, &from_len);
  check("accept-named-client", s >= 0 && is_path(&from, from_len, client_path), "len %u", from_len);
  got_len = name_of(s, 1, &got);
  check("accepted-getpeername-client-path", is_path(&got, got_len, client_path), "len %u", got_len);
  // The address may also be given without its NUL: the length ends it.
  int c2 = must(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  CHECK_RETURNS("connect-path-without-nul", connect(c2, &addr.sa, len - 1), 0);
  // A non-blocking connect to a listener completes at once (no EINPROGRESS).
  int s2 = accept(l, NULL, NULL);
  check("nonblocking-connect-completed", s2 >= 0 && write(c2, "x", 1) == 1, "not connected");
  close(s2);
  close(c2);
  close(c);
  close(s);

  // Sends with an address on a stream socket: EISCONN when connected, else EOPNOTSUPP.
  int sv[2];
  pair(SOCK_STREAM, sv);
  CHECK_FAILS_WITH("stream-sendto-connected-eisconn", sendto(sv[0], "x", 1, 0, &addr.sa, len), EISCONN);
  close(sv[0]);
  close(sv[1]);
  c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("stream-sendto-unconnected-eopnotsupp", sendto(c, "x", 1, MSG_NOSIGNAL, &addr.sa, len), EOPNOTSUPP);
  CHECK_FAILS_WITH("stream-send-unconnected-enotconn", send(c, "x", 1, MSG_NOSIGNAL), ENOTCONN);
  // And a read on an unconnected stream socket is EINVAL (TCP says ENOTCONN).
  CHECK_FAILS_WITH("stream-recv-unconnected-einval", recv(c, buf, sizeof(buf), 0), EINVAL);
  CHECK_FAILS_WITH("getpeername-unconnected", getpeername(c, &got.sa, &(socklen_t){sizeof(got)}), ENOTCONN);
  CHECK_FAILS_WITH("accept-not-listening", accept(c, NULL, NULL), EINVAL);

  // Missing paths, files that are not sockets, directories that do not exist.
  union sockaddr_any bad;
  char missing[160];
  snprintf(missing, sizeof(missing), "%s/missing.sock", g_dir);
  CHECK_FAILS_WITH("connect-missing-path-enoent", connect(c, &bad.sa, unix_path(&bad, missing)), ENOENT);
  int f = must(open(file_path, O_CREAT | O_WRONLY, 0644), "open");
  close(f);
  CHECK_FAILS_WITH("connect-regular-file-econnrefused", connect(c, &bad.sa, unix_path(&bad, file_path)), ECONNREFUSED);
  snprintf(missing, sizeof(missing), "%s/no-dir/x.sock", g_dir);
  CHECK_FAILS_WITH("bind-missing-dir-enoent", bind(c, &bad.sa, unix_path(&bad, missing)), ENOENT);
  CHECK_FAILS_WITH("bind-over-file-eaddrinuse", bind(c, &bad.sa, unix_path(&bad, file_path)), EADDRINUSE);
  CHECK_FAILS_WITH("bind-wrong-family",
                   bind(c, (struct sockaddr *)&(struct sockaddr_in){.sin_family = AF_INET}, sizeof(struct sockaddr_in)),
                   EINVAL);
  CHECK_FAILS_WITH("bind-efault", bind(c, g_bad, len), EFAULT);
  CHECK_FAILS_WITH("bind-addrlen-too-long", bind(c, &addr.sa, sizeof(struct sockaddr_un) + 1), EINVAL);
  CHECK_FAILS_WITH("connect-zero-addrlen", connect(c, &addr.sa, 0), EINVAL);
  close(c);

  // The node outlives the listener: connecting refuses, binding needs an unlink first.
  close(l);
  check("node-outlives-socket", stat(path, &st) == 0 && S_ISSOCK(st.st_mode), "the node is gone");
  c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("connect-closed-listener-econnrefused", connect(c, &addr.sa, len), ECONNREFUSED);
  l = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("rebind-needs-unlink", bind(l, &addr.sa, len), EADDRINUSE);
  CHECK_RETURNS("unlink-node", unlink(path), 0);
  CHECK_RETURNS("rebind-after-unlink", bind(l, &addr.sa, len), 0);
  listen(l, 4);
  CHECK_RETURNS("connect-after-rebind", connect(c, &addr.sa, len), 0);
  close(c);

  // Renaming the node keeps it usable under the new name.
  char renamed[160];
  snprintf(renamed, sizeof(renamed), "%s/renamed.sock", g_dir);
  rename(path, renamed);
  c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("connect-renamed-node", connect(c, &bad.sa, unix_path(&bad, renamed)), 0);
  got_len = name_of(l, 0, &got);
  check("getsockname-keeps-bound-path", is_path(&got, got_len, path), "len %u", got_len);
  close(c);
  close(l);

  // A listener with a full backlog: a non-blocking connect fails with EAGAIN (not EINPROGRESS).
  l = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  must(bind(l, &addr.sa, len), "bind");
  must(listen(l, 1), "listen");
  int queued[8], n_queued = 0, err = 0;
  for (; n_queued < 8; n_queued++) {
    queued[n_queued] = must(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
    if (connect(queued[n_queued], &addr.sa, len) != 0) {
      err = errno;
      close(queued[n_queued]);
      break;
    }
  }
  check("full-backlog-eagain", n_queued >= 1 && n_queued < 8 && err == EAGAIN, "%d connected, then %s", n_queued,
        strerrorname_np(err));
  for (int i = 0; i < n_queued; i++)
    close(queued[i]);
  close(l);
  unlink(path);
  unlink(renamed);
  unlink(client_path);
  unlink(file_path);
}

// ---- abstract names and autobind ----------------------------------------------------------

static void abstract(void) {
  char name[64], hex[17];
  random_hex(hex, sizeof(hex));
  snprintf(name, sizeof(name), "carbyne-net-%s", hex);
  union sockaddr_any addr;
  socklen_t len = unix_abstract(&addr, name);
  int l = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("bind-abstract", bind(l, &addr.sa, len), 0);
  union sockaddr_any got;
  socklen_t got_len = name_of(l, 0, &got);
  // The name is exactly the bytes given: a NUL first, no NUL at the end.
  check("getsockname-abstract", got_len == len && memcmp(&got, &addr, len) == 0, "len %u of %u", got_len, len);
  int other = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("bind-abstract-eaddrinuse", bind(other, &addr.sa, len), EADDRINUSE);
  must(listen(l, 4), "listen");
  int c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("connect-abstract", connect(c, &addr.sa, len), 0);
  got_len = name_of(c, 1, &got);
  check("getpeername-abstract", got_len == len && memcmp(&got, &addr, len) == 0, "len %u", got_len);
  int s = must(accept(l, NULL, NULL), "accept");
  char buf[8];
  check("abstract-data", write(s, "abs", 3) == 3 && read(c, buf, sizeof(buf)) == 3, "no data");
  // The length is part of the name: one more byte (a trailing NUL) is another name.
  int c2 = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("abstract-length-matters", connect(c2, &addr.sa, len + 1), ECONNREFUSED);
  // A missing abstract name refuses; it is not a missing file.
  union sockaddr_any missing;
  snprintf(name, sizeof(name), "carbyne-net-missing-%s", hex);
  CHECK_FAILS_WITH("connect-missing-abstract-econnrefused", connect(c2, &missing.sa, unix_abstract(&missing, name)),
                   ECONNREFUSED);
  close(c2);
  close(c);
  close(s);
  // The name is free as soon as the socket is closed.
  close(l);
  CHECK_RETURNS("abstract-free-after-close", bind(other, &addr.sa, len), 0);
  close(other);

  // Autobind: a bind with only the family picks an abstract name of five hex digits.
  int a = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  struct sockaddr_un only_family = {.sun_family = AF_UNIX};
  CHECK_RETURNS("autobind", bind(a, (struct sockaddr *)&only_family, sizeof(sa_family_t)), 0);
  got_len = name_of(a, 0, &got);
  int hex_ok = 1;
  for (int i = 1; i <= 5; i++)
    hex_ok &= (got.un.sun_path[i] >= '0' && got.un.sun_path[i] <= '9') ||
              (got.un.sun_path[i] >= 'a' && got.un.sun_path[i] <= 'f');
  check("autobind-name", got_len == offsetof(struct sockaddr_un, sun_path) + 6 && got.un.sun_path[0] == 0 && hex_ok,
        "len %u", got_len);
  // Asking for autobind again is a no-op that succeeds; binding a name is EINVAL.
  CHECK_RETURNS("autobind-again", bind(a, (struct sockaddr *)&only_family, sizeof(sa_family_t)), 0);
  union sockaddr_any again;
  socklen_t again_len = name_of(a, 0, &again);
  check("autobind-again-same-name", again_len == got_len && memcmp(&again, &got, got_len) == 0, "the name changed");
  char abstract_name[64];
  snprintf(abstract_name, sizeof(abstract_name), "carbyne-net-after-autobind-%s", hex);
  union sockaddr_any named;
  CHECK_FAILS_WITH("bind-name-after-autobind", bind(a, &named.sa, unix_abstract(&named, abstract_name)), EINVAL);
  // Others can connect to it by that name.
  must(listen(a, 1), "listen");
  c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("connect-autobound-name", connect(c, &got.sa, got_len), 0);
  int b = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  must(bind(b, (struct sockaddr *)&only_family, sizeof(sa_family_t)), "bind");
  union sockaddr_any got_b;
  socklen_t got_b_len = name_of(b, 0, &got_b);
  check("autobind-names-differ", got_b_len == got_len && memcmp(&got_b, &got, got_len) != 0, "the same name twice");
  close(a);
  close(b);
  close(c);

  // SO_PASSCRED makes connect() autobind the client.
  l = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  bind(l, &addr.sa, len);
  listen(l, 1);
  c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  setsockopt_int(c, SOL_SOCKET, SO_PASSCRED, 1);
  connect(c, &addr.sa, len);
  got_len = name_of(c, 0, &got);
  check("passcred-connect-autobinds", got_len == offsetof(struct sockaddr_un, sun_path) + 6 && got.un.sun_path[0] == 0,
        "len %u", got_len);
  close(c);
  close(l);
}

// ---- epoll --------------------------------------------------------------------------------

static void epolling(void) {
  char hex[17], name[64];
  random_hex(hex, sizeof(hex));
  snprintf(name, sizeof(name), "carbyne-net-epoll-%s", hex);
  union sockaddr_any addr;
  socklen_t len = unix_abstract(&addr, name);
  int l = must(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  must(bind(l, &addr.sa, len), "bind");
  must(listen(l, 8), "listen");
  int ep = must(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 100}, evs[8];
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  check("epoll-listener-idle", epoll_wait(ep, evs, 8, 0) == 0, "reported");
  int c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  must(connect(c, &addr.sa, len), "connect");
  int n = epoll_wait(ep, evs, 8, 0);
  check("epoll-listener-ready", n == 1 && evs[0].data.u64 == 100 && evs[0].events == EPOLLIN, "n %d", n);
  int s = accept4(l, NULL, NULL, SOCK_NONBLOCK);
  check("epoll-listener-drained", epoll_wait(ep, evs, 8, 0) == 0, "reported after accept");

  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = 1;
  epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
  n = epoll_wait(ep, evs, 8, 0);
  check("epoll-et-writable", n == 1 && evs[0].events == EPOLLOUT, "n %d events %#x", n, evs[0].events);
  check("epoll-et-once", epoll_wait(ep, evs, 8, 0) == 0, "reported twice");
  write(c, "abc", 3);
  n = epoll_wait(ep, evs, 8, 0);
  check("epoll-et-data", n == 1 && evs[0].events == (EPOLLIN | EPOLLOUT), "n %d events %#x", n, evs[0].events);
  char buf[8];
  read(s, buf, 1);
  check("epoll-et-partial-read-no-event", epoll_wait(ep, evs, 8, 0) == 0, "reported");
  write(c, "d", 1);
  check("epoll-et-new-data", epoll_wait(ep, evs, 8, 0) == 1, "not reported");
  drain(s);

  ev.events = EPOLLIN | EPOLLRDHUP;
  epoll_ctl(ep, EPOLL_CTL_MOD, s, &ev);
  check("epoll-lt-idle", epoll_wait(ep, evs, 8, 0) == 0, "reported");
  shutdown(c, SHUT_WR);
  n = epoll_wait(ep, evs, 8, 0);
  check("epoll-rdhup", n == 1 && evs[0].events == (EPOLLIN | EPOLLRDHUP), "n %d events %#x", n, evs[0].events);
  close(c);
  n = epoll_wait(ep, evs, 8, 0);
  check("epoll-hup", n == 1 && evs[0].events == (EPOLLIN | EPOLLRDHUP | EPOLLHUP), "n %d events %#x", n, evs[0].events);

  // EPOLLOUT comes back when a full socket is drained.
  int sv[2];
  pair(SOCK_STREAM | SOCK_NONBLOCK, sv);
  ev.events = EPOLLOUT;
  ev.data.u64 = 2;
  epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
  epoll_ctl(ep, EPOLL_CTL_DEL, s, NULL);
  fill(sv[0]);
  check("epoll-full-not-writable", epoll_wait(ep, evs, 8, 0) == 0, "reported");
  drain(sv[1]);
  n = epoll_wait(ep, evs, 8, 0);
  check("epoll-writable-after-drain", n == 1 && evs[0].data.u64 == 2, "n %d", n);
  close(sv[0]);
  close(sv[1]);
  close(s);
  close(ep);
  close(l);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  if (argc > 1 && strcmp(argv[1], "sigpipe-default") == 0) {
    int sv[2];
    pair(SOCK_STREAM, sv);
    close(sv[1]);
    write(sv[0], "x", 1);
    printf("still alive\n");  // SIGPIPE's default action ends the process first
    return 0;
  }
  make_tmpdir(g_dir, sizeof(g_dir), "unix-stream");
  socketpairs();
  closing();
  capacity();
  path_server();
  abstract();
  epolling();
  rmdir(g_dir);
  return check_exit_status();
}
