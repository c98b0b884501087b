// Thread and signal costs for scripts/bench-threads: prints "NAME NS" lines (ns per
// operation, the median of several rounds).
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

// Futex ping-pong: two threads hand a token back and forth; one exchange per count.
static uint32_t g_token;
static long g_pong_count;
static void wait_for(uint32_t want) {
  while (__atomic_load_n(&g_token, __ATOMIC_ACQUIRE) != want) {
    // EAGAIN: the token changed before the wait, as it may.
    long r = syscall(SYS_futex, &g_token, FUTEX_WAIT_PRIVATE, 1 - want, NULL, NULL, 0);
    must(r == 0 || errno == EAGAIN || errno == EINTR, "futex wait");
  }
}
static void pass_to(uint32_t next) {
  __atomic_store_n(&g_token, next, __ATOMIC_RELEASE);
  must(syscall(SYS_futex, &g_token, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) >= 0, "futex wake");
}
static void *pong(void *arg) {
  (void)arg;
  for (long i = 0; i < g_pong_count; i++) {
    wait_for(1);
    pass_to(0);
  }
  return NULL;
}
static void op_futex_pingpong(const char *arg, long count) {
  pthread_t t;
  g_token = 0;
  g_pong_count = count;
  must(pthread_create(&t, NULL, pong, NULL) == 0, "pthread_create");
  for (long i = 0; i < count; i++) {
    pass_to(1);
    wait_for(0);
  }
  must(pthread_join(t, NULL) == 0, "pthread_join");
}

static void *nothing(void *arg) { return arg; }
static void op_thread_create_join(const char *arg, long count) {
  for (long i = 0; i < count; i++) {
    pthread_t t;
    must(pthread_create(&t, NULL, nothing, NULL) == 0, "pthread_create");
    must(pthread_join(t, NULL) == 0, "pthread_join");
  }
}

static volatile sig_atomic_t g_caught;
static void on_usr1(int sig) {
  (void)sig;
  g_caught++;
}
static void op_signal_roundtrip(const char *arg, long count) {
  sig_atomic_t before = g_caught;
  for (long i = 0; i < count; i++) must(raise(SIGUSR1) == 0, "raise");
  must(g_caught - before == (sig_atomic_t)count, "raise: the handler did not run once per signal");
}

static void op_clock_gettime(const char *arg, long count) {
  struct timespec ts;
  for (long i = 0; i < count; i++) must(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
}

int main(void) {
  must(signal(SIGUSR1, on_usr1) != SIG_ERR, "signal");
  report("futex_pingpong", op_futex_pingpong, NULL, 5000);
  report("thread_create_join", op_thread_create_join, NULL, 300);
  report("signal_roundtrip", op_signal_roundtrip, NULL, 5000);
  report("clock_gettime", op_clock_gettime, NULL, 200000);
  return 0;
}
