// Priority-inheritance futexes, as glibc's PTHREAD_PRIO_INHERIT mutexes use them, and
// called directly: the word holds the owner's tid with FUTEX_WAITERS and FUTEX_OWNER_DIED;
// FUTEX_LOCK_PI/LOCK_PI2/TRYLOCK_PI/UNLOCK_PI hand ownership on, refuse self-locking
// (EDEADLK), unlocking by another thread (EPERM) and a dead owner's tid (ESRCH), time out
// on the right clock, are never interrupted by a signal, and robust PI mutexes report a
// dead owner (EOWNERDEAD).
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../check.h"

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout) {
  return syscall(SYS_futex, uaddr, op, val, timeout, NULL, 0);
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static long now_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct timespec in_ms(clockid_t clock, long ms) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  ts.tv_nsec += (ms % 1000) * 1000000;
  ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
  ts.tv_nsec %= 1000000000;
  return ts;
}

// Waits (up to 5 s) until `word` has all of `bits`: a locker is queued in the kernel.
static int wait_for_bits(uint32_t *word, uint32_t bits) {
  for (int i = 0; i < 5000; i++) {
    if ((__atomic_load_n(word, __ATOMIC_SEQ_CST) & bits) == bits)
      return 1;
    sleep_ms(1);
  }
  return 0;
}

// ---- contention on a PTHREAD_PRIO_INHERIT mutex ----------------------------------------------

enum { kThreads = 4, kIncrements = 100000 };

static pthread_mutex_t g_pi;
static long g_counter;

static void *increment(void *arg) {
  (void)arg;
  for (int i = 0; i < kIncrements; i++) {
    pthread_mutex_lock(&g_pi);
    g_counter++;
    pthread_mutex_unlock(&g_pi);
  }
  return NULL;
}

static void init_pi_mutex(pthread_mutex_t *m, int type, int robust) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  pthread_mutexattr_settype(&attr, type);
  pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
  if (robust)
    pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
}

struct timed_locks {
  int timed, clocked;
};

static void *lock_with_timeouts(void *arg) {
  struct timed_locks *tl = arg;
  struct timespec rt = in_ms(CLOCK_REALTIME, 100);
  tl->timed = pthread_mutex_timedlock(&g_pi, &rt);
  struct timespec mono = in_ms(CLOCK_MONOTONIC, 100);
  tl->clocked = pthread_mutex_clocklock(&g_pi, CLOCK_MONOTONIC, &mono);
  return NULL;
}

static void contention_checks(void) {
  init_pi_mutex(&g_pi, PTHREAD_MUTEX_NORMAL, 0);
  pthread_t t[kThreads];
  for (int i = 0; i < kThreads; i++)
    pthread_create(&t[i], NULL, increment, NULL);
  for (int i = 0; i < kThreads; i++)
    pthread_join(t[i], NULL);
  check("pi-mutex-contention-exact", g_counter == (long)kThreads * kIncrements, "counter %ld, want %ld",
        g_counter, (long)kThreads * kIncrements);
  check("pi-mutex-free-after", g_pi.__data.__lock == 0, "lock word %#x, want 0",
        (unsigned)g_pi.__data.__lock);

  // Error-checking and recursive PI mutexes answer in user space, as glibc does.
  pthread_mutex_t m;
  init_pi_mutex(&m, PTHREAD_MUTEX_ERRORCHECK, 0);
  pthread_mutex_lock(&m);
  int again = pthread_mutex_lock(&m);
  int busy = pthread_mutex_trylock(&m);
  pthread_mutex_unlock(&m);
  check("pi-errorcheck-relock", again == EDEADLK && busy == EDEADLK, "relock %s, trylock %s",
        strerrorname_np(again), strerrorname_np(busy));

  // Timed locks of a PI mutex another thread holds: FUTEX_LOCK_PI with a REALTIME deadline
  // (timedlock) and FUTEX_LOCK_PI2 with a MONOTONIC one (clocklock).
  pthread_mutex_lock(&g_pi);
  struct timed_locks tl = {-1, -1};
  long start = now_ms(CLOCK_MONOTONIC);
  pthread_t locker;
  pthread_create(&locker, NULL, lock_with_timeouts, &tl);
  pthread_join(locker, NULL);
  long waited = now_ms(CLOCK_MONOTONIC) - start;
  pthread_mutex_unlock(&g_pi);
  check("pi-timedlock-realtime", tl.timed == ETIMEDOUT, "returned %s", strerrorname_np(tl.timed));
  check("pi-clocklock-monotonic", tl.clocked == ETIMEDOUT, "returned %s", strerrorname_np(tl.clocked));
  check("pi-timed-waited", waited >= 190, "both waits took %ld ms, want >= 190", waited);
}

// ---- the futex calls themselves ------------------------------------------------------------

