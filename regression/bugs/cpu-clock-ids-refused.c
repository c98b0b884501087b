// The dynamic CPU clock ids (~pid << 3 | per-thread 4 | PROF 0, VIRT 1, SCHED 2), which
// clock_getcpuclockid and pthread_getcpuclockid return and which glibc itself passes to
// timer_create and clock_nanosleep for CLOCK_PROCESS_CPUTIME_ID, were EINVAL under Carbyne:
// timer_create(CLOCK_PROCESS_CPUTIME_ID, ...) through glibc failed, and so did reading a
// clock that clock_getcpuclockid(0) gave. Linux takes the ids of the calling process (pid 0
// or its own) and thread (tid 0 or its own); for a process or thread that does not exist
// they are EINVAL, and type 3 is a clock device's fd (EINVAL to read one that is not,
// EOPNOTSUPP for timers and sleeps). Found by the syscall fuzzer (regression/fuzz).
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

#define PROCESS_CLOCK(pid, which) ((int)((~(unsigned)(pid)) << 3) | (which))
#define THREAD_CLOCK(tid, which) ((int)((~(unsigned)(tid)) << 3) | 4 | (which))
#define NO_PID (1 << 27)  // above PID_MAX_LIMIT, and still encodable

static void check_reads(const char *name, int clock) {
    char what[64];
    struct timespec ts = {-1, -1};
    long r = syscall(SYS_clock_gettime, clock, &ts);
    snprintf(what, sizeof(what), "%s-gettime", name);
    check(what, r == 0 && ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000, "returned %ld (%s)", r,
          r ? strerrorname_np(errno) : "bad time");
    r = syscall(SYS_clock_getres, clock, &ts);
    snprintf(what, sizeof(what), "%s-getres", name);
    check(what, r == 0, "returned %ld (%s)", r, r ? strerrorname_np(errno) : "");
}

static void check_refused(const char *name, int clock) {
    struct timespec ts;
    CHECK_FAILS_WITH(name, syscall(SYS_clock_gettime, clock, &ts), EINVAL);
}

int main(void) {
    pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
    check_reads("process-sched-pid-0", PROCESS_CLOCK(0, 2));
    check_reads("process-prof-pid-0", PROCESS_CLOCK(0, 0));
    check_reads("process-virt-pid-0", PROCESS_CLOCK(0, 1));
    check_reads("process-sched-own-pid", PROCESS_CLOCK(pid, 2));
    check_reads("thread-sched-tid-0", THREAD_CLOCK(0, 2));
    check_reads("thread-sched-own-tid", THREAD_CLOCK(tid, 2));
    check_refused("clock-type-3", PROCESS_CLOCK(0, 3));
    check_refused("no-such-process", PROCESS_CLOCK(NO_PID, 2));
    check_refused("no-such-thread", THREAD_CLOCK(NO_PID, 2));

    // Through glibc, which turns these into the ids above.
    clockid_t cid;
    check("clock-getcpuclockid", clock_getcpuclockid(0, &cid) == 0, "failed");
    struct timespec ts;
    check("gettime-getcpuclockid", clock_gettime(cid, &ts) == 0, "%s", strerrorname_np(errno));
    check("pthread-getcpuclockid", pthread_getcpuclockid(pthread_self(), &cid) == 0, "failed");
    check("gettime-pthread-getcpuclockid", clock_gettime(cid, &ts) == 0, "%s", strerrorname_np(errno));

    struct sigevent ev = {.sigev_notify = SIGEV_NONE};
    timer_t timer;
    int r = timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &timer);
    check("timer-create-process-cputime", r == 0, "%s", strerrorname_np(errno));
    if (r == 0) {
        struct itimerspec its = {{0, 0}, {100, 0}}, cur;
        check("timer-settime", timer_settime(timer, 0, &its, NULL) == 0, "%s", strerrorname_np(errno));
        check("timer-gettime", timer_gettime(timer, &cur) == 0 && cur.it_value.tv_sec <= 100 &&
                                   (cur.it_value.tv_sec > 0 || cur.it_value.tv_nsec > 0),
              "%s", strerrorname_np(errno));
        check("timer-delete", timer_delete(timer) == 0, "%s", strerrorname_np(errno));
    }
    CHECK_FAILS_WITH("raw-timer-create-clock-device", syscall(SYS_timer_create, PROCESS_CLOCK(0, 3), &ev, &timer),
                     EOPNOTSUPP);
    CHECK_FAILS_WITH("raw-timer-create-no-such-process",
                     syscall(SYS_timer_create, PROCESS_CLOCK(NO_PID, 2), &ev, &timer), EINVAL);

    // An absolute deadline already passed on the process's CPU clock returns at once.
    struct timespec past = {0, 0};
    check("clock-nanosleep-process-cputime", clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &past, NULL) == 0,
          "failed");
    CHECK_FAILS_WITH("raw-clock-nanosleep-thread-clock",
                     syscall(SYS_clock_nanosleep, THREAD_CLOCK(0, 2), TIMER_ABSTIME, &past, NULL), EINVAL);
    CHECK_FAILS_WITH("raw-clock-nanosleep-clock-device",
                     syscall(SYS_clock_nanosleep, PROCESS_CLOCK(0, 3), TIMER_ABSTIME, &past, NULL), EOPNOTSUPP);
    return check_exit_status();
}
