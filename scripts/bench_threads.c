// Thread and signal costs for scripts/bench-threads: prints "NAME NS" lines (ns per
// operation, the median of several rounds).
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { k_rounds = 7 };

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef void (*op_fn)(long count);

static void report(const char *name, op_fn op, long count) {
  double samples[k_rounds];
  op(count / 10 > 0 ? count / 10 : 1);
  for (int r = 0; r < k_rounds; r++) {
    double start = now_ns();
    op(count);
    samples[r] = (now_ns() - start) / count;
  }
  qsort(samples, k_rounds, sizeof(samples[0]), compare);
  printf("%s %.1f\n", name, samples[k_rounds / 2]);
  fflush(stdout);
}

// Futex ping-pong: two threads hand a token back and forth; one exchange per count.
static uint32_t g_token;
static long g_pong_count;
static void wait_for(uint32_t want) {
  while (__atomic_load_n(&g_token, __ATOMIC_ACQUIRE) != want)
    syscall(SYS_futex, &g_token, FUTEX_WAIT_PRIVATE, 1 - want, NULL, NULL, 0);
}
static void pass_to(uint32_t next) {
  __atomic_store_n(&g_token, next, __ATOMIC_RELEASE);
  syscall(SYS_futex, &g_token, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static void *pong(void *arg) {
  (void)arg;
  for (long i = 0; i < g_pong_count; i++) {
    wait_for(1);
    pass_to(0);
  }
  return NULL;
}
static void op_futex_pingpong(long count) {
  pthread_t t;
  g_token = 0;
  g_pong_count = count;
  pthread_create(&t, NULL, pong, NULL);
  for (long i = 0; i < count; i++) {
    pass_to(1);
    wait_for(0);
  }
  pthread_join(t, NULL);
}

static void *nothing(void *arg) { return arg; }
static void op_thread_create_join(long count) {
  for (long i = 0; i < count; i++) {
    pthread_t t;
    pthread_create(&t, NULL, nothing, NULL);
    pthread_join(t, NULL);
  }
}

static volatile sig_atomic_t g_caught;
static void on_usr1(int sig) {
  (void)sig;
  g_caught++;
}
static void op_signal_roundtrip(long count) {
  for (long i = 0; i < count; i++) raise(SIGUSR1);
}

static void op_clock_gettime(long count) {
  struct timespec ts;
  for (long i = 0; i < count; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  report("futex_pingpong", op_futex_pingpong, 5000);
  report("thread_create_join", op_thread_create_join, 300);
  report("signal_roundtrip", op_signal_roundtrip, 5000);
  report("clock_gettime", op_clock_gettime, 200000);
  return 0;
}
