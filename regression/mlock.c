// mlock, mlock2, munlock, mlockall, munlockall; MAP_POPULATE and MAP_LOCKED: locked pages
// are resident at once (mincore), /proc/self/status counts them in VmLck, unmapped ranges
// are ENOMEM, bad flags EINVAL, addr + len wrapping EINVAL. Passes natively first (as root:
// without CAP_IPC_LOCK RLIMIT_MEMLOCK would bound the sizes).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check.h"

#define PAGES 16

static long vm_lck_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, "VmLck:", 6))
      kb = strtol(line + 6, NULL, 10);
  if (f)
    fclose(f);
  return kb;
}

static int resident(void *p, size_t pages) {
  unsigned char vec[PAGES];
  if (mincore(p, pages * 4096, vec) != 0)
    return -1;
  int n = 0;
  for (size_t i = 0; i < pages; i++)
    n += vec[i] & 1;
  return n;
}

int main(void) {
  size_t len = PAGES * 4096;
  long base = vm_lck_kb();
  char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("untouched", resident(p, PAGES) == 0, "%d resident", resident(p, PAGES));
  check("mlock", mlock(p + 100, 4096) == 0, "%s", strerrorname_np(errno));  // two pages: it spans them
  check("mlock-resident", resident(p, 2) == 2, "%d", resident(p, 2));
  check("vmlck", vm_lck_kb() - base == 8, "VmLck grew by %ld kB", vm_lck_kb() - base);
  CHECK_FAILS_WITH("msync-invalidate-locked", msync(p, 4096, MS_INVALIDATE), EBUSY);
  check("msync-sync-locked", msync(p, 4096, MS_SYNC) == 0, "%s", strerrorname_np(errno));
  check("munlock", munlock(p, len) == 0 && vm_lck_kb() == base, "%s, VmLck %ld", strerrorname_np(errno),
        vm_lck_kb());
  check("msync-invalidate-unlocked", msync(p, 4096, MS_INVALIDATE) == 0, "%s", strerrorname_np(errno));
  check("mlock2-onfault", syscall(SYS_mlock2, p + 8 * 4096, 4096, 1 /* MLOCK_ONFAULT */) == 0 &&
                              vm_lck_kb() - base == 4,
        "%s", strerrorname_np(errno));
  CHECK_FAILS_WITH("mlock2-bad-flags", syscall(SYS_mlock2, p, 4096, 2), EINVAL);
  munlock(p, len);
  munmap(p + 4 * 4096, 4096);  // a hole
  CHECK_FAILS_WITH("mlock-hole", mlock(p, len), ENOMEM);
  CHECK_FAILS_WITH("munlock-hole", munlock(p, len), ENOMEM);
  CHECK_FAILS_WITH("mlock-wraps", mlock((void *)-4096, 8192), EINVAL);
  munmap(p, len);

  char *q = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  check("map-populate", resident(q, PAGES) == PAGES, "%d of %d resident", resident(q, PAGES), PAGES);
  munmap(q, len);
  char *r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
  check("map-locked", resident(r, PAGES) == PAGES && vm_lck_kb() - base == PAGES * 4, "%d resident, VmLck +%ld",
        resident(r, PAGES), vm_lck_kb() - base);
  munmap(r, len);

  CHECK_FAILS_WITH("mlockall-no-flags", mlockall(0), EINVAL);
  CHECK_FAILS_WITH("mlockall-onfault-alone", mlockall(MCL_ONFAULT), EINVAL);
  check("mlockall-future", mlockall(MCL_FUTURE) == 0, "%s", strerrorname_np(errno));
  char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("future-locked", resident(s, PAGES) == PAGES && vm_lck_kb() - base >= PAGES * 4, "%d resident",
        resident(s, PAGES));
  check("munlockall", munlockall() == 0 && vm_lck_kb() == 0, "VmLck %ld", vm_lck_kb());
  munmap(s, len);
  char *t = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check("after-munlockall", resident(t, PAGES) == 0, "%d resident", resident(t, PAGES));
  munmap(t, len);
  return check_exit_status();
}
