// epoll: the errors of epoll_create1/epoll_ctl/epoll_wait, level- and edge-triggered
// pipes and eventfds, EPOLLONESHOT and re-arming, EPOLLOUT on a full pipe, EPOLLHUP and
// EPOLLERR, closing a watched file, nested instances, many idle files and one busy,
// maxevents smaller than what is ready, wake-ups by another thread, events racing a wait,
// timeouts, EINTR, and the masks of epoll_pwait and epoll_pwait2.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static void *volatile g_bad = (void *)8;
static void *volatile g_kernel = (void *)0xffff800000000000ull;
static volatile int g_minus_one = -1;

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void make_pipe(int p[2], int flags) {
  if (pipe2(p, flags) != 0) {
    perror("pipe2");
    exit(2);
  }
}

static int add(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events, .data.u64 = data};
  return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data) {
  struct epoll_event ev = {.events = events, .data.u64 = data};
  return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

// One epoll_wait with no waiting: how many events, and the first one.
static int wait0(int ep, struct epoll_event *first) {
  struct epoll_event evs[16];
  int n = epoll_wait(ep, evs, 16, 0);
  if (n > 0 && first)
    *first = evs[0];
  return n;
}

static void errors(void) {
  CHECK_FAILS_WITH("create-size-0", epoll_create(0), EINVAL);
  CHECK_FAILS_WITH("create1-bad-flags", epoll_create1(1), EINVAL);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  check("create1-cloexec", ep >= 0 && fcntl(ep, F_GETFD) == FD_CLOEXEC, "no FD_CLOEXEC");
  check("create-size", ({ int e = epoll_create(10); int ok = e >= 0; close(e); ok; }), "epoll_create(10) failed");

  int file = open("/proc/self/comm", O_RDONLY);
  int efd = eventfd(0, 0);
  int p[2];
  make_pipe(p, 0);
  struct epoll_event ev = {.events = EPOLLIN};
  CHECK_FAILS_WITH("ctl-regular-file-eperm", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev), EPERM);
  CHECK_FAILS_WITH("ctl-bad-op-regular-file", epoll_ctl(ep, 99, file, &ev), EPERM);
  CHECK_FAILS_WITH("ctl-self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
  CHECK_FAILS_WITH("ctl-not-epoll", epoll_ctl(efd, EPOLL_CTL_ADD, p[0], &ev), EINVAL);
  CHECK_FAILS_WITH("ctl-bad-epfd", epoll_ctl(999, EPOLL_CTL_ADD, p[0], &ev), EBADF);
  CHECK_FAILS_WITH("ctl-bad-fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev), EBADF);
  CHECK_FAILS_WITH("ctl-bad-op", epoll_ctl(ep, 99, efd, &ev), EINVAL);
  CHECK_FAILS_WITH("ctl-efault", epoll_ctl(ep, EPOLL_CTL_ADD, efd, g_bad), EFAULT);
  CHECK_FAILS_WITH("ctl-del-missing", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), ENOENT);
  CHECK_FAILS_WITH("ctl-mod-missing", epoll_ctl(ep, EPOLL_CTL_MOD, efd, &ev), ENOENT);
  check("ctl-add", add(ep, efd, EPOLLIN, 1) == 0, "add failed: %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("ctl-add-twice", add(ep, efd, EPOLLIN, 1), EEXIST);
  check("ctl-del", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) == 0, "del failed");
  CHECK_FAILS_WITH("ctl-del-again", epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL), ENOENT);

  check("ctl-exclusive", add(ep, efd, EPOLLIN | EPOLLEXCLUSIVE, 1) == 0, "add failed: %s", strerrorname_np(errno));
  CHECK_FAILS_WITH("ctl-mod-exclusive", mod(ep, efd, EPOLLIN | EPOLLEXCLUSIVE, 1), EINVAL);
  CHECK_FAILS_WITH("ctl-mod-of-exclusive", mod(ep, efd, EPOLLIN, 1), EINVAL);
  CHECK_FAILS_WITH("ctl-exclusive-oneshot", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 1), EINVAL);
  CHECK_FAILS_WITH("ctl-exclusive-rdhup", add(ep, p[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLRDHUP, 1), EINVAL);
  int inner = epoll_create1(0);
  CHECK_FAILS_WITH("ctl-exclusive-epoll", add(ep, inner, EPOLLIN | EPOLLEXCLUSIVE, 1), EINVAL);

  struct epoll_event out[4];
  CHECK_FAILS_WITH("wait-maxevents-0", epoll_wait(ep, out, 0, 0), EINVAL);
  CHECK_FAILS_WITH("wait-maxevents-negative", epoll_wait(ep, g_bad, g_minus_one, 0), EINVAL);
  CHECK_FAILS_WITH("wait-bad-epfd", epoll_wait(999, out, 4, 0), EBADF);
  CHECK_FAILS_WITH("wait-not-epoll", epoll_wait(efd, out, 4, 0), EINVAL);
  // Linux checks only that the array is below the kernel's addresses before it waits.
  CHECK_FAILS_WITH("wait-kernel-events", epoll_wait(ep, g_kernel, 4, 0), EFAULT);
  CHECK_FAILS_WITH("pwait-bad-sigsetsize", syscall(SYS_epoll_pwait, ep, out, 4, 0, &(sigset_t){0}, 4), EINVAL);
  struct timespec bad = {0, -1};
  CHECK_FAILS_WITH("pwait2-bad-timespec", syscall(SYS_epoll_pwait2, ep, out, 4, &bad, NULL, 8), EINVAL);

  char path[64], link[64];
  snprintf(path, sizeof(path), "/proc/self/fd/%d", ep);
  ssize_t n = readlink(path, link, sizeof(link) - 1);
  link[n > 0 ? n : 0] = 0;
  check("proc-fd-link", strcmp(link, "anon_inode:[eventpoll]") == 0, "link is '%s'", link);
  close(inner);
  close(file);
  close(efd);
  close(p[0]);
  close(p[1]);
  close(ep);
}

