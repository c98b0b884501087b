// TCP calls that wait: a full send buffer and a large transfer to a reading thread, epoll
// with a listener and accepted connections (level- and edge-triggered), accept and recv
// interrupted by a signal with and without SA_RESTART, and SO_RCVTIMEO.
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "net.h"

// ---- a full send buffer, and a large transfer ---------------------------------------------

struct Sink {
  int fd;
  long got;
  uint32_t sum;
};

static void *sink(void *arg) {
  struct Sink *k = arg;
  static unsigned char buf[65536];
  for (;;) {
    ssize_t n = recv(k->fd, buf, (size_t)(k->got % 5 + 1) * 3000, 0);  // uneven reads
    if (n <= 0)
      break;
    for (ssize_t i = 0; i < n; i++)
      k->sum = k->sum * 31 + buf[i];
    k->got += n;
  }
  return NULL;
}

static void bulk(int family) {
  int c, s;
  tcp_pair(family, &c, &s);
  fcntl(c, F_SETFL, O_NONBLOCK);
  static char block[4096];
  long total = 0;
  ssize_t n;
  while ((n = write(c, block, sizeof(block))) > 0)
    total += n;
  int err = errno;
  check(fam(family, "full-send-buffer-eagain"), n == -1 && err == EAGAIN && total > 0, "write returned %zd (%s)", n,
        strerrorname_np(err));
  // Acknowledgements still on their way can free some room: fill again until a 1-byte send
  // fails and poll agrees the socket is not writable.
  int full = 0;
  for (int round = 0; round < 200 && !full; round++) {
    sleep_ms(5);
    while ((n = write(c, block, sizeof(block))) > 0)
      total += n;
    full = wait_for(c, POLLOUT, 0) == 0;
    if (full && (n = send(c, block, 1, 0)) == 1) {
      total += 1;
      full = 0;
    }
  }
  check(fam(family, "full-stays-not-writable"), full, "room kept appearing");
  static char big[1 << 16];
  long left = total, got;
  while (left > 0 && (got = recv(s, big, sizeof(big), 0)) > 0)
    left -= got;
  check(fam(family, "all-queued-bytes-arrive"), left == 0, "%ld of %ld bytes missing", left, total);
  check(fam(family, "pollout-after-drain"), wait_for(c, POLLOUT, k_wait_ms) == POLLOUT, "not writable again");
  close(c);
  close(s);

  // 8 MiB through a blocking socket to a reading thread, with a checksum.
  tcp_pair(family, &c, &s);
  struct Sink k = {s, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, sink, &k);
  static unsigned char data[100003];
  uint32_t sum = 0, x = 7;
  long size = 8 << 20, sent = 0;
  while (sent < size) {
    size_t chunk = size - sent < (long)sizeof(data) ? (size_t)(size - sent) : sizeof(data);
    for (size_t i = 0; i < chunk; i++) {
      x = x * 1103515245 + 12345;
      data[i] = (unsigned char)(x >> 16);
      sum = sum * 31 + data[i];
    }
    size_t off = 0;
    while (off < chunk) {
      ssize_t w = send(c, data + off, chunk - off, 0);
      if (w <= 0)
        break;
      off += (size_t)w;
    }
    sent += (long)chunk;
  }
  shutdown(c, SHUT_WR);
  pthread_join(t, NULL);
  check(fam(family, "stream-8mib"), k.got == size && k.sum == sum, "got %ld bytes, checksum %s", k.got,
        k.sum == sum ? "same" : "differs");
  close(c);
  close(s);
}

// ---- epoll: a listener and accepted connections -------------------------------------------

