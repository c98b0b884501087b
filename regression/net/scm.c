// Ancillary data on AF_UNIX sockets: SCM_RIGHTS passing a pipe and a file (the receiver
// writes and reads through them; the open file is shared, offset included), MSG_CMSG_CLOEXEC,
// MSG_CTRUNC with fds dropped (and closed) when the control buffer is short, SCM_CREDENTIALS
// with SO_PASSCRED, SO_PEERCRED on pairs, listeners, accepted and unconnected sockets, and
// the errors of malformed control messages.
#define _GNU_SOURCE
#include <sys/stat.h>
#include <sys/uio.h>

#include "net.h"

static char g_dir[64];

// Sends `data` (one byte at least) with `fds` as SCM_RIGHTS.
static ssize_t send_fds(int sock, const char *data, const int *fds, int count) {
  union {
    char buf[CMSG_SPACE(8 * sizeof(int))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  struct iovec iov = {(void *)data, strlen(data)};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  if (count > 0) {
    m.msg_control = control.buf;
    m.msg_controllen = CMSG_SPACE(count * sizeof(int));
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(count * sizeof(int));
    memcpy(CMSG_DATA(c), fds, count * sizeof(int));
  }
  return sendmsg(sock, &m, 0);
}

struct Received {
  ssize_t n;
  int flags;
  int cmsgs;     // how many control messages
  int fd_count;  // fds in the SCM_RIGHTS message
  int fds[8];
  int has_creds;
  struct ucred creds;
  int first_type;  // type of the first control message
};

// Receives into a 64-byte buffer with `controllen` bytes of control buffer.
static struct Received recv_control(int sock, size_t controllen, int flags, char *data) {
  union {
    char buf[512];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof(control));
  char scratch[64];
  struct iovec iov = {data ? data : scratch, 64};
  struct msghdr m = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = controllen ? control.buf : NULL, .msg_controllen = controllen};
  struct Received r;
  memset(&r, 0, sizeof(r));
  r.first_type = -1;
  r.n = recvmsg(sock, &m, flags);
  r.flags = m.msg_flags;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
    if (r.cmsgs++ == 0)
      r.first_type = c->cmsg_type;
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      r.fd_count = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      memcpy(r.fds, CMSG_DATA(c), (size_t)r.fd_count * sizeof(int));
    } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS &&
               c->cmsg_len >= CMSG_LEN(sizeof(struct ucred))) {
      r.has_creds = 1;
      memcpy(&r.creds, CMSG_DATA(c), sizeof(r.creds));
    }
  }
  return r;
}

static int same_file(int a, int b) {
  struct stat sa, sb;
  return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
}

