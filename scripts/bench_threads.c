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

#include "bench.h"

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
static void op_futex_pingpong(const char *arg, long count) {
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
static void op_thread_create_join(const char *arg, long count) {
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
static void op_signal_roundtrip(const char *arg, long count) {
  for (long i = 0; i < count; i++) raise(SIGUSR1);
}

static void op_clock_gettime(const char *arg, long count) {
  struct timespec ts;
  for (long i = 0; i < count; i++) clock_gettime(CLOCK_MONOTONIC, &ts);
}

int main(void) {
  signal(SIGUSR1, on_usr1);
  report("futex_pingpong", op_futex_pingpong, NULL, 5000);
  report("thread_create_join", op_thread_create_join, NULL, 300);
  report("signal_roundtrip", op_signal_roundtrip, NULL, 5000);
  report("clock_gettime", op_clock_gettime, NULL, 200000);
  return 0;
}