static void triggers(void) {
  int ep = epoll_create1(0);
  int p[2];
  make_pipe(p, O_NONBLOCK);
  struct epoll_event ev = {0};
  add(ep, p[0], EPOLLIN | EPOLLRDHUP, 0x1122334455667788ull);
  check("lt-empty", wait0(ep, NULL) == 0, "an empty pipe was reported");
  write(p[1], "abc", 3);
  check("lt-ready", wait0(ep, &ev) == 1 && ev.events == EPOLLIN && ev.data.u64 == 0x1122334455667788ull,
        "events %#x", ev.events);
  check("lt-again", wait0(ep, &ev) == 1, "a level-triggered entry was not reported again");
  char buf[8];
  read(p[0], buf, sizeof(buf));
  check("lt-drained", wait0(ep, NULL) == 0, "a drained pipe was reported");

  check("mod-et", mod(ep, p[0], EPOLLIN | EPOLLET, 2) == 0, "mod failed");
  write(p[1], "a", 1);
  check("et-ready", wait0(ep, &ev) == 1 && ev.data.u64 == 2, "not reported");
  check("et-once", wait0(ep, NULL) == 0, "an edge was reported twice");
  write(p[1], "b", 1);  // a new write is a new edge, even though data was already there
  check("et-new-write", wait0(ep, NULL) == 1, "a second write was not reported");
  read(p[0], buf, sizeof(buf));

  check("mod-oneshot", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 3) == 0, "mod failed");
  write(p[1], "c", 1);
  check("oneshot-ready", wait0(ep, NULL) == 1, "not reported");
  write(p[1], "d", 1);
  check("oneshot-disarmed", wait0(ep, NULL) == 0, "reported after its one shot");
  check("oneshot-rearm", mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 4) == 0 && wait0(ep, &ev) == 1 && ev.data.u64 == 4,
        "not reported after EPOLL_CTL_MOD");
  read(p[0], buf, sizeof(buf));

  // The write end: EPOLLOUT until full, again once a reader makes room; EPOLLERR without readers.
  add(ep, p[1], EPOLLOUT, 5);
  check("epollout", wait0(ep, &ev) == 1 && ev.events == EPOLLOUT && ev.data.u64 == 5, "events %#x", ev.events);
  static char block[4096];
  while (write(p[1], block, sizeof(block)) > 0) {
  }
  check("epollout-full", wait0(ep, NULL) == 0, "a full pipe was reported writable");
  read(p[0], block, sizeof(block));
  check("epollout-after-read", wait0(ep, &ev) == 1 && ev.data.u64 == 5, "not writable after a read");
  epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);

  // The read end sees EPOLLHUP (with EPOLLIN while data is left) when the writer goes.
  int q[2];
  make_pipe(q, 0);
  add(ep, q[0], EPOLLIN, 6);
  add(ep, q[1], EPOLLOUT, 7);
  close(q[0]);
  check("close-removes", wait0(ep, &ev) == 1 && ev.data.u64 == 7 && ev.events == (EPOLLOUT | EPOLLERR),
        "events %#x data %lu", ev.events, (unsigned long)ev.data.u64);
  check("closed-fd-not-in-set", epoll_ctl(ep, EPOLL_CTL_DEL, q[0], NULL) == -1 && errno == EBADF, "fd still open");
  close(q[1]);
  epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
  add(ep, p[0], EPOLLIN, 8);
  close(p[1]);
  struct epoll_event evs[4];
  int n = epoll_wait(ep, evs, 4, 0);
  check("epollhup", n == 1 && evs[0].events == (EPOLLIN | EPOLLHUP), "n %d events %#x", n, evs[0].events);
  while (read(p[0], block, sizeof(block)) > 0) {
  }
  n = epoll_wait(ep, evs, 4, 0);
  check("epollhup-drained", n == 1 && evs[0].events == EPOLLHUP, "n %d events %#x", n, evs[0].events);

  // A dup keeps the file (and its entry) alive after the fd that added it is closed.
  int r[2];
  make_pipe(r, 0);
  add(ep, r[0], EPOLLIN, 9);
  int keep = dup(r[0]);
  close(r[0]);
  write(r[1], "x", 1);
  epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL);
  check("dup-keeps-entry", wait0(ep, &ev) == 1 && ev.data.u64 == 9, "not reported");
  close(keep);
  check("last-close-removes", wait0(ep, NULL) == 0, "reported after its last close");
  // The same fd number is free to be added again.
  int s[2];
  make_pipe(s, 0);
  check("fd-reused", add(ep, s[0], EPOLLIN, 10) == 0, "add failed: %s", strerrorname_np(errno));
  close(s[0]);
  close(s[1]);
  close(r[1]);
  close(p[0]);
  close(ep);
}

