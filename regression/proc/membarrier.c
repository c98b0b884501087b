// membarrier(2): QUERY lists the global and private expedited kinds; PRIVATE_EXPEDITED
// before its registration is EPERM and works after it; GET_REGISTRATIONS shows it; bad
// flags and unknown commands are EINVAL. Passes natively first (a host may support more
// kinds than these; only these are checked).
#define _GNU_SOURCE
#include <linux/membarrier.h>

#ifndef MEMBARRIER_CMD_GET_REGISTRATIONS
#define MEMBARRIER_CMD_GET_REGISTRATIONS (1 << 9)  /* Linux 6.3; newer than Debian 12's headers */
#endif
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../check.h"

static long membarrier(int cmd, unsigned flags) { return syscall(SYS_membarrier, cmd, flags, 0); }

static void *spin(void *arg) {
  volatile int *stop = arg;
  while (!*stop) {
  }
  return NULL;
}

int main(void) {
  long mask = membarrier(MEMBARRIER_CMD_QUERY, 0);
  long want = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_PRIVATE_EXPEDITED | MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED;
  check("query", mask >= 0 && (mask & want) == want, "mask %#lx", mask);
  CHECK_FAILS_WITH("private-unregistered", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), EPERM);
  check("register", membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0, "%s", strerrorname_np(errno));
  long regs = membarrier(MEMBARRIER_CMD_GET_REGISTRATIONS, 0);
  check("registrations", regs >= 0 && (regs & MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED), "%#lx", regs);
  // With another thread running on the other CPU.
  volatile int stop = 0;
  pthread_t t;
  pthread_create(&t, NULL, spin, (void *)&stop);
  int ok = 1;
  for (int i = 0; i < 20; i++)
    ok &= membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0 && membarrier(MEMBARRIER_CMD_GLOBAL, 0) == 0;
  stop = 1;
  pthread_join(t, NULL);
  check("barriers", ok, "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("bad-flags", membarrier(MEMBARRIER_CMD_GLOBAL, 4), EINVAL);
  CHECK_FAILS_WITH("unknown-command", membarrier(1 << 20, 0), EINVAL);
  return check_exit_status();
}