static void epolling(int family) {
  union sockaddr_any addr;
  int l = tcp_listener(family, &addr);
  fcntl(l, F_SETFL, O_NONBLOCK);
  int ep = must(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 100};
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  struct epoll_event evs[8];
  check(fam(family, "epoll-listener-idle"), epoll_wait(ep, evs, 8, 0) == 0, "an idle listener was reported");

  enum { k_clients = 3 };
  int clients[k_clients], conns[k_clients];
  for (int i = 0; i < k_clients; i++) {
    clients[i] = must(socket(family, SOCK_STREAM, 0), "socket");
    must(connect(clients[i], &addr.sa, inet_len(family)), "connect");
  }
  int n = epoll_wait(ep, evs, 8, k_wait_ms);
  check(fam(family, "epoll-listener-ready"), n == 1 && evs[0].events == EPOLLIN && evs[0].data.u64 == 100,
        "n %d events %#x", n, evs[0].events);
  int accepted = 0;
  long start = monotonic_ms();
  while (accepted < k_clients && monotonic_ms() - start < k_wait_ms) {
    int fd = accept4(l, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) {
      sleep_ms(1);
      continue;
    }
    conns[accepted] = fd;
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = (uint64_t)accepted;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    accepted++;
  }
  check(fam(family, "epoll-accept-all"), accepted == k_clients, "accepted %d", accepted);
  check(fam(family, "epoll-accepted-idle"), epoll_wait(ep, evs, 8, 0) == 0, "something was reported");

  // Level-triggered: data on connection 1 is reported until it is read.
  send(clients[1], "one", 3, 0);
  n = epoll_wait(ep, evs, 8, k_wait_ms);
  check(fam(family, "epoll-data-ready"), n == 1 && evs[0].data.u64 == 1 && evs[0].events == EPOLLIN, "n %d", n);
  check(fam(family, "epoll-lt-again"), epoll_wait(ep, evs, 8, 0) == 1, "not reported again");
  char buf[16];
  recv(conns[1], buf, sizeof(buf), 0);
  check(fam(family, "epoll-lt-drained"), epoll_wait(ep, evs, 8, 0) == 0, "reported after the read");

  // Edge-triggered: one report per arrival, even with data left unread.
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 2;
  epoll_ctl(ep, EPOLL_CTL_MOD, conns[2], &ev);
  send(clients[2], "abcdef", 6, 0);
  n = epoll_wait(ep, evs, 8, k_wait_ms);
  check(fam(family, "epoll-et-ready"), n == 1 && evs[0].data.u64 == 2, "n %d", n);
  recv(conns[2], buf, 2, 0);
  check(fam(family, "epoll-et-once"), epoll_wait(ep, evs, 8, 0) == 0, "reported twice");
  send(clients[2], "g", 1, 0);
  check(fam(family, "epoll-et-new-data"), epoll_wait(ep, evs, 8, k_wait_ms) == 1 && evs[0].data.u64 == 2,
        "a new arrival was not reported");
  drain(conns[2]);

  // Edge-triggered listener: a new connection is a new edge.
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 100;
  epoll_ctl(ep, EPOLL_CTL_MOD, l, &ev);
  int extra = must(socket(family, SOCK_STREAM, 0), "socket");
  must(connect(extra, &addr.sa, inet_len(family)), "connect");
  n = epoll_wait(ep, evs, 8, k_wait_ms);
  check(fam(family, "epoll-et-listener"), n == 1 && evs[0].data.u64 == 100, "n %d", n);
  check(fam(family, "epoll-et-listener-once"), epoll_wait(ep, evs, 8, 0) == 0, "reported twice");
  int extra_conn = accept(l, NULL, NULL);
  check(fam(family, "epoll-et-accept"), extra_conn >= 0, "accept failed: %s", strerrorname_np(errno));

  // The peer closes connection 0: EPOLLIN and EPOLLRDHUP.
  close(clients[0]);
  n = epoll_wait(ep, evs, 8, k_wait_ms);
  check(fam(family, "epoll-peer-close"), n == 1 && evs[0].data.u64 == 0 && evs[0].events == (EPOLLIN | EPOLLRDHUP),
        "n %d events %#x", n, evs[0].events);
  // EPOLLOUT on a connected socket.
  ev.events = EPOLLOUT;
  ev.data.u64 = 7;
  epoll_ctl(ep, EPOLL_CTL_ADD, clients[1], &ev);
  epoll_ctl(ep, EPOLL_CTL_DEL, conns[0], NULL);
  n = epoll_wait(ep, evs, 8, 0);
  check(fam(family, "epoll-pollout"), n == 1 && evs[0].data.u64 == 7 && evs[0].events == EPOLLOUT, "n %d", n);

  for (int i = 0; i < k_clients; i++) {
    if (i)
      close(clients[i]);
    close(conns[i]);
  }
  close(extra);
  close(extra_conn);
  close(ep);
  close(l);
}

// ---- signals and timeouts -----------------------------------------------------------------

static volatile sig_atomic_t g_hits;
static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

struct Blocked {
  int fd;
  int accept;  // accept(), else recv()
  long ret;
  int err;
  int done;
};

