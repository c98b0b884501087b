// Times far beyond any clock (up to {LONG_MAX s}) as timer intervals and values and as
// timeouts: Linux saturates them at KTIME_MAX (292 years), so they mean "not for a very
// long time". Carbyne added them to the current time and let the sum wrap into the past:
// a setitimer or timer_settime interval of {0x3fffffffffffffff, 0} re-fired without end
// (the process hung) and a timerfd read about a million expirations after 50 ms.
//
// What a timer reads back as the time left depends on the clock, so only its range is
// checked; the intervals read back exactly as Linux keeps them.
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

// KTIME_MAX as a timespec and a timeval: what a huge time reads back as.
#define KTIME_MAX_SEC 9223372036L
#define KTIME_MAX_NSEC 854775807L
#define HUGE_SEC 0x3fffffffffffffffL

static volatile sig_atomic_t g_alarms, g_usr1s;

static void on_alarm(int sig) {
  (void)sig;
  g_alarms++;
}

static void on_usr1(int sig) {
  (void)sig;
  g_usr1s++;
}

// No SA_RESTART: a handler that runs ends a blocking call with EINTR.
static void handle(int sig, void (*fn)(int)) {
  struct sigaction sa = {0};
  sa.sa_handler = fn;
  sigaction(sig, &sa, NULL);
}

static long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

// Lets `ms` pass, whatever signals arrive meanwhile.
static void pass_ms(long ms) {
  long end = monotonic_ms() + ms;
  for (long now = monotonic_ms(); now < end; now = monotonic_ms()) {
    struct timespec ts = {0, (end - now) * 1000000L};
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec = ts.tv_nsec / 1000000000L;
      ts.tv_nsec %= 1000000000L;
    }
    nanosleep(&ts, NULL);
  }
}

// Time left on a timer armed far away: more than 31 years, never past KTIME_MAX.
static int far_away(time_t sec) { return sec >= 1000000000L && sec <= KTIME_MAX_SEC; }

struct huge_case {
  struct timespec ts;
  struct timespec want;  // as Linux keeps it
};

static const struct huge_case k_huge[] = {
    {{HUGE_SEC, 0}, {KTIME_MAX_SEC, KTIME_MAX_NSEC}},
    {{LONG_MAX, 999999999L}, {KTIME_MAX_SEC, KTIME_MAX_NSEC}},
    {{KTIME_MAX_SEC, KTIME_MAX_NSEC}, {KTIME_MAX_SEC, KTIME_MAX_NSEC}},
    {{KTIME_MAX_SEC, 0}, {KTIME_MAX_SEC, KTIME_MAX_NSEC}},
    {{KTIME_MAX_SEC - 1, 999999999L}, {KTIME_MAX_SEC - 1, 999999999L}},
};
#define HUGE_COUNT (sizeof(k_huge) / sizeof(k_huge[0]))

static int same_ts(struct timespec a, struct timespec b) { return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec; }

