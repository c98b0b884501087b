// getrandom(2): its flags (GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE; RANDOM with INSECURE
// and unknown bits are EINVAL), a large request filled whole, EFAULT, and bytes that differ
// from call to call.
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "check.h"

// An address that is never mapped (volatile: the compiler must not see the constant).
static void *volatile g_bad = (void *)1;

int main(void) {
  char a[32], b[32];
  check("getrandom", getrandom(a, sizeof(a), 0) == sizeof(a), "errno %s", strerrorname_np(errno));
  check("getrandom-nonblock", getrandom(b, sizeof(b), GRND_NONBLOCK) == sizeof(b), "errno %s", strerrorname_np(errno));
  check("differs", memcmp(a, b, sizeof(a)) != 0, "two calls gave the same bytes");
  check("getrandom-random", getrandom(a, sizeof(a), GRND_RANDOM) == sizeof(a), "errno %s", strerrorname_np(errno));
  check("getrandom-insecure", getrandom(a, sizeof(a), GRND_INSECURE) == sizeof(a), "errno %s",
        strerrorname_np(errno));
  CHECK_FAILS_WITH("random-and-insecure", getrandom(a, sizeof(a), GRND_RANDOM | GRND_INSECURE), EINVAL);
  CHECK_FAILS_WITH("unknown-flag", getrandom(a, sizeof(a), 0x100), EINVAL);
  CHECK_FAILS_WITH("efault", getrandom(g_bad, 16, 0), EFAULT);
  check("zero-length", getrandom(a, 0, 0) == 0, "errno %s", strerrorname_np(errno));
  size_t big = 64u << 20;  // more than the 32 MiB older kernels stopped at
  char *buf = malloc(big);
  check("large-request-whole", buf && getrandom(buf, big, 0) == (ssize_t)big, "errno %s", strerrorname_np(errno));
  free(buf);
  return check_exit_status();
}
