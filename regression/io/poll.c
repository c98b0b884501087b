// poll, ppoll, select and pselect6: readiness of pipes, regular files and the console,
// POLLNVAL and EBADF for closed descriptors, timeouts (and the time left written back),
// wake-ups by another thread, EINTR after a handler (never a restart), and the signal
// masks of ppoll and pselect6.
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static void *volatile g_bad = (void *)8;

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

static void make_pipe(int p[2]) {
  if (pipe(p) != 0) {
    perror("pipe");
    exit(2);
  }
}

static void *late_write(void *arg) {
  sleep_ms(100);
  write(*(int *)arg, "x", 1);
  return NULL;
}

static void *late_close(void *arg) {
  sleep_ms(100);
  close(*(int *)arg);
  return NULL;
}

static void poll_basics(void) {
  int p[2];
  make_pipe(p);
  int file = open("/proc/self/comm", O_RDONLY);
  struct pollfd fds[5] = {
      {p[0], POLLIN, 0}, {p[1], POLLOUT, 0}, {file, POLLIN | POLLOUT, 0}, {-1, POLLIN, 7}, {999, POLLIN, 0},
  };
  int n = poll(fds, 5, 0);
  check("poll-ready-count", n == 3, "poll returned %d", n);
  check("poll-empty-pipe", fds[0].revents == 0, "revents %#x", fds[0].revents);
  check("poll-pipe-writable", fds[1].revents == POLLOUT, "revents %#x", fds[1].revents);
  check("poll-regular-file", fds[2].revents == (POLLIN | POLLOUT), "revents %#x", fds[2].revents);
  check("poll-negative-fd", fds[3].revents == 0, "revents %#x", fds[3].revents);
  check("poll-nval", fds[4].revents == POLLNVAL, "revents %#x", fds[4].revents);

  write(p[1], "ab", 2);
  struct pollfd in = {p[0], POLLIN | POLLRDNORM | POLLPRI, 0};
  check("poll-readable", poll(&in, 1, 0) == 1 && in.revents == (POLLIN | POLLRDNORM), "revents %#x", in.revents);
  // The console: stdin is /dev/null (readable at once), stdout a pipe to the test runner.
  struct pollfd con[2] = {{0, POLLIN, 0}, {1, POLLOUT, 0}};
  check("poll-console", poll(con, 2, 0) == 2 && (con[0].revents & POLLIN) && (con[1].revents & POLLOUT),
        "revents %#x %#x", con[0].revents, con[1].revents);

  long start = monotonic_ms();
  struct pollfd empty = {p[0], POLLIN, 0};
  char drain[2];
  read(p[0], drain, 2);
  check("poll-timeout", poll(&empty, 1, 100) == 0 && monotonic_ms() - start >= 95, "did not wait");

  pthread_t t;
  pthread_create(&t, NULL, late_write, &p[1]);
  check("poll-wakes", poll(&empty, 1, 5000) == 1 && empty.revents == POLLIN, "revents %#x", empty.revents);
  pthread_join(t, NULL);
  read(p[0], drain, 1);

  pthread_create(&t, NULL, late_close, &p[1]);
  check("poll-hup-wakes", poll(&empty, 1, 5000) == 1 && empty.revents == POLLHUP, "revents %#x", empty.revents);
  pthread_join(t, NULL);

  CHECK_FAILS_WITH("poll-efault", poll(g_bad, 1, 0), EFAULT);
  close(p[0]);
  close(file);
}

