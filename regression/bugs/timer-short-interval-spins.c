// A periodic timer whose interval is shorter than one firing takes (a few microseconds).
// Carbyne's timer thread fired such a timer again and again in a loop, at full speed, for
// as long as it stayed armed, even one that nobody waits for: a SIGEV_NONE POSIX timer, a
// timerfd nobody reads. The process burned a CPU while it slept, and the timer lock the
// loop retook for each firing starved every other timer call: timer_settime, getitimer and
// timerfd_settime took from milliseconds to seconds. On a CPU-time clock the loop could
// not end at all, since its own CPU time kept the timer due. Linux does not arm a
// SIGEV_NONE timer, counts a timerfd's expirations when it is read, and re-arms a
// signalling timer when its signal is delivered: an idle process with such timers uses
// no CPU. Found by the syscall fuzzer (regression/fuzz), as hangs in timer calls.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#define SLEEP_MS 400
#define MAX_CPU_MS 40  // an idle process uses none; the old code used from 80 ms to all of it

static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

// Sleeps while the armed timer exists and returns the CPU time the process used meanwhile.
static double idle_cpu_ms(void) {
    double before = cpu_ms();
    struct timespec ts = {0, SLEEP_MS * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
    return cpu_ms() - before;
}

static void check_posix(const char *name, clockid_t clock) {
    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    int id;  // the raw call: glibc would turn a CPU clock into its dynamic id
    if (syscall(SYS_timer_create, clock, &ev, &id) != 0) {
        check(name, 0, "timer_create: %s", strerrorname_np(errno));
        return;
    }
    struct itimerspec its = {{0, 1000}, {0, 1000}};  // every microsecond
    syscall(SYS_timer_settime, id, 0, &its, NULL);
    double used = idle_cpu_ms();
    syscall(SYS_timer_delete, id);
    check(name, used < MAX_CPU_MS, "the process used %.0f ms of CPU in %d ms of sleep", used, SLEEP_MS);
}

int main(void) {
    check_posix("posix-sigev-none-monotonic", CLOCK_MONOTONIC);
    check_posix("posix-sigev-none-process-cputime", CLOCK_PROCESS_CPUTIME_ID);

    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    struct itimerspec its = {{0, 1000}, {0, 1000}};
    timerfd_settime(fd, 0, &its, NULL);
    double used = idle_cpu_ms();
    uint64_t ticks = 0;
    ssize_t n = read(fd, &ticks, sizeof(ticks));
    close(fd);
    check("timerfd-unread", used < MAX_CPU_MS, "the process used %.0f ms of CPU in %d ms of sleep", used, SLEEP_MS);
    // The expirations are all counted, however they were: one per microsecond slept.
    check("timerfd-count", n == 8 && ticks >= SLEEP_MS * 1000 / 2, "read %zd, %llu expirations", n,
          (unsigned long long)ticks);

    // A signalling timer whose signal is blocked: one signal pending, the timer waits for
    // it to be taken, and the expirations meanwhile come as overruns.
    sigset_t alrm;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, NULL);
    struct sigevent sig = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGALRM};
    int id;
    syscall(SYS_timer_create, CLOCK_MONOTONIC, &sig, &id);
    syscall(SYS_timer_settime, id, 0, &its, NULL);
    used = idle_cpu_ms();
    siginfo_t info;
    int got = sigwaitinfo(&alrm, &info);
    syscall(SYS_timer_delete, id);
    check("posix-signal-blocked", used < MAX_CPU_MS, "the process used %.0f ms of CPU in %d ms of sleep", used,
          SLEEP_MS);
    check("posix-signal-overrun", got == SIGALRM && info.si_code == SI_TIMER && info.si_overrun >= SLEEP_MS * 1000 / 2,
          "signal %d, code %d, overrun %d", got, info.si_code, info.si_overrun);

    // The same with setitimer: ITIMER_REAL re-arms when its SIGALRM is taken.
    struct itimerval itv = {{0, 1}, {0, 1}};
    setitimer(ITIMER_REAL, &itv, NULL);
    used = idle_cpu_ms();
    got = sigwaitinfo(&alrm, &info);
    int again = sigwaitinfo(&alrm, &info);  // and it runs on after that
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    check("itimer-real-blocked", used < MAX_CPU_MS, "the process used %.0f ms of CPU in %d ms of sleep", used,
          SLEEP_MS);
    check("itimer-real-rearmed", got == SIGALRM && again == SIGALRM, "signals %d, %d", got, again);

  // The same while another sender's SIGALRM is pending already: the timer's expiry merges
  // into it, and the timer still waits for SIGALRM to be taken.
  struct timespec no_wait = {0, 0};
  while (sigtimedwait(&alrm, &info, &no_wait) > 0) {
  }  // what the timer above left pending
  kill(getpid(), SIGALRM);
  setitimer(ITIMER_REAL, &itv, NULL);
  used = idle_cpu_ms();
  got = sigwaitinfo(&alrm, &info);
  int code = info.si_code;
  again = sigwaitinfo(&alrm, &info);  // the timer runs again once the merged one is taken
  setitimer(ITIMER_REAL, &off, NULL);
  check("itimer-real-merged", used < MAX_CPU_MS, "the process used %.0f ms of CPU in %d ms of sleep", used,
        SLEEP_MS);
  check("itimer-real-merged-first-info", got == SIGALRM && code == SI_USER && again == SIGALRM,
        "signals %d (code %d), %d", got, code, again);
    return check_exit_status();
}
