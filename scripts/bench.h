// What the benchmark programs (scripts/bench_*.c) share: a clock, a check of each call's
// result, and the report line. Each operation runs `count` times per round; the report is
// the median of several rounds, in ns per operation, printed as "NAME NS" for
// scripts/benchlib.py.
#ifndef CARBYNE_BENCH_H
#define CARBYNE_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { k_rounds = 7 };

// Ends the program with a message when a call failed: a failing call must not pass for a
// fast one. Cheap enough to check every timed call.
static void must(int ok, const char *what) {
  if (!ok) {
    perror(what);
    exit(1);
  }
}

static double now_ns(void) {
  struct timespec ts;
  must(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

// One operation, `count` times; `arg` is the report's (a path, or NULL).
typedef void (*op_fn)(const char *arg, long count);

static void report(const char *name, op_fn op, const char *arg, long count) {
  double samples[k_rounds];
  op(arg, count / 10 > 0 ? count / 10 : 1);  // warm up
  for (int r = 0; r < k_rounds; r++) {
    double start = now_ns();
    op(arg, count);
    samples[r] = (now_ns() - start) / count;
  }
  qsort(samples, k_rounds, sizeof(samples[0]), compare_doubles);
  printf("%s %.1f\n", name, samples[k_rounds / 2]);
  fflush(stdout);
}

#endif