static void rights(int type, const char *prefix) {
  char name[96];
#define NAME(s) (snprintf(name, sizeof(name), "%s-%s", prefix, s), name)
  int sv[2];
  must(socketpair(AF_UNIX, type, 0, sv), "socketpair");
  int p[2];
  must(pipe(p), "pipe");
  char path[128];
  snprintf(path, sizeof(path), "%s/%s-file", g_dir, prefix);
  int f = must(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644), "open");
  write(f, "file-data", 9);
  lseek(f, 0, SEEK_SET);

  int fds[2] = {p[1], f};
  CHECK_RETURNS(NAME("send-rights"), send_fds(sv[0], "R", fds, 2), 1);
  char data[64] = {0};
  struct Received r = recv_control(sv[1], CMSG_SPACE(2 * sizeof(int)), 0, data);
  check(NAME("recv-rights"), r.n == 1 && data[0] == 'R' && r.flags == 0 && r.cmsgs == 1 && r.fd_count == 2,
        "n %zd flags %#x cmsgs %d fds %d", r.n, r.flags, r.cmsgs, r.fd_count);
  int wp = r.fds[0], rf = r.fds[1];
  check(NAME("rights-new-numbers"), wp != p[1] && rf != f && wp != rf && wp >= 0 && rf >= 0, "fd numbers reused");
  check(NAME("rights-same-files"), same_file(wp, p[1]) && same_file(rf, f), "other files");
  check(NAME("rights-no-cloexec"), fcntl(wp, F_GETFD) == 0 && fcntl(rf, F_GETFD) == 0, "FD_CLOEXEC set");
  check(NAME("rights-flags-kept"), fcntl(wp, F_GETFL) == O_WRONLY && (fcntl(rf, F_GETFL) & O_ACCMODE) == O_RDWR,
        "flags %#x %#x", fcntl(wp, F_GETFL), fcntl(rf, F_GETFL));
  // The receiver writes into the passed pipe and reads the passed file.
  char buf[16] = {0};
  check(NAME("write-through-passed-pipe"),
        write(wp, "via", 3) == 3 && read(p[0], buf, sizeof(buf)) == 3 && memcmp(buf, "via", 3) == 0, "got '%s'", buf);
  memset(buf, 0, sizeof(buf));
  check(NAME("read-through-passed-file"), read(rf, buf, 4) == 4 && memcmp(buf, "file", 4) == 0, "got '%s'", buf);
  // The same open file: the offset moved for the sender's descriptor too.
  CHECK_RETURNS(NAME("passed-file-shares-offset"), lseek(f, 0, SEEK_CUR), 4);
  // The original closed, the passed copy keeps the pipe's write end open.
  close(p[1]);
  struct pollfd pfd = {p[0], POLLIN, 0};
  check(NAME("passed-copy-keeps-pipe-open"), poll(&pfd, 1, 0) == 0, "revents %#x", pfd.revents);
  close(wp);
  check(NAME("pipe-eof-after-last-copy"), read(p[0], buf, sizeof(buf)) == 0, "no EOF");
  close(rf);

  // MSG_CMSG_CLOEXEC marks the received fds close-on-exec.
  send_fds(sv[0], "C", &f, 1);
  r = recv_control(sv[1], CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC, NULL);
  check(NAME("msg-cmsg-cloexec"), r.fd_count == 1 && fcntl(r.fds[0], F_GETFD) == FD_CLOEXEC, "fds %d", r.fd_count);
  close(r.fds[0]);

  // Fds in flight survive the sender closing its own copies.
  int q[2];
  must(pipe(q), "pipe");
  send_fds(sv[0], "F", &q[0], 1);
  close(q[0]);
  r = recv_control(sv[1], CMSG_SPACE(sizeof(int)), 0, NULL);
  check(NAME("in-flight-survives-close"), r.fd_count == 1 && write(q[1], "z", 1) == 1 && read(r.fds[0], buf, 1) == 1,
        "fds %d", r.fd_count);
  close(r.fds[0]);
  close(q[1]);

  // A short control buffer: what fits is received, the rest is closed, and MSG_CTRUNC says so.
  int three[3] = {f, f, f};
  int before = lowest_free_fd();
  send_fds(sv[0], "T", three, 3);
  r = recv_control(sv[1], CMSG_LEN(sizeof(int)), 0, NULL);
  check(NAME("ctrunc-one-of-three"), r.n == 1 && r.flags == MSG_CTRUNC && r.fd_count == 1, "n %zd flags %#x fds %d",
        r.n, r.flags, r.fd_count);
  if (r.fd_count == 1)
    close(r.fds[0]);
  check(NAME("ctrunc-closes-the-rest"), lowest_free_fd() == before, "dropped fds were left open");
  // CMSG_SPACE(sizeof(int)) is 24 bytes, room for two ints after the 16-byte header.
  send_fds(sv[0], "S", three, 3);
  r = recv_control(sv[1], CMSG_SPACE(sizeof(int)), 0, NULL);
  check(NAME("ctrunc-space-of-one-fits-two"), r.flags == MSG_CTRUNC && r.fd_count == 2, "flags %#x fds %d", r.flags,
        r.fd_count);
  for (int i = 0; i < r.fd_count; i++)
    close(r.fds[i]);
  send_fds(sv[0], "N", three, 3);
  r = recv_control(sv[1], 0, 0, NULL);
  check(NAME("ctrunc-no-control-buffer"), r.n == 1 && r.flags == MSG_CTRUNC && r.cmsgs == 0, "n %zd flags %#x", r.n,
        r.flags);
  check(NAME("ctrunc-no-buffer-leaks-nothing"), lowest_free_fd() == before, "dropped fds were left open");

  // Malformed control messages.
  int bad_fd = 999;
  CHECK_FAILS_WITH(NAME("rights-ebadf"), send_fds(sv[0], "B", &bad_fd, 1), EBADF);
  {
    union {
      char buf[CMSG_SPACE(sizeof(int))];
      struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov = {"L", 1};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int)) + 64;  // longer than the buffer
    CHECK_FAILS_WITH(NAME("cmsg-len-too-long-einval"), sendmsg(sv[0], &m, 0), EINVAL);
    c->cmsg_len = CMSG_LEN(sizeof(int));
    c->cmsg_type = 77;
    memcpy(CMSG_DATA(c), &f, sizeof(int));
    CHECK_FAILS_WITH(NAME("cmsg-unknown-type-einval"), sendmsg(sv[0], &m, 0), EINVAL);
    m.msg_control = g_bad;
    CHECK_FAILS_WITH(NAME("cmsg-efault"), sendmsg(sv[0], &m, 0), EFAULT);
  }
  CHECK_FAILS_WITH(NAME("nothing-left-queued"), recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
#undef NAME
  close(f);
  unlink(path);
  close(p[0]);
  close(sv[0]);
  close(sv[1]);
}