static void itimer_cases(void) {
  handle(SIGALRM, on_alarm);
  g_alarms = 0;
  struct itimerval it = {{HUGE_SEC, 0}, {0, 1000}};
  check("itimer-huge-interval-set", setitimer(ITIMER_REAL, &it, NULL) == 0, "%s", strerrorname_np(errno));
  pass_ms(200);
  check("itimer-huge-interval-fires-once", g_alarms == 1, "%d SIGALRMs in 200 ms, want 1", (int)g_alarms);
  struct itimerval cur;
  getitimer(ITIMER_REAL, &cur);
  check("itimer-huge-interval-reads-ktime-max",
        cur.it_interval.tv_sec == KTIME_MAX_SEC && cur.it_interval.tv_usec == KTIME_MAX_NSEC / 1000,
        "interval {%ld, %ld}", (long)cur.it_interval.tv_sec, (long)cur.it_interval.tv_usec);
  check("itimer-huge-interval-rearmed-far", far_away(cur.it_value.tv_sec), "the next expiry is not far away");
  struct itimerval off = {{0, 0}, {0, 0}}, old;
  setitimer(ITIMER_REAL, &off, &old);
  check("itimer-huge-interval-old", old.it_interval.tv_sec == KTIME_MAX_SEC && far_away(old.it_value.tv_sec),
        "old interval {%ld, %ld}", (long)old.it_interval.tv_sec, (long)old.it_interval.tv_usec);

  // A huge first expiry: never within the test.
  g_alarms = 0;
  struct itimerval later = {{0, 0}, {HUGE_SEC, 0}};
  setitimer(ITIMER_REAL, &later, NULL);
  pass_ms(50);
  getitimer(ITIMER_REAL, &cur);
  check("itimer-huge-value-waits", g_alarms == 0 && far_away(cur.it_value.tv_sec) && cur.it_interval.tv_sec == 0,
        "%d SIGALRMs, value far: %d", (int)g_alarms, far_away(cur.it_value.tv_sec));
  setitimer(ITIMER_REAL, &off, NULL);

  // Every huge interval reads back as Linux keeps it (a second's whole microseconds).
  int all = 1;
  for (size_t i = 0; i < HUGE_COUNT; i++) {
    struct itimerval set = {{k_huge[i].ts.tv_sec, k_huge[i].ts.tv_nsec / 1000}, {3600, 0}};
    setitimer(ITIMER_REAL, &set, NULL);
    getitimer(ITIMER_REAL, &cur);
    if (cur.it_interval.tv_sec != k_huge[i].want.tv_sec || cur.it_interval.tv_usec != k_huge[i].want.tv_nsec / 1000) {
      all = 0;
      printf("# itimer interval %zu reads {%ld, %ld}\n", i, (long)cur.it_interval.tv_sec,
             (long)cur.it_interval.tv_usec);
    }
  }
  setitimer(ITIMER_REAL, &off, NULL);
  check("itimer-huge-intervals-read-back", all, "see above");
}