static void select_basics(void) {
  int p[2];
  make_pipe(p);
  write(p[1], "x", 1);
  int q[2];
  make_pipe(q);
  fd_set r, w, e;
  FD_ZERO(&r);
  FD_ZERO(&w);
  FD_ZERO(&e);
  FD_SET(p[0], &r);
  FD_SET(q[0], &r);
  FD_SET(p[1], &w);
  FD_SET(p[0], &e);
  struct timeval tv = {0, 0};
  int maxfd = p[0] > q[1] ? p[0] : q[1];
  if (p[1] > maxfd)
    maxfd = p[1];
  int n = select(maxfd + 1, &r, &w, &e, &tv);
  check("select-count", n == 2, "select returned %d", n);
  check("select-sets", FD_ISSET(p[0], &r) && !FD_ISSET(q[0], &r) && FD_ISSET(p[1], &w) && !FD_ISSET(p[0], &e),
        "wrong bits");

  FD_ZERO(&r);
  FD_SET(q[0], &r);
  tv = (struct timeval){0, 100000};
  long start = monotonic_ms();
  n = select(q[0] + 1, &r, NULL, NULL, &tv);
  check("select-timeout", n == 0 && !FD_ISSET(q[0], &r) && monotonic_ms() - start >= 95, "returned %d", n);
  check("select-timeout-written-back", tv.tv_sec == 0 && tv.tv_usec == 0, "tv %ld.%06ld", (long)tv.tv_sec,
        (long)tv.tv_usec);

  pthread_t t;
  pthread_create(&t, NULL, late_write, &q[1]);
  FD_SET(q[0], &r);
  tv = (struct timeval){5, 0};
  n = select(q[0] + 1, &r, NULL, NULL, &tv);
  check("select-wakes", n == 1 && FD_ISSET(q[0], &r), "returned %d", n);
  check("select-time-left", tv.tv_sec <= 5 && (tv.tv_sec > 0 || tv.tv_usec > 0) && tv.tv_sec >= 4,
        "tv %ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
  pthread_join(t, NULL);

  // Linux carries whole seconds out of tv_usec; a negative time is EINVAL.
  FD_ZERO(&r);
  tv = (struct timeval){0, 1000000};
  check("select-usec-carry", select(0, NULL, NULL, NULL, &tv) == 0, "not accepted");
  tv = (struct timeval){-1, 0};
  CHECK_FAILS_WITH("select-negative-timeout", select(0, NULL, NULL, NULL, &tv), EINVAL);
  CHECK_FAILS_WITH("select-negative-nfds", select(-1, NULL, NULL, NULL, NULL), EINVAL);

  int closed = dup(q[0]);
  close(closed);
  FD_ZERO(&r);
  FD_SET(closed, &r);
  tv = (struct timeval){0, 0};
  CHECK_FAILS_WITH("select-ebadf", select(closed + 1, &r, NULL, NULL, &tv), EBADF);

  // The read set of a pipe whose writer is gone: readable (EOF).
  close(q[1]);
  FD_ZERO(&r);
  FD_SET(q[0], &r);
  tv = (struct timeval){0, 0};
  check("select-eof-readable", select(q[0] + 1, &r, NULL, NULL, &tv) == 1, "not readable");
  close(p[0]);
  close(p[1]);
  close(q[0]);
}

// ---- signals ------------------------------------------------------------------------------

static volatile sig_atomic_t g_hits;
static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

struct Blocked {
  int kind;  // 0 poll, 1 select, 2 ppoll, 3 pselect
  int fd;
  long ret;
  int err;
};

static void *blocked(void *arg) {
  struct Blocked *b = arg;
  struct pollfd pfd = {b->fd, POLLIN, 0};
  fd_set r;
  FD_ZERO(&r);
  FD_SET(b->fd, &r);
  errno = 0;
  switch (b->kind) {
  case 0: b->ret = poll(&pfd, 1, 5000); break;
  case 1: b->ret = select(b->fd + 1, &r, NULL, NULL, NULL); break;
  case 2: b->ret = ppoll(&pfd, 1, NULL, NULL); break;
  default: b->ret = pselect(b->fd + 1, &r, NULL, NULL, NULL, NULL); break;
  }
  b->err = errno;
  return NULL;
}

// A handler with SA_RESTART still ends these calls with EINTR.
static void interrupted(const char *name, int kind) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, NULL);
  g_hits = 0;
  int p[2];
  make_pipe(p);
  struct Blocked b = {kind, p[0], 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, blocked, &b);
  sleep_ms(100);
  pthread_kill(t, SIGUSR1);
  sleep_ms(100);
  write(p[1], "x", 1);  // wakes it if it was restarted
  pthread_join(t, NULL);
  check(name, g_hits == 1 && b.ret == -1 && b.err == EINTR, "handler ran %d times; returned %ld (%s)", (int)g_hits,
        b.ret, b.ret < 0 ? strerrorname_np(b.err) : "-");
  close(p[0]);
  close(p[1]);
}