static void eventfds_and_nesting(void) {
  int ep = epoll_create1(0);
  int efd = eventfd(0, EFD_NONBLOCK);
  add(ep, efd, EPOLLIN | EPOLLOUT, 11);
  struct epoll_event ev = {0};
  check("eventfd-writable", wait0(ep, &ev) == 1 && ev.events == EPOLLOUT, "events %#x", ev.events);
  uint64_t one = 1;
  write(efd, &one, sizeof(one));
  check("eventfd-readable", wait0(ep, &ev) == 1 && ev.events == (EPOLLIN | EPOLLOUT), "events %#x", ev.events);

  int outer = epoll_create1(0);
  check("nest-add", add(outer, ep, EPOLLIN, 12) == 0, "add failed: %s", strerrorname_np(errno));
  check("nest-ready", wait0(outer, &ev) == 1 && ev.events == EPOLLIN && ev.data.u64 == 12, "events %#x", ev.events);
  CHECK_FAILS_WITH("nest-loop", add(ep, outer, EPOLLIN, 13), ELOOP);
  struct pollfd pfd = {ep, POLLIN, 0};
  check("poll-on-epoll", poll(&pfd, 1, 0) == 1 && pfd.revents == POLLIN, "revents %#x", pfd.revents);
  epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL);
  check("nest-idle", wait0(outer, NULL) == 0, "an empty inner instance was reported");
  close(outer);
  close(efd);
  close(ep);
}

static void many(void) {
  enum { k_pipes = 300 };
  int ep = epoll_create1(0);
  static int pipes[k_pipes][2];
  for (int i = 0; i < k_pipes; i++) {
    make_pipe(pipes[i], 0);
    add(ep, pipes[i][0], EPOLLIN, (uint64_t)i);
  }
  write(pipes[123][1], "x", 1);
  struct epoll_event evs[8];
  int n = epoll_wait(ep, evs, 8, 1000);
  check("one-busy-of-many", n == 1 && evs[0].data.u64 == 123, "n %d", n);

  // Three ready, room for two: the third comes first in the next call.
  write(pipes[7][1], "x", 1);
  write(pipes[9][1], "x", 1);
  int first = epoll_wait(ep, evs, 2, 0);
  uint64_t seen = evs[0].data.u64 + evs[1].data.u64;
  int second = epoll_wait(ep, evs, 2, 0);
  int third_first = second >= 1 && evs[0].data.u64 + seen == 123 + 7 + 9;
  check("maxevents-round-robin", first == 2 && second == 2 && third_first, "first %d second %d", first, second);
  for (int i = 0; i < k_pipes; i++) {
    close(pipes[i][0]);
    close(pipes[i][1]);
  }
  close(ep);
}

static void *late_write(void *arg) {
  sleep_ms(100);
  write(*(int *)arg, "x", 1);
  return NULL;
}

static volatile sig_atomic_t g_hits;
static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

struct Blocked {
  int ep;
  int ret, err;
};