static void credentials(void) {
  int sv[2];
  must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  CHECK_RETURNS("so-passcred-default", getsockopt_int(sv[1], SOL_SOCKET, SO_PASSCRED), 0);
  send(sv[0], "a", 1, 0);
  struct Received r = recv_control(sv[1], 256, 0, NULL);
  check("no-passcred-no-creds", r.n == 1 && r.cmsgs == 0, "cmsgs %d", r.cmsgs);

  setsockopt_int(sv[1], SOL_SOCKET, SO_PASSCRED, 1);
  CHECK_RETURNS("so-passcred-set", getsockopt_int(sv[1], SOL_SOCKET, SO_PASSCRED), 1);
  send(sv[0], "b", 1, 0);
  r = recv_control(sv[1], CMSG_SPACE(sizeof(struct ucred)), 0, NULL);
  check("scm-credentials", r.n == 1 && r.has_creds && r.flags == 0, "n %zd creds %d flags %#x", r.n, r.has_creds,
        r.flags);
  check("scm-credentials-pid", r.creds.pid == getpid(), "not getpid()");
  check("scm-credentials-uid-gid", r.creds.uid == getuid() && r.creds.gid == getgid(), "not getuid()/getgid()");

  // The sender may state its own credentials explicitly.
  {
    union {
      char buf[CMSG_SPACE(sizeof(struct ucred))];
      struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof(control));
    struct iovec iov = {"c", 1};
    struct msghdr m = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof(control.buf)};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_CREDENTIALS;
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
    struct ucred mine = {getpid(), getuid(), getgid()};
    memcpy(CMSG_DATA(c), &mine, sizeof(mine));
    CHECK_RETURNS("send-explicit-credentials", sendmsg(sv[0], &m, 0), 1);
    r = recv_control(sv[1], CMSG_SPACE(sizeof(struct ucred)), 0, NULL);
    check("explicit-credentials-received", r.has_creds && r.creds.pid == getpid() && r.creds.uid == getuid(),
          "creds %d", r.has_creds);
    c->cmsg_len = CMSG_LEN(sizeof(struct ucred) - 1);
    CHECK_FAILS_WITH("credentials-short-cmsg-einval", sendmsg(sv[0], &m, 0), EINVAL);
  }

  // Too small a control buffer for the credentials.
  send(sv[0], "d", 1, 0);
  r = recv_control(sv[1], sizeof(struct cmsghdr) + 4, 0, NULL);
  check("credentials-ctrunc", r.n == 1 && r.flags == MSG_CTRUNC && !r.has_creds, "n %zd flags %#x", r.n, r.flags);

  // Credentials and fds together: credentials come first.
  int p[2];
  must(pipe(p), "pipe");
  send_fds(sv[0], "e", &p[0], 1);
  r = recv_control(sv[1], 256, 0, NULL);
  check("credentials-then-rights", r.cmsgs == 2 && r.first_type == SCM_CREDENTIALS && r.has_creds && r.fd_count == 1,
        "cmsgs %d first %d fds %d", r.cmsgs, r.first_type, r.fd_count);
  if (r.fd_count == 1)
    close(r.fds[0]);
  // Room for the credentials only: the fds are dropped and closed.
  int before = lowest_free_fd();
  send_fds(sv[0], "f", &p[0], 1);
  r = recv_control(sv[1], CMSG_SPACE(sizeof(struct ucred)), 0, NULL);
  check("credentials-fit-rights-dropped", r.has_creds && r.fd_count == 0 && r.flags == MSG_CTRUNC, "fds %d flags %#x",
        r.fd_count, r.flags);
  check("dropped-rights-closed", lowest_free_fd() == before, "an fd was left open");
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);

  // Datagrams carry credentials too.
  must(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair");
  setsockopt_int(sv[1], SOL_SOCKET, SO_PASSCRED, 1);
  send(sv[0], "g", 1, 0);
  r = recv_control(sv[1], CMSG_SPACE(sizeof(struct ucred)), 0, NULL);
  check("dgram-scm-credentials", r.has_creds && r.creds.pid == getpid() && r.creds.uid == getuid(), "creds %d",
        r.has_creds);
  close(sv[0]);
  close(sv[1]);
}