static uint32_t g_word;

struct call {
  int op;
  const struct timespec *timeout;
  long ret;
  int err;
  uint32_t seen;  // the word right after the call
};

static void *call_futex(void *arg) {
  struct call *c = arg;
  errno = 0;
  c->ret = futex(&g_word, c->op, 0, c->timeout);
  c->err = errno;
  c->seen = __atomic_load_n(&g_word, __ATOMIC_SEQ_CST);
  return NULL;
}

static struct call call_in_thread(int op, const struct timespec *timeout) {
  struct call c = {op, timeout, 0, 0, 0};
  pthread_t t;
  pthread_create(&t, NULL, call_futex, &c);
  pthread_join(t, NULL);
  return c;
}

static void check_call(const char *name, struct call c, long ret, int err) {
  check(name, c.ret == ret && (ret == 0 || c.err == err), "returned %ld (%s), want %ld (%s)", c.ret,
        c.ret == 0 ? "-" : strerrorname_np(c.err), ret, ret == 0 ? "-" : strerrorname_np(err));
}

static uint32_t g_holder_tid;
static volatile int g_release;

static void *hold_then_unlock(void *arg) {
  (void)arg;
  futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
  __atomic_store_n(&g_holder_tid, (uint32_t)gettid_(), __ATOMIC_SEQ_CST);
  while (!__atomic_load_n(&g_release, __ATOMIC_SEQ_CST))
    sleep_ms(1);
  futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
  return NULL;
}

static void *lock_and_exit(void *arg) {
  (void)arg;
  futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
  __atomic_store_n(&g_holder_tid, (uint32_t)gettid_(), __ATOMIC_SEQ_CST);
  sleep_ms(100);
  return NULL;  // still owning the word, which is on no robust list
}

