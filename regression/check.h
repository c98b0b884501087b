// Named checks for the regression programs: each prints "ok NAME" or
// "FAIL NAME: details", and the program exits nonzero if any failed. Output must be
// the same natively and under Carbyne, so details never contain pids, addresses or times.
#ifndef CARBYNE_REGRESSION_CHECK_H
#define CARBYNE_REGRESSION_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int g_check_failures;

__attribute__((format(printf, 3, 4), unused)) static void check(const char *name,
                                                                int passed,
                                                                const char *format, ...) {
  if (passed) {
    printf("ok %s\n", name);
    return;
  }
  printf("FAIL %s: ", name);
  va_list args;
  va_start(args, format);
  vprintf(format, args);
  va_end(args);
  printf("\n");
  g_check_failures++;
}

__attribute__((unused)) static void check_failed_with(const char *name, long ret, int err,
                                                      int want) {
  check(name, ret == -1 && err == want, "returned %ld, errno %s, want -1 and %s", ret,
        ret == -1 ? strerrorname_np(err) : "-", strerrorname_np(want));
}

// Checks that `call` returns -1 with errno `want`; errno is read right after the call.
#define CHECK_FAILS_WITH(name, call, want)         \
  do {                                             \
    errno = 0;                                     \
    long check_ret_ = (long)(call);                \
    int check_err_ = errno;                        \
    check_failed_with(name, check_ret_, check_err_, want); \
  } while (0)

static inline int check_exit_status(void) { return g_check_failures == 0 ? 0 : 1; }

#endif  // CARBYNE_REGRESSION_CHECK_H