static void *blocked_wait(void *arg) {
  struct Blocked *b = arg;
  struct epoll_event ev;
  errno = 0;
  b->ret = epoll_wait(b->ep, &ev, 1, 5000);
  b->err = errno;
  return NULL;
}

static int usr1_blocked(void) {
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  return sigismember(&now, SIGUSR1);
}

static void waiting(void) {
  int ep = epoll_create1(0);
  int p[2];
  make_pipe(p, 0);
  add(ep, p[0], EPOLLIN, 1);
  struct epoll_event ev;
  long start = monotonic_ms();
  check("wait-timeout", epoll_wait(ep, &ev, 1, 100) == 0 && monotonic_ms() - start >= 95, "did not wait");
  pthread_t t;
  pthread_create(&t, NULL, late_write, &p[1]);
  check("wait-wakes", epoll_wait(ep, &ev, 1, 5000) == 1 && ev.data.u64 == 1, "not woken");
  pthread_join(t, NULL);
  char c;
  read(p[0], &c, 1);

  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  g_hits = 0;
  struct Blocked b = {ep, 0, 0};
  pthread_create(&t, NULL, blocked_wait, &b);
  sleep_ms(100);
  pthread_kill(t, SIGUSR1);
  pthread_join(t, NULL);
  check("wait-eintr-not-restarted", b.ret == -1 && b.err == EINTR && g_hits == 1, "returned %d (%s), handler %d",
        b.ret, b.ret < 0 ? strerrorname_np(b.err) : "-", (int)g_hits);

  sigset_t block, empty;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, NULL);
  g_hits = 0;
  raise(SIGUSR1);
  errno = 0;
  int n = epoll_pwait(ep, &ev, 1, 5000, &empty);
  int err = errno;
  check("pwait-mask-eintr", n == -1 && err == EINTR && g_hits == 1, "returned %d (%s), handler %d", n,
        n < 0 ? strerrorname_np(err) : "-", (int)g_hits);
  check("pwait-mask-restored", usr1_blocked(), "SIGUSR1 is no longer blocked");
  check("pwait-timeout", epoll_pwait(ep, &ev, 1, 10, &empty) == 0 && usr1_blocked(), "no timeout or mask lost");
  struct timespec ts = {0, 20000000};
  start = monotonic_ms();
  check("pwait2-timeout", syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 8) == 0 && monotonic_ms() - start >= 15,
        "did not wait");
  write(p[1], "x", 1);
  check("pwait2-ready", syscall(SYS_epoll_pwait2, ep, &ev, 1, NULL, NULL, 8) == 1, "not ready");
  sigprocmask(SIG_UNBLOCK, &block, NULL);
  check("pwait-handler-ran-once", g_hits == 1, "handler ran %d times", (int)g_hits);
  close(p[0]);
  close(p[1]);
  close(ep);
}

// Ping-pong through a level-triggered entry: the waiter's epoll_wait often looks at the
// pipe just before the other thread's write lands (an event during the look). Each such
// event must end that wait; a lost one leaves this loop stuck (the test's timeout).
static int g_race_there[2], g_race_back[2];
enum { k_race_rounds = 30000 };

static void *race_pong(void *arg) {
  (void)arg;
  char c;
  for (int i = 0; i < k_race_rounds; i++) {
    if (read(g_race_there[0], &c, 1) != 1 || write(g_race_back[1], &c, 1) != 1)
      return (void *)1;
  }
  return NULL;
}

static void racing_events(void) {
  int ep = epoll_create1(0);
  if (pipe(g_race_there) != 0 || pipe(g_race_back) != 0) {
    check("race-setup", 0, "pipe failed");
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
  epoll_ctl(ep, EPOLL_CTL_ADD, g_race_back[0], &ev);
  pthread_t t;
  pthread_create(&t, NULL, race_pong, NULL);
  int rounds = 0;
  char c = 'x';
  for (; rounds < k_race_rounds; rounds++) {
    if (write(g_race_there[1], &c, 1) != 1 || epoll_wait(ep, &ev, 1, -1) != 1 || read(g_race_back[0], &c, 1) != 1)
      break;
  }
  void *ret;
  pthread_join(t, &ret);
  check("race-rounds", rounds == k_race_rounds && ret == NULL, "%d rounds of %d", rounds, k_race_rounds);
  close(ep);
  for (int i = 0; i < 2; i++) {
    close(g_race_there[i]);
    close(g_race_back[i]);
  }
}

int main(void) {
  errors();
  racing_events();
  triggers();
  eventfds_and_nesting();
  many();
  waiting();
  return check_exit_status();
}