static void syscall_checks(void) {
  uint32_t me = (uint32_t)gettid_();
  g_word = 0;
  long r = futex(&g_word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL);
  check("trylock-pi-free", r == 0 && g_word == me, "returned %ld, word %#x, want 0 and our tid", r, g_word);
  CHECK_FAILS_WITH("trylock-pi-own", futex(&g_word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL), EDEADLK);
  CHECK_FAILS_WITH("lock-pi-own", futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EDEADLK);
  struct call c = call_in_thread(FUTEX_TRYLOCK_PI_PRIVATE, NULL);
  check_call("trylock-pi-owned", c, -1, EAGAIN);
  check("trylock-pi-owned-marks-waiters", c.seen == (me | FUTEX_WAITERS), "word %#x, want our tid | WAITERS",
        c.seen);
  check_call("unlock-pi-not-owner", call_in_thread(FUTEX_UNLOCK_PI_PRIVATE, NULL), -1, EPERM);
  r = futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
  check("unlock-pi-no-waiters", r == 0 && g_word == 0, "returned %ld, word %#x, want 0 and 0", r, g_word);
  CHECK_FAILS_WITH("unlock-pi-free", futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EPERM);

  // A tid that is no thread: ESRCH, with FUTEX_WAITERS set on the way, as Linux does.
  g_word = 0x3ffffff0;
  c = call_in_thread(FUTEX_LOCK_PI_PRIVATE, NULL);
  check_call("lock-pi-dead-tid", c, -1, ESRCH);
  check("lock-pi-dead-tid-word", g_word == (0x3ffffff0 | FUTEX_WAITERS), "word %#x", g_word);
  g_word = 0x3ffffff0;
  check_call("trylock-pi-dead-tid", call_in_thread(FUTEX_TRYLOCK_PI_PRIVATE, NULL), -1, ESRCH);

  // A free word with FUTEX_OWNER_DIED (a robust owner died): taken, the bit kept.
  g_word = FUTEX_OWNER_DIED;
  r = futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
  check("lock-pi-owner-died", r == 0 && g_word == (me | FUTEX_OWNER_DIED), "returned %ld, word %#x", r, g_word);
  r = futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
  check("unlock-pi-clears-owner-died", r == 0 && g_word == 0, "returned %ld, word %#x", r, g_word);

  uint32_t pair[2];
  CHECK_FAILS_WITH("lock-pi-misaligned", futex((uint32_t *)((char *)pair + 2), FUTEX_LOCK_PI_PRIVATE, 0, NULL),
                   EINVAL);
  uint32_t *gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(gone, 4096);
  CHECK_FAILS_WITH("lock-pi-unmapped", futex(gone, FUTEX_LOCK_PI_PRIVATE, 0, NULL), EFAULT);
  CHECK_FAILS_WITH("unlock-pi-unmapped", futex(gone, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL), EFAULT);
  CHECK_FAILS_WITH("lock-pi-realtime-flag",
                   futex(&g_word, FUTEX_LOCK_PI_PRIVATE | FUTEX_CLOCK_REALTIME, 0, NULL), ENOSYS);

  // Owned by a live thread: timeouts on each clock, then a handoff to a waiter.
  g_word = 0;
  g_holder_tid = 0;
  g_release = 0;
  pthread_t holder;
  pthread_create(&holder, NULL, hold_then_unlock, NULL);
  while (!__atomic_load_n(&g_holder_tid, __ATOMIC_SEQ_CST))
    sleep_ms(1);
  uint32_t owner = g_holder_tid;
  struct timespec rt = in_ms(CLOCK_REALTIME, 80);
  long start = now_ms(CLOCK_MONOTONIC);
  errno = 0;
  r = futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, &rt);
  int err = errno;
  long waited = now_ms(CLOCK_MONOTONIC) - start;
  check("lock-pi-timeout-realtime", r == -1 && err == ETIMEDOUT && waited >= 75,
        "returned %ld (%s) after %ld ms, want ETIMEDOUT after 80", r, r ? strerrorname_np(err) : "-", waited);
  struct timespec mono = in_ms(CLOCK_MONOTONIC, 80);
  start = now_ms(CLOCK_MONOTONIC);
  errno = 0;
  r = futex(&g_word, FUTEX_LOCK_PI2_PRIVATE, 0, &mono);
  err = errno;
  waited = now_ms(CLOCK_MONOTONIC) - start;
  check("lock-pi2-timeout-monotonic", r == -1 && err == ETIMEDOUT && waited >= 75,
        "returned %ld (%s) after %ld ms, want ETIMEDOUT after 80", r, r ? strerrorname_np(err) : "-", waited);
  rt = in_ms(CLOCK_REALTIME, 80);
  CHECK_FAILS_WITH("lock-pi2-timeout-realtime-flag",
                   futex(&g_word, FUTEX_LOCK_PI2_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &rt), ETIMEDOUT);
  struct timespec past = {1, 0};
  CHECK_FAILS_WITH("lock-pi-timeout-past", futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, &past), ETIMEDOUT);
  struct timespec bad = {0, 1000000000};
  CHECK_FAILS_WITH("lock-pi-timeout-invalid", futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, &bad), EINVAL);
  check("word-after-timeouts", g_word == (owner | FUTEX_WAITERS), "word %#x, want the owner | WAITERS", g_word);

  // The unlock hands the lock to the waiter: the word names it (with FUTEX_WAITERS).
  __atomic_store_n(&g_release, 1, __ATOMIC_SEQ_CST);
  r = futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL);
  uint32_t seen = g_word;
  pthread_join(holder, NULL);
  check("lock-pi-handoff", r == 0 && (seen & FUTEX_TID_MASK) == me, "returned %ld, word %#x", r, seen);
  r = futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
  check("unlock-pi-after-handoff", r == 0 && g_word == 0, "returned %ld, word %#x", r, g_word);

  // An owner that exits holding the word (no robust list entry) while a waiter waits: the
  // waiter gets it, marked FUTEX_OWNER_DIED.
  g_word = 0;
  g_holder_tid = 0;
  pthread_t quitter;
  pthread_create(&quitter, NULL, lock_and_exit, NULL);
  while (!__atomic_load_n(&g_holder_tid, __ATOMIC_SEQ_CST))
    sleep_ms(1);
  struct timespec limit = in_ms(CLOCK_REALTIME, 5000);
  r = futex(&g_word, FUTEX_LOCK_PI_PRIVATE, 0, &limit);
  seen = g_word;
  pthread_join(quitter, NULL);
  check("lock-pi-owner-exited", r == 0 && seen == (me | FUTEX_WAITERS | FUTEX_OWNER_DIED),
        "returned %ld, word %#x, want our tid | WAITERS | OWNER_DIED", r, seen);
  futex(&g_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL);
}

// ---- a signal does not end a PI lock wait ------------------------------------------------

static volatile sig_atomic_t g_hits;
static volatile int g_unlocked;
static int g_lock_ret = -1, g_unlocked_first;

static void on_usr1(int sig) {
  (void)sig;
  g_hits++;
}

static void *lock_waiter(void *arg) {
  (void)arg;
  g_lock_ret = pthread_mutex_lock(&g_pi);
  g_unlocked_first = g_unlocked;
  pthread_mutex_unlock(&g_pi);
  return NULL;
}

