// Thread and signal costs for scripts/bench-threads: prints "NAME NS" lines (ns per
// operation, the median of several rounds).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

// Contended rows: four threads at once, each doing the operation `count` times; ns per
// operation is the wall time over `count` (the latency each thread sees under contention).
enum { k_contenders = 4 };
struct contender {
  pthread_t thread;
  const char *arg;
  long count;
  void (*body)(const char *arg, long count);
};
static void *contender_main(void *p) {
  struct contender *c = p;
  c->body(c->arg, c->count);
  return NULL;
}
static void contend(void (*body)(const char *, long), const char *arg, long count) {
  struct contender c[k_contenders];
  for (int i = 0; i < k_contenders; i++) {
    c[i] = (struct contender){0, arg, count, body};
    must(pthread_create(&c[i].thread, NULL, contender_main, &c[i]) == 0, "pthread_create");
  }
  for (int i = 0; i < k_contenders; i++) must(pthread_join(c[i].thread, NULL) == 0, "pthread_join");
}

static void stat_loop(const char *path, long count) {
  struct stat st;
  for (long i = 0; i < count; i++) must(stat(path, &st) == 0, "stat");
}
static void op_stat_contended(const char *path, long count) { contend(stat_loop, path, count); }

static void mmap_loop(const char *arg, long count) {
  (void)arg;
  for (long i = 0; i < count; i++) {
    void *p = mmap(NULL, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    must(p != MAP_FAILED, "mmap");
    must(munmap(p, 65536) == 0, "munmap");
  }
}
static void op_mmap_contended(const char *arg, long count) { contend(mmap_loop, arg, count); }

int main(void) {
  must(signal(SIGUSR1, on_usr1) != SIG_ERR, "signal");
  report("futex_pingpong", op_futex_pingpong, NULL, 5000);
  report("thread_create_join", op_thread_create_join, NULL, 300);
  report("signal_roundtrip", op_signal_roundtrip, NULL, 5000);
  report("clock_gettime", op_clock_gettime, NULL, 200000);
  // One file on a tmpfs (/dev/shm natively and under carbyne exec).
  char path[64];
  snprintf(path, sizeof(path), "/dev/shm/bench-threads-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  must(fd >= 0, "open /dev/shm");
  close(fd);
  report("stat_tmpfs_4threads", op_stat_contended, path, 20000);
  unlink(path);
  report("mmap_munmap_4threads", op_mmap_contended, NULL, 20000);
  return 0;
}
