// Signals that interrupt: a blocking call ends with EINTR or restarts per SA_RESTART;
// a thread spinning in its own code takes a signal another thread sends; a
// process-directed signal goes to the thread that does not block it; rt_sigtimedwait and
// sigwaitinfo take signals instead of delivering them.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static volatile sig_atomic_t g_hits;
static volatile pid_t g_handler_tid;

static void on_signal(int sig) {
  (void)sig;
  // The tid first: a thread that sees g_hits move reads g_handler_tid next.
  g_handler_tid = (pid_t)syscall(SYS_gettid);
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  g_hits++;
}

static void set_handler(int sig, int flags) {
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  sigaction(sig, &sa, NULL);
}

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

// ---- a futex wait interrupted by a signal -----------------------------------------------

static uint32_t g_word;
static long g_futex_ret;
static int g_futex_errno;

static void *futex_waiter(void *arg) {
  (void)arg;
  errno = 0;
  g_futex_ret = syscall(SYS_futex, &g_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  g_futex_errno = errno;
  return NULL;
}

// Signals a thread blocked in FUTEX_WAIT, then wakes the futex: the wait restarts under
// SA_RESTART (and returns 0 when woken), else it ends with EINTR.
static void futex_case(const char *name, int flags, long want_ret, int want_errno) {
  set_handler(SIGUSR1, flags);
  g_hits = 0;
  __atomic_store_n(&g_word, 0, __ATOMIC_SEQ_CST);
  pthread_t t;
  pthread_create(&t, NULL, futex_waiter, NULL);
  sleep_ms(100);  // let it block
  pthread_kill(t, SIGUSR1);
  sleep_ms(100);
  __atomic_store_n(&g_word, 1, __ATOMIC_SEQ_CST);
  syscall(SYS_futex, &g_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  pthread_join(t, NULL);
  check(name, g_hits == 1 && g_futex_ret == want_ret && (want_ret == 0 || g_futex_errno == want_errno),
        "handler ran %d times; futex returned %ld (%s), want %ld (%s)", (int)g_hits, g_futex_ret,
        g_futex_ret == 0 ? "-" : strerrorname_np(g_futex_errno), want_ret,
        want_ret == 0 ? "-" : strerrorname_np(want_errno));
}

// ---- nanosleep interrupted ----------------------------------------------------------------

static pthread_t g_main_thread;

static void *kill_main_later(void *arg) {
  sleep_ms((long)(intptr_t)arg);
  pthread_kill(g_main_thread, SIGUSR2);
  return NULL;
}

static void nanosleep_case(void) {
  set_handler(SIGUSR2, SA_RESTART);  // nanosleep is never restarted after a handler
  g_hits = 0;
  pthread_t t;
  pthread_create(&t, NULL, kill_main_later, (void *)(intptr_t)100);
  struct timespec req = {5, 0}, rem = {0, 0};
  long start = monotonic_ms();
  errno = 0;
  int r = nanosleep(&req, &rem);
  int err = errno;
  long took = monotonic_ms() - start;
  pthread_join(t, NULL);
  check("nanosleep-eintr", r == -1 && err == EINTR && g_hits == 1, "returned %d (%s), handler ran %d times",
        r, r ? strerrorname_np(err) : "-", (int)g_hits);
  check("nanosleep-remaining", took < 4000 && rem.tv_sec >= 3 && rem.tv_sec <= 5,
        "remaining %ld s after an early end", (long)rem.tv_sec);
}

// ---- a spinning thread takes a signal -----------------------------------------------------

static volatile int g_stop_spinning;
static volatile long g_spins;

static void on_stop(int sig) {
  (void)sig;
  g_stop_spinning = 1;
}

static void *spinner(void *arg) {
  (void)arg;
  while (!g_stop_spinning)
    g_spins++;  // no system call: only an asynchronous interruption ends this
  return NULL;
}

static void spin_case(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_stop;
  sigaction(SIGUSR1, &sa, NULL);
  pthread_t t;
  pthread_create(&t, NULL, spinner, NULL);
  sleep_ms(50);
  pthread_kill(t, SIGUSR1);
  long deadline = monotonic_ms() + 5000;
  while (!g_stop_spinning && monotonic_ms() < deadline)
    sleep_ms(1);
  check("spinning-thread-interrupted", g_stop_spinning, "a thread in a busy loop never ran its handler");
  if (g_stop_spinning)
    pthread_join(t, NULL);
  else
    _exit(1);  // the spinner would never end
}

// ---- process-directed signals pick an unblocking thread -----------------------------------

static volatile pid_t g_worker_tid;
static volatile int g_worker_done;

static void *unblocked_worker(void *arg) {
  (void)arg;
  g_worker_tid = (pid_t)syscall(SYS_gettid);
  while (!g_worker_done)
    sleep_ms(1);
  return NULL;
}

static void process_directed_case(void) {
  set_handler(SIGUSR2, 0);
  g_hits = 0;
  g_handler_tid = 0;
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  pthread_t t;
  g_worker_done = 0;
  pthread_create(&t, NULL, unblocked_worker, NULL);  // it starts with SIGUSR2 unblocked
  pthread_sigmask(SIG_BLOCK, &block, &old);          // and only main blocks it
  while (!g_worker_tid)
    sleep_ms(1);
  kill(getpid(), SIGUSR2);
  long deadline = monotonic_ms() + 5000;
  while (!g_hits && monotonic_ms() < deadline)
    sleep_ms(1);
  check("kill-goes-to-unblocking-thread", g_hits == 1 && g_handler_tid == g_worker_tid,
        "handler ran %d times, %s", (int)g_hits,
        g_handler_tid == g_worker_tid ? "on the worker" : "not on the worker");
  g_worker_done = 1;
  pthread_join(t, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

// ---- rt_sigtimedwait ----------------------------------------------------------------------

static void *send_usr1_later(void *arg) {
  (void)arg;
  sleep_ms(50);
  kill(getpid(), SIGUSR1);
  return NULL;
}

static void sigtimedwait_case(void) {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  struct timespec zero = {0, 0};
  errno = 0;
  int r = sigtimedwait(&set, NULL, &zero);
  check("sigtimedwait-nothing-pending", r == -1 && errno == EAGAIN, "returned %d (%s)", r,
        r == -1 ? strerrorname_np(errno) : "-");
  struct timespec short_wait = {0, 50 * 1000000};
  long start = monotonic_ms();
  r = sigtimedwait(&set, NULL, &short_wait);
  long took = monotonic_ms() - start;
  check("sigtimedwait-timeout", r == -1 && errno == EAGAIN && took >= 45, "returned %d after a timeout", r);
  raise(SIGUSR1);
  siginfo_t info;
  memset(&info, 0, sizeof(info));
  r = sigtimedwait(&set, &info, &zero);
  check("sigtimedwait-takes-pending", r == SIGUSR1 && info.si_signo == SIGUSR1 && info.si_code == SI_USER && /* glibc shows SI_TKILL so */
                                          info.si_pid == getpid(),
        "returned %d, si_signo %d si_code %d", r, info.si_signo, info.si_code);
  sigset_t pending;
  sigpending(&pending);
  check("sigtimedwait-consumes", !sigismember(&pending, SIGUSR1), "SIGUSR1 still pending");
  // A process-directed signal sent while the only thread that takes it waits for it.
  pthread_t t;
  pthread_create(&t, NULL, send_usr1_later, NULL);
  memset(&info, 0, sizeof(info));
  r = sigwaitinfo(&set, &info);
  pthread_join(t, NULL);
  check("sigwaitinfo-from-another-thread", r == SIGUSR1 && info.si_code == SI_USER,
        "returned %d, si_code %d", r, info.si_code);
  // SIGCHLD is ignored by default, yet a thread waiting for it gets it.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, NULL);
  raise(SIGCHLD);
  r = sigtimedwait(&chld, NULL, &zero);
  check("sigtimedwait-default-ignored", r == SIGCHLD, "returned %d", r);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int main(void) {
  g_main_thread = pthread_self();
  futex_case("futex-restarted-sa-restart", SA_RESTART, 0, 0);
  futex_case("futex-eintr-no-sa-restart", 0, -1, EINTR);
  nanosleep_case();
  spin_case();
  process_directed_case();
  sigtimedwait_case();
  return g_check_failures != 0;
}
