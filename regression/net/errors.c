// What every socket call says about bad arguments: socket() with unknown families, types,
// protocols and flags; ENOTSOCK for each call on a pipe; EBADF on a closed fd; EFAULT and
// short lengths; and the plain fd operations on a socket (fstat, /proc/self/fd, lseek,
// pread, mmap, ftruncate, FIONBIO, dup).
#define _GNU_SOURCE
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "net.h"

static void socket_arguments(void) {
  CHECK_FAILS_WITH("socket-unknown-family", socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
  CHECK_FAILS_WITH("socket-negative-family", socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
  CHECK_FAILS_WITH("socket-tcp-with-udp-protocol", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
  CHECK_FAILS_WITH("socket-udp-with-tcp-protocol", socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
  CHECK_FAILS_WITH("socket-v6-tcp-with-udp-protocol", socket(AF_INET6, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
  CHECK_FAILS_WITH("socket-unix-bad-protocol", socket(AF_UNIX, SOCK_STREAM, 5), EPROTONOSUPPORT);
  // Past IPPROTO_MAX the protocol is not unsupported but invalid.
  CHECK_FAILS_WITH("socket-protocol-out-of-range", socket(AF_INET, SOCK_STREAM, 9999), EINVAL);
  CHECK_FAILS_WITH("socket-inet-rdm", socket(AF_INET, SOCK_RDM, 0), ESOCKTNOSUPPORT);
  CHECK_FAILS_WITH("socket-unix-rdm", socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
  CHECK_FAILS_WITH("socket-type-out-of-range", socket(AF_INET, 99, 0), EINVAL);
  CHECK_FAILS_WITH("socket-unknown-flag", socket(AF_INET, SOCK_STREAM | O_APPEND, 0), EINVAL);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  check("socket-nonblock-cloexec",
        fd >= 0 && fcntl(fd, F_GETFL) == (O_RDWR | O_NONBLOCK) && fcntl(fd, F_GETFD) == FD_CLOEXEC,
        "flags %#x fd flags %d", fcntl(fd, F_GETFL), fcntl(fd, F_GETFD));
  close(fd);
  fd = socket(AF_INET, SOCK_DGRAM, 0);
  check("socket-plain-flags", fd >= 0 && fcntl(fd, F_GETFL) == O_RDWR && fcntl(fd, F_GETFD) == 0, "flags %#x",
        fcntl(fd, F_GETFL));
  close(fd);
}

static void not_sockets(void) {
  int p[2];
  must(pipe(p), "pipe");
  int fd = p[0];
  union sockaddr_any a;
  socklen_t alen = loopback(AF_INET, 1, &a);
  socklen_t len = sizeof(a);
  char buf[8];
  struct iovec iov = {buf, sizeof(buf)};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  struct mmsghdr mm = {.msg_hdr = m};
  int v = 1;
  socklen_t vlen = sizeof(v);
  for (int pass = 0; pass < 2; pass++) {
    // First a pipe (ENOTSOCK), then a closed descriptor (EBADF).
    int want = pass == 0 ? ENOTSOCK : EBADF;
    const char *what = pass == 0 ? "pipe" : "closed";
    char name[64];
#define NAME(s) (snprintf(name, sizeof(name), "%s-%s", s, what), name)
    CHECK_FAILS_WITH(NAME("bind"), bind(fd, &a.sa, alen), want);
    CHECK_FAILS_WITH(NAME("connect"), connect(fd, &a.sa, alen), want);
    CHECK_FAILS_WITH(NAME("listen"), listen(fd, 1), want);
    CHECK_FAILS_WITH(NAME("accept"), accept(fd, NULL, NULL), want);
    CHECK_FAILS_WITH(NAME("accept4"), accept4(fd, NULL, NULL, SOCK_CLOEXEC), want);
    CHECK_FAILS_WITH(NAME("getsockname"), getsockname(fd, &a.sa, &len), want);
    CHECK_FAILS_WITH(NAME("getpeername"), getpeername(fd, &a.sa, &len), want);
    CHECK_FAILS_WITH(NAME("getsockopt"), getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vlen), want);
    CHECK_FAILS_WITH(NAME("setsockopt"), setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), want);
    CHECK_FAILS_WITH(NAME("send"), send(fd, "x", 1, 0), want);
    CHECK_FAILS_WITH(NAME("sendto"), sendto(fd, "x", 1, 0, &a.sa, alen), want);
    CHECK_FAILS_WITH(NAME("recv"), recv(fd, buf, sizeof(buf), MSG_DONTWAIT), want);
    CHECK_FAILS_WITH(NAME("recvfrom"), recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, &a.sa, &len), want);
    CHECK_FAILS_WITH(NAME("sendmsg"), sendmsg(fd, &m, 0), want);
    CHECK_FAILS_WITH(NAME("recvmsg"), recvmsg(fd, &m, MSG_DONTWAIT), want);
    CHECK_FAILS_WITH(NAME("sendmmsg"), sendmmsg(fd, &mm, 1, 0), want);
    CHECK_FAILS_WITH(NAME("recvmmsg"), recvmmsg(fd, &mm, 1, MSG_DONTWAIT, NULL), want);
    CHECK_FAILS_WITH(NAME("shutdown"), shutdown(fd, SHUT_RDWR), want);
#undef NAME
    if (pass == 0) {
      close(p[0]);
      close(p[1]);
    }
  }
  // A regular file is no socket either.
  int f = must(open("/proc/self/comm", O_RDONLY), "open");
  CHECK_FAILS_WITH("listen-regular-file", listen(f, 1), ENOTSOCK);
  close(f);
}

static void bad_pointers_and_lengths(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  union sockaddr_any a;
  socklen_t alen = loopback(AF_INET, 0, &a);
  CHECK_FAILS_WITH("bind-efault", bind(fd, g_bad, alen), EFAULT);
  CHECK_FAILS_WITH("bind-short-addrlen", bind(fd, &a.sa, alen - 1), EINVAL);
  CHECK_FAILS_WITH("bind-zero-addrlen", bind(fd, &a.sa, 0), EINVAL);
  CHECK_FAILS_WITH("bind-negative-addrlen", bind(fd, &a.sa, -1u), EINVAL);
  CHECK_FAILS_WITH("connect-efault", connect(fd, g_bad, alen), EFAULT);
  CHECK_FAILS_WITH("connect-short-addrlen", connect(fd, &a.sa, 4), EINVAL);
  // The IPv4 compatibility rule: AF_UNSPEC is taken as AF_INET when the address is INADDR_ANY.
  union sockaddr_any unspec;
  loopback(AF_INET, 0, &unspec);
  unspec.in.sin_family = AF_UNSPEC;
  unspec.in.sin_addr.s_addr = htonl(INADDR_ANY);
  CHECK_RETURNS("bind-af-unspec-any-is-inet", bind(fd, &unspec.sa, sizeof(unspec.in)), 0);
  close(fd);
  fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  unspec.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_FAILS_WITH("bind-af-unspec-loopback", bind(fd, &unspec.sa, sizeof(unspec.in)), EAFNOSUPPORT);
  listen(fd, 1);
  socklen_t len = sizeof(a);
  CHECK_FAILS_WITH("getsockname-len-efault", getsockname(fd, &a.sa, g_bad), EFAULT);
  CHECK_FAILS_WITH("getsockname-addr-efault", getsockname(fd, g_bad, &len), EFAULT);
  // accept() writes the address after taking the connection: with nothing pending a bad
  // length pointer is not even looked at, and with a connection the connection is lost.
  fcntl(fd, F_SETFL, O_NONBLOCK);
  CHECK_FAILS_WITH("accept-len-efault-nothing-pending", accept(fd, &a.sa, g_bad), EAGAIN);
  union sockaddr_any bound;
  len = sizeof(bound);
  getsockname(fd, &bound.sa, &len);
  int c = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  must(connect(c, &bound.sa, sizeof(bound.in)), "connect");
  wait_for(fd, POLLIN, k_wait_ms);
  int before = lowest_free_fd();
  CHECK_FAILS_WITH("accept-len-efault", accept(fd, &a.sa, g_bad), EFAULT);
  check("accept-efault-no-fd-left", lowest_free_fd() == before, "an fd was left open");
  CHECK_FAILS_WITH("accept-efault-connection-gone", accept(fd, NULL, NULL), EAGAIN);
  char one;
  check("accept-efault-client-sees-eof", wait_for(c, POLLIN, k_wait_ms) && recv(c, &one, 1, 0) == 0, "no EOF");
  close(c);
  CHECK_FAILS_WITH("getsockopt-efault", getsockopt(fd, SOL_SOCKET, SO_TYPE, g_bad, &(socklen_t){4}), EFAULT);
  CHECK_FAILS_WITH("recvmsg-efault", recvmsg(fd, g_bad, MSG_DONTWAIT), EFAULT);
  CHECK_FAILS_WITH("sendmsg-efault", sendmsg(fd, g_bad, 0), EFAULT);
  close(fd);

  int sv[2];
  must(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  char buf[8];
  struct iovec bad_iov = {g_bad, 4};
  struct msghdr m = {.msg_iov = &bad_iov, .msg_iovlen = 1};
  CHECK_FAILS_WITH("sendmsg-iov-efault", sendmsg(sv[0], &m, 0), EFAULT);
  struct iovec iov = {buf, sizeof(buf)};
  m.msg_iov = &iov;
  m.msg_iovlen = 2000;  // above IOV_MAX
  CHECK_FAILS_WITH("sendmsg-too-many-iovecs", sendmsg(sv[0], &m, 0), EMSGSIZE);
  m.msg_iovlen = 1;
  m.msg_iov = g_bad;
  CHECK_FAILS_WITH("sendmsg-iov-array-efault", sendmsg(sv[0], &m, 0), EFAULT);
  send(sv[0], "abcd", 4, 0);
  CHECK_FAILS_WITH("recv-efault", recv(sv[1], g_bad, 4, 0), EFAULT);
  check("recv-efault-keeps-data", recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT) == 4, "data lost");
  close(sv[0]);
  close(sv[1]);
  // Datagram sockets have no out-of-band data (stream ones may, depending on the kernel).
  must(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair");
  CHECK_FAILS_WITH("dgram-msg-oob-eopnotsupp", send(sv[0], "x", 1, MSG_OOB), EOPNOTSUPP);
  close(sv[0]);
  close(sv[1]);

  int u = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  CHECK_FAILS_WITH("unix-bind-addrlen-1", bind(u, (struct sockaddr *)&un, 1), EINVAL);
  CHECK_FAILS_WITH("unix-connect-addrlen-1", connect(u, (struct sockaddr *)&un, 1), EINVAL);
  // Only the family, for connect: there is no name to connect to.
  CHECK_FAILS_WITH("unix-connect-family-only", connect(u, (struct sockaddr *)&un, sizeof(sa_family_t)), EINVAL);
  close(u);
}

static void fd_operations(void) {
  int fd = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct stat st;
  check("fstat-socket", fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 07777) == 0777 && st.st_size == 0,
        "mode %o size %ld", st.st_mode, (long)st.st_size);
  char path[64], link[64], want[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
  ssize_t n = readlink(path, link, sizeof(link) - 1);
  link[n > 0 ? n : 0] = 0;
  snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
  check("proc-fd-link", strcmp(link, want) == 0, "link is '%s'",
        strncmp(link, "socket:[", 8) == 0 ? "socket:[another inode]" : link);
  CHECK_FAILS_WITH("lseek", lseek(fd, 0, SEEK_SET), ESPIPE);
  char buf[4];
  CHECK_FAILS_WITH("pread", pread(fd, buf, sizeof(buf), 0), ESPIPE);
  CHECK_FAILS_WITH("pwrite", pwrite(fd, "x", 1, 0), ESPIPE);
  // (TCP sockets can be mapped, for zero-copy receive; AF_UNIX ones cannot.)
  int u = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  CHECK_FAILS_WITH("mmap-unix", (long)mmap(NULL, 4096, PROT_READ, MAP_SHARED, u, 0), ENODEV);
  close(u);
  CHECK_FAILS_WITH("ftruncate", ftruncate(fd, 0), EINVAL);
  int on = 1;
  CHECK_RETURNS("fionbio", ioctl(fd, FIONBIO, &on), 0);
  check("fionbio-sets-o-nonblock", fcntl(fd, F_GETFL) & O_NONBLOCK, "flags %#x", fcntl(fd, F_GETFL));
  on = 0;
  ioctl(fd, FIONBIO, &on);
  check("fionbio-clears-o-nonblock", !(fcntl(fd, F_GETFL) & O_NONBLOCK), "flags %#x", fcntl(fd, F_GETFL));
  close(fd);

  // A dup is the same socket: a listener bound through one fd listens through the other.
  union sockaddr_any addr;
  int l = bound_socket(AF_INET, SOCK_STREAM, &addr);
  int d = dup(l);
  CHECK_RETURNS("dup-listen", listen(d, 1), 0);
  CHECK_RETURNS("dup-acceptconn", getsockopt_int(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
  close(l);
  int c = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  CHECK_RETURNS("dup-keeps-socket-open", connect(c, &addr.sa, sizeof(addr.in)), 0);
  close(c);
  close(d);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  socket_arguments();
  not_sockets();
  bad_pointers_and_lengths();
  fd_operations();
  return check_exit_status();
}