static void signal_checks(void) {
  struct sigaction sa = {0};
  sa.sa_handler = on_usr1;  // no SA_RESTART: FUTEX_LOCK_PI restarts anyway
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  init_pi_mutex(&g_pi, PTHREAD_MUTEX_NORMAL, 0);
  pthread_mutex_lock(&g_pi);
  pthread_t t;
  pthread_create(&t, NULL, lock_waiter, NULL);
  int queued = wait_for_bits((uint32_t *)&g_pi.__data.__lock, FUTEX_WAITERS);
  sleep_ms(20);
  pthread_kill(t, SIGUSR1);
  sleep_ms(100);
  g_unlocked = 1;
  pthread_mutex_unlock(&g_pi);
  pthread_join(t, NULL);
  check("pi-lock-signal-restarts", queued && g_hits == 1 && g_lock_ret == 0 && g_unlocked_first,
        "queued %d, handler ran %d times, lock returned %d, after the unlock %d", queued, (int)g_hits,
        g_lock_ret, g_unlocked_first);
}

// ---- robust PI mutexes whose owner exits ------------------------------------------------------

static pthread_mutex_t g_robust;
static volatile int g_robust_locked;

static void *lock_robust_and_exit(void *arg) {
  long hold_ms = (long)arg;
  pthread_mutex_lock(&g_robust);
  __atomic_store_n(&g_robust_locked, 1, __ATOMIC_SEQ_CST);
  sleep_ms(hold_ms);
  return NULL;  // exits owning it
}

static int g_waiter_ret = -1;

static void *robust_waiter(void *arg) {
  (void)arg;
  g_waiter_ret = pthread_mutex_lock(&g_robust);
  if (g_waiter_ret == EOWNERDEAD)
    pthread_mutex_consistent(&g_robust);
  pthread_mutex_unlock(&g_robust);
  return NULL;
}

static void robust_checks(void) {
  // The owner is gone before anyone asks.
  init_pi_mutex(&g_robust, PTHREAD_MUTEX_NORMAL, 1);
  pthread_t t;
  g_robust_locked = 0;
  pthread_create(&t, NULL, lock_robust_and_exit, (void *)0L);
  pthread_join(t, NULL);
  int r = pthread_mutex_lock(&g_robust);
  check("robust-pi-owner-dead", r == EOWNERDEAD, "lock returned %s, want EOWNERDEAD", strerrorname_np(r));
  int c = pthread_mutex_consistent(&g_robust);
  pthread_mutex_unlock(&g_robust);
  r = pthread_mutex_lock(&g_robust);
  check("robust-pi-consistent-again", c == 0 && r == 0, "consistent %d, lock %s", c, strerrorname_np(r));
  pthread_mutex_unlock(&g_robust);

  // A waiter is queued when the owner exits.
  g_robust_locked = 0;
  pthread_create(&t, NULL, lock_robust_and_exit, (void *)150L);
  while (!__atomic_load_n(&g_robust_locked, __ATOMIC_SEQ_CST))
    sleep_ms(1);
  pthread_t w;
  pthread_create(&w, NULL, robust_waiter, NULL);
  pthread_join(t, NULL);
  pthread_join(w, NULL);
  check("robust-pi-waiter-owner-dead", g_waiter_ret == EOWNERDEAD, "waiter's lock returned %s",
        strerrorname_np(g_waiter_ret));
  r = pthread_mutex_lock(&g_robust);
  check("robust-pi-after-waiter", r == 0, "lock returned %s", strerrorname_np(r));
  pthread_mutex_unlock(&g_robust);

  // Unlocked without pthread_mutex_consistent: not recoverable.
  g_robust_locked = 0;
  pthread_create(&t, NULL, lock_robust_and_exit, (void *)0L);
  pthread_join(t, NULL);
  r = pthread_mutex_trylock(&g_robust);
  pthread_mutex_unlock(&g_robust);
  int after = pthread_mutex_lock(&g_robust);
  check("robust-pi-not-recoverable", r == EOWNERDEAD && after == ENOTRECOVERABLE, "trylock %s, then lock %s",
        strerrorname_np(r), strerrorname_np(after));
}

// ---- a condition variable with a PI mutex ----------------------------------------------------

static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_slot, g_taken;
enum { kItems = 2000 };

static void *consumer(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&g_pi);
    while (g_slot == 0)
      pthread_cond_wait(&g_cond, &g_pi);
    int v = g_slot;
    g_slot = 0;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_pi);
    if (v < 0)
      return NULL;
    g_taken++;
  }
}

static void condvar_checks(void) {
  init_pi_mutex(&g_pi, PTHREAD_MUTEX_NORMAL, 0);
  pthread_t t;
  pthread_create(&t, NULL, consumer, NULL);
  for (int i = 1; i <= kItems + 1; i++) {
    pthread_mutex_lock(&g_pi);
    while (g_slot != 0)
      pthread_cond_wait(&g_cond, &g_pi);
    g_slot = i <= kItems ? i : -1;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_pi);
  }
  pthread_join(t, NULL);
  check("pi-condvar", g_taken == kItems, "consumer took %d, want %d", g_taken, kItems);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  contention_checks();
  syscall_checks();
  signal_checks();
  robust_checks();
  condvar_checks();
  return check_exit_status();
}
