// Timers that send signals: alarm, setitimer (REAL and PROF), POSIX timers (SIGEV_SIGNAL,
// SIGEV_THREAD_ID, SIGEV_NONE, SIGEV_THREAD through glibc), and CPU accounting (times,
// getrusage).
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static volatile sig_atomic_t g_alarms, g_profs;
static volatile int g_code, g_value, g_signo;
static volatile pid_t g_tid;

static void on_alarm(int sig) {
  (void)sig;
  g_alarms++;
}

static void on_prof(int sig) {
  (void)sig;
  g_profs++;
}

static void on_timer(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  g_signo = sig;
  g_code = si->si_code;
  g_value = si->si_value.sival_int;
  g_tid = (pid_t)syscall(SYS_gettid);
  g_alarms++;
}

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

static void alarm_cases(void) {
  handle(SIGALRM, on_alarm);
  check("alarm-none-pending", alarm(5) == 0, "a first alarm reported one pending");
  unsigned left = alarm(0);
  check("alarm-returns-remaining", left == 5, "alarm(0) returned %u, want 5", left);
  g_alarms = 0;
  alarm(1);
  long start = monotonic_ms();
  pause();
  long took = monotonic_ms() - start;
  check("alarm-fires", g_alarms == 1 && took >= 900 && took < 3000, "%d alarms after pause", (int)g_alarms);
}

static void itimer_cases(void) {
  handle(SIGALRM, on_alarm);
  g_alarms = 0;
  struct itimerval it = {{0, 20000}, {0, 20000}};  // every 20 ms
  check("setitimer-real", setitimer(ITIMER_REAL, &it, NULL) == 0, "%s", strerrorname_np(errno));
  struct itimerval cur;
  getitimer(ITIMER_REAL, &cur);
  check("getitimer-interval", cur.it_interval.tv_usec == 20000 && cur.it_value.tv_sec == 0 &&
                                  cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 20000,
        "interval %ld us", (long)cur.it_interval.tv_usec);
  sigset_t none;
  sigemptyset(&none);
  while (g_alarms < 5)
    sigsuspend(&none);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, &cur);
  check("setitimer-periodic", g_alarms >= 5, "%d expirations", (int)g_alarms);
  getitimer(ITIMER_REAL, &cur);
  check("setitimer-disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0 &&
                                  cur.it_interval.tv_usec == 0,
        "still armed");
  struct itimerval bad = {{0, 0}, {0, 1000000}};
  errno = 0;
  check("setitimer-einval", setitimer(ITIMER_REAL, &bad, NULL) == -1 && errno == EINVAL, "usec 1000000: %s",
        strerrorname_np(errno));
  errno = 0;
  check("setitimer-bad-which", setitimer(7, &it, NULL) == -1 && errno == EINVAL, "which 7: %s",
        strerrorname_np(errno));

  // ITIMER_PROF counts CPU time: a busy loop gets SIGPROF.
  handle(SIGPROF, on_prof);
  g_profs = 0;
  struct itimerval prof = {{0, 0}, {0, 30000}};
  setitimer(ITIMER_PROF, &prof, NULL);
  long deadline = monotonic_ms() + 5000;
  volatile uint64_t x = 0;
  while (!g_profs && monotonic_ms() < deadline)
    for (int i = 0; i < 100000; i++) x += i;
  check("itimer-prof", g_profs == 1, "%d SIGPROF after a busy loop", (int)g_profs);
}

static volatile pid_t g_worker_tid;

static void *park(void *arg) {
  volatile int *stop = arg;
  g_worker_tid = (pid_t)syscall(SYS_gettid);
  while (!*stop) usleep(1000);
  return NULL;
}

