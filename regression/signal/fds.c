// timerfd and signalfd: expirations and pending signals read through descriptors.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static long monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timerfd_cases(void) {
  int fd = timerfd_create(CLOCK_MONOTONIC, 0);
  check("timerfd-create", fd >= 0, "%s", strerrorname_np(errno));
  struct itimerspec its = {{0, 0}, {0, 30 * 1000000}};
  check("timerfd-settime", timerfd_settime(fd, 0, &its, NULL) == 0, "%s", strerrorname_np(errno));
  struct itimerspec cur;
  timerfd_gettime(fd, &cur);
  check("timerfd-gettime", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30000000,
        "value %ld ns", cur.it_value.tv_nsec);
  uint64_t ticks = 0;
  long start = monotonic_ms();
  ssize_t n = read(fd, &ticks, sizeof(ticks));
  long took = monotonic_ms() - start;
  check("timerfd-read-blocks", n == 8 && ticks == 1 && took >= 25, "read %zd, %lu expirations", n,
        (unsigned long)ticks);
  timerfd_gettime(fd, &cur);
  check("timerfd-one-shot-disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "still armed");

  // Periodic: expirations add up until read.
  struct itimerspec periodic = {{0, 10 * 1000000}, {0, 10 * 1000000}};
  timerfd_settime(fd, 0, &periodic, NULL);
  usleep(65 * 1000);
  n = read(fd, &ticks, sizeof(ticks));
  check("timerfd-periodic-count", n == 8 && ticks >= 4, "read %zd, %lu expirations after 65 ms", n,
        (unsigned long)ticks);
  struct itimerspec off = {{0, 0}, {0, 0}}, old;
  timerfd_settime(fd, 0, &off, &old);
  check("timerfd-settime-old", old.it_interval.tv_nsec == 10 * 1000000, "old interval %ld ns",
        old.it_interval.tv_nsec);

  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  errno = 0;
  n = read(fd, &ticks, sizeof(ticks));
  check("timerfd-nonblock-eagain", n == -1 && errno == EAGAIN, "read %zd (%s)", n, strerrorname_np(errno));
  errno = 0;
  uint32_t small;
  n = read(fd, &small, sizeof(small));
  check("timerfd-short-read-einval", n == -1 && errno == EINVAL, "read %zd (%s)", n, strerrorname_np(errno));

  // Absolute time on CLOCK_REALTIME, already past: one expiration at once.
  int rfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  struct itimerspec past = {{0, 0}, {now.tv_sec - 1, 0}};
  timerfd_settime(rfd, TFD_TIMER_ABSTIME, &past, NULL);
  usleep(20000);
  n = read(rfd, &ticks, sizeof(ticks));
  check("timerfd-abstime-past", n == 8 && ticks == 1, "read %zd", n);
  check("timerfd-cloexec", (fcntl(rfd, F_GETFD) & FD_CLOEXEC) && (fcntl(rfd, F_GETFL) & O_NONBLOCK),
        "TFD_CLOEXEC/TFD_NONBLOCK not set");

  struct stat st;
  fstat(fd, &st);
  check("timerfd-fstat", (st.st_mode & 0777) == 0600 && (st.st_mode & S_IFMT) == 0, "mode %o",
        (unsigned)st.st_mode);
  errno = 0;
  check("timerfd-bad-clock", timerfd_create(12345, 0) == -1 && errno == EINVAL, "%s", strerrorname_np(errno));
  errno = 0;
  check("timerfd-bad-flags", timerfd_create(CLOCK_MONOTONIC, 0x10) == -1 && errno == EINVAL, "%s",
        strerrorname_np(errno));
  errno = 0;
  check("timerfd-settime-not-timerfd", timerfd_settime(0, 0, &its, NULL) == -1 && errno == EINVAL, "%s",
        strerrorname_np(errno));
  errno = 0;
  check("timerfd-settime-ebadf", timerfd_settime(999, 0, &its, NULL) == -1 && errno == EBADF, "%s",
        strerrorname_np(errno));
  struct itimerspec bad = {{0, 0}, {0, 1000000000}};
  errno = 0;
  check("timerfd-settime-einval", timerfd_settime(fd, 0, &bad, NULL) == -1 && errno == EINVAL, "%s",
        strerrorname_np(errno));
  close(fd);
  close(rfd);
}

