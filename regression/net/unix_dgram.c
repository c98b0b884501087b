// AF_UNIX datagram and seqpacket sockets: sendto a bound path and recvfrom giving the
// sender's path (or abstract name, autobound name, or nothing), message boundaries and
// truncation, FIONREAD, connect() and the EPERM of a socket connected elsewhere, the errors
// of unconnected sends and missing or mismatched peers, a peer that closes, a full queue
// and EMSGSIZE, and SEQPACKET: a listener, boundaries, MSG_TRUNC, EOF and EPIPE.
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include "net.h"

static char g_dir[64];
static char g_hex[17];

static int is_path(const union sockaddr_any *a, socklen_t len, const char *path) {
  return a->un.sun_family == AF_UNIX && len == offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1 &&
         strcmp(a->un.sun_path, path) == 0;
}

static int dgram_at(const char *path, union sockaddr_any *addr, socklen_t *len) {
  int fd = must(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  *len = unix_path(addr, path);
  must(bind(fd, &addr->sa, *len), "bind");
  return fd;
}

static void addressing(void) {
  char srv_path[128], cli_path[128];
  snprintf(srv_path, sizeof(srv_path), "%s/server.sock", g_dir);
  snprintf(cli_path, sizeof(cli_path), "%s/client.sock", g_dir);
  union sockaddr_any srv_addr, cli_addr, from;
  socklen_t srv_len, cli_len, from_len;
  int srv = dgram_at(srv_path, &srv_addr, &srv_len);
  struct stat st;
  check("dgram-bind-creates-node", stat(srv_path, &st) == 0 && S_ISSOCK(st.st_mode), "no socket node");
  int cli = dgram_at(cli_path, &cli_addr, &cli_len);
  char buf[64] = {0};

  CHECK_RETURNS("sendto-path", sendto(cli, "hello", 5, 0, &srv_addr.sa, srv_len), 5);
  memset(&from, 0xee, sizeof(from));
  from_len = sizeof(from);
  ssize_t n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len);
  check("recvfrom-sender-path", n == 5 && is_path(&from, from_len, cli_path), "n %zd len %u", n, from_len);
  CHECK_RETURNS("reply-to-sender-path", sendto(srv, "back", 4, 0, &from.sa, from_len), 4);
  check("reply-arrives", recv(cli, buf, sizeof(buf), MSG_DONTWAIT) == 4, "no reply");

  // An unbound sender has no address: recvfrom reports length 0 (getpeername would say 2).
  int anon = must(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  sendto(anon, "anon", 4, 0, &srv_addr.sa, srv_len);
  memset(&from, 0xee, sizeof(from));
  from_len = sizeof(from);
  n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len);
  check("recvfrom-unbound-sender-len-0", n == 4 && from_len == 0, "n %zd len %u", n, from_len);
  close(anon);

  // An abstract sender: the exact bytes of its name.
  char name[64];
  snprintf(name, sizeof(name), "carbyne-net-dgram-%s", g_hex);
  union sockaddr_any abs_addr;
  socklen_t abs_len = unix_abstract(&abs_addr, name);
  int abs = must(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  must(bind(abs, &abs_addr.sa, abs_len), "bind");
  sendto(abs, "abs", 3, 0, &srv_addr.sa, srv_len);
  from_len = sizeof(from);
  n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len);
  check("recvfrom-abstract-sender", n == 3 && from_len == abs_len && memcmp(&from, &abs_addr, abs_len) == 0,
        "n %zd len %u", n, from_len);
  CHECK_RETURNS("sendto-abstract", sendto(srv, "to-abs", 6, 0, &abs_addr.sa, abs_len), 6);
  check("abstract-receives", recv(abs, buf, sizeof(buf), MSG_DONTWAIT) == 6, "nothing came");

  // With SO_PASSCRED an unbound sender is autobound by its first send.
  int pc = must(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  setsockopt_int(pc, SOL_SOCKET, SO_PASSCRED, 1);
  sendto(pc, "pc", 2, 0, &srv_addr.sa, srv_len);
  from_len = sizeof(from);
  n = recvfrom(srv, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len);
  check("recvfrom-autobound-sender",
        n == 2 && from_len == offsetof(struct sockaddr_un, sun_path) + 6 && from.un.sun_path[0] == 0, "n %zd len %u", n,
        from_len);
  close(pc);

  // Errors of sendto.
  union sockaddr_any bad;
  char other[160];
  snprintf(other, sizeof(other), "%s/missing.sock", g_dir);
  CHECK_FAILS_WITH("sendto-missing-path-enoent", sendto(cli, "x", 1, 0, &bad.sa, unix_path(&bad, other)), ENOENT);
  snprintf(other, sizeof(other), "%s/stream.sock", g_dir);
  int stream = must(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  socklen_t stream_len = unix_path(&bad, other);
  must(bind(stream, &bad.sa, stream_len), "bind");
  CHECK_FAILS_WITH("sendto-stream-socket-eprototype", sendto(cli, "x", 1, 0, &bad.sa, stream_len), EPROTOTYPE);
  CHECK_FAILS_WITH("connect-stream-socket-eprototype", connect(cli, &bad.sa, stream_len), EPROTOTYPE);
  close(stream);
  unlink(other);
  snprintf(other, sizeof(other), "%s/carbyne-net-missing-%s", g_dir, g_hex);
  CHECK_FAILS_WITH("sendto-missing-abstract-econnrefused", sendto(cli, "x", 1, 0, &bad.sa, unix_abstract(&bad, other)),
                   ECONNREFUSED);
  CHECK_FAILS_WITH("send-unconnected-enotconn", send(cli, "x", 1, 0), ENOTCONN);
  CHECK_FAILS_WITH("listen-dgram-eopnotsupp", listen(srv, 1), EOPNOTSUPP);
  CHECK_FAILS_WITH("accept-dgram-eopnotsupp", accept(srv, NULL, NULL), EOPNOTSUPP);
  CHECK_FAILS_WITH("recv-empty-eagain", recv(srv, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);

  // connect() fixes the destination; a socket connected elsewhere refuses others (EPERM).
  CHECK_RETURNS("connect-dgram", connect(cli, &srv_addr.sa, srv_len), 0);
  from_len = sizeof(from);
  check("getpeername-dgram", getpeername(cli, &from.sa, &from_len) == 0 && is_path(&from, from_len, srv_path), "len %u",
        from_len);
  CHECK_RETURNS("send-connected", send(cli, "conn", 4, 0), 4);
  check("recv-connected", recv(srv, buf, sizeof(buf), MSG_DONTWAIT) == 4, "nothing came");
  int third = must(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  CHECK_FAILS_WITH("sendto-socket-connected-elsewhere-eperm", sendto(third, "x", 1, 0, &cli_addr.sa, cli_len), EPERM);
  CHECK_RETURNS("peer-may-send-to-connected", sendto(srv, "ok", 2, 0, &cli_addr.sa, cli_len), 2);
  check("connected-receives-from-peer", recv(cli, buf, sizeof(buf), MSG_DONTWAIT) == 2, "nothing came");
  // A datagram socket may sendto another address while connected.
  CHECK_RETURNS("sendto-other-while-connected", sendto(cli, "y", 1, 0, &abs_addr.sa, abs_len), 1);
  from_len = sizeof(from);
  check("sendto-other-arrives-from-cli",
        recvfrom(abs, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len) == 1 && is_path(&from, from_len, cli_path),
        "len %u", from_len);
  close(abs);
  struct sockaddr unspec = {.sa_family = AF_UNSPEC};
  CHECK_RETURNS("connect-af-unspec", connect(cli, &unspec, sizeof(unspec)), 0);
  CHECK_FAILS_WITH("send-after-unspec-enotconn", send(cli, "x", 1, 0), ENOTCONN);
  CHECK_RETURNS("third-may-send-after-unspec", sendto(third, "x", 1, 0, &cli_addr.sa, cli_len), 1);
  close(third);

  // The server goes away (its node stays): a connected client gets ECONNREFUSED.
  connect(cli, &srv_addr.sa, srv_len);
  close(srv);
  CHECK_FAILS_WITH("send-to-closed-server-econnrefused", send(cli, "x", 1, 0), ECONNREFUSED);
  CHECK_FAILS_WITH("sendto-closed-server-path-econnrefused", sendto(cli, "x", 1, 0, &srv_addr.sa, srv_len),
                   ECONNREFUSED);
  close(cli);
  unlink(srv_path);
  unlink(cli_path);
}

static void messages(int type, const char *prefix) {
  int sv[2];
  must(socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv), "socketpair");
  char name[64], buf[64] = {0};
#define NAME(s) (snprintf(name, sizeof(name), "%s-%s", prefix, s), name)
  send(sv[0], "first", 5, 0);
  send(sv[0], "second", 6, 0);
  int queued = -1;
  ioctl(sv[1], FIONREAD, &queued);
  // FIONREAD: the first datagram's size, but all queued bytes of a seqpacket socket.
  check(NAME("fionread"), queued == (type == SOCK_DGRAM ? 5 : 11), "FIONREAD %d", queued);
  check(NAME("boundary-1"), recv(sv[1], buf, sizeof(buf), 0) == 5 && memcmp(buf, "first", 5) == 0, "wrong");
  check(NAME("boundary-2"), recv(sv[1], buf, sizeof(buf), 0) == 6 && memcmp(buf, "second", 6) == 0, "wrong");

  send(sv[0], "0123456789", 10, 0);
  send(sv[0], "next", 4, 0);
  check(NAME("peek"), recv(sv[1], buf, 4, MSG_PEEK) == 4 && memcmp(buf, "0123", 4) == 0, "wrong");
  check(NAME("peek-trunc-size"), recv(sv[1], NULL, 0, MSG_PEEK | MSG_TRUNC) == 10, "wrong size");
  struct iovec iov = {buf, 4};
  struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
  ssize_t n = recvmsg(sv[1], &m, 0);
  check(NAME("truncated-msg-trunc-flag"), n == 4 && m.msg_flags == MSG_TRUNC, "n %zd flags %#x", n, m.msg_flags);
  check(NAME("rest-dropped"), recv(sv[1], buf, sizeof(buf), 0) == 4 && memcmp(buf, "next", 4) == 0, "wrong");
  send(sv[0], "0123456789", 10, 0);
  check(NAME("recv-msg-trunc-full-size"), recv(sv[1], buf, 3, MSG_TRUNC) == 10, "not the full size");
  CHECK_FAILS_WITH(NAME("empty-eagain"), recv(sv[1], buf, sizeof(buf), 0), EAGAIN);

  // A datagram larger than the send buffer can never be sent.
  setsockopt_int(sv[0], SOL_SOCKET, SO_SNDBUF, 65536);
  static char big[300000];
  CHECK_FAILS_WITH(NAME("larger-than-sndbuf-emsgsize"), send(sv[0], big, sizeof(big), 0), EMSGSIZE);
  CHECK_RETURNS(NAME("large-datagram"), send(sv[0], big, 60000, 0), 60000);
  static char got[70000];
  CHECK_RETURNS(NAME("large-datagram-received"), recv(sv[1], got, sizeof(got), 0), 60000);

  // A full queue: EAGAIN, and no POLLOUT. (Between connected peers the limit is the
  // sender's buffer, not the queue length.)
  int sent = 0;
  while (send(sv[0], "fill", 4, 0) == 4)
    sent++;
  int err = errno;
  check(NAME("full-eagain"), sent > 0 && err == EAGAIN, "%d sent, then %s", sent, strerrorname_np(err));
  check(NAME("full-not-pollout"), wait_for(sv[0], POLLOUT, 0) == 0, "still writable");
  // Surprise: taking one datagram makes room for a send, but poll (and a blocked sender)
  // waits until three quarters of the buffer are free again.
  recv(sv[1], buf, sizeof(buf), 0);
  check(NAME("one-read-still-not-pollout"), wait_for(sv[0], POLLOUT, 0) == 0, "writable");
  CHECK_RETURNS(NAME("one-read-makes-room"), send(sv[0], "fill", 4, 0), 4);
  int read_back = 0;
  while (recv(sv[1], buf, sizeof(buf), 0) == 4)
    read_back++;
  check(NAME("full-all-delivered"), read_back == sent, "%d of %d", read_back, sent);
  check(NAME("pollout-after-drain"), wait_for(sv[0], POLLOUT, 0) == POLLOUT, "not writable");
#undef NAME
  close(sv[0]);
  close(sv[1]);
}

static void *late_reader(void *arg) {
  sleep_ms(100);
  drain(*(int *)arg);
  return NULL;
}

static void peer_close(void) {
  // A datagram pair has no EOF: a closed peer makes the next send ECONNREFUSED (and
  // disconnects the socket, so the send after it is ENOTCONN); reads just find nothing.
  int sv[2];
  must(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair");
  send(sv[1], "left", 4, 0);
  close(sv[1]);
  char buf[8];
  check("dgram-data-after-peer-close", recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT) == 4, "data lost");
  CHECK_FAILS_WITH("dgram-no-eof", recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
  int revents = wait_for(sv[0], POLLIN | POLLOUT, 0);
  check("dgram-peer-closed-poll", revents == POLLOUT, "revents %#x", revents);
  CHECK_FAILS_WITH("dgram-send-peer-closed-econnrefused", send(sv[0], "x", 1, 0), ECONNREFUSED);
  CHECK_FAILS_WITH("dgram-send-then-enotconn", send(sv[0], "x", 1, 0), ENOTCONN);
  close(sv[0]);

  // A blocking send into a full queue waits for the reader (to drain it).
  must(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), "socketpair");
  while (send(sv[0], "fill", 4, MSG_DONTWAIT) == 4) {
  }
  pthread_t t;
  pthread_create(&t, NULL, late_reader, &sv[1]);
  CHECK_RETURNS("dgram-blocking-send-wakes", send(sv[0], "more", 4, 0), 4);
  pthread_join(t, NULL);
  close(sv[0]);
  close(sv[1]);

  // The seqpacket peer closes: EOF, then EPIPE.
  must(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), "socketpair");
  send(sv[1], "bye", 3, 0);
  close(sv[1]);
  revents = wait_for(sv[0], POLLIN | POLLOUT | POLLRDHUP, 0);
  check("seqpacket-peer-closed-poll", revents == (POLLIN | POLLOUT | POLLRDHUP | POLLHUP), "revents %#x", revents);
  check("seqpacket-data-then-eof", recv(sv[0], buf, sizeof(buf), 0) == 3 && recv(sv[0], buf, sizeof(buf), 0) == 0,
        "no EOF");
  CHECK_FAILS_WITH("seqpacket-send-epipe", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
  close(sv[0]);
}

static void seqpacket_server(void) {
  char name[64];
  snprintf(name, sizeof(name), "carbyne-net-seqpacket-%s", g_hex);
  union sockaddr_any addr;
  socklen_t len = unix_abstract(&addr, name);
  int l = must(socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket");
  must(bind(l, &addr.sa, len), "bind");
  CHECK_RETURNS("seqpacket-listen", listen(l, 4), 0);
  int c = must(socket(AF_UNIX, SOCK_SEQPACKET, 0), "socket");
  char buf[16];
  CHECK_FAILS_WITH("seqpacket-send-unconnected-enotconn", send(c, "x", 1, MSG_NOSIGNAL), ENOTCONN);
  CHECK_FAILS_WITH("seqpacket-recv-unconnected-enotconn", recv(c, buf, sizeof(buf), 0), ENOTCONN);
  CHECK_RETURNS("seqpacket-connect", connect(c, &addr.sa, len), 0);
  int s = accept(l, NULL, NULL);
  check("seqpacket-accept", s >= 0 && getsockopt_int(s, SOL_SOCKET, SO_TYPE) == SOCK_SEQPACKET, "fd %d", s);
  union sockaddr_any peer;
  socklen_t peer_len = sizeof(peer);
  check("seqpacket-getpeername",
        getpeername(c, &peer.sa, &peer_len) == 0 && peer_len == len && memcmp(&peer, &addr, len) == 0, "len %u",
        peer_len);
  send(c, "one", 3, 0);
  send(c, "two!", 4, 0);
  check("seqpacket-boundaries", recv(s, buf, sizeof(buf), 0) == 3 && recv(s, buf, sizeof(buf), 0) == 4, "merged");
  // The address of a sendto on a connected seqpacket socket is ignored.
  union sockaddr_any nowhere;
  snprintf(name, sizeof(name), "carbyne-net-nowhere-%s", g_hex);
  CHECK_RETURNS("seqpacket-sendto-ignores-address", sendto(c, "x", 1, 0, &nowhere.sa, unix_abstract(&nowhere, name)),
                1);
  check("seqpacket-sendto-arrives", recv(s, buf, sizeof(buf), 0) == 1, "nothing came");
  // A zero-length message is a message too.
  CHECK_RETURNS("seqpacket-empty-send", send(c, "", 0, 0), 0);
  send(c, "after", 5, 0);
  check("seqpacket-empty-message", recv(s, buf, sizeof(buf), 0) == 0 && recv(s, buf, sizeof(buf), 0) == 5, "wrong");
  close(c);
  check("seqpacket-eof", recv(s, buf, sizeof(buf), 0) == 0, "no EOF");
  close(s);

  // epoll on a datagram socket.
  int sv[2];
  must(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), "socketpair");
  int ep = must(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5}, evs[4];
  epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
  check("dgram-epoll-idle", epoll_wait(ep, evs, 4, 0) == 0, "reported");
  send(sv[0], "a", 1, 0);
  send(sv[0], "b", 1, 0);
  check("dgram-epoll-ready", epoll_wait(ep, evs, 4, 0) == 1 && evs[0].events == EPOLLIN, "not reported");
  recv(sv[1], buf, sizeof(buf), 0);
  check("dgram-epoll-still-ready", epoll_wait(ep, evs, 4, 0) == 1, "one datagram is left");
  recv(sv[1], buf, sizeof(buf), 0);
  check("dgram-epoll-drained", epoll_wait(ep, evs, 4, 0) == 0, "reported");
  close(ep);
  close(sv[0]);
  close(sv[1]);
  close(l);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  make_tmpdir(g_dir, sizeof(g_dir), "unix-dgram");
  random_hex(g_hex, sizeof(g_hex));
  addressing();
  messages(SOCK_DGRAM, "dgram");
  messages(SOCK_SEQPACKET, "seqpacket");
  peer_close();
  seqpacket_server();
  rmdir(g_dir);
  return check_exit_status();
}