static void *blocked(void *arg) {
  struct Blocked *b = arg;
  char buf[8];
  errno = 0;
  b->ret = b->accept ? accept(b->fd, NULL, NULL) : recv(b->fd, buf, sizeof(buf), 0);
  b->err = errno;
  __atomic_store_n(&b->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

// A thread blocks in accept or recv and SIGUSR1 (with `sa_flags`) comes; then a connection
// or data. With `want_eintr` the call must fail with EINTR; else it must go on waiting and
// return the connection or the data.
static void interrupted(const char *name, int do_accept, int sa_flags, int rcvtimeo, int want_eintr) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = sa_flags;
  sigaction(SIGUSR1, &sa, NULL);
  g_hits = 0;
  union sockaddr_any addr;
  int l = tcp_listener(AF_INET, &addr);
  int c = must(socket(AF_INET, SOCK_STREAM, 0), "socket");
  int s = -1;
  if (!do_accept) {
    must(connect(c, &addr.sa, sizeof(addr.in)), "connect");
    s = must(accept(l, NULL, NULL), "accept");
    if (rcvtimeo) {
      struct timeval tv = {10, 0};
      setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
  }
  struct Blocked b = {do_accept ? l : s, do_accept, 0, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, blocked, &b);
  sleep_ms(50);
  int still_blocked = 1;
  if (want_eintr) {
    // A signal that comes before the thread blocks is only handled: signal until it returns.
    long start = monotonic_ms();
    while (!__atomic_load_n(&b.done, __ATOMIC_ACQUIRE) && monotonic_ms() - start < k_wait_ms) {
      pthread_kill(t, SIGUSR1);
      sleep_ms(20);
    }
  } else {
    pthread_kill(t, SIGUSR1);
    sleep_ms(100);
    still_blocked = !__atomic_load_n(&b.done, __ATOMIC_ACQUIRE);
  }
  if (do_accept)
    must(connect(c, &addr.sa, sizeof(addr.in)), "connect");
  else
    send(c, "abc", 3, 0);
  pthread_join(t, NULL);
  int ok = g_hits >= 1 && still_blocked &&
           (want_eintr ? b.ret == -1 && b.err == EINTR : b.ret >= 0 && (do_accept || b.ret == 3));
  check(name, ok, "handler ran %d times; %s; returned %ld (%s)", (int)g_hits,
        still_blocked ? "waited" : "returned early", b.ret, b.ret < 0 ? strerrorname_np(b.err) : "-");
  if (do_accept && b.ret >= 0)
    close((int)b.ret);
  close(c);
  if (s >= 0)
    close(s);
  close(l);
}

static void timeouts(void) {
  int c, s;
  tcp_pair(AF_INET, &c, &s);
  struct timeval tv = {0, 100000};
  check("so-rcvtimeo-set", setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0, "setsockopt failed");
  char buf[4];
  long start = monotonic_ms();
  errno = 0;
  ssize_t n = recv(s, buf, sizeof(buf), 0);
  int err = errno;
  long took = monotonic_ms() - start;
  check("so-rcvtimeo-eagain", n == -1 && err == EAGAIN && took >= 95, "returned %zd (%s) after %s", n,
        n < 0 ? strerrorname_np(err) : "-", took >= 95 ? "the timeout" : "less than the timeout");
  union sockaddr_any addr;
  int l = tcp_listener(AF_INET, &addr);
  setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  start = monotonic_ms();
  errno = 0;
  int a = accept(l, NULL, NULL);
  err = errno;
  took = monotonic_ms() - start;
  check("so-rcvtimeo-accept-eagain", a == -1 && err == EAGAIN && took >= 95, "returned %d (%s)", a,
        a < 0 ? strerrorname_np(err) : "-");
  send(c, "x", 1, 0);
  check("so-rcvtimeo-data", recv(s, buf, sizeof(buf), 0) == 1, "data did not come");
  close(l);
  close(c);
  close(s);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);  // a run that hangs still shows how far it got
  probe_ipv6();
  each_family(bulk);
  each_family(epolling);
  interrupted("accept-eintr", 1, 0, 0, 1);
  interrupted("accept-sa-restart", 1, SA_RESTART, 0, 0);
  interrupted("recv-eintr", 0, 0, 0, 1);
  interrupted("recv-sa-restart", 0, SA_RESTART, 0, 0);
  // A call with a timeout (SO_RCVTIMEO) is not restarted, even with SA_RESTART.
  interrupted("recv-rcvtimeo-sa-restart-eintr", 0, SA_RESTART, 1, 1);
  timeouts();
  return check_exit_status();
}
