// Cost of a few system calls, in nanoseconds per call: the median of several timed
// runs, each long enough (about 0.2 s) to drown the clock's own cost. Every timed call's
// result is checked (a compare and a branch, next to nothing beside a system call): a
// call that fails ends the program with a message, so a failure never passes for speed.
// Usage: bench_syscalls [FILE] - FILE is opened and closed by "open_close"
// (default /etc/passwd). Output: one "NAME NS" line per benchmark.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { k_runs = 7 };
static const double k_run_seconds = 0.2;
static const double k_calibration_seconds = 0.02;

static int g_zero_fd = -1;
static const char *g_open_path = "/etc/passwd";
static long g_ppid;  // what getppid answers, asked once before the timed loops

// Ends the program when a call failed: its time would mean nothing.
static void fail(const char *what, long result) {
  fprintf(stderr, "bench_syscalls: %s returned %ld (errno %d: %s)\n", what, result, errno,
          strerror(errno));
  exit(1);
}

static double now_seconds(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) fail("clock_gettime", -1);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench_getppid(uint64_t count) {
  for (uint64_t i = 0; i < count; i++) {
    long ppid = syscall(SYS_getppid);
    if (ppid != g_ppid) fail("getppid (not the parent it gave before)", ppid);
  }
}

static void bench_clock_gettime(uint64_t count) {
  struct timespec ts;
  for (uint64_t i = 0; i < count; i++) {
    int r = clock_gettime(CLOCK_MONOTONIC, &ts);
    if (r != 0) fail("clock_gettime", r);
  }
}

static void bench_read_dev_zero(uint64_t count) {
  char byte = 1;
  for (uint64_t i = 0; i < count; i++) {
    ssize_t n = read(g_zero_fd, &byte, 1);
    if (n != 1 || byte != 0) fail("read of /dev/zero (1 zero byte wanted)", n);
  }
}

static void bench_open_close(uint64_t count) {
  for (uint64_t i = 0; i < count; i++) {
    int fd = open(g_open_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open", fd);
    int r = close(fd);
    if (r != 0) fail("close", r);
  }
}

struct Benchmark {
  const char *name;
  void (*loop)(uint64_t count);
};

static const struct Benchmark k_benchmarks[] = {
    {"getppid", bench_getppid},
    {"clock_gettime", bench_clock_gettime},
    {"read_dev_zero", bench_read_dev_zero},
    {"open_close", bench_open_close},
};

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return (x > y) - (x < y);
}

// Grows the count until one loop takes a measurable time, then scales it to a run.
static uint64_t calibrate(const struct Benchmark *bench) {
  uint64_t count = 16;
  for (;;) {
    double start = now_seconds();
    bench->loop(count);
    double elapsed = now_seconds() - start;
    if (elapsed >= k_calibration_seconds) {
      double scaled = (double)count * k_run_seconds / elapsed;
      return scaled < 1 ? 1 : (uint64_t)scaled;
    }
    count *= 2;
  }
}

static double measure_ns(const struct Benchmark *bench) {
  uint64_t count = calibrate(bench);
  double per_call_ns[k_runs];
  for (int run = 0; run < k_runs; run++) {
    double start = now_seconds();
    bench->loop(count);
    per_call_ns[run] = (now_seconds() - start) * 1e9 / (double)count;
  }
  qsort(per_call_ns, k_runs, sizeof(per_call_ns[0]), compare_doubles);
  return per_call_ns[k_runs / 2];
}

int main(int argc, char **argv) {
  if (argc > 2) {
    fprintf(stderr, "usage: %s [FILE]\n", argv[0]);
    return 2;
  }
  if (argc == 2) g_open_path = argv[1];
  g_zero_fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
  if (g_zero_fd < 0) {
    perror("/dev/zero");
    return 1;
  }
  int probe = open(g_open_path, O_RDONLY | O_CLOEXEC);
  if (probe < 0) {
    perror(g_open_path);
    return 1;
  }
  close(probe);
  g_ppid = syscall(SYS_getppid);
  if (g_ppid < 0) fail("getppid", g_ppid);
  for (size_t i = 0; i < sizeof(k_benchmarks) / sizeof(k_benchmarks[0]); i++) {
    printf("%s %.1f\n", k_benchmarks[i].name, measure_ns(&k_benchmarks[i]));
    fflush(stdout);
  }
  return 0;
}