static void *kill_later(void *arg) {
  (void)arg;
  usleep(50 * 1000);
  kill(getpid(), SIGUSR2);
  return NULL;
}

static void signalfd_cases(void) {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  sigaddset(&mask, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &mask, NULL);
  int fd = signalfd(-1, &mask, SFD_NONBLOCK);
  check("signalfd-create", fd >= 0, "%s", strerrorname_np(errno));
  struct signalfd_siginfo si[2];
  errno = 0;
  ssize_t n = read(fd, si, sizeof(si));
  check("signalfd-nothing-eagain", n == -1 && errno == EAGAIN, "read %zd (%s)", n, strerrorname_np(errno));
  syscall(SYS_tgkill, getpid(), (pid_t)syscall(SYS_gettid), SIGUSR1);
  union sigval v = {.sival_int = 7};
  sigqueue(getpid(), SIGUSR2, v);
  memset(si, 0, sizeof(si));
  n = read(fd, si, sizeof(si));
  check("signalfd-reads-two", n == 2 * (ssize_t)sizeof(si[0]), "read %zd", n);
  check("signalfd-tgkill-info", si[0].ssi_signo == SIGUSR1 && si[0].ssi_code == SI_TKILL &&
                                    si[0].ssi_pid == (uint32_t)getpid(),
        "signo %u code %d", si[0].ssi_signo, si[0].ssi_code);
  check("signalfd-sigqueue-info", si[1].ssi_signo == SIGUSR2 && si[1].ssi_code == SI_QUEUE && si[1].ssi_int == 7,
        "signo %u code %d int %d", si[1].ssi_signo, si[1].ssi_code, si[1].ssi_int);
  sigset_t pending;
  sigpending(&pending);
  check("signalfd-consumes", !sigismember(&pending, SIGUSR1) && !sigismember(&pending, SIGUSR2),
        "signals still pending");
  errno = 0;
  n = read(fd, si, 64);
  check("signalfd-short-read-einval", n == -1 && errno == EINVAL, "read %zd (%s)", n, strerrorname_np(errno));

  // Changing the mask: SIGUSR1 no longer shows.
  sigset_t only2;
  sigemptyset(&only2);
  sigaddset(&only2, SIGUSR2);
  check("signalfd-update-mask", signalfd(fd, &only2, 0) == fd, "%s", strerrorname_np(errno));
  raise(SIGUSR1);
  errno = 0;
  n = read(fd, si, sizeof(si[0]));
  check("signalfd-masked-out", n == -1 && errno == EAGAIN, "read %zd", n);
  struct timespec zero = {0, 0};
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, SIGUSR1);
  sigtimedwait(&one, NULL, &zero);  // clear it

  // A blocking read waits for a signal another thread sends.
  fcntl(fd, F_SETFL, 0);
  pthread_t t;
  pthread_create(&t, NULL, kill_later, NULL);
  memset(si, 0, sizeof(si));
  n = read(fd, si, sizeof(si[0]));
  pthread_join(t, NULL);
  check("signalfd-blocking-read", n == sizeof(si[0]) && si[0].ssi_signo == SIGUSR2 && si[0].ssi_code == SI_USER,
        "read %zd, signo %u", n, si[0].ssi_signo);

  errno = 0;
  check("signalfd-not-signalfd", signalfd(0, &mask, 0) == -1 && errno == EINVAL, "%s", strerrorname_np(errno));
  errno = 0;
  check("signalfd-bad-flags", signalfd(-1, &mask, 0x10) == -1 && errno == EINVAL, "%s", strerrorname_np(errno));
  errno = 0;
  check("signalfd-bad-size", syscall(SYS_signalfd4, -1, &mask, 4, 0) == -1 && errno == EINVAL, "%s",
        strerrorname_np(errno));
  close(fd);
}

int main(void) {
  timerfd_cases();
  signalfd_cases();
  return g_check_failures != 0;
}
