// Cost of a few system calls, in nanoseconds per call: the median of several timed
// runs, each long enough (about 0.2 s) to drown the clock's own cost.
// Usage: bench_syscalls [FILE] - FILE is opened and closed by "open_close"
// (default /etc/passwd). Output: one "NAME NS" line per benchmark.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { k_runs = 7 };
static const double k_run_seconds = 0.2;
static const double k_calibration_seconds = 0.02;

static int g_zero_fd = -1;
static const char *g_open_path = "/etc/passwd";
static volatile long g_sink;

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void bench_getppid(uint64_t count) {
  for (uint64_t i = 0; i < count; i++) g_sink = syscall(SYS_getppid);
}

static void bench_clock_gettime(uint64_t count) {
  struct timespec ts;
  for (uint64_t i = 0; i < count; i++) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    g_sink = ts.tv_nsec;
  }
}

static void bench_read_dev_zero(uint64_t count) {
  char byte;
  for (uint64_t i = 0; i < count; i++) g_sink = read(g_zero_fd, &byte, 1);
}

static void bench_open_close(uint64_t count) {
  for (uint64_t i = 0; i < count; i++) {
    int fd = open(g_open_path, O_RDONLY | O_CLOEXEC);
    g_sink = fd;
    close(fd);
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
  for (size_t i = 0; i < sizeof(k_benchmarks) / sizeof(k_benchmarks[0]); i++) {
    printf("%s %.1f\n", k_benchmarks[i].name, measure_ns(&k_benchmarks[i]));
    fflush(stdout);
  }
  return 0;
}