static int usr1_blocked(void) {
  sigset_t now;
  sigprocmask(SIG_BLOCK, NULL, &now);
  return sigismember(&now, SIGUSR1);
}

static void masks(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t block, empty;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigemptyset(&empty);
  sigprocmask(SIG_BLOCK, &block, NULL);

  // A pending signal the temporary mask lets through ends the wait at once.
  g_hits = 0;
  raise(SIGUSR1);
  int p[2];
  make_pipe(p);
  struct pollfd pfd = {p[0], POLLIN, 0};
  struct timespec ts = {5, 0};
  errno = 0;
  int n = ppoll(&pfd, 1, &ts, &empty);
  int err = errno;
  check("ppoll-mask-eintr", n == -1 && err == EINTR && g_hits == 1, "returned %d (%s), handler ran %d times", n,
        n < 0 ? strerrorname_np(err) : "-", (int)g_hits);
  check("ppoll-mask-restored", usr1_blocked(), "SIGUSR1 is no longer blocked");

  // Without a signal the mask is back in place when the call returns.
  ts = (struct timespec){0, 10000000};
  check("ppoll-timeout", ppoll(&pfd, 1, &ts, &empty) == 0, "did not time out");
  check("ppoll-mask-restored-after-timeout", usr1_blocked(), "SIGUSR1 is no longer blocked");
  raise(SIGUSR1);
  check("ppoll-signal-stays-pending", g_hits == 1, "handler ran %d times", (int)g_hits);

  g_hits = 0;
  fd_set r;
  FD_ZERO(&r);
  FD_SET(p[0], &r);
  ts = (struct timespec){5, 0};
  errno = 0;
  n = pselect(p[0] + 1, &r, NULL, NULL, &ts, &empty);
  err = errno;
  check("pselect-mask-eintr", n == -1 && err == EINTR && g_hits == 1, "returned %d (%s), handler ran %d times", n,
        n < 0 ? strerrorname_np(err) : "-", (int)g_hits);
  check("pselect-mask-restored", usr1_blocked(), "SIGUSR1 is no longer blocked");
  sigprocmask(SIG_UNBLOCK, &block, NULL);

  // The raw calls: the time left is written back, the mask size is checked.
  write(p[1], "x", 1);
  struct timespec left = {5, 0};
  check("ppoll-time-left", syscall(SYS_ppoll, &pfd, 1, &left, NULL, 8) == 1 && left.tv_sec == 4,
        "left %ld.%09ld", (long)left.tv_sec, left.tv_nsec);
  left = (struct timespec){0, 0};
  check("ppoll-zero-timeout", syscall(SYS_ppoll, &pfd, 1, &left, NULL, 8) == 1, "not ready");
  CHECK_FAILS_WITH("ppoll-bad-sigsetsize", syscall(SYS_ppoll, &pfd, 1, NULL, &empty, 4), EINVAL);
  struct timespec bad = {0, 1000000000};
  CHECK_FAILS_WITH("ppoll-bad-timespec", syscall(SYS_ppoll, &pfd, 1, &bad, NULL, 8), EINVAL);
  CHECK_FAILS_WITH("ppoll-efault-timespec", syscall(SYS_ppoll, &pfd, 1, g_bad, NULL, 8), EFAULT);
  struct {
    const sigset_t *set;
    size_t size;
  } sig = {&empty, 4};
  CHECK_FAILS_WITH("pselect6-bad-sigsetsize", syscall(SYS_pselect6, 0, NULL, NULL, NULL, NULL, &sig), EINVAL);
  close(p[0]);
  close(p[1]);
}

int main(void) {
  poll_basics();
  select_basics();
  interrupted("poll-eintr-not-restarted", 0);
  interrupted("select-eintr-not-restarted", 1);
  interrupted("ppoll-eintr-not-restarted", 2);
  interrupted("pselect-eintr-not-restarted", 3);
  masks();
  return check_exit_status();
}
