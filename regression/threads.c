// Threads and futexes: pthread create/join, a contended mutex, condition variables,
// thread ids, CLONE_CHILD_CLEARTID through pthread_join, and futex errno values.
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

enum { k_threads = 8, k_increments = 100000 };

// Many threads, one after another: what a thread costs is reused when it ends.
enum { k_many_threads = 1000 };

static void *nothing(void *arg) { return arg; }

static pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
static long g_counter;

static void *increment(void *arg) {
  for (int i = 0; i < k_increments; i++) {
    pthread_mutex_lock(&g_mutex);
    g_counter++;
    pthread_mutex_unlock(&g_mutex);
  }
  return arg;
}

static pid_t g_tids[k_threads];
static void *record_tid(void *arg) {
  g_tids[(intptr_t)arg] = (pid_t)syscall(SYS_gettid);
  return NULL;
}

static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_turn;
static void *ping(void *arg) {
  int me = (int)(intptr_t)arg;
  for (int round = 0; round < 1000; round++) {
    pthread_mutex_lock(&g_mutex);
    while (g_turn != me) pthread_cond_wait(&g_cond, &g_mutex);
    g_turn = 1 - me;
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_mutex);
  }
  return NULL;
}

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *timeout, uint32_t *uaddr2,
                  uint32_t val3) {
  return syscall(SYS_futex, uaddr, op, val, timeout, uaddr2, val3);
}

static uint32_t g_word;
static void *wait_on_word(void *arg) {
  (void)arg;
  while (__atomic_load_n(&g_word, __ATOMIC_ACQUIRE) == 0) futex(&g_word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
  return NULL;
}

int main(void) {
  pthread_t t[k_threads];
  int created = 1;
  for (int i = 0; i < k_threads; i++) created &= pthread_create(&t[i], NULL, increment, NULL) == 0;
  check("create", created, "pthread_create failed");
  for (int i = 0; i < k_threads; i++) pthread_join(t[i], NULL);
  check("mutex_sum", g_counter == (long)k_threads * k_increments, "counter %ld", g_counter);

  for (int i = 0; i < k_threads; i++) pthread_create(&t[i], NULL, record_tid, (void *)(intptr_t)i);
  for (int i = 0; i < k_threads; i++) pthread_join(t[i], NULL);
  int distinct = 1;
  pid_t self = (pid_t)syscall(SYS_gettid);
  for (int i = 0; i < k_threads; i++) {
    distinct &= g_tids[i] > 0 && g_tids[i] != self;
    for (int j = 0; j < i; j++) distinct &= g_tids[i] != g_tids[j];
  }
  check("tids_distinct", distinct, "thread ids repeat or equal the main thread's");
  check("main_tid_is_pid", self == getpid(), "the main thread's tid is not the pid");

  pthread_t a, b;
  pthread_create(&a, NULL, ping, (void *)0);
  pthread_create(&b, NULL, ping, (void *)1);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  check("condvar_ping_pong", g_turn == 0, "turn %d", g_turn);

  uint32_t word = 1;
  CHECK_FAILS_WITH("futex_wait_value_differs_eagain", futex(&word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0), EAGAIN);
  struct timespec short_wait = {0, 20 * 1000 * 1000};
  CHECK_FAILS_WITH("futex_wait_timeout_etimedout", futex(&word, FUTEX_WAIT_PRIVATE, 1, &short_wait, NULL, 0),
                   ETIMEDOUT);
  struct timespec bad = {0, 2000000000L};
  CHECK_FAILS_WITH("futex_wait_bad_timeout_einval", futex(&word, FUTEX_WAIT_PRIVATE, 1, &bad, NULL, 0), EINVAL);
  CHECK_FAILS_WITH("futex_wait_efault", futex((uint32_t *)8, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EFAULT);
  CHECK_FAILS_WITH("futex_unaligned_einval", futex((uint32_t *)((char *)&word + 1), FUTEX_WAKE_PRIVATE, 1, NULL,
                                                   NULL, 0),
                   EINVAL);
  CHECK_FAILS_WITH("futex_bitset_zero_einval", futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 1, NULL, NULL, 0), EINVAL);
  check("futex_wake_nobody", futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) == 0, "woke someone");

  pthread_t waiter;
  pthread_create(&waiter, NULL, wait_on_word, NULL);
  struct timespec pause = {0, 50 * 1000 * 1000};
  nanosleep(&pause, NULL);
  __atomic_store_n(&g_word, 1, __ATOMIC_RELEASE);
  long woken = futex(&g_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
  pthread_join(waiter, NULL);
  check("futex_wake_one", woken == 1 || woken == 0, "wake returned %ld", woken);

  void *robust_head = NULL;
  size_t robust_len = 0;
  check("get_robust_list_self", syscall(SYS_get_robust_list, 0, &robust_head, &robust_len) == 0 &&
                                    robust_head != NULL && robust_len == 24,
        "head %s, len %zu", robust_head ? "set" : "null", robust_len);
  CHECK_FAILS_WITH("get_robust_list_esrch", syscall(SYS_get_robust_list, 999999, &robust_head, &robust_len), ESRCH);

  int failed_at = -1;
  for (int i = 0; i < k_many_threads && failed_at < 0; i++) {
    pthread_t one;
    if (pthread_create(&one, NULL, nothing, NULL) != 0 || pthread_join(one, NULL) != 0) failed_at = i;
  }
  check("many_threads_in_turn", failed_at < 0, "thread %d of %d could not be created", failed_at, k_many_threads);
  return check_exit_status();
}