static void posix_timer_cases(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_timer;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGRTMIN + 2, &sa, NULL);
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_SIGNAL;
  ev.sigev_signo = SIGRTMIN + 2;
  ev.sigev_value.sival_int = 4242;
  timer_t t;
  check("timer-create", timer_create(CLOCK_MONOTONIC, &ev, &t) == 0, "%s", strerrorname_np(errno));
  struct itimerspec its = {{0, 0}, {0, 30 * 1000000}};
  g_alarms = 0;
  check("timer-settime", timer_settime(t, 0, &its, NULL) == 0, "%s", strerrorname_np(errno));
  struct itimerspec cur;
  timer_gettime(t, &cur);
  check("timer-gettime", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 30000000,
        "value %ld ns", cur.it_value.tv_nsec);
  sigset_t none;
  sigemptyset(&none);
  while (!g_alarms)
    sigsuspend(&none);
  check("timer-sigev-signal", g_signo == SIGRTMIN + 2 && g_code == SI_TIMER && g_value == 4242,
        "signal %d code %d value %d", g_signo, g_code, g_value);
  timer_gettime(t, &cur);
  check("timer-one-shot-disarmed", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0, "still armed");
  check("timer-getoverrun", timer_getoverrun(t) == 0, "overrun %d", timer_getoverrun(t));
  // Absolute deadline in the past: fires at once.
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  struct itimerspec past = {{0, 0}, {now.tv_sec > 1 ? now.tv_sec - 1 : 0, 1}};
  g_alarms = 0;
  timer_settime(t, TIMER_ABSTIME, &past, NULL);
  while (!g_alarms)
    sigsuspend(&none);
  check("timer-abstime-past", g_alarms == 1, "%d signals", (int)g_alarms);
  check("timer-delete", timer_delete(t) == 0, "%s", strerrorname_np(errno));
  errno = 0;
  check("timer-deleted-einval", timer_settime(t, 0, &its, NULL) == -1 && errno == EINVAL, "%s",
        strerrorname_np(errno));

  // SIGEV_THREAD_ID: the signal goes to the named thread.
  volatile int stop = 0;
  pthread_t th;
  pthread_create(&th, NULL, park, (void *)&stop);
  while (!g_worker_tid)
    usleep(1000);
  pid_t worker = g_worker_tid;
  struct sigevent tev = {0};
  tev.sigev_notify = SIGEV_THREAD_ID;
  tev.sigev_signo = SIGRTMIN + 2;
  tev._sigev_un._tid = worker;
  g_alarms = 0;
  g_tid = 0;
  int created = timer_create(CLOCK_MONOTONIC, &tev, &t) == 0;
  check("timer-thread-id-create", created && worker, "%s", strerrorname_np(errno));
  if (created) {
    timer_settime(t, 0, &its, NULL);
    long deadline = monotonic_ms() + 5000;
    while (!g_alarms && monotonic_ms() < deadline)
      usleep(1000);
    check("timer-sigev-thread-id", g_alarms == 1 && g_tid == worker, "%d signals, %s", (int)g_alarms,
          g_tid == worker ? "on the worker" : "not on the worker");
    timer_delete(t);
  }
  stop = 1;
  pthread_join(th, NULL);
  tev._sigev_un._tid = 999999;
  errno = 0;
  check("timer-thread-id-bad-tid", timer_create(CLOCK_MONOTONIC, &tev, &t) == -1 && errno == EINVAL, "%s",
        strerrorname_np(errno));

  // SIGEV_NONE: nothing is sent, the time still runs down.
  struct sigevent nev = {0};
  nev.sigev_notify = SIGEV_NONE;
  timer_create(CLOCK_REALTIME, &nev, &t);
  struct itimerspec long_one = {{1, 0}, {100, 0}};
  timer_settime(t, 0, &long_one, NULL);
  timer_gettime(t, &cur);
  check("timer-sigev-none", cur.it_value.tv_sec >= 98 && cur.it_value.tv_sec <= 100 && cur.it_interval.tv_sec == 1,
        "value %ld s", (long)cur.it_value.tv_sec);
  struct itimerspec old;
  struct itimerspec zero = {{0, 0}, {0, 0}};
  timer_settime(t, 0, &zero, &old);
  check("timer-settime-old", old.it_value.tv_sec >= 98 && old.it_interval.tv_sec == 1, "old value %ld s",
        (long)old.it_value.tv_sec);
  timer_delete(t);
}

static volatile int g_thread_notified;
static void notified(union sigval v) { g_thread_notified = v.sival_int; }

static void sigev_thread_case(void) {
  // glibc runs SIGEV_THREAD timers on its own helper thread (SIGEV_THREAD_ID underneath).
  struct sigevent ev = {0};
  ev.sigev_notify = SIGEV_THREAD;
  ev.sigev_notify_function = notified;
  ev.sigev_value.sival_int = 77;
  timer_t t;
  int created = timer_create(CLOCK_MONOTONIC, &ev, &t) == 0;
  check("timer-sigev-thread-create", created, "%s", strerrorname_np(errno));
  if (!created) return;
  struct itimerspec its = {{0, 0}, {0, 20 * 1000000}};
  timer_settime(t, 0, &its, NULL);
  long deadline = monotonic_ms() + 5000;
  while (!g_thread_notified && monotonic_ms() < deadline)
    usleep(1000);
  check("timer-sigev-thread", g_thread_notified == 77, "notified with %d", g_thread_notified);
  timer_delete(t);
}

static void accounting_cases(void) {
  struct rusage before, after, children, thread;
  getrusage(RUSAGE_SELF, &before);
  struct tms t0, t1;
  clock_t c0 = times(&t0);
  volatile uint64_t x = 0;
  struct timespec cpu0, cpu;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu0);
  do {  // 200 ms of CPU time, however busy the machine is
    for (int i = 0; i < 100000; i++) x += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
  } while ((cpu.tv_sec - cpu0.tv_sec) * 1000 + (cpu.tv_nsec - cpu0.tv_nsec) / 1000000 < 200);
  clock_t c1 = times(&t1);
  getrusage(RUSAGE_SELF, &after);
  long before_us = (before.ru_utime.tv_sec + before.ru_stime.tv_sec) * 1000000 + before.ru_utime.tv_usec +
                   before.ru_stime.tv_usec;
  long after_us = (after.ru_utime.tv_sec + after.ru_stime.tv_sec) * 1000000 + after.ru_utime.tv_usec +
                  after.ru_stime.tv_usec;
  check("getrusage-cpu-time", after_us - before_us >= 180000, "CPU time grew %ld us over 200 ms of CPU",
        after_us - before_us);
  check("getrusage-maxrss", after.ru_maxrss > 0, "maxrss %ld", after.ru_maxrss);
  long ticks = (long)(t1.tms_utime + t1.tms_stime - t0.tms_utime - t0.tms_stime);
  check("times-cpu-ticks", ticks >= 17, "%ld ticks of CPU time", ticks);
  check("times-elapsed", c1 - c0 >= 17 && c1 - c0 < 3000, "elapsed %ld ticks", (long)(c1 - c0));
  check("getrusage-children", getrusage(RUSAGE_CHILDREN, &children) == 0 && children.ru_utime.tv_sec == 0 &&
                                  children.ru_utime.tv_usec == 0,
        "children have user time");
  check("getrusage-thread", getrusage(RUSAGE_THREAD, &thread) == 0 && thread.ru_utime.tv_sec +
                                  thread.ru_utime.tv_usec > 0,
        "no thread user time");
  errno = 0;
  check("getrusage-einval", getrusage(5, &thread) == -1 && errno == EINVAL, "%s", strerrorname_np(errno));
}

int main(void) {
  alarm_cases();
  itimer_cases();
  posix_timer_cases();
  sigev_thread_case();
  accounting_cases();
  return g_check_failures != 0;
}