static int peercred(int fd, struct ucred *out) {
  socklen_t len = sizeof(*out);
  memset(out, 0xee, sizeof(*out));
  int r = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, out, &len);
  return r == 0 && len == sizeof(*out) ? 0 : -1;
}

static void peer_credentials(void) {
  int sv[2];
  must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  struct ucred cr;
  check("so-peercred-pair", peercred(sv[0], &cr) == 0 && cr.pid == getpid() && cr.uid == getuid() && cr.gid == getgid(),
        "not our credentials");
  close(sv[0]);
  close(sv[1]);

  char hex[17], name[64];
  random_hex(hex, sizeof(hex));
  snprintf(name, sizeof(name), "carbyne-net-peercred-%s", hex);
  union sockaddr_any addr;
  socklen_t len = unix_abstract(&addr, name);
  int l = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  must(bind(l, &addr.sa, len), "bind");
  // Before it connects or listens a socket has no peer: pid 0 and ids of -1.
  check("so-peercred-unconnected", peercred(l, &cr) == 0 && cr.pid == 0 && cr.uid == (uid_t)-1 && cr.gid == (gid_t)-1,
        "pid %s uid %s", cr.pid == 0 ? "0" : "nonzero", cr.uid == (uid_t)-1 ? "-1" : "other");
  must(listen(l, 1), "listen");
  // A listener reports its own credentials, taken at listen().
  check("so-peercred-listener", peercred(l, &cr) == 0 && cr.pid == getpid() && cr.uid == getuid(),
        "not our credentials");
  int c = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  must(connect(c, &addr.sa, len), "connect");
  int s = must(accept(l, NULL, NULL), "accept");
  check("so-peercred-client", peercred(c, &cr) == 0 && cr.pid == getpid() && cr.uid == getuid(), "wrong");
  check("so-peercred-accepted", peercred(s, &cr) == 0 && cr.pid == getpid() && cr.gid == getgid(), "wrong");
  // A short buffer takes what fits.
  int pid_only = -1;
  socklen_t short_len = sizeof(int);
  check("so-peercred-short",
        getsockopt(s, SOL_SOCKET, SO_PEERCRED, &pid_only, &short_len) == 0 && short_len == sizeof(int) &&
            pid_only == getpid(),
        "len %u", short_len);
  CHECK_FAILS_WITH("so-peercred-read-only", setsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, sizeof(cr)), ENOPROTOOPT);
  close(c);
  close(s);
  close(l);

  // TCP sockets have no peer credentials: the same empty answer.
  union sockaddr_any tcp_addr;
  int tl = bound_socket(AF_INET, SOCK_STREAM, &tcp_addr);
  listen(tl, 1);
  int tc = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  must(connect(tc, &tcp_addr.sa, sizeof(tcp_addr.in)), "connect");
  check("so-peercred-tcp", peercred(tc, &cr) == 0 && cr.pid == 0 && cr.uid == (uid_t)-1 && cr.gid == (gid_t)-1,
        "pid %s uid %s", cr.pid == 0 ? "0" : "nonzero", cr.uid == (uid_t)-1 ? "-1" : "other");
  close(tc);
  close(tl);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  make_tmpdir(g_dir, sizeof(g_dir), "scm");
  rights(SOCK_STREAM, "stream");
  rights(SOCK_DGRAM, "dgram");
  rights(SOCK_SEQPACKET, "seqpacket");
  credentials();
  peer_credentials();
  rmdir(g_dir);
  return check_exit_status();
}