static void posix_timer_cases(void) {
  handle(SIGUSR1, on_usr1);
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGUSR1;
  timer_t t;
  if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) {
    check("timer-create", 0, "%s", strerrorname_np(errno));
    return;
  }
  g_usr1s = 0;
  struct itimerspec it = {{LONG_MAX, 0}, {0, 1000}};
  check("timer-huge-interval-set", timer_settime(t, 0, &it, NULL) == 0, "%s", strerrorname_np(errno));
  pass_ms(200);
  check("timer-huge-interval-fires-once", g_usr1s == 1, "%d signals in 200 ms, want 1", (int)g_usr1s);
  check("timer-huge-interval-no-overrun", timer_getoverrun(t) == 0, "overrun %d", timer_getoverrun(t));
  struct itimerspec cur;
  timer_gettime(t, &cur);
  check("timer-huge-interval-reads-ktime-max",
        cur.it_interval.tv_sec == KTIME_MAX_SEC && cur.it_interval.tv_nsec == KTIME_MAX_NSEC,
        "interval {%ld, %ld}", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  check("timer-huge-interval-rearmed-far", far_away(cur.it_value.tv_sec), "the next expiry is not far away");
  struct itimerspec off = {{0, 0}, {0, 0}}, old;
  timer_settime(t, 0, &off, &old);
  check("timer-huge-interval-old", same_ts(old.it_interval, k_huge[0].want) && far_away(old.it_value.tv_sec),
        "old interval {%ld, %ld}", (long)old.it_interval.tv_sec, old.it_interval.tv_nsec);

  // Huge first expiries, relative and absolute: never within the test.
  g_usr1s = 0;
  struct itimerspec later = {{0, 0}, {LONG_MAX, 999999999L}};
  timer_settime(t, 0, &later, NULL);
  pass_ms(50);
  timer_gettime(t, &cur);
  check("timer-huge-value-waits", g_usr1s == 0 && far_away(cur.it_value.tv_sec), "%d signals, value far: %d",
        (int)g_usr1s, far_away(cur.it_value.tv_sec));
  timer_settime(t, 0, &off, NULL);
  timer_delete(t);

  if (timer_create(CLOCK_REALTIME, &ev, &t) != 0) {
    check("timer-create-realtime", 0, "%s", strerrorname_np(errno));
    return;
  }
  g_usr1s = 0;
  timer_settime(t, TIMER_ABSTIME, &later, NULL);
  pass_ms(50);
  timer_gettime(t, &cur);
  check("timer-huge-absolute-waits", g_usr1s == 0 && far_away(cur.it_value.tv_sec), "%d signals, value far: %d",
        (int)g_usr1s, far_away(cur.it_value.tv_sec));

  int all = 1;
  for (size_t i = 0; i < HUGE_COUNT; i++) {
    struct itimerspec set = {k_huge[i].ts, {3600, 0}};
    timer_settime(t, 0, &set, NULL);
    timer_gettime(t, &cur);
    if (!same_ts(cur.it_interval, k_huge[i].want)) {
      all = 0;
      printf("# timer interval %zu reads {%ld, %ld}\n", i, (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    }
  }
  check("timer-huge-intervals-read-back", all, "see above");
  timer_delete(t);
}

static void timerfd_cases(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (fd < 0) {
    check("timerfd-create", 0, "%s", strerrorname_np(errno));
    return;
  }
  struct itimerspec it = {{HUGE_SEC, 0}, {0, 1000}};
  check("timerfd-huge-interval-set", timerfd_settime(fd, 0, &it, NULL) == 0, "%s", strerrorname_np(errno));
  pass_ms(50);
  uint64_t ticks = 0;
  ssize_t n = read(fd, &ticks, sizeof(ticks));
  check("timerfd-huge-interval-one-expiry", n == 8 && ticks == 1, "read %zd, %llu expirations, want 1", n,
        (unsigned long long)ticks);
  n = read(fd, &ticks, sizeof(ticks));
  check("timerfd-huge-interval-no-more", n == -1 && errno == EAGAIN, "read %zd", n);
  struct itimerspec cur;
  timerfd_gettime(fd, &cur);
  check("timerfd-huge-interval-reads-ktime-max", same_ts(cur.it_interval, k_huge[0].want),
        "interval {%ld, %ld}", (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
  check("timerfd-huge-interval-rearmed-far", far_away(cur.it_value.tv_sec), "the next expiry is not far away");

  struct itimerspec later = {{0, 0}, {LONG_MAX, 999999999L}};
  timerfd_settime(fd, 0, &later, NULL);
  pass_ms(20);
  n = read(fd, &ticks, sizeof(ticks));
  timerfd_gettime(fd, &cur);
  check("timerfd-huge-value-waits", n == -1 && errno == EAGAIN && far_away(cur.it_value.tv_sec),
        "read %zd, value far: %d", n, far_away(cur.it_value.tv_sec));
  timerfd_settime(fd, TFD_TIMER_ABSTIME, &later, NULL);
  pass_ms(20);
  n = read(fd, &ticks, sizeof(ticks));
  timerfd_gettime(fd, &cur);
  check("timerfd-huge-absolute-waits", n == -1 && errno == EAGAIN && far_away(cur.it_value.tv_sec),
        "read %zd, value far: %d", n, far_away(cur.it_value.tv_sec));

  int all = 1;
  for (size_t i = 0; i < HUGE_COUNT; i++) {
    struct itimerspec set = {k_huge[i].ts, {3600, 0}};
    timerfd_settime(fd, 0, &set, NULL);
    timerfd_gettime(fd, &cur);
    if (!same_ts(cur.it_interval, k_huge[i].want)) {
      all = 0;
      printf("# timerfd interval %zu reads {%ld, %ld}\n", i, (long)cur.it_interval.tv_sec, cur.it_interval.tv_nsec);
    }
  }
  check("timerfd-huge-intervals-read-back", all, "see above");
  close(fd);
}

// Arms a one-shot SIGALRM 100 ms away, to end a call that should block far longer.
static long g_start;
static void arm_alarm(void) {
  handle(SIGALRM, on_alarm);
  g_alarms = 0;
  struct itimerval it = {{0, 0}, {0, 100000}};
  setitimer(ITIMER_REAL, &it, NULL);
  g_start = monotonic_ms();
}

// The call returned `ret` (errno `err`): it must have blocked until the alarm and failed
// with EINTR.
static void check_blocked(const char *name, long ret, int err) {
  long took = monotonic_ms() - g_start;
  check(name, ret == -1 && err == EINTR && took >= 50 && g_alarms == 1,
        "returned %ld (%s) after %s, %d alarms", ret, ret == -1 ? strerrorname_np(err) : "-",
        took >= 50 ? "the alarm" : "less than 50 ms", (int)g_alarms);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
}

#define CHECK_BLOCKS(name, call)        \
  do {                                  \
    arm_alarm();                        \
    errno = 0;                          \
    long ret_ = (long)(call);           \
    check_blocked(name, ret_, errno);   \
  } while (0)

static void timeout_cases(void) {
  const struct timespec huge = {HUGE_SEC, 0};
  const struct timespec max = {LONG_MAX, 999999999L};

  struct timespec rem = {0, 0};
  CHECK_BLOCKS("nanosleep-huge-blocks", nanosleep(&huge, &rem));
  check("nanosleep-huge-remaining-far", far_away(rem.tv_sec), "remaining %s", rem.tv_sec ? "near" : "zero");
  rem.tv_sec = 0;
  arm_alarm();
  int r = clock_nanosleep(CLOCK_MONOTONIC, 0, &max, &rem);
  check_blocked("clock-nanosleep-huge-blocks", r ? -1 : r, r);
  check("clock-nanosleep-huge-remaining-far", far_away(rem.tv_sec), "remaining %s", rem.tv_sec ? "near" : "zero");
  arm_alarm();
  r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &max, NULL);
  check_blocked("clock-nanosleep-absolute-huge-blocks", r ? -1 : r, r);
  arm_alarm();
  r = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &huge, NULL);
  check_blocked("clock-nanosleep-realtime-absolute-huge-blocks", r ? -1 : r, r);

  struct timespec ts = huge;
  CHECK_BLOCKS("ppoll-huge-blocks", ppoll(NULL, 0, &ts, NULL));
  check("ppoll-huge-timeout-still-far", ts.tv_sec >= 1000000000L, "the timeout left is not far away");
  ts = max;
  CHECK_BLOCKS("pselect-huge-blocks", pselect(0, NULL, NULL, NULL, &ts, NULL));
  struct timeval tv = {HUGE_SEC, 999999};
  CHECK_BLOCKS("select-huge-blocks", syscall(SYS_select, 0, NULL, NULL, NULL, &tv));
  check("select-huge-timeout-still-far", tv.tv_sec >= 1000000000L, "the timeout left is not far away");
  // Linux carries whole seconds out of tv_usec: past LONG_MAX they turn negative.
  struct timeval over = {LONG_MAX, 1000000};
  CHECK_FAILS_WITH("select-seconds-past-long-max", syscall(SYS_select, 0, NULL, NULL, NULL, &over), EINVAL);

  int ep = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event event;
  CHECK_BLOCKS("epoll-wait-int-max-blocks", epoll_wait(ep, &event, 1, INT_MAX));
  ts = huge;
  CHECK_BLOCKS("epoll-pwait2-huge-blocks", syscall(SYS_epoll_pwait2, ep, &event, 1, &ts, NULL, 8));
  close(ep);

  static uint32_t word;
  CHECK_BLOCKS("futex-wait-huge-blocks", syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &max, NULL, 0));
  CHECK_BLOCKS("futex-wait-bitset-absolute-huge-blocks",
               syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE, 0, &max, NULL, FUTEX_BITSET_MATCH_ANY));
  CHECK_BLOCKS("futex-wait-bitset-realtime-huge-blocks",
               syscall(SYS_futex, &word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &huge, NULL,
                       FUTEX_BITSET_MATCH_ANY));

  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, NULL);
  CHECK_BLOCKS("sigtimedwait-huge-blocks", sigtimedwait(&usr2, NULL, &huge));

  int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec later = {{HUGE_SEC, 0}, {HUGE_SEC, 0}};
  timerfd_settime(tfd, 0, &later, NULL);
  uint64_t ticks;
  CHECK_BLOCKS("timerfd-read-huge-blocks", read(tfd, &ticks, sizeof(ticks)));
  close(tfd);

  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  struct timeval rcv = {HUGE_SEC, 0};
  check("so-rcvtimeo-huge-set", setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof(rcv)) == 0, "%s",
        strerrorname_np(errno));
  char byte;
  CHECK_BLOCKS("recv-rcvtimeo-huge-blocks", recv(sv[0], &byte, 1, 0));
  close(sv[0]);
  close(sv[1]);
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  itimer_cases();
  posix_timer_cases();
  timerfd_cases();
  timeout_cases();
  return check_exit_status();
}
